package apikeys_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// newKey returns a new ES256 signing key (each call another key).
func newKey(t *testing.T) apikeys.SigningKey {
	t.Helper()
	k, err := apikeys.GenerateSigningKey(apikeys.ES256)
	require.NoError(t, err)
	return k
}

func publicJWK(t *testing.T, k apikeys.SigningKey) apikeys.JWK {
	t.Helper()
	jwk, err := k.JWK()
	require.NoError(t, err)
	return jwk
}

func TestJWKSetWithWithout(t *testing.T) {
	a, b, c := publicJWK(t, newKey(t)), publicJWK(t, newKey(t)), publicJWK(t, newKey(t))
	set := apikeys.NewJWKSet(a, b)
	before, err := json.Marshal(set)
	require.NoError(t, err)

	added, err := set.With(c)
	require.NoError(t, err)
	assert.Equal(t, []string{a.KeyID(), b.KeyID(), c.KeyID()}, added.KeyIDs())

	again, err := added.With(c, a) // the same kids and key material: nothing to add
	require.NoError(t, err)
	assert.Equal(t, added.KeyIDs(), again.KeyIDs())

	// The same kid with the same key but other members (alg, use) is the same key material.
	var m map[string]any
	require.NoError(t, json.Unmarshal(a.Raw(), &m))
	delete(m, "alg")
	delete(m, "use")
	raw, err := json.Marshal(m)
	require.NoError(t, err)
	bare, err := apikeys.ParseJWK(raw)
	require.NoError(t, err)
	same, err := set.With(bare)
	require.NoError(t, err)
	assert.Equal(t, set.KeyIDs(), same.KeyIDs())

	// The same kid with other key material is refused.
	require.NoError(t, json.Unmarshal(a.Raw(), &m))
	m["kid"] = c.KeyID()
	raw, err = json.Marshal(m)
	require.NoError(t, err)
	impostor, err := apikeys.ParseJWK(raw)
	require.NoError(t, err)
	_, err = added.With(impostor)
	var ve *apikeys.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "JWKSet.With", ve.Op)
	assert.Contains(t, ve.Reason, "other key material")

	noKid, err := apikeys.ParseJWK([]byte(`{"kty":"EC","crv":"P-256","x":"a","y":"b"}`))
	require.NoError(t, err)
	_, err = set.With(noKid)
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, ve.Reason, "no kid")

	removed := added.Without(a.KeyID(), "no-such-kid")
	assert.Equal(t, []string{b.KeyID(), c.KeyID()}, removed.KeyIDs())
	assert.Equal(t, removed.KeyIDs(), removed.Without(a.KeyID()).KeyIDs(), "idempotent")
	assert.Empty(t, removed.Without(b.KeyID(), c.KeyID()).Keys)

	after, err := json.Marshal(set)
	require.NoError(t, err)
	assert.JSONEq(t, string(before), string(after), "the receiver is untouched")
	var nilSet *apikeys.JWKSet
	fromNil, err := nilSet.With(a)
	require.NoError(t, err)
	assert.Equal(t, []string{a.KeyID()}, fromNil.KeyIDs())
	assert.Empty(t, nilSet.Without(a.KeyID()).Keys)
}

// rotationEnv is a fake with a fake clock, an API key for a service, and the
// service's live token source and client.
type rotationEnv struct {
	srv      *apikeystest.Server
	clock    *fakeClock
	admin    *apikeys.Client    // manages keys
	key      apikeystest.APIKey // the service's API key, as stored
	oldKey   apikeys.SigningKey
	live     *apikeys.AssertionTokenSource
	svc      *apikeys.Client // the service's client, on live
	waits    *clockWaits     // the live source's and Rotate's waits, which move the clock
	host     *apikeys.JWKSHost
	jwksSrv  *httptest.Server
	liveCall atomic.Int64
}

// clockWaits records the waits a token source (and Rotate) asks for
// instead of sleeping: it calls onWait with the wait, then moves the clock
// by it.
type clockWaits struct {
	mu     sync.Mutex
	clock  *fakeClock
	onWait func(d time.Duration)
}

func (w *clockWaits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	onWait := w.onWait
	w.mu.Unlock()
	if onWait != nil {
		onWait(d)
	}
	w.clock.Advance(d)
	return ctx.Err()
}

func (w *clockWaits) setOnWait(f func(d time.Duration)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.onWait = f
}

// newRotationEnv starts the environment; hosted puts the service's public
// keys at a jwksURL served by a JWKSHost, else in the key's inline set.
func newRotationEnv(t *testing.T, hosted bool) *rotationEnv {
	t.Helper()
	e := &rotationEnv{clock: newFakeClock(), oldKey: newKey(t)}
	e.srv = apikeystest.NewServer(apikeystest.WithClock(e.clock.Now))
	t.Cleanup(e.srv.Close)
	var err error
	e.admin, err = e.srv.NewClient(apikeys.WithInsecureHTTP())
	require.NoError(t, err)
	set := apikeys.NewJWKSet(publicJWK(t, e.oldKey))
	setJSON, err := json.Marshal(set)
	require.NoError(t, err)
	if hosted {
		e.host, err = apikeys.NewJWKSHost(set, time.Minute)
		require.NoError(t, err)
		e.jwksSrv = httptest.NewServer(e.host)
		t.Cleanup(e.jwksSrv.Close)
		e.key, err = e.srv.AddAPIKey(e.srv.EnvironmentID("Production"), "billing-svc", nil, e.jwksSrv.URL+"/jwks.json")
	} else {
		e.key, err = e.srv.AddAPIKey(e.srv.EnvironmentID("Production"), "billing-svc", setJSON, "")
	}
	require.NoError(t, err)
	e.live, err = apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: e.key.ID, Key: e.oldKey, TokenURL: e.srv.TokenURL,
		HTTPClient: e.srv.HTTPClient(), Clock: e.clock.Now})
	require.NoError(t, err)
	e.waits = &clockWaits{clock: e.clock}
	apikeys.SetTokenSourceWait(e.live, e.waits.sleep)
	e.svc, err = apikeys.NewClient(apikeys.WithBaseURL(e.srv.PlatformURL), apikeys.WithTokenSource(e.live),
		apikeys.WithHTTPClient(e.srv.HTTPClient()), apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 3}))
	require.NoError(t, err)
	e.published(t) // the admin client's token is cached from here on: faults on the token route are the service's
	return e
}

func (e *rotationEnv) publisher() apikeys.KeyPublisher {
	if e.host != nil {
		return e.host
	}
	return apikeys.InlineKeys(e.admin.APIKeys, e.key.ID)
}

// published returns the kids the Platform would read now: the key's
// inline set, or what the host serves.
func (e *rotationEnv) published(t *testing.T) []string {
	t.Helper()
	set, err := e.publisher().PublicKeys(context.Background())
	require.NoError(t, err)
	return set.KeyIDs()
}

// serviceKids returns, in order, the kids of the tokens issued to the
// service, each run of the same kid once.
func (e *rotationEnv) serviceKids() []string {
	var kids []string
	for _, tok := range e.srv.Tokens() {
		if tok.ClientID == e.key.ID && (len(kids) == 0 || kids[len(kids)-1] != tok.KeyID) {
			kids = append(kids, tok.KeyID)
		}
	}
	return kids
}

// TestRotateUnderLoad: 64 goroutines call APIKeys.Get through the service's
// client, whose token source Rotate moves to a new key, inline and hosted.
// No call fails (no 401 reaches a caller), and the fake issues the service
// tokens signed with the old kid, then with the new one. Rotate's waits
// move the fake clock: the hosted set's cache in the fake expires while
// Rotate proves the new key, and the live source's token while it waits
// to retire the old key.
func TestRotateUnderLoad(t *testing.T) {
	for _, hosted := range []bool{false, true} {
		name := map[bool]string{false: "inline", true: "hosted"}[hosted]
		t.Run(name, func(t *testing.T) {
			t.Cleanup(func() { goleak.VerifyNone(t, goleak.IgnoreCurrent()) })
			e := newRotationEnv(t, hosted)
			ctx := context.Background()
			_, err := e.svc.APIKeys.Get(ctx, e.key.ID) // the live source's first token, old kid
			require.NoError(t, err)

			newSigner := newKey(t)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var failures atomic.Int64
			for range 64 {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						if _, err := e.svc.APIKeys.Get(ctx, e.key.ID); err != nil {
							failures.Add(1)
							t.Errorf("a call failed during the rotation: %v", err)
							return
						}
						e.liveCall.Add(1)
					}
				})
			}
			rep, err := apikeys.Rotate(ctx, apikeys.RotateConfig{Source: e.live, NewKey: newSigner, Publisher: e.publisher()})
			require.NoError(t, err)
			// Calls after the rotation, with the new key's token.
			for n := e.liveCall.Load(); e.liveCall.Load() < n+64 && failures.Load() == 0; {
				runtime.Gosched()
			}
			close(stop)
			wg.Wait()

			assert.Zero(t, failures.Load())
			assert.True(t, rep.Published)
			assert.True(t, rep.Switched)
			assert.Equal(t, []string{e.oldKey.KeyID}, rep.Retired)
			assert.Equal(t, []string{newSigner.KeyID}, e.published(t), "exactly the new kid is published")
			assert.Equal(t, newSigner.KeyID, e.live.KeyID())
			assert.Equal(t, []string{e.oldKey.KeyID, newSigner.KeyID}, e.serviceKids(), "tokens signed with the old kid, then the new one")
			if hosted {
				assert.Greater(t, rep.ProofAttempts, 1, "the fake's cache of the hosted set made Rotate wait")
			} else {
				assert.Equal(t, 1, rep.ProofAttempts)
			}
			var unauthorized int
			for _, r := range e.srv.Requests() {
				if r.Route == apikeystest.RouteGetAPIKey && r.Reason != "" {
					unauthorized++
				}
			}
			t.Logf("%d calls; %d refused by the fake and retried with a new token", e.liveCall.Load(), unauthorized)
		})
	}
}

// TestRotateResumes interrupts Rotate at each step in turn (a fault at the
// publisher, a cancelled context while it proves the key or waits to retire
// the old one, a fault while it removes the old key) and runs it again
// with the same configuration: it leaves exactly the new kid published
// and the live source signing with it, having added the key once and
// removed the old one once.
func TestRotateResumes(t *testing.T) {
	type interrupt struct {
		name   string
		inline bool                                            // only for an inline set: a fault of the API
		setup  func(e *rotationEnv, cancel context.CancelFunc) // arms the interruption of the first run
		// second is what the second run finds left to do.
		second apikeys.RotateReport
	}
	interrupts := []interrupt{
		{name: "publishing fails", inline: true, setup: func(e *rotationEnv, _ context.CancelFunc) {
			e.srv.FailNext(apikeystest.RouteUpdateAPIKey, 4, http.StatusServiceUnavailable, "")
		}, second: apikeys.RotateReport{Published: true, Switched: true}},
		{name: "context cancelled while proving", setup: func(e *rotationEnv, cancel context.CancelFunc) {
			e.srv.FailNext(apikeystest.RouteToken, 100, http.StatusServiceUnavailable, "")
			e.waits.setOnWait(func(time.Duration) { cancel() })
		}, second: apikeys.RotateReport{Published: false, Switched: true}},
		{name: "context cancelled while waiting to retire", setup: func(e *rotationEnv, cancel context.CancelFunc) {
			e.waits.setOnWait(func(d time.Duration) {
				if d == apikeys.MaxRetireAfter {
					cancel()
				}
			})
		}, second: apikeys.RotateReport{Published: false, Switched: false}},
		{name: "retiring fails", inline: true, setup: func(e *rotationEnv, _ context.CancelFunc) {
			e.waits.setOnWait(func(d time.Duration) {
				if d == apikeys.MaxRetireAfter {
					e.srv.FailNext(apikeystest.RouteUpdateAPIKey, 4, http.StatusBadGateway, "")
				}
			})
		}, second: apikeys.RotateReport{Published: false, Switched: false}},
	}
	for _, hosted := range []bool{false, true} {
		for _, in := range interrupts {
			if hosted && in.inline {
				continue
			}
			t.Run(map[bool]string{false: "inline", true: "hosted"}[hosted]+"/"+in.name, func(t *testing.T) {
				e := newRotationEnv(t, hosted)
				newSigner := newKey(t)
				cfg := apikeys.RotateConfig{Source: e.live, NewKey: newSigner, Publisher: e.publisher()}
				ctx, cancel := context.WithCancel(context.Background())
				in.setup(e, cancel)
				_, err := apikeys.Rotate(ctx, cfg)
				require.Error(t, err, "the first run was interrupted")
				cancel()
				e.srv.ClearFaults()
				e.waits.setOnWait(nil)

				rep, err := apikeys.Rotate(context.Background(), cfg)
				require.NoError(t, err)
				assert.Equal(t, in.second.Published, rep.Published, "published again only when the first run did not")
				assert.Equal(t, in.second.Switched, rep.Switched, "switched again only when the first run did not")
				assert.Equal(t, []string{e.oldKey.KeyID}, rep.Retired, "the old key removed once")
				assert.Equal(t, []string{newSigner.KeyID}, e.published(t), "exactly the new kid is published")
				assert.Equal(t, newSigner.KeyID, e.live.KeyID(), "the live source signs with the new key")
				tok, err := e.live.Token(context.Background())
				require.NoError(t, err)
				e.live.Invalidate(tok)
				_, err = e.live.Token(context.Background())
				require.NoError(t, err, "the live source gets tokens with the new key")
			})
		}
	}
}

// publishedKeys is a KeyPublisher that publishes set and changes nothing.
type publishedKeys struct{ set *apikeys.JWKSet }

func (p publishedKeys) PublicKeys(context.Context) (*apikeys.JWKSet, error) { return p.set, nil }
func (p publishedKeys) AddPublicKeys(context.Context, ...apikeys.JWK) error { return nil }
func (p publishedKeys) RemovePublicKeys(context.Context, ...string) error   { return nil }

// TestRotateCancelledWhileProving: a caller who cancels Rotate while its
// proof's token request hangs gets context.Canceled, not a timeout of the
// token endpoint: the proof runs on the caller's context.
func TestRotateCancelledWhileProving(t *testing.T) {
	newSigner := newKey(t)
	entered := make(chan struct{}, 1)
	e := newTokenEndpoint(t, newSigner, newFakeClock(), func(_ int, _ http.ResponseWriter, r *http.Request) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-r.Context().Done() // hung until the client gives up
	})
	ts, _ := newSource(t, e, func(c *apikeys.TokenConfig) { c.Key = generatedKey(t, apikeys.ES256) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-entered
		cancel()
	}()

	_, err := apikeys.Rotate(ctx, apikeys.RotateConfig{Source: ts, NewKey: newSigner,
		Publisher: publishedKeys{apikeys.NewJWKSet(publicJWK(t, newSigner))}})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotContains(t, err.Error(), "did not answer")
	var ne net.Error
	assert.False(t, errors.As(err, &ne) && ne.Timeout(), "not a timeout: %v", err)
}

// TestRotateValidates: bad configurations are refused before any I/O.
func TestRotateValidates(t *testing.T) {
	e := newRotationEnv(t, false)
	good := apikeys.RotateConfig{Source: e.live, NewKey: newKey(t), Publisher: e.publisher()}
	tests := []struct {
		name  string
		edit  func(*apikeys.RotateConfig)
		field string
	}{
		{name: "no source", edit: func(c *apikeys.RotateConfig) { c.Source = nil }, field: "RotateConfig.Source"},
		{name: "no publisher", edit: func(c *apikeys.RotateConfig) { c.Publisher = nil }, field: "RotateConfig.Publisher"},
		{name: "no key", edit: func(c *apikeys.RotateConfig) { c.NewKey = apikeys.SigningKey{} }, field: "RotateConfig.NewKey.Signer"},
		{name: "negative RetireAfter", edit: func(c *apikeys.RotateConfig) { c.RetireAfter = -time.Second }, field: "RotateConfig.RetireAfter"},
		{name: "bad proof policy", edit: func(c *apikeys.RotateConfig) { c.ProofPolicy = apikeys.RetryPolicy{MinWait: 2, MaxWait: 1} }, field: "RotateConfig.ProofPolicy"},
	}
	before := len(e.srv.Requests())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.edit(&cfg)
			_, err := apikeys.Rotate(context.Background(), cfg)
			var ve *apikeys.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
		})
	}
	assert.Len(t, e.srv.Requests(), before, "nothing was sent")
}

// TestAddRemovePublicKeys: the inline set is read, changed, written whole
// and read back; calling again changes nothing (idempotent); a key with a
// jwksURL and removing the last key are refused with their errors.
func TestAddRemovePublicKeys(t *testing.T) {
	e := newRotationEnv(t, false)
	ctx := context.Background()
	add := publicJWK(t, newKey(t))
	k, err := e.admin.APIKeys.AddPublicKeys(ctx, e.key.ID, add)
	require.NoError(t, err)
	assert.Equal(t, []string{e.oldKey.KeyID, add.KeyID()}, k.JWKSet.KeyIDs())
	updates := e.srv.Count(apikeystest.RouteUpdateAPIKey)
	assert.Equal(t, 1, updates)

	_, err = e.admin.APIKeys.AddPublicKeys(ctx, e.key.ID, add) // again: nothing to write
	require.NoError(t, err)
	assert.Equal(t, updates, e.srv.Count(apikeystest.RouteUpdateAPIKey), "an idempotent add writes nothing")

	k, err = e.admin.APIKeys.RemovePublicKeys(ctx, e.key.ID, e.oldKey.KeyID)
	require.NoError(t, err)
	assert.Equal(t, []string{add.KeyID()}, k.JWKSet.KeyIDs())
	_, err = e.admin.APIKeys.RemovePublicKeys(ctx, e.key.ID, e.oldKey.KeyID) // again
	require.NoError(t, err)
	assert.Equal(t, updates+1, e.srv.Count(apikeystest.RouteUpdateAPIKey), "an idempotent remove writes nothing")

	_, err = e.admin.APIKeys.RemovePublicKeys(ctx, e.key.ID, add.KeyID())
	assert.ErrorIs(t, err, apikeys.ErrLastPublicKey)
	assert.Contains(t, err.Error(), "APIKeys.RemovePublicKeys")

	hosted, err := e.srv.AddAPIKey(e.srv.EnvironmentID("Production"), "hosted", nil, "https://keys.example.com/jwks.json")
	require.NoError(t, err)
	_, err = e.admin.APIKeys.AddPublicKeys(ctx, hosted.ID, add)
	assert.ErrorIs(t, err, apikeys.ErrKeysHosted)
	_, err = e.admin.APIKeys.RemovePublicKeys(ctx, hosted.ID, add.KeyID())
	assert.ErrorIs(t, err, apikeys.ErrKeysHosted)

	var ve *apikeys.ValidationError
	_, err = e.admin.APIKeys.AddPublicKeys(ctx, e.key.ID)
	assert.ErrorAs(t, err, &ve)
	_, err = e.admin.APIKeys.RemovePublicKeys(ctx, e.key.ID)
	assert.ErrorAs(t, err, &ve)
}

// writerTransport runs change once, right after the reply to the n-th
// GET of the API key reaches the client: another writer changing the set
// between the SDK's read and its write.
type writerTransport struct {
	next   http.RoundTripper
	n      int
	gets   atomic.Int32
	change func()
}

func (w *writerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := w.next.RoundTrip(req)
	if err == nil && req.Method == http.MethodGet && int(w.gets.Add(1)) == w.n {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		w.change()
	}
	return resp, err
}

// TestAddPublicKeysDetectsAConcurrentWriter: another writer changes the
// key's set after AddPublicKeys read it. The change is detected, not
// overwritten: AddPublicKeys fails with ErrConcurrentChange and writes
// nothing, and the other writer's key is still there.
func TestAddPublicKeysDetectsAConcurrentWriter(t *testing.T) {
	e := newRotationEnv(t, false)
	ctx := context.Background()
	theirs := publicJWK(t, newKey(t))
	wt := &writerTransport{next: e.srv.HTTPClient().Transport, n: 1, change: func() {
		other, err := e.srv.NewClient()
		if assert.NoError(t, err) {
			_, err = other.APIKeys.Update(ctx, e.key.ID, apikeys.UpdateAPIKeyRequest{JWKSet: apikeys.NewJWKSet(publicJWK(t, e.oldKey), theirs)})
			assert.NoError(t, err)
		}
	}}
	writer, err := e.srv.NewClient(apikeys.WithHTTPClient(&http.Client{Transport: wt}))
	require.NoError(t, err)
	updatesBefore := e.srv.Count(apikeystest.RouteUpdateAPIKey)

	_, err = writer.APIKeys.AddPublicKeys(ctx, e.key.ID, publicJWK(t, newKey(t)))
	require.ErrorIs(t, err, apikeys.ErrConcurrentChange)
	assert.False(t, apikeys.IsRetryable(err))
	assert.Equal(t, updatesBefore+1, e.srv.Count(apikeystest.RouteUpdateAPIKey), "only the other writer wrote")
	assert.Equal(t, []string{e.oldKey.KeyID, theirs.KeyID()}, e.published(t), "the other writer's change stands")
}

func TestJWKSHost(t *testing.T) {
	a, b := publicJWK(t, newKey(t)), publicJWK(t, newKey(t))
	host, err := apikeys.NewJWKSHost(apikeys.NewJWKSet(a), 90*time.Second)
	require.NoError(t, err)
	srv := httptest.NewServer(host)
	t.Cleanup(srv.Close)
	get := func(method, ifNoneMatch string) (*http.Response, string) {
		req, err := http.NewRequest(method, srv.URL+"/.well-known/jwks.json", nil)
		require.NoError(t, err)
		if ifNoneMatch != "" {
			req.Header.Set("If-None-Match", ifNoneMatch)
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(body)
	}

	resp, body := get(http.MethodGet, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/jwk-set+json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "public, max-age=90", resp.Header.Get("Cache-Control"))
	etag := resp.Header.Get("ETag")
	require.Regexp(t, `^"[A-Za-z0-9_-]+"$`, etag)
	set, err := apikeys.FetchJWKS(context.Background(), srv.URL, apikeys.FetchInsecureLoopbackHTTP())
	require.NoError(t, err)
	assert.Equal(t, []string{a.KeyID()}, set.KeyIDs())
	assert.Contains(t, body, a.KeyID())

	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		resp, body = get(http.MethodGet, inm)
		assert.Equal(t, http.StatusNotModified, resp.StatusCode, inm)
		assert.Empty(t, body)
		assert.Equal(t, etag, resp.Header.Get("ETag"))
	}
	resp, body = get(http.MethodHead, "")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, body)
	assert.NotEmpty(t, resp.Header.Get("Content-Length"))
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		resp, _ = get(m, "")
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, m)
		assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
	}

	// Set replaces the set atomically; a set that fails Validate is refused and the old one stays.
	require.NoError(t, host.Set(apikeys.NewJWKSet(a, b)))
	resp, _ = get(http.MethodGet, etag)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the old ETag no longer matches")
	assert.NotEqual(t, etag, resp.Header.Get("ETag"))
	private, err := apikeys.ParseJWK([]byte(`{"kty":"oct","kid":"s","k":"c2VjcmV0"}`))
	require.NoError(t, err)
	var se *apikeys.JWKSetError
	require.ErrorAs(t, host.Set(apikeys.NewJWKSet(private)), &se)
	assert.Equal(t, []string{a.KeyID(), b.KeyID()}, host.JWKSet().KeyIDs())
	_, err = apikeys.NewJWKSHost(apikeys.NewJWKSet(a), -time.Second)
	var ve *apikeys.ValidationError
	assert.ErrorAs(t, err, &ve)

	// Concurrent readers and writers (run with -race): every reply is a whole set.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 20 {
				if i%2 == 0 {
					assert.NoError(t, host.Set(apikeys.NewJWKSet(a)))
					assert.NoError(t, host.Set(apikeys.NewJWKSet(a, b)))
					continue
				}
				set, err := apikeys.FetchJWKS(context.Background(), srv.URL, apikeys.FetchInsecureLoopbackHTTP())
				if assert.NoError(t, err) {
					assert.Contains(t, [][]string{{a.KeyID()}, {a.KeyID(), b.KeyID()}}, set.KeyIDs())
				}
			}
		})
	}
	wg.Wait()
}

// TestSetKey: the next assertion is signed with the new key, checked as
// NewTokenSource checks its key; a fetch already in flight finishes with
// the key it started with; any number of Token callers may run meanwhile.
func TestSetKey(t *testing.T) {
	e := newRotationEnv(t, false)
	ctx := context.Background()
	newSigner := newKey(t)
	_, err := e.admin.APIKeys.AddPublicKeys(ctx, e.key.ID, publicJWK(t, newSigner))
	require.NoError(t, err)

	var ve *apikeys.ValidationError
	require.ErrorAs(t, e.live.SetKey(apikeys.SigningKey{}), &ve)
	assert.Equal(t, "AssertionTokenSource.SetKey", ve.Op)
	assert.Equal(t, e.oldKey.KeyID, e.live.KeyID(), "a refused key leaves the source as it was")

	// A fetch in flight when SetKey runs finishes with the key it started
	// with: its first attempt gets a 503, and SetKey runs while it waits to
	// try again; the retry still signs with the old key.
	e.srv.FailNext(apikeystest.RouteToken, 1, http.StatusServiceUnavailable, "")
	e.waits.setOnWait(func(time.Duration) { assert.NoError(t, e.live.SetKey(newSigner)) })
	_, err = e.live.Token(ctx)
	require.NoError(t, err)
	e.waits.setOnWait(nil)
	assert.Equal(t, newSigner.KeyID, e.live.KeyID())
	assert.Equal(t, []string{e.oldKey.KeyID}, e.serviceKids(), "the fetch in flight finished with the old key")

	// The next fetch signs with the new key; SetKey may run while any
	// number of callers use Token (run with -race).
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			tok, err := e.live.Token(ctx)
			if assert.NoError(t, err) {
				e.live.Invalidate(tok)
			}
		})
	}
	wg.Go(func() { assert.NoError(t, e.live.SetKey(newSigner)) })
	wg.Wait()
	assert.Equal(t, []string{e.oldKey.KeyID, newSigner.KeyID}, e.serviceKids(), "later fetches used the new key")
}

var _ apikeys.TokenInvalidator = (*apikeys.AssertionTokenSource)(nil)

// forwardingSource wraps a token source, as a caller's logging or metrics
// wrapper does, without forwarding Invalidate; invalidatingSource forwards it.
type forwardingSource struct {
	ts *apikeys.AssertionTokenSource
}

func (f forwardingSource) Token(ctx context.Context) (*apikeys.Token, error) { return f.ts.Token(ctx) }

type invalidatingSource struct{ forwardingSource }

func (f invalidatingSource) Invalidate(t *apikeys.Token) { f.ts.Invalidate(t) }

// TestTokenInvalidatorMustBeForwarded: a wrapper that forwards Invalidate
// keeps the Client's refresh after a 401; one that does not loses it.
func TestTokenInvalidatorMustBeForwarded(t *testing.T) {
	for _, forward := range []bool{true, false} {
		t.Run(map[bool]string{true: "forwarded", false: "not forwarded"}[forward], func(t *testing.T) {
			e := newRotationEnv(t, false)
			var src apikeys.TokenSource = forwardingSource{ts: e.live}
			if forward {
				src = invalidatingSource{forwardingSource: forwardingSource{ts: e.live}}
			}
			c, err := apikeys.NewClient(apikeys.WithBaseURL(e.srv.PlatformURL), apikeys.WithTokenSource(src),
				apikeys.WithHTTPClient(e.srv.HTTPClient()), apikeys.WithRetry(apikeys.RetryPolicy{}))
			require.NoError(t, err)
			e.srv.FailNext(apikeystest.RouteGetAPIKey, 1, http.StatusUnauthorized, "")
			_, err = c.APIKeys.Get(context.Background(), e.key.ID)
			if forward {
				assert.NoError(t, err, "refreshed after the 401")
				return
			}
			assert.True(t, errors.Is(err, apikeys.ErrUnauthorized), "without Invalidate the 401 fails the call: %v", err)
		})
	}
}

package apikeys_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// The fault matrix drives every operation of both APIs, and the token fetch
// of AssertionTokenSource, through every fault the fake can inject, and
// checks the attempts the server saw, whether the outcome is flagged
// ambiguous, the final typed error, and the server's state afterwards (a
// create applied at most once, an update or delete applied or not).
//
// Each case gets a fresh fake and fresh clients with their own transports.
// That matters: net/http's Transport silently resends a GET whose reused
// keep-alive connection is closed without a reply, which would absorb a
// DropNext and add a request the SDK never made. Here every dropped request
// is the first on its connection (a fresh client, or a retry after the
// previous connection was cut), so the server's counts are exact.

const (
	seededApp          = "app-rel" // the app whose key the legacy create replaces
	clientMaxWait      = 2 * time.Second
	tokenSourceMaxWait = 20 * time.Second // DefaultRetryPolicy().MaxWait, the token source's
	gatewayErrorPage   = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
	truncatedReply     = `{"status":"ok","meta":{"version":"1.0.0"},"payload":{"apikey":{"id":"x`
)

// The APIs an operation belongs to, which decide its error type.
const (
	platformAPI = "platform"
	legacyAPI   = "legacy"
	tokenAPI    = "token"
)

// seededFakeConfig says how a case's clients are built.
type seededFakeConfig struct {
	http2         bool          // the fake serves TLS, and clients speak HTTP/2
	rewrite       *int          // when set, every reply the client gets has this status instead
	refused       bool          // clients point at a closed port
	headerTimeout time.Duration // Transport.ResponseHeaderTimeout of every client
	tokenClient   bool          // Platform calls authenticate with the token source
	skewedClock   bool          // clients and token source get their own clock, apart from the server's
	cutBodies     int32         // the first n replies to each client are cut after a few bytes
}

// seededFake is what one case runs against: a fake with seeded state, a
// client and a token source.
type seededFake struct {
	t        *testing.T
	srv      *apikeystest.Server
	srvClock *fakeClock
	clock    *fakeClock // the client's and token source's clock
	client   *apikeys.Client
	waits    *waits // the client's waits between attempts
	ts       *apikeys.AssertionTokenSource
	tsWaits  *waits        // the token source's waits between attempts
	tsTrips  *atomic.Int32 // token requests the source's transport was asked to send
	finish   func()        // ends requests in flight and closes the fake
	target   apikeystest.APIKey
	appKey   string // the active key of seededApp
	userKey  string // a user key the legacy operations act on
}

// tokenSourceTransport counts the token source's requests and cancels those
// still running when stop ends. The token fetch is detached from its
// callers on purpose, so a test whose caller left must end it this way.
type tokenSourceTransport struct {
	base  http.RoundTripper
	stop  context.Context
	trips *atomic.Int32
}

func (rt *tokenSourceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := rt.stop.Err(); err != nil {
		return nil, err // the case is over: a retry must not reach the fake
	}
	rt.trips.Add(1)
	ctx, cancel := context.WithCancel(req.Context())
	context.AfterFunc(rt.stop, cancel) // cancel is also released when the request's own context ends
	return rt.base.RoundTrip(req.WithContext(ctx))
}

// cuttingTransport cuts the body of the first n replies it carries after a
// few bytes, as a connection reset in the middle of a reply does. The
// server has handled those requests in full. When rewrite is set, every
// reply's status becomes it, as a misbehaving proxy or RoundTripper may
// do with statuses no server sends (0, 99, 1000).
type cuttingTransport struct {
	base    *http.Transport
	left    atomic.Int32
	rewrite *int
}

func (c *cuttingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err == nil && c.left.Add(-1) >= 0 {
		resp.Body = &cutBody{rc: resp.Body, left: 8}
	}
	if err == nil && c.rewrite != nil {
		resp.StatusCode = *c.rewrite
	}
	return resp, err
}

func (c *cuttingTransport) CloseIdleConnections() { c.base.CloseIdleConnections() }

type cutBody struct {
	rc   io.ReadCloser
	left int
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n, err := b.rc.Read(p[:min(len(p), b.left)])
	b.left -= n
	return n, err
}

func (b *cutBody) Close() error { return b.rc.Close() }

func newSeededFake(t *testing.T, cfg seededFakeConfig) *seededFake {
	t.Helper()
	e := &seededFake{t: t, srvClock: newFakeClock(), tsTrips: new(atomic.Int32)}
	e.clock = e.srvClock
	if cfg.skewedClock {
		e.clock = newFakeClock()
	}
	srvOpts := []apikeystest.Option{apikeystest.WithClock(e.srvClock.Now)}
	if cfg.http2 {
		srvOpts = append(srvOpts, apikeystest.WithTLS())
	}
	e.srv = apikeystest.NewServer(srvOpts...)
	// newTransport returns a transport for the fake: HTTP/2 over TLS
	// when cfg.http2, trusting the fake's certificate.
	newTransport := func() *http.Transport {
		tr := &http.Transport{ResponseHeaderTimeout: cfg.headerTimeout}
		if cert := e.srv.Certificate(); cert != nil {
			pool := x509.NewCertPool()
			pool.AddCert(cert)
			tr.TLSClientConfig = &tls.Config{RootCAs: pool}
			tr.ForceAttemptHTTP2 = true
		}
		return tr
	}
	staging := e.srv.EnvironmentID("Staging")

	// Seed: a Platform key for the token source, one the operations act on,
	// an active app key of seededApp and a user key.
	key, svc := addServiceKey(t, e.srv, staging)
	target, err := e.srv.AddAPIKey(staging, "rel-target", nil, "https://keys.example.com/jwks.json")
	require.NoError(t, err)
	e.target = target
	legacyCfg := apikeys.LegacyConfig{BaseURL: e.srv.URL, Domain: e.srv.LegacyDomain, UserKey: e.srv.LegacyUserKey}
	seedTr := newTransport()
	seedTr.ResponseHeaderTimeout = 0 // the seeding is no fault under test: a slow machine must not fail it
	seeder, err := apikeys.NewClient(apikeys.WithLegacy(legacyCfg), apikeys.WithHTTPClient(&http.Client{Transport: seedTr}))
	require.NoError(t, err)
	app, err := seeder.Legacy.Create(context.Background(), apikeys.AppKeys(seededApp), "rel-seed-app")
	require.NoError(t, err)
	user, err := seeder.Legacy.Create(context.Background(), apikeys.UserKeys(), "rel-victim")
	require.NoError(t, err)
	seedTr.CloseIdleConnections()
	e.appKey, e.userKey = app.Key, user.Key

	platformURL, legacyURL, tokenURL := e.srv.PlatformURL, e.srv.URL, e.srv.TokenURL
	if cfg.refused {
		dead := "http://" + closedAddr(t)
		platformURL, legacyURL, tokenURL = dead+"/platform", dead, dead+"/v2/auth/token"
	}

	stop, stopTokens := context.WithCancel(context.Background())
	tsTr := newTransport()
	tsCut := &cuttingTransport{base: tsTr, rewrite: cfg.rewrite}
	tsCut.left.Store(cfg.cutBodies)
	e.ts, err = apikeys.NewTokenSource(apikeys.TokenConfig{
		ClientID:   svc.ID,
		Key:        key,
		TokenURL:   tokenURL,
		HTTPClient: &http.Client{Transport: &tokenSourceTransport{base: tsCut, stop: stop, trips: e.tsTrips}},
		Clock:      e.clock.Now,
	})
	require.NoError(t, err)
	e.tsWaits = &waits{clock: e.clock}
	apikeys.SetTokenSourceWait(e.ts, e.tsWaits.sleep)

	auth := apikeys.WithToken(e.srv.BearerToken)
	if cfg.tokenClient {
		auth = apikeys.WithTokenSource(e.ts)
	}
	tr := newTransport()
	cut := &cuttingTransport{base: tr, rewrite: cfg.rewrite}
	cut.left.Store(cfg.cutBodies)
	e.client, err = apikeys.NewClient(
		apikeys.WithBaseURL(platformURL),
		auth,
		apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: legacyURL, Domain: e.srv.LegacyDomain, UserKey: e.srv.LegacyUserKey}),
		apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 3, MaxWait: clientMaxWait}),
		apikeys.WithHTTPClient(&http.Client{Transport: cut}),
	)
	require.NoError(t, err)
	e.waits = &waits{clock: e.clock}
	apikeys.SetRetryClock(e.client, e.waits.sleep, func() float64 { return 0 }, e.clock.Now)

	var once sync.Once
	e.finish = func() {
		once.Do(func() {
			stopTokens()
			tsTr.CloseIdleConnections()
			tr.CloseIdleConnections()
			e.srv.Close() // waits for the requests in flight: counts are final after it
		})
	}
	t.Cleanup(e.finish)
	return e
}

// serverState is the fake's state in a comparable form.
type serverState struct {
	Platform []string // "name jwksURL", sorted
	Legacy   []string // "label type owner active|revoked-by-<user>", in creation order
}

func (e *seededFake) state() serverState {
	var s serverState
	for _, k := range e.srv.APIKeys() {
		s.Platform = append(s.Platform, k.Name+" "+k.JWKSURL)
	}
	slices.Sort(s.Platform)
	for _, k := range e.srv.LegacyKeys() {
		status := "active"
		if k.Revoked != nil {
			status = "revoked-by-" + k.RevokedBy
		}
		s.Legacy = append(s.Legacy, strings.Join([]string{k.Label, k.KeyType, k.KeyReference, status}, " "))
	}
	return s
}

// seededState is the state newSeededFake seeds.
func seededState() serverState {
	return serverState{
		Platform: []string{"rel-target https://keys.example.com/jwks.json", "svc "},
		Legacy: []string{
			"rel-seed-app app " + seededApp + " active",
			"rel-victim user " + apikeystest.LegacyUserID + " active",
		},
	}
}

// operation is one SDK operation under test: a call of either API, or the
// token source's fetch.
type operation struct {
	name   string // the SDK's operation name, as in AmbiguousError.Op
	api    string
	route  apikeystest.Route
	create bool
	call   func(ctx context.Context, t *testing.T, e *seededFake) error
	// apply changes the seeded state as the operation does; nil for reads.
	apply func(s *serverState)
}

// allOperations is every operation of both APIs, and the token fetch.
func allOperations() []operation {
	renamed, revoked := "rel-renamed", "revoked-by-"+apikeystest.LegacyUserID
	return []operation{
		{name: "APIKeys.Create", api: platformAPI, route: apikeystest.RouteCreateAPIKey, create: true,
			call: func(ctx context.Context, t *testing.T, e *seededFake) error {
				k, err := e.client.APIKeys.Create(ctx, e.srv.EnvironmentID("Staging"), apikeys.CreateAPIKeyRequest{Name: "rel-new"})
				if err == nil {
					assert.Equal(t, "rel-new", k.Name)
				}
				return err
			},
			apply: func(s *serverState) { s.Platform = append(s.Platform, "rel-new "); slices.Sort(s.Platform) }},
		{name: "APIKeys.Get", api: platformAPI, route: apikeystest.RouteGetAPIKey, create: false,
			call: func(ctx context.Context, t *testing.T, e *seededFake) error {
				k, err := e.client.APIKeys.Get(ctx, e.target.ID)
				if err == nil {
					assert.Equal(t, e.target.ID, k.ID)
				}
				return err
			}, apply: nil},
		{name: "APIKeys.List", api: platformAPI, route: apikeystest.RouteListAPIKeys, create: false,
			call: func(ctx context.Context, t *testing.T, e *seededFake) error {
				keys, err := e.client.APIKeys.List(ctx, e.srv.EnvironmentID("Staging"))
				if err == nil {
					assert.Len(t, keys, 2)
				}
				return err
			}, apply: nil},
		{name: "APIKeys.Update", api: platformAPI, route: apikeystest.RouteUpdateAPIKey, create: false,
			call: func(ctx context.Context, t *testing.T, e *seededFake) error {
				k, err := e.client.APIKeys.Update(ctx, e.target.ID, apikeys.UpdateAPIKeyRequest{Name: &renamed})
				if err == nil {
					assert.Equal(t, renamed, k.Name)
				}
				return err
			},
			apply: func(s *serverState) {
				s.Platform[slices.Index(s.Platform, "rel-target https://keys.example.com/jwks.json")] = renamed + " https://keys.example.com/jwks.json"
				slices.Sort(s.Platform)
			}},
		{name: "APIKeys.Delete", api: platformAPI, route: apikeystest.RouteDeleteAPIKey, create: false,
			call: func(ctx context.Context, t *testing.T, e *seededFake) error {
				_, err := e.client.APIKeys.Delete(ctx, e.target.ID)
				return err
			},
			apply: func(s *serverState) {
				s.Platform = slices.DeleteFunc(s.Platform, func(p string) bool { return strings.HasPrefix(p, "rel-target ") })
			}},
		{name: "Environments.List", api: platformAPI, route: apikeystest.RouteListEnvironments, create: false,
			call: func(ctx context.Context, t *testing.T, e *seededFake) error {
				envs, err := e.client.Environments.List(ctx, e.srv.OrganizationID())
				if err == nil {
					assert.Len(t, envs, 3)
				}
				return err
			}, apply: nil},
		{name: "Legacy.List", api: legacyAPI, route: apikeystest.RouteLegacyList, create: false,
			call: func(ctx context.Context, t *testing.T, e *seededFake) error {
				keys, err := e.client.Legacy.List(ctx, apikeys.AppKeys(seededApp))
				if err == nil && assert.Len(t, keys, 1) {
					assert.Equal(t, e.appKey, keys[0].Key)
				}
				return err
			}, apply: nil},
		{name: "Legacy.Create", api: legacyAPI, route: apikeystest.RouteLegacyCreate, create: true,
			call: func(ctx context.Context, t *testing.T, e *seededFake) error {
				k, err := e.client.Legacy.Create(ctx, apikeys.AppKeys(seededApp), "rel-new")
				if err == nil {
					assert.Equal(t, "rel-new", k.Label)
					assert.False(t, k.IsRevoked())
				}
				return err
			},
			apply: func(s *serverState) {
				// An app has one active key: the create revokes the seeded one.
				s.Legacy[0] = "rel-seed-app app " + seededApp + " " + revoked
				s.Legacy = append(s.Legacy, "rel-new app "+seededApp+" active")
			}},
		{name: "Legacy.Revoke", api: legacyAPI, route: apikeystest.RouteLegacyRevoke, create: false,
			call: func(ctx context.Context, t *testing.T, e *seededFake) error {
				_, err := e.client.Legacy.Revoke(ctx, e.userKey)
				return err
			},
			apply: func(s *serverState) { s.Legacy[1] = "rel-victim user " + apikeystest.LegacyUserID + " " + revoked }},
		{name: "Legacy.Delete", api: legacyAPI, route: apikeystest.RouteLegacyDelete, create: false,
			call: func(ctx context.Context, t *testing.T, e *seededFake) error {
				_, err := e.client.Legacy.Delete(ctx, e.userKey)
				return err
			},
			apply: func(s *serverState) { s.Legacy = s.Legacy[:1] }},
		{name: "Legacy.Update", api: legacyAPI, route: apikeystest.RouteLegacyUpdate, create: false,
			call: func(ctx context.Context, t *testing.T, e *seededFake) error {
				k, err := e.client.Legacy.Update(ctx, e.userKey, "rel-relabelled")
				if err == nil {
					assert.Equal(t, "rel-relabelled", k.Label)
				}
				return err
			},
			apply: func(s *serverState) { s.Legacy[1] = "rel-relabelled user " + apikeystest.LegacyUserID + " active" }},
		{name: "Legacy.Validate", api: legacyAPI, route: apikeystest.RouteLegacyValidate, create: false,
			call: func(ctx context.Context, t *testing.T, e *seededFake) error {
				valid, err := e.client.Legacy.Validate(ctx, apikeys.KeyTypeApp, e.appKey)
				if err == nil {
					assert.True(t, valid)
				}
				return err
			}, apply: nil},
		{name: "token request", api: tokenAPI, route: apikeystest.RouteToken, create: false,
			call: func(ctx context.Context, t *testing.T, e *seededFake) error {
				tok, err := e.ts.Token(ctx)
				if err == nil {
					assert.NotEmpty(t, tok.AccessToken)
				}
				return err
			}, apply: nil},
	}
}

// errorCheck checks a failed call's error.
type errorCheck func(t *testing.T, op operation, err error)

// checkRetryable checks IsRetryable: true for transport errors, 429 and 5xx,
// unless the outcome is ambiguous.
func checkRetryable(t *testing.T, err error, kindRetryable bool) {
	t.Helper()
	assert.Equal(t, kindRetryable && !apikeys.IsAmbiguous(err), apikeys.IsRetryable(err), "IsRetryable(%v)", err)
}

// transportError matches a *TransportError (a timeout when timeout is set).
func transportError(timeout bool) errorCheck {
	return func(t *testing.T, op operation, err error) {
		var te *apikeys.TransportError
		if assert.ErrorAs(t, err, &te) {
			assert.Equal(t, op.name, te.Op)
		}
		var ne net.Error
		assert.Equal(t, timeout, errors.As(err, &ne) && ne.Timeout(), "timeout: %v", err)
		checkRetryable(t, err, true)
	}
}

// statusError matches the typed error of an HTTP status for the op's API:
// *APIError (either API) or *TokenError, with the status sentinel. When
// injected is set the error carries the fake's message for that status,
// so it is the last reply's error, not a "giving up" one.
func statusError(code int, injected bool) errorCheck {
	return func(t *testing.T, op operation, err error) {
		switch op.api {
		case platformAPI:
			var ae *apikeys.APIError
			if assert.ErrorAs(t, err, &ae) {
				assert.Equal(t, code, ae.StatusCode)
				if !injected {
					assert.Contains(t, string(ae.Body), "Bad Gateway")
				}
			}
		case legacyAPI:
			var le *apikeys.APIError
			if assert.ErrorAs(t, err, &le) {
				assert.Equal(t, code, le.StatusCode)
				assert.NotEmpty(t, le.RequestID)
				if !injected {
					assert.Contains(t, le.Message, "Bad Gateway")
				}
			}
		case tokenAPI:
			var te *apikeys.TokenError
			if assert.ErrorAs(t, err, &te) {
				assert.Equal(t, code, te.StatusCode)
			}
		}
		if injected {
			assert.Contains(t, err.Error(), fmt.Sprintf("injected fault: status %d", code))
		}
		var sentinel error
		switch {
		case code == http.StatusUnauthorized:
			sentinel = apikeys.ErrUnauthorized
		case code == http.StatusTooManyRequests:
			sentinel = apikeys.ErrRateLimited
		case code >= 500:
			sentinel = apikeys.ErrServer
		}
		assert.ErrorIs(t, err, sentinel)
		checkRetryable(t, err, code != http.StatusUnauthorized)
	}
}

// decodeError matches a *DecodeError of a 200 reply; html says whether the
// body was the HTML page, whose start the error shows (JSON is never shown,
// nor is any part of a token reply).
func decodeError(html bool) errorCheck {
	return func(t *testing.T, op operation, err error) {
		var de *apikeys.DecodeError
		if assert.ErrorAs(t, err, &de) {
			assert.Equal(t, http.StatusOK, de.StatusCode)
			switch {
			case html && op.api != tokenAPI:
				assert.Equal(t, "text/html", de.ContentType)
				assert.Contains(t, de.Excerpt, "502 Bad Gateway")
			default:
				assert.Empty(t, de.Excerpt)
			}
		}
		checkRetryable(t, err, false)
	}
}

// deadlineError matches the caller's context deadline.
func deadlineError(t *testing.T, op operation, err error) {
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	var te *apikeys.TransportError
	assert.False(t, errors.As(err, &te), "a context end is not a transport error: %v", err)
	assert.Contains(t, err.Error(), op.name)
	checkRetryable(t, err, false)
}

// expectation is what a case should end with.
type expectation struct {
	attempts  int // requests of the op's route the server saw (the client's attempts when refused)
	ambiguous bool
	applied   bool            // the op's change is in the server's state afterwards
	err       errorCheck      // nil: success
	waits     []time.Duration // when set, the exact waits asked for between attempts
	tokens    int             // when set, the token requests the server saw
}

// expiringContext is a context whose deadline passes when expire is
// called: a context.WithDeadline whose clock the test holds, so that the
// deadline passes exactly while the fake holds the request, however slow
// the machine.
type expiringContext struct {
	context.Context
	done chan struct{}
	once sync.Once
}

func newExpiringContext() *expiringContext {
	return &expiringContext{Context: context.Background(), done: make(chan struct{})}
}

func (c *expiringContext) Done() <-chan struct{} { return c.done }

func (c *expiringContext) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

func (c *expiringContext) expire() { c.once.Do(func() { close(c.done) }) }

// faultColumn is one column of the matrix.
type faultColumn struct {
	name     string
	cfg      seededFakeConfig
	inject   func(e *seededFake, r apikeystest.Route)
	deadline bool // the caller's deadline passes once the fake holds the first request
	want     func(op operation) expectation
}

// faultColumns is every column of the matrix.
func faultColumns() []faultColumn {
	ok := func(n int) expectation { return expectation{attempts: n, applied: true} }
	fail := func(n int, m errorCheck) expectation { return expectation{attempts: n, err: m} }
	ambiguous := func(m errorCheck) expectation { return expectation{attempts: 1, ambiguous: true, err: m} }
	// repeatable: everything but a create is retried alike.
	repeatable := func(yes expectation, create expectation) func(operation) expectation {
		return func(op operation) expectation {
			if op.create {
				return create
			}
			return yes
		}
	}
	capOf := func(op operation) time.Duration {
		if op.api == tokenAPI {
			return tokenSourceMaxWait
		}
		return clientMaxWait
	}
	failNext := func(statuses ...int) func(*seededFake, apikeystest.Route) {
		return func(e *seededFake, r apikeystest.Route) {
			for _, s := range statuses {
				e.srv.FailNext(r, 1, s, "")
			}
		}
	}
	retryAfter := func(ra func(e *seededFake) string, n int) func(*seededFake, apikeystest.Route) {
		return func(e *seededFake, r apikeystest.Route) { e.srv.FailNext(r, n, http.StatusTooManyRequests, ra(e)) }
	}
	return []faultColumn{
		{name: "connection refused", cfg: seededFakeConfig{refused: true},
			// A dial error surely never reached the server: even a create is retried.
			want: func(operation) expectation { return fail(4, transportError(false)) }},
		{name: "reset before apply then ok",
			inject: func(e *seededFake, r apikeystest.Route) { e.srv.DropNext(r, 1) },
			want:   repeatable(ok(2), ambiguous(transportError(false)))},
		{name: "reset after apply then ok",
			inject: func(e *seededFake, r apikeystest.Route) { e.srv.DropNextAfterApply(r, 1) },
			// The retried delete finds nothing and reports success; the
			// create must not be repeated: it happened once.
			want: repeatable(ok(2), expectation{attempts: 1, ambiguous: true, applied: true, err: transportError(false)})},
		{name: "reset every time",
			inject: func(e *seededFake, r apikeystest.Route) { e.srv.DropNext(r, 4) },
			want:   repeatable(fail(4, transportError(false)), ambiguous(transportError(false)))},
		{name: "reply cut mid-body then ok", cfg: seededFakeConfig{cutBodies: 1},
			// The server applied the request and its reply broke off: a
			// transport failure, retried like any other.
			want: repeatable(ok(2), expectation{attempts: 1, ambiguous: true, applied: true, err: transportError(false)})},
		{name: "timeout every time", cfg: seededFakeConfig{headerTimeout: 50 * time.Millisecond},
			// ResponseHeaderTimeout starts once the request is written, so
			// every attempt reaches the fake, which holds it until the
			// client gives up.
			inject: func(e *seededFake, r apikeystest.Route) { e.srv.SetLatency(r, time.Hour) },
			want:   repeatable(fail(4, transportError(true)), ambiguous(transportError(true)))},
		{name: "caller deadline in flight", deadline: true,
			inject: func(e *seededFake, r apikeystest.Route) { e.srv.SetLatency(r, time.Hour) },
			want: func(op operation) expectation {
				return expectation{attempts: 1, ambiguous: op.create, err: deadlineError}
			}},
		{name: "429 Retry-After seconds then ok",
			inject: retryAfter(func(*seededFake) string { return "1" }, 1),
			want: func(operation) expectation {
				return expectation{attempts: 2, applied: true, waits: []time.Duration{time.Second}}
			}},
		{name: "429 Retry-After date then ok",
			inject: retryAfter(func(e *seededFake) string { return e.clock.Now().Add(time.Second).Format(http.TimeFormat) }, 1),
			want: func(operation) expectation {
				return expectation{attempts: 2, applied: true, waits: []time.Duration{time.Second}}
			}},
		{name: "429 Retry-After date over the cap then ok",
			inject: retryAfter(func(e *seededFake) string { return e.clock.Now().Add(time.Hour).Format(http.TimeFormat) }, 1),
			want: func(op operation) expectation {
				return expectation{attempts: 2, applied: true, waits: []time.Duration{capOf(op)}}
			}},
		{name: "429 Retry-After over the cap forever",
			inject: retryAfter(func(*seededFake) string { return "3600" }, 4),
			// A rate limit is refused before processing: even a create
			// is retried, and it is not ambiguous when the retries run out.
			want: func(op operation) expectation {
				return expectation{attempts: 4, err: statusError(429, true), waits: []time.Duration{capOf(op), capOf(op), capOf(op)}}
			}},
		{name: "500 then ok", inject: failNext(500), want: repeatable(ok(2), ambiguous(statusError(500, true)))},
		{name: "502 then ok", inject: failNext(502), want: repeatable(ok(2), ambiguous(statusError(502, true)))},
		{name: "503 then ok", inject: failNext(503), want: repeatable(ok(2), ambiguous(statusError(503, true)))},
		{name: "504 then ok", inject: failNext(504), want: repeatable(ok(2), ambiguous(statusError(504, true)))},
		{name: "500 502 503 then ok", inject: failNext(500, 502, 503),
			want: repeatable(ok(4), ambiguous(statusError(500, true)))},
		{name: "500 502 503 504 never recovers", inject: failNext(500, 502, 503, 504),
			// The error is the last reply's (504), not a "giving up" error.
			want: repeatable(fail(4, statusError(504, true)), ambiguous(statusError(500, true)))},
		{name: "401 once", cfg: seededFakeConfig{tokenClient: true}, inject: failNext(401),
			want: func(op operation) expectation {
				switch op.api {
				case platformAPI:
					// Nothing was applied: every call, a create too, is
					// retried once with a newly fetched token.
					return expectation{attempts: 2, applied: true, tokens: 2}
				default:
					// The legacy API has no token to renew; the token
					// endpoint's 401 is final.
					return fail(1, statusError(401, true))
				}
			}},
		{name: "HTML 200", inject: func(e *seededFake, r apikeystest.Route) {
			e.srv.FailNextBody(r, 1, http.StatusOK, "text/html", []byte(gatewayErrorPage))
		}, want: repeatable(fail(1, decodeError(true)), ambiguous(decodeError(true)))},
		{name: "HTML 502 then ok", inject: func(e *seededFake, r apikeystest.Route) {
			e.srv.FailNextBody(r, 1, http.StatusBadGateway, "text/html", []byte(gatewayErrorPage))
		}, want: repeatable(ok(2), ambiguous(statusError(502, false)))},
		{name: "truncated JSON 200", inject: func(e *seededFake, r apikeystest.Route) {
			e.srv.FailNextBody(r, 1, http.StatusOK, "application/json", []byte(truncatedReply))
		}, want: repeatable(fail(1, decodeError(false)), ambiguous(decodeError(false)))},
	}
}

// TestFaultMatrix runs every operation against every fault, over
// HTTP/1.1 and over HTTP/2 on TLS.
func TestFaultMatrix(t *testing.T) {
	for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
		for _, f := range faultColumns() {
			f.cfg.http2 = proto == "HTTP/2"
			for _, op := range allOperations() {
				t.Run(proto+"/"+f.name+"/"+op.name, func(t *testing.T) {
					runMatrixCase(t, f, op)
				})
			}
		}
	}
}

// TestFaultMatrixEveryStatus runs every operation against every status
// from 400 to 599, and statuses no server can send (0, 99, 101, 199, 600,
// 1000: a misbehaving proxy or RoundTripper), over HTTP/1.1 and HTTP/2 on
// TLS. The fake answers each attempt with the status and applies nothing:
// the server's state is the seeded one after every case, so no create is
// ever made, let alone twice. A call safe to repeat is retried exactly when
// HTTP says the status is worth another attempt (408, 429, 5xx); a create
// only on 429, and its outcome is unknown (IsAmbiguous, never IsRetryable)
// for every status but a definite 4xx refusal.
func TestFaultMatrixEveryStatus(t *testing.T) {
	var statuses []int
	for code := 400; code <= 599; code++ {
		statuses = append(statuses, code)
	}
	odd := []int{0, 99, 101, 199, 600, 1000}
	for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
		for _, op := range allOperations() {
			t.Run(proto+"/"+op.name, func(t *testing.T) {
				cfg := seededFakeConfig{http2: proto == "HTTP/2"}
				e := newSeededFake(t, cfg)
				for _, code := range statuses {
					runStatusCase(t, e, op, code, code)
				}
				for _, code := range odd {
					// A fresh client whose transport turns each reply's
					// status (the fake's 500) into code.
					cfg.rewrite = &code
					oddEnv := newSeededFake(t, cfg)
					runStatusCase(t, oddEnv, op, 500, code)
					oddEnv.finish()
				}
			})
		}
	}
}

// runStatusCase injects status sent (seen by the client as status seen)
// for every attempt of op, and checks the outcome.
func runStatusCase(t *testing.T, e *seededFake, op operation, sent, seen int) {
	t.Helper()
	worthRepeating := seen == 408 || seen == 429 || (seen >= 500 && seen <= 599)
	refusal := seen >= 400 && seen <= 499 && seen != 408
	want := 1
	switch {
	case op.create && seen == 429, !op.create && worthRepeating:
		want = 4
	}
	e.srv.ClearFaults()
	base, trips := e.srv.Count(op.route), e.tsTrips.Load()
	e.srv.FailNext(op.route, 4, sent, "")
	var info apikeys.Response
	err := op.call(apikeys.CaptureResponse(context.Background(), &info), t, e)
	if !assert.Error(t, err, "status %d", seen) {
		return
	}
	sentAttempts := info.Attempts
	if op.api == tokenAPI {
		sentAttempts = int(e.tsTrips.Load() - trips)
	}
	assert.Equal(t, want, e.srv.Count(op.route)-base, "status %d: attempts the server saw", seen)
	assert.Equal(t, want, sentAttempts, "status %d: attempts", seen)
	switch {
	case op.create && !refusal:
		assert.True(t, apikeys.IsAmbiguous(err), "status %d: a create's outcome is unknown: %v", seen, err)
		assert.False(t, apikeys.IsRetryable(err), "status %d", seen)
	case op.create:
		assert.False(t, apikeys.IsAmbiguous(err), "status %d: a refusal", seen)
		assert.Equal(t, seen == 429, apikeys.IsRetryable(err), "status %d", seen)
	default:
		assert.False(t, apikeys.IsAmbiguous(err), "status %d", seen)
		assert.Equal(t, worthRepeating, apikeys.IsRetryable(err), "status %d", seen)
	}
	assert.Equal(t, seededState(), e.state(), "status %d: nothing applied", seen)
}

func runMatrixCase(t *testing.T, f faultColumn, op operation) {
	want := f.want(op)
	e := newSeededFake(t, f.cfg)
	base := e.srv.Count(op.route)
	if f.inject != nil {
		f.inject(e, op.route)
	}

	var ctx context.Context = context.Background()
	if f.deadline {
		exp := newExpiringContext()
		arrived := e.srv.Await(op.route, base+1)
		quit := make(chan struct{})
		defer close(quit)
		go func() {
			select {
			case <-arrived:
				exp.expire()
			case <-quit:
			}
		}()
		ctx = exp
	}
	var info apikeys.Response
	err := op.call(apikeys.CaptureResponse(ctx, &info), t, e)
	trips := int(e.tsTrips.Load())
	sent := info.Attempts
	if op.api == tokenAPI {
		sent = trips
	}
	if !f.cfg.refused {
		// Every attempt was written before the call returned: let the fake
		// read them all before it closes, so its counts are final.
		await(t, e.srv.Await(op.route, base+sent), "attempts at the fake")
	}
	e.finish()

	// Attempts: as the server counted them, and as the client reports them.
	if f.cfg.refused {
		assert.Zero(t, e.srv.Count(op.route)-base, "nothing reached the fake")
	} else {
		assert.Equal(t, want.attempts, e.srv.Count(op.route)-base, "attempts the server saw")
	}
	if op.api == tokenAPI {
		assert.Equal(t, want.attempts, sent, "token requests sent")
	} else {
		assert.Equal(t, want.attempts, sent, "attempts reported by CaptureResponse")
	}
	if want.tokens > 0 {
		assert.Equal(t, want.tokens, e.srv.Count(apikeystest.RouteToken), "token requests")
	}

	// Waits: one per retry, capped, and exact where the reply dictated them.
	w := e.waits.all()
	if op.api == tokenAPI {
		w = e.tsWaits.all()
	}
	if want.waits != nil {
		assert.Equal(t, want.waits, w, "waits between attempts")
	} else if !(f.deadline && op.api == tokenAPI) { // the detached fetch outlives its caller
		assert.Len(t, w, want.attempts-1, "one wait per retry: %v", w)
	}

	// The outcome and its typed error.
	assert.Equal(t, want.ambiguous, apikeys.IsAmbiguous(err), "IsAmbiguous(%v)", err)
	if want.ambiguous {
		var ae *apikeys.AmbiguousError
		if assert.ErrorAs(t, err, &ae) {
			assert.Equal(t, op.name, ae.Op)
		}
	}
	if want.err == nil {
		assert.NoError(t, err)
	} else if assert.Error(t, err) {
		want.err(t, op, err)
	}

	// The server's state: the change made exactly once, or not at all.
	wantState := seededState()
	if want.applied && op.apply != nil {
		op.apply(&wantState)
	}
	assert.Equal(t, wantState, e.state(), "server state")
}

// TestFaultMatrixExpiredToken: a cached token the source still thinks
// fresh has expired on the server (clocks apart). The 401 makes the client
// drop it, fetch a new one and retry once, for every Platform call.
func TestFaultMatrixExpiredToken(t *testing.T) {
	for _, op := range allOperations() {
		if op.api != platformAPI {
			continue
		}
		t.Run(op.name, func(t *testing.T) {
			e := newSeededFake(t, seededFakeConfig{tokenClient: true, skewedClock: true})
			_, err := e.ts.Token(context.Background()) // cached: issued at t0, expires t0+300s on the server
			require.NoError(t, err)
			e.srvClock.Advance(301 * time.Second)
			e.clock.Advance(200 * time.Second) // the source refreshes at t0+270s by its clock

			var info apikeys.Response
			err = op.call(apikeys.CaptureResponse(context.Background(), &info), t, e)
			e.finish()
			require.NoError(t, err)
			assert.Equal(t, 2, e.srv.Count(op.route))
			assert.Equal(t, 2, info.Attempts)
			assert.Equal(t, 2, e.srv.Count(apikeystest.RouteToken), "one more token for the retry")
			var reasons []string
			for _, r := range e.srv.Requests() {
				if r.Route == op.route {
					reasons = append(reasons, r.Reason)
				}
			}
			assert.Equal(t, []string{"expired bearer token", ""}, reasons)
			wantState := seededState()
			if op.apply != nil {
				op.apply(&wantState)
			}
			assert.Equal(t, wantState, e.state())
		})
	}
}

// TestLegacyAppKeyCreateResetAfterApply is the case the retry rules exist
// for: an app-key create that the server applied, whose reply was lost to
// a reset. Creating an app key revokes the app's earlier keys, so a second
// create would revoke the key the first one made. The SDK must send it
// once, leave exactly one new key, the earlier key revoked once, and say
// the outcome is ambiguous, so the caller reconciles with List.
func TestLegacyAppKeyCreateResetAfterApply(t *testing.T) {
	e := newSeededFake(t, seededFakeConfig{})
	e.srv.DropNextAfterApply(apikeystest.RouteLegacyCreate, 1)
	before := e.srv.Count(apikeystest.RouteLegacyCreate)

	var info apikeys.Response
	got, err := e.client.Legacy.Create(apikeys.CaptureResponse(context.Background(), &info), apikeys.AppKeys(seededApp), "rel-new")
	assert.Nil(t, got)
	assert.True(t, apikeys.IsAmbiguous(err), "got %v", err)
	assert.False(t, apikeys.IsRetryable(err), "an ambiguous create is reconciled, not retried")
	var ae *apikeys.AmbiguousError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "Legacy.Create", ae.Op)
	var te *apikeys.TransportError
	assert.ErrorAs(t, err, &te)
	assert.Equal(t, 1, info.Attempts)
	assert.Equal(t, 1, e.srv.Count(apikeystest.RouteLegacyCreate)-before, "the create was sent once")

	var appKeys []apikeystest.LegacyKey
	for _, k := range e.srv.LegacyKeys() {
		if k.KeyType == apikeys.KeyTypeApp && k.KeyReference == seededApp {
			appKeys = append(appKeys, k)
		}
	}
	require.Len(t, appKeys, 2, "the seeded key and exactly one new key")
	assert.Equal(t, e.appKey, appKeys[0].Key)
	if assert.NotNil(t, appKeys[0].Revoked, "the earlier key is revoked") {
		assert.Equal(t, apikeystest.LegacyUserID, appKeys[0].RevokedBy)
	}
	assert.Equal(t, "rel-new", appKeys[1].Label)
	assert.Nil(t, appKeys[1].Revoked, "the key the lost reply carried is active")

	// Reconciling: the caller lists the app's keys and finds the new one.
	keys, err := e.client.Legacy.List(context.Background(), apikeys.AppKeys(seededApp))
	require.NoError(t, err)
	var active []string
	for _, k := range keys {
		if !k.IsRevoked() {
			active = append(active, k.Label)
		}
	}
	assert.Equal(t, []string{"rel-new"}, active)
	valid, err := e.client.Legacy.Validate(context.Background(), apikeys.KeyTypeApp, appKeys[1].Key)
	require.NoError(t, err)
	assert.True(t, valid, "the new key works")
	valid, err = e.client.Legacy.Validate(context.Background(), apikeys.KeyTypeApp, e.appKey)
	require.NoError(t, err)
	assert.False(t, valid, "the earlier key no longer does")
}

// TestFaultReplyCutMidBody: a real connection closed halfway through a
// 200 reply. A read is retried; a create that may have been applied is
// not, and is ambiguous.
func TestFaultReplyCutMidBody(t *testing.T) {
	cut := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "500")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"meta":{"version":"1.0.0"},"payload":{"apikey":`)
		_ = http.NewResponseController(w).Flush()
		hangUp(w)
	}
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 || r.Method == http.MethodPost {
			cut(w)
			return
		}
		reply(w, http.StatusOK, envelope(`{"apikey":`+keyJSON+`}`))
	})
	c, _ := newClient(t, s)

	var info apikeys.Response
	k, err := c.APIKeys.Get(apikeys.CaptureResponse(context.Background(), &info), "client-1")
	require.NoError(t, err)
	assert.Equal(t, "client-1", k.ID)
	assert.Equal(t, 2, info.Attempts)
	assert.Equal(t, 2, s.count())

	_, err = c.APIKeys.Create(apikeys.CaptureResponse(context.Background(), &info), "env-1", apikeys.CreateAPIKeyRequest{Name: "n"})
	assert.True(t, apikeys.IsAmbiguous(err), "got %v", err)
	var te *apikeys.TransportError
	assert.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, 1, info.Attempts)
	assert.Equal(t, 3, s.count(), "the create was sent once")
}

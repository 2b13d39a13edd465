package apikeys_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// tokenEndpoint is an httptest token endpoint that verifies every client
// assertion with go-jose, as the real endpoint does, and answers with
// respond (n counts requests from 1).
type tokenEndpoint struct {
	t        *testing.T
	key      apikeys.SigningKey
	clock    *fakeClock
	scope    string
	srv      *httptest.Server
	url      string
	requests atomic.Int32
	respond  func(n int, w http.ResponseWriter, r *http.Request)

	mu         sync.Mutex
	jtis       []string
	iats       []int64
	assertions []string
}

func newTokenEndpoint(t *testing.T, key apikeys.SigningKey, clock *fakeClock, respond func(n int, w http.ResponseWriter, r *http.Request)) *tokenEndpoint {
	e := &tokenEndpoint{t: t, key: key, clock: clock, respond: respond}
	mux := http.NewServeMux()
	mux.Handle("/v2/auth/token", e)
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a redirect was followed")
	})
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.url = e.srv.URL + "/v2/auth/token"
	return e
}

func (e *tokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(e.requests.Add(1))
	e.check(r)
	e.respond(n, w, r)
}

// check verifies the request and its client assertion. It must not call
// require: it runs in the server's goroutine.
func (e *tokenEndpoint) check(r *http.Request) {
	t := e.t
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
	assert.Equal(t, "application/json", r.Header.Get("Accept"))
	if !assert.NoError(t, r.ParseForm()) {
		return
	}
	assert.Equal(t, "client_credentials", r.PostForm.Get("grant_type"))
	assert.Equal(t, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", r.PostForm.Get("client_assertion_type"))
	if e.scope == "" {
		assert.NotContains(t, r.PostForm, "scope")
	} else {
		assert.Equal(t, e.scope, r.PostForm.Get("scope"))
	}
	assertion := r.PostForm.Get("client_assertion")
	tok, err := jwt.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(e.key.Algorithm)})
	if !assert.NoError(t, err) {
		return
	}
	if !assert.Len(t, tok.Headers, 1) {
		return
	}
	h := tok.Headers[0]
	assert.Equal(t, e.key.KeyID, h.KeyID)
	assert.Equal(t, e.key.Algorithm, h.Algorithm)
	assert.Equal(t, "JWT", h.ExtraHeaders[jose.HeaderType])
	var claims jwt.Claims
	var raw map[string]any
	if !assert.NoError(t, tok.Claims(e.key.Public(), &claims, &raw)) {
		return
	}
	now := e.clock.Now()
	assert.NoError(t, claims.ValidateWithLeeway(jwt.Expected{
		Issuer: testClientID, Subject: testClientID, AnyAudience: jwt.Audience{e.url}, Time: now,
	}, 0))
	assert.Equal(t, e.url, raw["aud"], "aud must be one JSON string")
	if assert.NotNil(t, claims.IssuedAt) && assert.NotNil(t, claims.Expiry) {
		assert.Equal(t, now.Unix(), claims.IssuedAt.Time().Unix())
		life := claims.Expiry.Time().Sub(claims.IssuedAt.Time())
		assert.LessOrEqual(t, life, 300*time.Second)
		assert.Positive(t, life)
	}
	id, err := base64.RawURLEncoding.DecodeString(claims.ID)
	assert.NoError(t, err)
	assert.Len(t, id, 16, "jti is 128 random bits")
	e.mu.Lock()
	defer e.mu.Unlock()
	assert.NotContains(t, e.jtis, claims.ID, "jti must be unique")
	e.jtis = append(e.jtis, claims.ID)
	e.iats = append(e.iats, claims.IssuedAt.Time().Unix())
	e.assertions = append(e.assertions, assertion)
}

func (e *tokenEndpoint) seenJTIs() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.jtis...)
}

// failFirst answers the first token request with status, an OAuth error
// code and, when set, Retry-After; later ones get tokens.
func failFirst(status int, code, retryAfter string) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, r *http.Request) {
		if n > 1 {
			tokenReply(n, w, r)
			return
		}
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		writeJSON(w, status, map[string]string{"error": code})
	}
}

// newSource makes a token source for e with its own transport, and
// records its waits (advancing the clock by each).
func newSource(t *testing.T, e *tokenEndpoint, mutate ...func(*apikeys.TokenConfig)) (*apikeys.AssertionTokenSource, *waits) {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	cfg := apikeys.TokenConfig{
		ClientID:   testClientID,
		Key:        e.key,
		TokenURL:   e.url,
		Scope:      e.scope,
		HTTPClient: &http.Client{Transport: tr},
		Clock:      e.clock.Now,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	ts, err := apikeys.NewTokenSource(cfg)
	require.NoError(t, err)
	w := &waits{clock: e.clock}
	apikeys.SetTokenSourceWait(ts, w.sleep)
	return ts, w
}

func TestTokenSourceAssertion(t *testing.T) {
	leakCheck(t)
	rsa2048, err := apikeys.ParseSigningKey(fixture(t, "rsa2048.pkcs8.pem"), apikeys.PS256)
	require.NoError(t, err)
	cases := []struct {
		name  string
		key   apikeys.SigningKey
		scope string
	}{
		{name: "RS384", key: generatedKey(t, apikeys.RS384), scope: ""},
		{name: "PS256", key: rsa2048, scope: "system/*.read"},
		{name: "ES256", key: generatedKey(t, apikeys.ES256), scope: ""},
		{name: "ES384", key: generatedKey(t, apikeys.ES384), scope: "a b"},
		{name: "ES512", key: generatedKey(t, apikeys.ES512), scope: ""},
		{name: "EdDSA", key: generatedKey(t, apikeys.EdDSA), scope: ""},
		{name: "opaque ES384 signer", key: apikeys.SigningKey{
			Signer: wrappedSigner{s: generatedKey(t, apikeys.ES384).Signer}, KeyID: "hsm-1", Algorithm: apikeys.ES384}, scope: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			e := newTokenEndpoint(t, tc.key, clock, func(n int, w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, map[string]any{"access_token": "at-1", "token_type": "bearer", "expires_in": 300, "scope": r.PostForm.Get("scope")})
			})
			e.scope = tc.scope
			ts, _ := newSource(t, e)
			tok, err := ts.Token(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "at-1", tok.AccessToken)
			assert.Equal(t, "bearer", tok.TokenType)
			assert.Equal(t, tc.scope, tok.Scope)
			assert.Equal(t, clock.Now().Add(300*time.Second), tok.Expiry)
			assert.EqualValues(t, 1, e.requests.Load())
			assert.Len(t, e.seenJTIs(), 1)
		})
	}
}

func TestTokenSourceCaching(t *testing.T) {
	leakCheck(t)
	key := generatedKey(t, apikeys.ES256)
	cases := []struct {
		name      string
		expiresIn any // nil: member absent
		lifetime  time.Duration
		refresh   time.Duration // when the cached token is replaced
	}{
		{name: "expires_in 300", expiresIn: 300, lifetime: 300 * time.Second, refresh: 270 * time.Second},
		{name: "expires_in absent", expiresIn: nil, lifetime: 300 * time.Second, refresh: 270 * time.Second},
		{name: "expires_in 3600", expiresIn: 3600, lifetime: time.Hour, refresh: time.Hour - 30*time.Second},
		{name: "expires_in 60", expiresIn: 60, lifetime: 60 * time.Second, refresh: 54 * time.Second},
		{name: "expires_in as string", expiresIn: "120", lifetime: 120 * time.Second, refresh: 108 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			start := clock.Now()
			e := newTokenEndpoint(t, key, clock, func(n int, w http.ResponseWriter, r *http.Request) {
				body := map[string]any{"access_token": fmt.Sprintf("tok-%d", n), "token_type": "Bearer"}
				if tc.expiresIn != nil {
					body["expires_in"] = tc.expiresIn
				}
				writeJSON(w, 200, body)
			})
			ts, _ := newSource(t, e)
			ctx := context.Background()
			tok, err := ts.Token(ctx)
			require.NoError(t, err)
			assert.Equal(t, "tok-1", tok.AccessToken)
			assert.Equal(t, start.Add(tc.lifetime), tok.Expiry)

			// Cached until just before the refresh point.
			clock.Advance(tc.refresh - time.Second)
			tok, err = ts.Token(ctx)
			require.NoError(t, err)
			assert.Equal(t, "tok-1", tok.AccessToken)
			assert.EqualValues(t, 1, e.requests.Load())

			// Replaced before it expires.
			clock.Advance(time.Second)
			tok, err = ts.Token(ctx)
			require.NoError(t, err)
			assert.Equal(t, "tok-2", tok.AccessToken)
			assert.Equal(t, start.Add(tc.refresh+tc.lifetime), tok.Expiry)
			assert.EqualValues(t, 2, e.requests.Load())
		})
	}

	t.Run("a cached token is shared, not copied", func(t *testing.T) {
		e := newTokenEndpoint(t, key, newFakeClock(), tokenReply)
		ts, _ := newSource(t, e)
		tok, err := ts.Token(context.Background())
		require.NoError(t, err)
		again, err := ts.Token(context.Background())
		require.NoError(t, err)
		assert.Same(t, tok, again, "one *Token for every caller: no allocation per call")

		// Invalidate goes by the access token, so a copy drops it too.
		cp := *tok
		ts.Invalidate(&cp)
		next, err := ts.Token(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "tok-2", next.AccessToken)
		assert.Equal(t, "tok-1", tok.AccessToken, "a token handed out is never changed by the source")
	})
}

func TestTokenSourceSingleFlight(t *testing.T) {
	leakCheck(t)
	const callers = 1000
	gate := make(chan struct{})
	entered := make(chan struct{}, 1)
	e := newTokenEndpoint(t, generatedKey(t, apikeys.ES256), newFakeClock(), func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			entered <- struct{}{}
			<-gate
		}
		tokenReply(n, w, r)
	})
	ts, _ := newSource(t, e)

	type result struct {
		tok *apikeys.Token
		err error
	}
	results := make(chan result, callers)
	var started sync.WaitGroup
	started.Add(callers)
	for range callers {
		go func() {
			started.Done()
			tok, err := ts.Token(context.Background())
			results <- result{tok: tok, err: err}
		}()
	}
	started.Wait()
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the token request never reached the endpoint")
	}
	close(gate)
	for range callers {
		r := <-results
		if assert.NoError(t, r.err) {
			assert.Equal(t, "tok-1", r.tok.AccessToken)
		}
	}
	assert.EqualValues(t, 1, e.requests.Load(), "exactly one token request for all callers")
}

func TestTokenSourceWaiterCancellation(t *testing.T) {
	leakCheck(t)
	gate := make(chan struct{})
	entered := make(chan struct{}, 1)
	e := newTokenEndpoint(t, generatedKey(t, apikeys.ES256), newFakeClock(), func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			entered <- struct{}{}
			<-gate
			assert.NoError(t, r.Context().Err(), "the shared fetch must not be cancelled by a caller leaving")
		}
		tokenReply(n, w, r)
	})
	ts, _ := newSource(t, e)

	// The caller that starts the fetch leaves first.
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := ts.Token(leaderCtx)
		leaderErr <- err
	}()
	<-entered

	waiterCtx, cancelWaiter := context.WithCancel(context.Background())
	waiterErr := make(chan error, 1)
	go func() {
		_, err := ts.Token(waiterCtx)
		waiterErr <- err
	}()
	patient := make(chan *apikeys.Token, 1)
	go func() {
		tok, err := ts.Token(context.Background())
		assert.NoError(t, err)
		patient <- tok
	}()

	cancelLeader()
	err := <-leaderErr
	assert.ErrorIs(t, err, context.Canceled)
	cancelWaiter()
	err = <-waiterErr
	assert.ErrorIs(t, err, context.Canceled)

	close(gate)
	tok := <-patient
	require.NotNil(t, tok)
	assert.Equal(t, "tok-1", tok.AccessToken)

	// The finished fetch was cached for later callers.
	tok, err = ts.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "tok-1", tok.AccessToken)
	assert.EqualValues(t, 1, e.requests.Load())

	// A context that has already ended gets its error, without a request.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = ts.Token(done)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = ts.Token(nil)
	var ve *apikeys.ValidationError
	assert.ErrorAs(t, err, &ve)
	assert.EqualValues(t, 1, e.requests.Load())
}

func TestTokenSourceEndpointErrors(t *testing.T) {
	leakCheck(t)
	key := generatedKey(t, apikeys.ES384)
	cases := []struct {
		name     string
		respond  func(w http.ResponseWriter, r *http.Request)
		want     *apikeys.TokenError
		sentinel error
		requests int32
		waits    []time.Duration
	}{
		{name: "400 invalid_request", respond: func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 400, map[string]string{"error": "invalid_request", "error_description": "JWT header kid property is required"})
		}, want: &apikeys.TokenError{Op: "token request", StatusCode: 400, Code: "invalid_request", Description: "JWT header kid property is required"}, sentinel: nil, requests: 1, waits: nil},
		{name: "401 invalid_client blank description", respond: func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 401, map[string]string{"error": "invalid_client", "error_description": ""})
		}, want: &apikeys.TokenError{Op: "token request", StatusCode: 401, Code: "invalid_client"}, sentinel: apikeys.ErrUnauthorized, requests: 1, waits: nil},
		{name: "400 with error_uri", respond: func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 400, map[string]string{"error": "invalid_scope", "error_uri": "https://docs.example/errors#scope"})
		}, want: &apikeys.TokenError{Op: "token request", StatusCode: 400, Code: "invalid_scope", URI: "https://docs.example/errors#scope"}, sentinel: nil, requests: 1, waits: nil},
		{name: "403 without JSON", respond: func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "Forbidden", http.StatusForbidden)
		}, want: &apikeys.TokenError{Op: "token request", StatusCode: 403}, sentinel: apikeys.ErrForbidden, requests: 1, waits: nil},
		{name: "redirect is not followed", respond: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		}, want: &apikeys.TokenError{Op: "token request", StatusCode: 307}, sentinel: nil, requests: 1, waits: nil},
		{name: "500 every time", respond: func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 500, map[string]string{"error": "server_error"})
		}, want: &apikeys.TokenError{Op: "token request", StatusCode: 500, Code: "server_error"}, sentinel: apikeys.ErrServer, requests: 4,
			// jitter is 0 in tests: every wait is MinWait.
			waits: []time.Duration{500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond}},
		{name: "429 with Retry-After", respond: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			writeJSON(w, 429, map[string]string{"error": "slow_down"})
		}, want: &apikeys.TokenError{Op: "token request", StatusCode: 429, Code: "slow_down"}, sentinel: apikeys.ErrRateLimited, requests: 4,
			waits: []time.Duration{7 * time.Second, 7 * time.Second, 7 * time.Second}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTokenEndpoint(t, key, newFakeClock(), func(n int, w http.ResponseWriter, r *http.Request) { tc.respond(w, r) })
			ts, w := newSource(t, e)
			_, err := ts.Token(context.Background())
			var te *apikeys.TokenError
			require.ErrorAs(t, err, &te)
			assert.NotNil(t, te.Header, "the reply's header is kept")
			assert.Equal(t, int(tc.requests), te.Attempts)
			te.Header, te.Attempts = nil, 0
			assert.Equal(t, tc.want, te)
			if tc.sentinel != nil {
				assert.ErrorIs(t, err, tc.sentinel)
			}
			assert.Equal(t, tc.requests, e.requests.Load())
			assert.Equal(t, tc.waits, w.all())
			assert.Equal(t, tc.requests > 1, apikeys.IsRetryable(err))
			assert.Len(t, e.seenJTIs(), int(tc.requests), "every attempt signs a new assertion")
		})
	}

	decodeCases := []struct {
		name string
		ct   string
		body string
		want string
	}{
		{name: "HTML", ct: "text/html", body: "<html>proxy login</html>", want: "invalid JSON"},
		{name: "truncated JSON", ct: "application/json", body: `{"access_token":"at-`, want: "invalid JSON"},
		{name: "no access_token", ct: "application/json", body: `{"token_type":"Bearer"}`, want: "access_token is empty"},
		{name: "token_type mac", ct: "application/json", body: `{"access_token":"x","token_type":"mac"}`, want: "not Bearer"},
		{name: "expires_in not a number", ct: "application/json", body: `{"access_token":"x","expires_in":"soon"}`, want: "expires_in"},
		// A lifetime that is not a positive number of seconds is no token.
		{name: "expires_in 0", ct: "application/json", body: `{"access_token":"x","expires_in":0}`, want: "expires_in"},
		{name: "expires_in negative", ct: "application/json", body: `{"access_token":"x","expires_in":-300}`, want: "expires_in"},
		{name: "expires_in NaN", ct: "application/json", body: `{"access_token":"x","expires_in":"NaN"}`, want: "expires_in"},
		{name: "expires_in Infinity", ct: "application/json", body: `{"access_token":"x","expires_in":"Infinity"}`, want: "expires_in"},
		{name: "expires_in huge", ct: "application/json", body: `{"access_token":"x","expires_in":1e400}`, want: "expires_in"},
		{name: "expires_in true", ct: "application/json", body: `{"access_token":"x","expires_in":true}`, want: "expires_in"},
		{name: "expires_in object", ct: "application/json", body: `{"access_token":"x","expires_in":{}}`, want: "expires_in"},
		{name: "access_token wrong type", ct: "application/json", body: `{"access_token":42}`, want: "wrong JSON type"},
		{name: "over 64 KiB", ct: "application/json", body: `{"access_token":"` + strings.Repeat("a", 70<<10) + `"}`, want: "exceeds"},
	}
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTokenEndpoint(t, key, newFakeClock(), func(n int, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ct)
				_, _ = io.WriteString(w, tc.body)
			})
			ts, _ := newSource(t, e)
			_, err := ts.Token(context.Background())
			var de *apikeys.DecodeError
			require.ErrorAs(t, err, &de)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, de.Excerpt, "token bodies may hold secrets")
			assert.EqualValues(t, 1, e.requests.Load())
		})
	}
}

func TestTokenSourceRetryResigns(t *testing.T) {
	leakCheck(t)
	key := generatedKey(t, apikeys.ES256)
	for _, status := range []int{500, 502, 503, 504, 429} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			e := newTokenEndpoint(t, key, newFakeClock(), failFirst(status, "temporarily_unavailable", ""))
			ts, w := newSource(t, e)
			tok, err := ts.Token(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "tok-2", tok.AccessToken)
			assert.EqualValues(t, 2, e.requests.Load())
			jtis := e.seenJTIs()
			require.Len(t, jtis, 2)
			assert.NotEqual(t, jtis[0], jtis[1])
			assert.Equal(t, []time.Duration{500 * time.Millisecond}, w.all())
		})
	}

	t.Run("Retry-After gives a new iat", func(t *testing.T) {
		e := newTokenEndpoint(t, key, newFakeClock(), failFirst(503, "temporarily_unavailable", "2"))
		ts, _ := newSource(t, e)
		_, err := ts.Token(context.Background())
		require.NoError(t, err)
		e.mu.Lock()
		defer e.mu.Unlock()
		require.Len(t, e.iats, 2)
		assert.Equal(t, e.iats[0]+2, e.iats[1])
	})

	// A fetch's deadline is wall-clock time: an injected clock a day ahead
	// of it must not make every retry look like it would outlast it.
	t.Run("a clock ahead of the wall clock still retries", func(t *testing.T) {
		clock := &fakeClock{t: time.Now().Add(24 * time.Hour)}
		e := newTokenEndpoint(t, key, clock, failFirst(503, "temporarily_unavailable", ""))
		ts, w := newSource(t, e)
		tok, err := ts.Token(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "tok-2", tok.AccessToken)
		assert.EqualValues(t, 2, e.requests.Load())
		assert.Len(t, w.all(), 1)
	})

	t.Run("transport error", func(t *testing.T) {
		e := newTokenEndpoint(t, key, newFakeClock(), func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				conn, _, err := w.(http.Hijacker).Hijack()
				if assert.NoError(t, err) {
					conn.Close()
				}
				return
			}
			tokenReply(n, w, r)
		})
		ts, w := newSource(t, e)
		tok, err := ts.Token(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "tok-2", tok.AccessToken)
		assert.Len(t, w.all(), 1)
		assert.Len(t, e.seenJTIs(), 2)
	})

	t.Run("connection refused", func(t *testing.T) {
		e := newTokenEndpoint(t, key, newFakeClock(), tokenReply)
		ts, w := newSource(t, e)
		e.srv.Close()
		_, err := ts.Token(context.Background())
		var te *apikeys.TransportError
		require.ErrorAs(t, err, &te)
		assert.Len(t, w.all(), 3)
		assert.True(t, apikeys.IsRetryable(err))
	})

	t.Run("a failed fetch is not cached", func(t *testing.T) {
		e := newTokenEndpoint(t, key, newFakeClock(), failFirst(400, "invalid_request", ""))
		ts, _ := newSource(t, e)
		_, err := ts.Token(context.Background())
		require.Error(t, err)
		tok, err := ts.Token(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "tok-2", tok.AccessToken)
	})
}

func TestTokenSourceInvalidate(t *testing.T) {
	leakCheck(t)
	e := newTokenEndpoint(t, generatedKey(t, apikeys.EdDSA), newFakeClock(), tokenReply)
	ts, _ := newSource(t, e)
	ctx := context.Background()

	t1, err := ts.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-1", t1.AccessToken)

	ts.Invalidate(nil)
	ts.Invalidate(&apikeys.Token{AccessToken: "someone-else"})
	same, err := ts.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-1", same.AccessToken, "other tokens do not drop the cache")

	ts.Invalidate(t1)
	t2, err := ts.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-2", t2.AccessToken)

	// A late 401 for the old token keeps the newer one.
	ts.Invalidate(t1)
	again, err := ts.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-2", again.AccessToken)
	assert.EqualValues(t, 2, e.requests.Load())

	// Any copy of the current token drops it.
	ts.Invalidate(&apikeys.Token{AccessToken: "tok-2"})
	t3, err := ts.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-3", t3.AccessToken)

	var nilTS *apikeys.AssertionTokenSource
	nilTS.Invalidate(t3)
	_, err = nilTS.Token(ctx)
	assert.Error(t, err)
	_, err = (&apikeys.AssertionTokenSource{}).Token(ctx)
	assert.Error(t, err)
}

func TestNewTokenSourceValidation(t *testing.T) {
	ec := generatedKey(t, apikeys.ES256)
	good := apikeys.TokenConfig{ClientID: testClientID, Key: ec, TokenURL: "https://auth.example/v2/auth/token"}
	small := smallRSAKey(t)
	cases := []struct {
		name  string
		edit  func(*apikeys.TokenConfig)
		field string
	}{
		{name: "empty client ID", edit: func(c *apikeys.TokenConfig) { c.ClientID = "" }, field: "TokenConfig.ClientID"},
		{name: "blank client ID", edit: func(c *apikeys.TokenConfig) { c.ClientID = "  " }, field: "TokenConfig.ClientID"},
		{name: "client ID with spaces", edit: func(c *apikeys.TokenConfig) { c.ClientID = " a" }, field: "TokenConfig.ClientID"},
		{name: "client ID with newline", edit: func(c *apikeys.TokenConfig) { c.ClientID = "a\nb" }, field: "TokenConfig.ClientID"},
		{name: "client ID too long", edit: func(c *apikeys.TokenConfig) { c.ClientID = strings.Repeat("a", 300) }, field: "TokenConfig.ClientID"},
		{name: "no signer", edit: func(c *apikeys.TokenConfig) { c.Key.Signer = nil }, field: "TokenConfig.Key.Signer"},
		{name: "no kid", edit: func(c *apikeys.TokenConfig) { c.Key.KeyID = "" }, field: "TokenConfig.Key.KeyID"},
		{name: "kid with newline", edit: func(c *apikeys.TokenConfig) { c.Key.KeyID = "a\n" }, field: "TokenConfig.Key.KeyID"},
		{name: "no alg", edit: func(c *apikeys.TokenConfig) { c.Key.Algorithm = "" }, field: "TokenConfig.Key.Algorithm"},
		{name: "HS256", edit: func(c *apikeys.TokenConfig) { c.Key.Algorithm = "HS256" }, field: "TokenConfig.Key.Algorithm"},
		{name: "none", edit: func(c *apikeys.TokenConfig) { c.Key.Algorithm = "none" }, field: "TokenConfig.Key.Algorithm"},
		{name: "alg does not fit key", edit: func(c *apikeys.TokenConfig) { c.Key.Algorithm = apikeys.RS384 }, field: "TokenConfig.Key.Algorithm"},
		{name: "curve does not fit alg", edit: func(c *apikeys.TokenConfig) { c.Key.Algorithm = apikeys.ES384 }, field: "TokenConfig.Key.Algorithm"},
		{name: "RSA 1024", edit: func(c *apikeys.TokenConfig) {
			c.Key = apikeys.SigningKey{Signer: small, KeyID: "k", Algorithm: apikeys.RS384}
		}, field: "TokenConfig.Key.Signer"},
		{name: "http token URL", edit: func(c *apikeys.TokenConfig) { c.TokenURL = "http://auth.example/token" }, field: "TokenConfig.TokenURL"},
		{name: "relative token URL", edit: func(c *apikeys.TokenConfig) { c.TokenURL = "/v2/auth/token" }, field: "TokenConfig.TokenURL"},
		{name: "token URL with query", edit: func(c *apikeys.TokenConfig) { c.TokenURL = "https://auth.example/token?x=1" }, field: "TokenConfig.TokenURL"},
		{name: "token URL with fragment", edit: func(c *apikeys.TokenConfig) { c.TokenURL = "https://auth.example/token#x" }, field: "TokenConfig.TokenURL"},
		{name: "token URL with an empty query", edit: func(c *apikeys.TokenConfig) { c.TokenURL = "https://auth.example/token?" }, field: "TokenConfig.TokenURL"},
		{name: "token URL with an empty fragment", edit: func(c *apikeys.TokenConfig) { c.TokenURL = "https://auth.example/token#" }, field: "TokenConfig.TokenURL"},
		{name: "token URL with user info", edit: func(c *apikeys.TokenConfig) { c.TokenURL = "https://u:p@auth.example/token" }, field: "TokenConfig.TokenURL"},
		{name: "scope with newline", edit: func(c *apikeys.TokenConfig) { c.Scope = "a\nb" }, field: "TokenConfig.Scope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.edit(&cfg)
			ts, err := apikeys.NewTokenSource(cfg)
			var ve *apikeys.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
			assert.Nil(t, ts)
		})
	}

	ok := []struct {
		name string
		edit func(*apikeys.TokenConfig)
		url  string
	}{
		{name: "default token URL", edit: func(c *apikeys.TokenConfig) { c.TokenURL = "" }, url: apikeys.DefaultTokenURL},
		{name: "loopback http", edit: func(c *apikeys.TokenConfig) { c.TokenURL = "http://127.0.0.1:8080/token" }, url: "http://127.0.0.1:8080/token"},
		{name: "insecure http", edit: func(c *apikeys.TokenConfig) { c.TokenURL = "http://auth.internal/token"; c.InsecureHTTP = true }, url: "http://auth.internal/token"},
		{name: "opaque signer", edit: func(c *apikeys.TokenConfig) { c.Key.Signer = wrappedSigner{s: c.Key.Signer} }, url: "https://auth.example/v2/auth/token"},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.edit(&cfg)
			ts, err := apikeys.NewTokenSource(cfg)
			require.NoError(t, err)
			assert.Contains(t, ts.String(), fmt.Sprintf("TokenURL: %q", tc.url))
		})
	}
}

// smallRSAKey is a 1024-bit RSA key: too small for the SDK.
func smallRSAKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	return k
}

func TestClientRetriesWithNewTokenAfter401(t *testing.T) {
	leakCheck(t)
	key := generatedKey(t, apikeys.ES384)
	clock := newFakeClock()
	var (
		mu         sync.Mutex
		platform   int
		authHeader []string
	)
	mux := http.NewServeMux()
	e := &tokenEndpoint{t: t, key: key, clock: clock, respond: tokenReply}
	mux.Handle("POST /v2/auth/token", e)
	mux.HandleFunc("GET /platform/v1/apikeys/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		platform++
		authHeader = append(authHeader, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer tok-2" {
			writeJSON(w, 401, map[string]string{"message": "token expired"})
			return
		}
		writeJSON(w, 200, map[string]any{
			"meta":    map[string]string{"version": "1.0.0"},
			"payload": map[string]any{"apikey": map[string]string{"id": r.PathValue("id"), "name": "ci"}},
		})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e.srv, e.url = srv, srv.URL+"/v2/auth/token"
	ts, _ := newSource(t, e)

	c, err := apikeys.NewClient(
		apikeys.WithBaseURL(srv.URL+"/platform"),
		apikeys.WithTokenSource(ts),
		apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 2}),
	)
	require.NoError(t, err)
	key1, err := c.APIKeys.Get(context.Background(), "key-1")
	require.NoError(t, err)
	assert.Equal(t, "key-1", key1.ID)
	assert.Equal(t, "ci", key1.Name)
	assert.EqualValues(t, 2, e.requests.Load(), "exactly two token fetches")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 2, platform, "exactly two Platform attempts")
	assert.Equal(t, []string{"Bearer tok-1", "Bearer tok-2"}, authHeader)
}

func TestSecretsNeverShown(t *testing.T) {
	leakCheck(t)
	const accessToken = "at-SECRET-4f9a8b7c6d5e"
	type keyCase struct {
		name    string
		file    string
		secrets []string // encodings of the private scalar(s)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	var cases []keyCase
	for _, f := range []string{"rsa2048.pkcs8.pem", "ec-p256.sec1.pem", "ed25519.pkcs8.pem"} {
		data := fixture(t, f)
		kc := keyCase{name: f, file: f}
		for _, line := range strings.Split(string(data), "\n") {
			if len(line) > 20 && !strings.HasPrefix(line, "-----") {
				kc.secrets = append(kc.secrets, line)
			}
		}
		sk, err := apikeys.ParseSigningKey(data, "")
		require.NoError(t, err)
		switch k := sk.Signer.(type) {
		case *rsa.PrivateKey:
			kc.secrets = append(kc.secrets, b64(k.D.Bytes()), b64(k.Primes[0].Bytes()), b64(k.Primes[1].Bytes()),
				k.D.String(), k.Primes[0].String())
		case *ecdsa.PrivateKey:
			d, err := k.Bytes()
			require.NoError(t, err)
			kc.secrets = append(kc.secrets, b64(d), k.D.String())
		case ed25519.PrivateKey:
			kc.secrets = append(kc.secrets, b64(k.Seed()), fmt.Sprint([]byte(k.Seed())))
		}
		cases = append(cases, kc)
	}

	for _, kc := range cases {
		t.Run(kc.name, func(t *testing.T) {
			sk, err := apikeys.ParseSigningKey(fixture(t, kc.file), "")
			require.NoError(t, err)
			clock := newFakeClock()
			var echoAssertion atomic.Bool
			e := newTokenEndpoint(t, sk, clock, func(n int, w http.ResponseWriter, r *http.Request) {
				a := r.PostForm.Get("client_assertion")
				switch {
				case echoAssertion.Load():
					writeJSON(w, 400, map[string]string{"error": "invalid_request",
						"error_description": "bad assertion " + a, "error_uri": "https://x.example/?a=" + a})
				case n == 1:
					writeJSON(w, 200, map[string]any{"access_token": accessToken, "expires_in": 1})
				case n == 2:
					// A body that is not a token, holding the token anyway.
					w.Header().Set("Content-Type", "text/plain")
					_, _ = io.WriteString(w, "access_token="+accessToken)
				default:
					writeJSON(w, 200, map[string]any{"access_token": accessToken, "expires_in": "soon"})
				}
			})
			ts, _ := newSource(t, e)
			ctx := context.Background()
			tok, err := ts.Token(ctx)
			require.NoError(t, err)
			require.Equal(t, accessToken, tok.AccessToken)

			clock.Advance(2 * time.Second) // the token expired: fetch again
			var errs []error
			_, err = ts.Token(ctx) // text/plain body
			errs = append(errs, err)
			_, err = ts.Token(ctx) // bad expires_in
			errs = append(errs, err)
			echoAssertion.Store(true)
			_, err = ts.Token(ctx)
			errs = append(errs, err)
			var te *apikeys.TokenError
			require.ErrorAs(t, err, &te)
			assert.Contains(t, te.Description, "bad assertion ****")
			// Through the Client too.
			c, err := apikeys.NewClient(apikeys.WithBaseURL(e.srv.URL+"/platform"), apikeys.WithTokenSource(ts))
			require.NoError(t, err)
			_, err = c.APIKeys.Get(ctx, "k")
			errs = append(errs, err)
			// Key parsing and configuration errors.
			pemData := fixture(t, kc.file)
			_, err = apikeys.ParseSigningKey(pemData, "HS256")
			errs = append(errs, err)
			broken := bytes.Replace(pemData, []byte("\n"), []byte("\nA"), 3)
			_, err = apikeys.ParseSigningKey(broken, "")
			errs = append(errs, err)
			_, err = apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: "c", Key: apikeys.SigningKey{Signer: sk.Signer, KeyID: "k", Algorithm: "PS999"}})
			errs = append(errs, err)
			_, err = apikeys.NewJWK(sk.Signer, "none")
			errs = append(errs, err)
			for _, err := range errs {
				require.Error(t, err)
			}

			jwk, err := apikeys.NewJWK(sk.Signer, "")
			require.NoError(t, err)
			cfg := apikeys.TokenConfig{ClientID: testClientID, Key: sk, TokenURL: e.url}
			values := []any{sk, &sk, ts, *ts, tok, *tok, jwk, cfg, &cfg}
			var out strings.Builder
			for _, v := range values {
				for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
					fmt.Fprintf(&out, verb+"\n", v)
				}
				b, _ := json.Marshal(v)
				out.Write(b)
				out.WriteByte('\n')
			}
			var logBuf bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			logger.Info("values", "key", sk, "keyptr", &sk, "source", ts, "token", tok, "tokenval", *tok,
				"jwk", jwk, "config", cfg)
			for _, err := range errs {
				fmt.Fprintf(&out, "%v\n%+v\n%#v\n", err, err, err)
				logger.Error("failed", "err", err)
			}
			out.Write(logBuf.Bytes())
			all := out.String()

			assert.Contains(t, all, sk.KeyID, "the kid is shown")
			assert.Contains(t, all, "****")
			secrets := append([]string{accessToken}, kc.secrets...)
			e.mu.Lock()
			for _, a := range e.assertions {
				secrets = append(secrets, a, strings.Split(a, ".")[2])
			}
			e.mu.Unlock()
			for _, s := range secrets {
				assert.NotContains(t, all, s)
			}
		})
	}
}

// valuePublicSigner is a crypto.Signer whose Public returns a public key
// by value (rsa.PublicKey, ecdsa.PublicKey), as some wrappers do.
type valuePublicSigner struct{ s crypto.Signer }

func (v valuePublicSigner) Public() crypto.PublicKey {
	switch k := v.s.Public().(type) {
	case *rsa.PublicKey:
		return *k
	case *ecdsa.PublicKey:
		return *k
	}
	return v.s.Public()
}

func (v valuePublicSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	return v.s.Sign(r, d, o)
}

// TestNewTokenSourceRefusesKeyItCannotSignWith: NewTokenSource builds the
// JWS signer, so a key go-jose cannot sign with is a *ValidationError on
// TokenConfig.Key there, before any I/O, not an untyped error from the
// first Token call.
func TestNewTokenSourceRefusesKeyItCannotSignWith(t *testing.T) {
	for _, alg := range []string{apikeys.RS384, apikeys.ES384} {
		t.Run(alg, func(t *testing.T) {
			k := generatedKey(t, alg)
			k.Signer = valuePublicSigner{s: k.Signer}
			ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: testClientID, Key: k, TokenURL: "https://auth.example/v2/auth/token"})
			var ve *apikeys.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "TokenConfig.Key", ve.Field)
			assert.Nil(t, ts)
		})
	}
}

// TestTokenSourceTimeoutIsRetryable: a token endpoint that never answers
// ends the fetch at TokenConfig.Timeout with a retryable *TransportError
// that says the token endpoint timed out. The caller's context had no
// deadline, so the error is not context.DeadlineExceeded, directly or
// through a Platform call. With a caller deadline that passes first, the
// caller gets its own context's error.
func TestTokenSourceTimeoutIsRetryable(t *testing.T) {
	key := generatedKey(t, apikeys.ES256)
	release := make(chan struct{})
	e := newTokenEndpoint(t, key, newFakeClock(), func(_ int, _ http.ResponseWriter, r *http.Request) {
		select { // hung: it answers nothing until the test ends
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	ts, _ := newSource(t, e, func(c *apikeys.TokenConfig) { c.Timeout = 50 * time.Millisecond })

	_, err := ts.Token(context.Background())
	require.Error(t, err)
	var te *apikeys.TransportError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "token request", te.Op)
	assert.Contains(t, err.Error(), "token endpoint did not answer within 50ms")
	assert.NotErrorIs(t, err, context.DeadlineExceeded, "the caller's context did not end")
	assert.True(t, apikeys.IsRetryable(err))
	var ne net.Error
	assert.True(t, errors.As(err, &ne) && ne.Timeout(), "a timeout")

	c, err := apikeys.NewClient(apikeys.WithBaseURL(e.srv.URL+basePath), apikeys.WithTokenSource(ts), apikeys.WithRetry(apikeys.RetryPolicy{}))
	require.NoError(t, err)
	_, err = c.APIKeys.Get(context.Background(), "client-1")
	require.ErrorAs(t, err, &te)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.True(t, apikeys.IsRetryable(err))

	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	_, err = ts.Token(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the caller's own deadline")
	assert.False(t, apikeys.IsRetryable(err))

	_, err = apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: "c", Key: key, Timeout: -time.Second})
	var ve *apikeys.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "TokenConfig.Timeout", ve.Field)
}

// TestTokenSourceRealClockRefresh: on the real clock a cached token is
// handed out without reading the clock, and dropped by a timer at its
// refresh time (270 s into a 300 s token). The test runs in a synctest
// bubble, whose clock and timers are fake, and answers token requests in
// memory: no network, no sleeping.
func TestTokenSourceRealClockRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var requests atomic.Int32
		endpoint := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			n := requests.Add(1)
			rec := httptest.NewRecorder()
			tokenReply(int(n), rec, r)
			return rec.Result(), nil
		})
		ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{
			ClientID: testClientID, Key: generatedKey(t, apikeys.ES256), TokenURL: "https://auth.example.com/token",
			HTTPClient: &http.Client{Transport: endpoint}, // no Clock: the real one
		})
		require.NoError(t, err)
		ctx := context.Background()
		token := func() string {
			tok, err := ts.Token(ctx)
			require.NoError(t, err)
			return tok.AccessToken
		}

		assert.Equal(t, "tok-1", token())
		time.Sleep(269 * time.Second)
		assert.Equal(t, "tok-1", token(), "fresh until 270 s")
		time.Sleep(2 * time.Second)
		synctest.Wait() // the refresh timer has fired
		assert.Equal(t, "tok-2", token(), "replaced 30 s before it expires")
		assert.EqualValues(t, 2, requests.Load())

		ts.Invalidate(&apikeys.Token{AccessToken: "tok-2"})
		assert.Equal(t, "tok-3", token(), "Invalidate drops it at once")
	})
}

// TestTokenSourceLogValueIsOneKey: LogValue logs the kid and alg of one
// key while SetKey switches between keys of two algs.
func TestTokenSourceLogValueIsOneKey(t *testing.T) {
	es, rs := generatedKey(t, apikeys.ES256), generatedKey(t, apikeys.RS256)
	ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: testClientID, Key: es})
	require.NoError(t, err)
	algOf := map[string]string{es.KeyID: es.Algorithm, rs.KeyID: rs.Algorithm}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for keys := [2]apikeys.SigningKey{rs, es}; ; keys[0], keys[1] = keys[1], keys[0] {
			select {
			case <-done:
				return
			default:
				_ = ts.SetKey(keys[0])
			}
		}
	}()
	for range 20000 {
		attrs := map[string]string{}
		for _, a := range ts.LogValue().Group() {
			attrs[a.Key] = a.Value.String()
		}
		if !assert.Equal(t, algOf[attrs["kid"]], attrs["alg"], "kid and alg of two keys") {
			return
		}
	}
}

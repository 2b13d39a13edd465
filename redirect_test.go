package apikeys_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// The legacy credentials clientWithEveryCredential sends.
const (
	sentUserKey = "4a23bd0e3c1f9a8b7c6d5e4f3a2b1c0d9e8fec9e"
	sentCookie  = "c00kie-5f1c9a"
	sentDomain  = "acme"
)

// answerAnyCall answers any Platform or legacy call the redirect tests make.
func answerAnyCall(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case strings.HasSuffix(path, "/api/list"):
		reply(w, http.StatusOK, `{"status":"ok","list":[]}`)
	case strings.HasSuffix(path, "/api/validate"):
		reply(w, http.StatusOK, `{"status":"ok","valid":true}`)
	case strings.HasSuffix(path, "/jwks.json"):
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = io.WriteString(w, `{"keys":[]}`)
	case r.Method == http.MethodDelete:
		reply(w, http.StatusOK, envelope(`{"message":"deleted"}`))
	default:
		reply(w, http.StatusOK, envelope(`{"apikey":`+keyJSON+`}`))
	}
}

// clientWithEveryCredential is a client for base (Platform under
// basePath, legacy at base) with every credential set, sending through hc
// (nil: default).
func clientWithEveryCredential(t *testing.T, base string, hc *http.Client) *apikeys.Client {
	t.Helper()
	opts := []apikeys.Option{
		apikeys.WithBaseURL(base + basePath),
		apikeys.WithToken(testToken),
		apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: base, Domain: sentDomain, UserKey: sentUserKey, SessionCookie: sentCookie}),
		apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 3, MinWait: time.Millisecond, MaxWait: time.Millisecond}),
	}
	if hc != nil {
		opts = append(opts, apikeys.WithHTTPClient(hc))
	}
	c, err := apikeys.NewClient(opts...)
	require.NoError(t, err)
	w := &waits{}
	apikeys.SetRetryClock(c, w.sleep, func() float64 { return 0 }, time.Now)
	return c
}

// credentialedCall is one call of the redirect and certificate tests, made
// with every credential set.
type credentialedCall struct {
	name   string
	legacy bool
	call   func(ctx context.Context, c *apikeys.Client) error
}

func credentialedCalls() []credentialedCall {
	return []credentialedCall{
		{name: "Platform GET", legacy: false, call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Get(ctx, "client-1")
			return err
		}},
		{name: "Platform DELETE", legacy: false, call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Delete(ctx, "client-1")
			return err
		}},
		{name: "legacy list (POST)", legacy: true, call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.Legacy.List(ctx, apikeys.UserKeys())
			return err
		}},
		{name: "legacy validate (POST)", legacy: true, call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.Legacy.Validate(ctx, apikeys.KeyTypeUser, sentUserKey)
			return err
		}},
	}
}

// credentialHeaders returns the credential headers a request carried.
func credentialHeaders(h http.Header) []string {
	return []string{h.Get("Authorization"), h.Get("X-FH-AUTH-USER"), h.Get("Cookie")}
}

// TestRedirectToAnotherHostDropsCredentials: a Platform or legacy call
// redirected to another host (another port, or another name for the same
// address) reaches it without Authorization, X-FH-AUTH-USER or Cookie,
// with 302, 307 and 308 alike. net/http itself keeps Authorization for
// another port of the same host name, and never strips X-FH-AUTH-USER. A
// 307 or 308 would re-send the request body, and a legacy body holds a key
// value, itself a credential: such a redirect to another host is refused
// and nothing reaches it.
func TestRedirectToAnotherHostDropsCredentials(t *testing.T) {
	target := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { answerAnyCall(w, r) })
	for _, dest := range []struct{ name, url string }{
		{name: "another port", url: target.URL},
		{name: "another host name", url: strings.Replace(target.URL, "127.0.0.1", "localhost", 1)},
	} {
		for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
			for _, call := range credentialedCalls() {
				t.Run(dest.name+"/"+http.StatusText(code)+"/"+call.name, func(t *testing.T) {
					origin := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
						http.Redirect(w, r, dest.url+r.URL.Path, code)
					})
					before := target.count()
					var info apikeys.Response
					err := call.call(apikeys.CaptureResponse(context.Background(), &info), clientWithEveryCredential(t, origin.URL, nil))

					sent := origin.requests()
					require.Len(t, sent, 1)
					if call.legacy {
						assert.Equal(t, []string{"", sentUserKey, "feedhenry=" + sentCookie}, credentialHeaders(sent[0].Header))
					} else {
						assert.Equal(t, []string{"Bearer " + testToken, "", ""}, credentialHeaders(sent[0].Header))
					}
					got := target.requests()
					switch {
					case call.legacy && code != http.StatusFound:
						// A 307 or 308 would carry the body: refused, not retried.
						require.Error(t, err)
						assert.Contains(t, err.Error(), "refusing to send the request body to another host")
						assert.False(t, apikeys.IsRetryable(err))
						assert.Equal(t, 1, info.Attempts)
						assert.Len(t, got, before, "nothing reached the other host")
						return
					case call.name == "Platform DELETE" && code == http.StatusFound:
						// net/http turns the DELETE into a GET: its reply
						// (a key) is not a delete's, and no false success.
						assert.Error(t, err)
					default:
						require.NoError(t, err)
					}
					require.Len(t, got, before+1, "the redirect was followed")
					hop := got[len(got)-1]
					assert.Empty(t, hop.Body, "no body followed the redirect")
					assert.Equal(t, []string{"", "", ""}, credentialHeaders(hop.Header), "credentials followed the redirect")
					for _, v := range hop.Header {
						for _, s := range v {
							assert.NotContains(t, s, testToken)
							assert.NotContains(t, s, sentUserKey)
							assert.NotContains(t, s, sentCookie)
						}
					}
				})
			}
		}
	}
}

// TestSameHostRedirectKeepsCredentials: a redirect to the same host
// and port keeps the credentials (the SDK strips them only for another
// host), and a 307 re-sends the legacy POST body.
func TestSameHostRedirectKeepsCredentials(t *testing.T) {
	for _, call := range credentialedCalls() {
		t.Run(call.name, func(t *testing.T) {
			origin := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				if r.URL.Query().Get("moved") == "" {
					http.Redirect(w, r, r.URL.Path+"?moved=1", http.StatusTemporaryRedirect)
					return
				}
				answerAnyCall(w, r)
			})
			require.NoError(t, call.call(context.Background(), clientWithEveryCredential(t, origin.URL, nil)))
			reqs := origin.requests()
			require.Len(t, reqs, 2)
			assert.Equal(t, credentialHeaders(reqs[0].Header), credentialHeaders(reqs[1].Header))
			assert.NotEqual(t, []string{"", "", ""}, credentialHeaders(reqs[1].Header))
			assert.Equal(t, reqs[0].Method, reqs[1].Method)
			assert.Equal(t, string(reqs[0].Body), string(reqs[1].Body))
		})
	}
}

// TestRedirectHostCaseIsIgnored: host names compare case-insensitively,
// in the Client's redirect checks and in Transport's alike. A redirect to
// the same host spelled in upper case keeps the SDK's credentials (a
// legacy call's X-FH-AUTH-USER, and its POST body on a 307; net/http
// itself drops Authorization and Cookie on a change of case), and
// Transport's token; one to another host gets no token.
func TestRedirectHostCaseIsIgnored(t *testing.T) {
	other := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { answerAnyCall(w, r) })
	var port string
	// The origin, called as localhost, redirects to LOCALHOST: the same
	// host in another case.
	origin := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		switch {
		case r.URL.Path == "/to-other":
			http.Redirect(w, r, other.URL+"/landing", http.StatusFound)
		case strings.HasPrefix(r.Host, "localhost:"):
			http.Redirect(w, r, "http://LOCALHOST:"+port+r.URL.RequestURI(), http.StatusTemporaryRedirect)
		default:
			answerAnyCall(w, r)
		}
	})
	port = origin.URL[strings.LastIndex(origin.URL, ":")+1:]
	local := "http://localhost:" + port

	for _, call := range credentialedCalls() {
		if !call.legacy {
			continue // a Platform call's only credential is Authorization
		}
		t.Run("Client/"+call.name, func(t *testing.T) {
			before := origin.count()
			require.NoError(t, call.call(context.Background(), clientWithEveryCredential(t, local, nil)))
			reqs := origin.requests()[before:]
			require.Len(t, reqs, 2)
			assert.Equal(t, sentUserKey, reqs[1].Header.Get("X-FH-AUTH-USER"))
			assert.Equal(t, string(reqs[0].Body), string(reqs[1].Body))
		})
	}

	hc := &http.Client{Transport: &apikeys.Transport{Source: apikeys.TokenSourceFunc(func(context.Context) (*apikeys.Token, error) {
		return &apikeys.Token{AccessToken: testToken}, nil
	})}}
	for _, tc := range []struct {
		name     string
		path     string
		reached  *server
		wantAuth string
	}{
		{name: "same host in upper case", path: "/x", reached: origin, wantAuth: "Bearer " + testToken},
		{name: "another host", path: "/to-other", reached: other, wantAuth: ""},
	} {
		t.Run("Transport/"+tc.name, func(t *testing.T) {
			before := tc.reached.count()
			resp, err := hc.Get(local + tc.path)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			got := tc.reached.requests()
			require.Greater(t, len(got), before, "the redirect was followed")
			assert.Equal(t, tc.wantAuth, got[len(got)-1].Header.Get("Authorization"))
		})
	}
}

// TestRedirectToAnotherHostNeverLeaksOnTheWayBack: in a chain
// origin -> other host -> origin, the other host sees no credential, and
// a legacy call (whose body a 307 would re-send) does not reach it at all.
func TestRedirectToAnotherHostNeverLeaksOnTheWayBack(t *testing.T) {
	var originURL string
	other := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Redirect(w, r, originURL+r.URL.Path+"?back=1", http.StatusTemporaryRedirect)
	})
	origin := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.URL.Query().Get("back") == "" {
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
			return
		}
		answerAnyCall(w, r)
	})
	originURL = origin.URL
	platform := 0
	for _, call := range credentialedCalls() {
		err := call.call(context.Background(), clientWithEveryCredential(t, origin.URL, nil))
		if call.legacy {
			assert.ErrorContains(t, err, "refusing to send the request body to another host", call.name)
			continue
		}
		platform++
		require.NoError(t, err, call.name)
	}
	require.Len(t, other.requests(), platform)
	for _, r := range other.requests() {
		assert.Equal(t, []string{"", "", ""}, credentialHeaders(r.Header), r.Path)
		assert.Empty(t, r.Body)
	}
}

// httpsToHTTPRedirector is an https server that redirects every request to
// the same path on an http server, which counts what reaches it.
type httpsToHTTPRedirector struct {
	tls   *httptest.Server
	tlsN  atomic.Int64
	plain *server
}

func newHTTPSToHTTPRedirector(t *testing.T) *httpsToHTTPRedirector {
	t.Helper()
	s := &httpsToHTTPRedirector{}
	s.plain = newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { answerAnyCall(w, r) })
	s.tls = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.tlsN.Add(1)
		http.Redirect(w, r, s.plain.URL+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(s.tls.Close)
	return s
}

// TestHTTPSToHTTPRedirectIsRefused: an https -> http redirect is
// refused, without retry and without reaching the http server, for
// Platform and legacy calls, FetchJWKS and the token endpoint (which
// follows no redirect at all).
func TestHTTPSToHTTPRedirectIsRefused(t *testing.T) {
	for _, call := range credentialedCalls() {
		t.Run(call.name, func(t *testing.T) {
			s := newHTTPSToHTTPRedirector(t)
			var info apikeys.Response
			err := call.call(apikeys.CaptureResponse(context.Background(), &info), clientWithEveryCredential(t, s.tls.URL, s.tls.Client()))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "refusing redirect from https to http")
			assert.False(t, apikeys.IsRetryable(err))
			assert.Equal(t, 1, info.Attempts, "a refused redirect is not retried")
			assert.Equal(t, int64(1), s.tlsN.Load())
			assert.Zero(t, s.plain.count(), "the http server was reached")
		})
	}
	t.Run("FetchJWKS", func(t *testing.T) {
		s := newHTTPSToHTTPRedirector(t)
		_, err := apikeys.FetchJWKS(context.Background(), s.tls.URL+"/jwks.json", apikeys.FetchHTTPClient(s.tls.Client()))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "refusing redirect from https to http")
		assert.Zero(t, s.plain.count())
	})
	t.Run("token endpoint", func(t *testing.T) {
		s := newHTTPSToHTTPRedirector(t)
		key, err := apikeys.GenerateSigningKey(apikeys.ES256)
		require.NoError(t, err)
		ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: "client-1", Key: key, TokenURL: s.tls.URL + "/v2/auth/token", HTTPClient: s.tls.Client()})
		require.NoError(t, err)
		_, err = ts.Token(context.Background())
		var te *apikeys.TokenError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, http.StatusFound, te.StatusCode, "the redirect is returned, not followed")
		assert.Equal(t, int64(1), s.tlsN.Load(), "a redirect is not retried")
		assert.Zero(t, s.plain.count())
	})
}

// TestRedirectLoopEnds: a redirect loop ends after 10 redirects with
// a clear error, and the call is not retried: the server sees the 10
// requests of one attempt. The token source follows no redirect.
func TestRedirectLoopEnds(t *testing.T) {
	loop := func(t *testing.T) *server {
		return newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			http.Redirect(w, r, r.URL.Path, http.StatusTemporaryRedirect)
		})
	}
	for _, call := range credentialedCalls() {
		t.Run(call.name, func(t *testing.T) {
			s := loop(t)
			var info apikeys.Response
			err := call.call(apikeys.CaptureResponse(context.Background(), &info), clientWithEveryCredential(t, s.URL, nil))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "stopped after 10 redirects")
			assert.False(t, apikeys.IsRetryable(err))
			var te *apikeys.TransportError
			assert.True(t, errors.As(err, &te), "%T", err)
			assert.Equal(t, 1, info.Attempts)
			assert.Equal(t, 10, s.count())
		})
	}
	t.Run("legacy create is not re-sent, and ambiguous", func(t *testing.T) {
		// No layer below the SDK re-sends a create: net/http returns the
		// 307 instead of following it with the body again.
		s := loop(t)
		_, err := clientWithEveryCredential(t, s.URL, nil).Legacy.Create(context.Background(), apikeys.AppKeys("app-1"), "ci")
		var le *apikeys.APIError
		require.ErrorAs(t, err, &le)
		assert.Equal(t, http.StatusTemporaryRedirect, le.StatusCode)
		assert.True(t, apikeys.IsAmbiguous(err), "a create answered with a status that is no refusal: outcome unknown")
		assert.False(t, apikeys.IsRetryable(err))
		assert.Equal(t, 1, s.count())
	})
	t.Run("FetchJWKS", func(t *testing.T) {
		s := loop(t)
		_, err := apikeys.FetchJWKS(context.Background(), s.URL+"/jwks.json", apikeys.FetchInsecureLoopbackHTTP())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "stopped after 10 redirects")
		assert.Equal(t, 10, s.count())
	})
	t.Run("token endpoint", func(t *testing.T) {
		s := loop(t)
		key, err := apikeys.GenerateSigningKey(apikeys.ES256)
		require.NoError(t, err)
		ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: "client-1", Key: key, TokenURL: s.URL + "/v2/auth/token"})
		require.NoError(t, err)
		_, err = ts.Token(context.Background())
		var te *apikeys.TokenError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, http.StatusTemporaryRedirect, te.StatusCode)
		assert.Equal(t, 1, s.count())
	})
}

// TestUntrustedCertificateIsNotRetried: a TLS certificate the client
// does not trust fails the call at once, without a retry (a repeat cannot
// fix it) and without sending a request, for Platform and legacy calls,
// the token endpoint and FetchJWKS.
func TestUntrustedCertificateIsNotRetried(t *testing.T) {
	var conns, requests atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		answerAnyCall(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	key, err := apikeys.GenerateSigningKey(apikeys.ES256)
	require.NoError(t, err)
	ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: "client-1", Key: key, TokenURL: srv.URL + "/v2/auth/token"})
	require.NoError(t, err)
	apikeys.SetTokenSourceWait(ts, func(ctx context.Context, _ time.Duration) error { return ctx.Err() })
	calls := append(credentialedCalls(),
		credentialedCall{name: "token endpoint", legacy: false, call: func(ctx context.Context, _ *apikeys.Client) error { _, err := ts.Token(ctx); return err }},
		credentialedCall{name: "FetchJWKS", legacy: false, call: func(ctx context.Context, _ *apikeys.Client) error {
			_, err := apikeys.FetchJWKS(ctx, srv.URL+"/jwks.json")
			return err
		}},
	)
	for _, call := range calls {
		t.Run(call.name, func(t *testing.T) {
			before := conns.Load()
			err := call.call(context.Background(), clientWithEveryCredential(t, srv.URL, nil))
			var te *apikeys.TransportError
			require.ErrorAs(t, err, &te)
			assert.Contains(t, err.Error(), "certificate")
			assert.False(t, apikeys.IsRetryable(err))
			assert.Equal(t, before+1, conns.Load(), "one handshake, no retry")
		})
	}
	assert.Zero(t, requests.Load())
}

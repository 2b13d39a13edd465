package apikeys_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

func TestTokenValid(t *testing.T) {
	tests := []struct {
		name string
		tok  *apikeys.Token
		want bool
	}{
		{name: "nil", tok: nil, want: false},
		{name: "no access token", tok: &apikeys.Token{Expiry: time.Now().Add(time.Hour)}, want: false},
		{name: "no expiry", tok: &apikeys.Token{AccessToken: "t"}, want: true},
		{name: "an hour left", tok: &apikeys.Token{AccessToken: "t", Expiry: time.Now().Add(time.Hour)}, want: true},
		{name: "a minute left", tok: &apikeys.Token{AccessToken: "t", Expiry: time.Now().Add(time.Minute)}, want: true},
		{name: "5 seconds left: too close to use", tok: &apikeys.Token{AccessToken: "t", Expiry: time.Now().Add(5 * time.Second)}, want: false},
		{name: "expired", tok: &apikeys.Token{AccessToken: "t", Expiry: time.Now().Add(-time.Second)}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.tok.Valid())
		})
	}
}

func TestTokenSourceFunc(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, http.StatusOK, envelope(`{"apikey":`+keyJSON+`}`))
	})
	calls := 0
	src := apikeys.TokenSourceFunc(func(ctx context.Context) (*apikeys.Token, error) {
		calls++
		return &apikeys.Token{AccessToken: fmt.Sprintf("func-token-%d", calls)}, nil
	})
	c, err := apikeys.NewClient(apikeys.WithBaseURL(s.URL+basePath), apikeys.WithTokenSource(src))
	require.NoError(t, err)
	_, err = c.APIKeys.Get(context.Background(), "client-1")
	require.NoError(t, err)
	assert.Equal(t, 1, calls)
	assert.Equal(t, "Bearer func-token-1", s.requests()[0].Header.Get("Authorization"))
}

// rotatingSource hands out tok-1, then tok-2 after each Invalidate of the
// current token.
type rotatingSource struct {
	mu          sync.Mutex
	n           int
	invalidated int
	err         error
}

func (s *rotatingSource) Token(context.Context) (*apikeys.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	return &apikeys.Token{AccessToken: fmt.Sprintf("tok-%d", s.n+1)}, nil
}

func (s *rotatingSource) Invalidate(t *apikeys.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.AccessToken == fmt.Sprintf("tok-%d", s.n+1) {
		s.n++
		s.invalidated++
	}
}

// onlyTokens hides Invalidate: a source that cannot refresh.
type onlyTokens struct{ apikeys.TokenSource }

// oneShotBody is a request body that cannot be read twice (no GetBody).
type oneShotBody struct{ io.Reader }

func (oneShotBody) Close() error { return nil }

// TestTransport: the RoundTripper sends each request with a token and,
// after a 401, once more with a new token when the source can give one and
// the request can be sent again; over HTTP/1.1 and HTTP/2.
func TestTransport(t *testing.T) {
	tests := []struct {
		name        string
		unauthorize int // how many first requests get 401
		nonInvalid  bool
		newRequest  func(url string) *http.Request
		wantStatus  int
		wantTokens  []string // the bearer tokens the server saw, in order
	}{
		{name: "no 401", unauthorize: 0, nonInvalid: false, newRequest: get, wantStatus: http.StatusOK, wantTokens: []string{"tok-1"}},
		{name: "401 then a new token: GET", unauthorize: 1, nonInvalid: false, newRequest: get, wantStatus: http.StatusOK, wantTokens: []string{"tok-1", "tok-2"}},
		{name: "401 then a new token: POST with a body", unauthorize: 1, nonInvalid: false, newRequest: post, wantStatus: http.StatusOK, wantTokens: []string{"tok-1", "tok-2"}},
		{name: "401 twice: one refresh only", unauthorize: 2, nonInvalid: false, newRequest: get, wantStatus: http.StatusUnauthorized, wantTokens: []string{"tok-1", "tok-2"}},
		{name: "401, body that cannot be sent again", unauthorize: 1, nonInvalid: false, newRequest: postOneShot, wantStatus: http.StatusUnauthorized, wantTokens: []string{"tok-1"}},
		{name: "401, source that cannot refresh", unauthorize: 1, nonInvalid: true, newRequest: get, wantStatus: http.StatusUnauthorized, wantTokens: []string{"tok-1"}},
	}
	for _, proto := range []string{"HTTP/1.1", "HTTP/2.0"} {
		for _, tt := range tests {
			t.Run(proto+"/"+tt.name, func(t *testing.T) {
				var mu sync.Mutex
				var seenTokens, bodies []string
				srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					body, _ := io.ReadAll(r.Body)
					mu.Lock()
					n := len(seenTokens)
					seenTokens = append(seenTokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
					bodies = append(bodies, string(body))
					mu.Unlock()
					assert.Equal(t, proto, r.Proto)
					if n < tt.unauthorize {
						w.WriteHeader(http.StatusUnauthorized)
						fmt.Fprint(w, `{"error":"invalid_token"}`)
						return
					}
					fmt.Fprint(w, "ok")
				}))
				srv.EnableHTTP2 = proto == "HTTP/2.0"
				srv.StartTLS()
				t.Cleanup(srv.Close)

				src := &rotatingSource{}
				var source apikeys.TokenSource = src
				if tt.nonInvalid {
					source = onlyTokens{TokenSource: src}
				}
				hc := &http.Client{Transport: &apikeys.Transport{Source: source, Base: srv.Client().Transport}}
				req := tt.newRequest(srv.URL)
				resp, err := hc.Do(req)
				require.NoError(t, err)
				got, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				require.NoError(t, resp.Body.Close())

				assert.Equal(t, tt.wantStatus, resp.StatusCode)
				if tt.wantStatus == http.StatusUnauthorized {
					assert.JSONEq(t, `{"error":"invalid_token"}`, string(got), "the 401 reply is handed over whole")
				}
				mu.Lock()
				defer mu.Unlock()
				assert.Equal(t, tt.wantTokens, seenTokens)
				for i, b := range bodies {
					if req.Method == http.MethodPost {
						assert.Equal(t, "payload", b, "request %d", i)
					}
				}
				assert.Empty(t, req.Header.Get("Authorization"), "the caller's request is not modified")
			})
		}
	}
}

func get(url string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, url+"/fhir/Patient/1", nil)
	return req
}

func post(url string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, url+"/fhir/Patient", bytes.NewReader([]byte("payload")))
	return req
}

func postOneShot(url string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, url+"/fhir/Patient", oneShotBody{Reader: strings.NewReader("payload")})
	return req
}

// closeCounter records whether a request body was closed.
type closeCounter struct {
	io.Reader
	closed bool
}

func (c *closeCounter) Close() error { c.closed = true; return nil }

// TestTransportTokenFailure: a token that cannot be had fails the request
// before anything is sent, with the source's error, and closes its body.
func TestTransportTokenFailure(t *testing.T) {
	endpointErr := &apikeys.TokenError{Op: "token request", StatusCode: http.StatusUnauthorized, Code: "invalid_client"}
	tests := []struct {
		name   string
		source apikeys.TokenSource
		check  func(t *testing.T, err error)
	}{
		{name: "no source", source: nil, check: func(t *testing.T, err error) {
			var ve *apikeys.ValidationError
			assert.ErrorAs(t, err, &ve)
		}},
		{name: "source error", source: &rotatingSource{err: endpointErr}, check: func(t *testing.T, err error) {
			var te *apikeys.TokenError
			require.ErrorAs(t, err, &te)
			assert.Same(t, endpointErr, te)
			assert.ErrorIs(t, err, apikeys.ErrUnauthorized)
		}},
		{name: "no token and no error", source: apikeys.TokenSourceFunc(func(context.Context) (*apikeys.Token, error) { return nil, nil }), check: func(t *testing.T, err error) {
			assert.ErrorContains(t, err, "is empty")
		}},
		{name: "token with a newline", source: apikeys.TokenSourceFunc(func(context.Context) (*apikeys.Token, error) {
			return &apikeys.Token{AccessToken: "tok\r\nX-Evil: 1"}, nil
		}), check: func(t *testing.T, err error) {
			assert.ErrorContains(t, err, "control characters")
			assert.NotContains(t, err.Error(), "X-Evil")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent := 0
			base := roundTripFunc(func(*http.Request) (*http.Response, error) {
				sent++
				return nil, errors.New("unreachable")
			})
			body := &closeCounter{Reader: strings.NewReader("payload")}
			req, err := http.NewRequest(http.MethodPost, "https://fhir.example.com/Patient", body)
			require.NoError(t, err)
			resp, err := (&apikeys.Transport{Source: tt.source, Base: base}).RoundTrip(req)
			assert.Nil(t, resp)
			require.Error(t, err)
			tt.check(t, err)
			assert.Zero(t, sent, "nothing is sent without a token")
			assert.True(t, body.closed, "RoundTrip closes the body, as a RoundTripper must")
		})
	}
}

// TestTransportRedirects: a redirect to another host gets no token (the
// token would go to whoever the first server points at); one to the same
// host does.
func TestTransportRedirects(t *testing.T) {
	var elsewhere atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Store(r.Header.Get("Authorization"))
		fmt.Fprint(w, "elsewhere")
	}))
	t.Cleanup(other.Close)
	var seen []string
	var mu sync.Mutex
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/landing", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/landing", http.StatusFound)
		default:
			fmt.Fprint(w, "here")
		}
	}))
	t.Cleanup(api.Close)
	hc := &http.Client{Transport: &apikeys.Transport{Source: &rotatingSource{}}}

	resp, err := hc.Get(api.URL + "/away")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, "", elsewhere.Load(), "no token for another host")

	resp, err = hc.Get(api.URL + "/here")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"/away Bearer tok-1", "/here Bearer tok-1", "/landing Bearer tok-1"}, seen)
}

// TestTransportRequestWithoutHeader: a request with a nil Header (which
// http.Transport accepts) is sent, not a panic.
func TestTransportRequestWithoutHeader(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Get("Authorization") }))
	t.Cleanup(srv.Close)
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	req.Header = nil
	resp, err := (&apikeys.Transport{Source: &rotatingSource{}}).RoundTrip(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, "Bearer tok-1", got)
	assert.Nil(t, req.Header, "the caller's request is not modified")
}

package apikeys_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

func TestNewClientValidatesOptions(t *testing.T) {
	tests := []struct {
		name  string
		opts  []apikeys.Option
		field string
	}{
		{name: "empty base URL", opts: []apikeys.Option{apikeys.WithBaseURL("")}, field: "WithBaseURL"},
		{name: "relative base URL", opts: []apikeys.Option{apikeys.WithBaseURL("/platform")}, field: "WithBaseURL"},
		{name: "base URL without host", opts: []apikeys.Option{apikeys.WithBaseURL("https:///platform")}, field: "WithBaseURL"},
		{name: "base URL with user info", opts: []apikeys.Option{apikeys.WithBaseURL("https://u:p@api.example.com")}, field: "WithBaseURL"},
		{name: "base URL with query", opts: []apikeys.Option{apikeys.WithBaseURL("https://api.example.com/p?x=1")}, field: "WithBaseURL"},
		{name: "base URL with an empty query", opts: []apikeys.Option{apikeys.WithBaseURL("https://api.example.com/p?")}, field: "WithBaseURL"},
		{name: "base URL with an empty fragment", opts: []apikeys.Option{apikeys.WithBaseURL("https://api.example.com/p#")}, field: "WithBaseURL"},
		{name: "legacy base URL with an empty query", opts: []apikeys.Option{apikeys.WithLegacy(apikeys.LegacyConfig{
			BaseURL: "https://acme.example.com?", Domain: "acme", UserKey: "k"})}, field: "LegacyConfig.BaseURL"},
		{name: "token URL with an empty query", opts: []apikeys.Option{apikeys.WithTokenURL("https://auth.example.com/token?"),
			apikeys.WithClientAssertion(testClientID, generatedKey(t, apikeys.ES256))}, field: "WithTokenURL"},
		{name: "token URL with an empty fragment", opts: []apikeys.Option{apikeys.WithTokenURL("https://auth.example.com/token#"),
			apikeys.WithClientAssertion(testClientID, generatedKey(t, apikeys.ES256))}, field: "WithTokenURL"},
		{name: "base URL plain http to remote host", opts: []apikeys.Option{apikeys.WithBaseURL("http://api.example.com/platform")}, field: "WithBaseURL"},
		{name: "base URL ftp", opts: []apikeys.Option{apikeys.WithBaseURL("ftp://api.example.com")}, field: "WithBaseURL"},
		{name: "base URL with newline", opts: []apikeys.Option{apikeys.WithBaseURL("https://api.example.com/\n")}, field: "WithBaseURL"},
		{name: "empty token", opts: []apikeys.Option{apikeys.WithToken(" ")}, field: "WithToken"},
		{name: "token with newline", opts: []apikeys.Option{apikeys.WithToken("abc\r\nX-Evil: 1")}, field: "WithToken"},
		{name: "token with a control character", opts: []apikeys.Option{apikeys.WithToken("tok\x01en")}, field: "WithToken"},
		{name: "token with a space", opts: []apikeys.Option{apikeys.WithToken("tok en")}, field: "WithToken"},
		{name: "two tokens", opts: []apikeys.Option{apikeys.WithToken("a"), apikeys.WithToken("b")}, field: "WithToken"},
		{name: "nil token source", opts: []apikeys.Option{apikeys.WithTokenSource(nil)}, field: "WithTokenSource"},
		{name: "zero AssertionTokenSource", opts: []apikeys.Option{apikeys.WithTokenSource(&apikeys.AssertionTokenSource{})}, field: "WithTokenSource"},
		{name: "nil *AssertionTokenSource", opts: []apikeys.Option{apikeys.WithTokenSource((*apikeys.AssertionTokenSource)(nil))}, field: "WithTokenSource"},
		{name: "nil TokenSourceFunc", opts: []apikeys.Option{apikeys.WithTokenSource(apikeys.TokenSourceFunc(nil))}, field: "WithTokenSource"},
		{name: "nil HTTP client", opts: []apikeys.Option{apikeys.WithHTTPClient(nil)}, field: "WithHTTPClient"},
		{name: "negative retries", opts: []apikeys.Option{apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: -1})}, field: "WithRetry"},
		{name: "negative min wait", opts: []apikeys.Option{apikeys.WithRetry(apikeys.RetryPolicy{MinWait: -time.Second})}, field: "WithRetry"},
		{name: "negative max wait", opts: []apikeys.Option{apikeys.WithRetry(apikeys.RetryPolicy{MaxWait: -time.Second})}, field: "WithRetry"},
		{name: "max wait below min wait", opts: []apikeys.Option{apikeys.WithRetry(apikeys.RetryPolicy{MinWait: time.Second, MaxWait: time.Millisecond})}, field: "WithRetry"},
		{name: "nil logger", opts: []apikeys.Option{apikeys.WithLogger(nil)}, field: "WithLogger"},
		{name: "user agent with newline", opts: []apikeys.Option{apikeys.WithUserAgent("svc\r\nX-Evil: 1")}, field: "WithUserAgent"},
		{name: "zero response cap", opts: []apikeys.Option{apikeys.WithMaxResponseBytes(0)}, field: "WithMaxResponseBytes"},
		{name: "nil option", opts: []apikeys.Option{nil}, field: "Option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := apikeys.NewClient(tt.opts...)
			assert.Nil(t, c)
			var ve *apikeys.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
			assert.NotContains(t, err.Error(), "u:p")
		})
	}
}

func TestNewClientAccepts(t *testing.T) {
	tests := []struct {
		name string
		opts []apikeys.Option
	}{
		{name: "defaults", opts: nil},
		{name: "Canada", opts: []apikeys.Option{apikeys.WithBaseURL(apikeys.CanadaBaseURL)}},
		{name: "loopback http", opts: []apikeys.Option{apikeys.WithBaseURL("http://127.0.0.1:8080/platform/")}},
		{name: "localhost http", opts: []apikeys.Option{apikeys.WithBaseURL("http://localhost:8080")}},
		{name: "remote http when asked for", opts: []apikeys.Option{apikeys.WithBaseURL("http://api.internal/platform"), apikeys.WithInsecureHTTP()}},
		{name: "no retries, no waits", opts: []apikeys.Option{apikeys.WithRetry(apikeys.RetryPolicy{})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := apikeys.NewClient(tt.opts...)
			require.NoError(t, err)
			assert.NotNil(t, c.APIKeys)
			assert.NotNil(t, c.Environments)
			assert.NotNil(t, c.Legacy)
		})
	}
}

// TestCallerHTTPClientIsNotMutated: the client copies the *http.Client it
// is given, and still uses its transport.
func TestCallerHTTPClientIsNotMutated(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, http.StatusOK, envelope(`{"apikey":`+keyJSON+`}`))
	})
	var used bool
	transport := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used = true
		return http.DefaultTransport.RoundTrip(r)
	})
	hc := &http.Client{Transport: transport, Timeout: time.Minute}
	c, _ := newClient(t, s, apikeys.WithHTTPClient(hc))

	_, err := c.APIKeys.Get(context.Background(), "k")
	require.NoError(t, err)
	assert.True(t, used, "the caller's transport is used")
	assert.Nil(t, hc.CheckRedirect, "CheckRedirect untouched")
	assert.Nil(t, hc.Jar)
	assert.Equal(t, time.Minute, hc.Timeout)
}

// TestStatusToError checks the error each non-2xx status gives, and where
// the message is found.
func TestStatusToError(t *testing.T) {
	tests := []struct {
		status  int
		body    string
		want    error
		message string
	}{
		{status: 400, body: `{"message":"name is required"}`, want: nil, message: "name is required"},
		{status: 401, body: `{"error":"invalid_token","error_description":"expired"}`, want: apikeys.ErrUnauthorized, message: "invalid_token: expired"},
		{status: 403, body: `{"payload":{"message":"engineer role required"}}`, want: apikeys.ErrForbidden, message: "engineer role required"},
		{status: 404, body: ``, want: apikeys.ErrNotFound, message: ""},
		{status: 409, body: `{"message":"exists"}`, want: apikeys.ErrConflict, message: "exists"},
		{status: 413, body: `<html>too big</html>`, want: nil, message: ""},
		{status: 422, body: `{"error":{"code":7}}`, want: nil, message: ""},
		{status: 429, body: `{"message":"slow down"}`, want: apikeys.ErrRateLimited, message: "slow down"},
		{status: 500, body: `{"message":"boom"}`, want: apikeys.ErrServer, message: "boom"},
		{status: 501, body: `{}`, want: apikeys.ErrServer, message: ""},
		{status: 502, body: `<html>bad gateway</html>`, want: apikeys.ErrServer, message: ""},
		{status: 503, body: `{"message":"down"}`, want: apikeys.ErrServer, message: "down"},
		{status: 504, body: `{"message":"timeout"}`, want: apikeys.ErrServer, message: "timeout"},
	}
	sentinels := []error{apikeys.ErrNotFound, apikeys.ErrUnauthorized, apikeys.ErrForbidden, apikeys.ErrConflict, apikeys.ErrRateLimited, apikeys.ErrServer}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("X-Request-Id", "req-1")
				reply(w, tt.status, tt.body)
			})
			c, _ := newClient(t, s, apikeys.WithRetry(apikeys.RetryPolicy{}))

			_, err := c.APIKeys.Get(context.Background(), "client-1")
			var apiErr *apikeys.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			assert.Equal(t, http.MethodGet, apiErr.Method)
			assert.Equal(t, s.URL+basePath+"/v1/apikeys/client-1", apiErr.URL)
			assert.Equal(t, tt.message, apiErr.Message)
			assert.Equal(t, tt.body, string(apiErr.Body))
			assert.Equal(t, "req-1", apiErr.Header.Get("X-Request-Id"))
			for _, s := range sentinels {
				assert.Equal(t, s == tt.want, errors.Is(err, s), "errors.Is(err, %v)", s)
			}
			assert.Contains(t, err.Error(), fmt.Sprint(tt.status))
		})
	}
}

func TestErrorBodyIsCapped(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, http.StatusBadRequest, `{"message":"`+strings.Repeat("x", 1<<20)+`"}`)
	})
	c, _ := newClient(t, s)
	_, err := c.APIKeys.Get(context.Background(), "k")
	var apiErr *apikeys.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Len(t, apiErr.Body, 64<<10)
	assert.Less(t, len(err.Error()), 1024, "error strings stay short")
}

// TestDecodeReplies checks 2xx bodies that are not the expected JSON.
func TestDecodeReplies(t *testing.T) {
	big := `{"meta":{"version":"1.0.0"},"payload":{"apikey":{"id":"k","name":"` + strings.Repeat("a", 10<<20) + `"}}}`
	tests := []struct {
		name        string
		contentType string
		body        string
		wantDecode  bool
		wantVersion bool
		excerpt     string
	}{
		{name: "HTML from a proxy", contentType: "text/html", body: "<html><body>Gateway login</body></html>", wantDecode: true, wantVersion: false, excerpt: "<html><body>Gateway login</body></html>"},
		{name: "truncated JSON", contentType: "application/json", body: `{"meta":{"version":"1.0.0"},"payload":{"apikey":{"id":"k","na`, wantDecode: true, wantVersion: false, excerpt: ""},
		{name: "empty body", contentType: "application/json", body: "", wantDecode: true, wantVersion: false, excerpt: ""},
		{name: "whitespace body", contentType: "application/json", body: " \n", wantDecode: true, wantVersion: false, excerpt: ""},
		{name: "10 MB body", contentType: "application/json", body: big, wantDecode: true, wantVersion: false, excerpt: ""},
		{name: "payload member missing", contentType: "application/json", body: `{"meta":{"version":"1.0.0"},"payload":{}}`, wantDecode: true, wantVersion: false, excerpt: ""},
		{name: "payload of the wrong type", contentType: "application/json", body: `{"meta":{"version":"1.0.0"},"payload":{"apikey":[1,2]}}`, wantDecode: true, wantVersion: false, excerpt: ""},
		{name: "JSON array", contentType: "application/json", body: `[]`, wantDecode: true, wantVersion: false, excerpt: ""},
		{name: "unknown major version", contentType: "application/json", body: `{"meta":{"version":"2.0.0"},"payload":{"apikey":{"id":"k"}}}`, wantDecode: false, wantVersion: true, excerpt: ""},
		{name: "unknown major version, other shape", contentType: "application/json", body: `{"meta":{"version":"3.1"},"payload":{"apikey":"k"}}`, wantDecode: false, wantVersion: true, excerpt: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Content-Type", tt.contentType)
				_, _ = io.WriteString(w, tt.body)
			})
			c, _ := newClient(t, s)
			key, err := c.APIKeys.Get(context.Background(), "k")
			assert.Nil(t, key)
			require.Error(t, err)
			var de *apikeys.DecodeError
			assert.Equal(t, tt.wantDecode, errors.As(err, &de), "DecodeError: %v", err)
			assert.Equal(t, tt.wantVersion, errors.Is(err, apikeys.ErrUnsupportedVersion), "ErrUnsupportedVersion: %v", err)
			if de != nil {
				assert.Equal(t, http.StatusOK, de.StatusCode)
				assert.Equal(t, tt.excerpt, de.Excerpt)
			}
			assert.Less(t, len(err.Error()), 512, "error strings stay short")
			assert.Equal(t, 1, s.count(), "a bad 2xx body is not retried")

			// The same reply to a create: it was most likely applied.
			_, err = c.APIKeys.Create(context.Background(), "env", apikeys.CreateAPIKeyRequest{Name: "n"})
			var ae *apikeys.AmbiguousError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, "APIKeys.Create", ae.Op)
			assert.Equal(t, tt.wantDecode, errors.As(err, &de))
			assert.Equal(t, 2, s.count(), "and it is not retried")
		})
	}
}

func TestVersionIsExposedAndMinorVersionsAccepted(t *testing.T) {
	for _, v := range []string{"1.0.0", "1.7.2", "1", ""} {
		t.Run(v, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				reply(w, http.StatusOK, `{"meta":{"version":"`+v+`","totalRecords":1,"links":{"self":"x"}},"payload":{"apikey":`+keyJSON+`,"extra":true}}`)
			})
			c, _ := newClient(t, s)
			var info apikeys.Response
			key, err := c.APIKeys.Get(apikeys.CaptureResponse(context.Background(), &info), "k")
			require.NoError(t, err)
			assert.Equal(t, "client-1", key.ID)
			assert.Equal(t, v, info.Version)
			assert.Equal(t, http.StatusOK, info.StatusCode)
			assert.Equal(t, 1, info.Attempts)
		})
	}
}

func TestMaxResponseBytesOption(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, http.StatusOK, envelope(`{"apikey":`+keyJSON+`}`))
	})
	c, _ := newClient(t, s, apikeys.WithMaxResponseBytes(64))
	_, err := c.APIKeys.Get(context.Background(), "k")
	var de *apikeys.DecodeError
	require.ErrorAs(t, err, &de)
	assert.Contains(t, de.Error(), "exceeds 64 bytes")
}

// TestPlatformSecretsNeverLeak runs successful, failing and retried
// Platform calls with a debug logger and checks the bearer token appears
// in no log line, error string or formatted value. The scan of every flow
// of both APIs is TestSecretsNeverLeakFromAnyFlow (secrets_test.go).
func TestPlatformSecretsNeverLeak(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/ok"):
			reply(w, http.StatusOK, envelope(`{"apikey":`+keyJSON+`}`))
		case strings.HasSuffix(r.URL.Path, "/reset"):
			hangUp(w)
		default:
			reply(w, http.StatusServiceUnavailable, `{"message":"down"}`)
		}
	})
	var logs logBuffer
	c, _ := newClient(t, s, apikeys.WithLogger(debugLogger(&logs)))
	var seenText []string
	for _, id := range []string{"ok", "reset", "fail"} {
		key, err := c.APIKeys.Get(context.Background(), id)
		seenText = append(seenText, fmt.Sprintf("%v %+v %#v", key, key, key))
		if err != nil {
			seenText = append(seenText, err.Error(), fmt.Sprintf("%v %+v %#v", err, err, err))
		}
	}
	_, err := c.APIKeys.Create(context.Background(), "env", apikeys.CreateAPIKeyRequest{Name: "n"})
	require.Error(t, err)
	seenText = append(seenText, err.Error(), fmt.Sprintf("%+v", err))
	seenText = append(seenText, fmt.Sprintf("%v %+v %#v", c, c, c), fmt.Sprintf("%v %+v", *c, *c))

	require.NotEmpty(t, logs.String(), "the debug logger saw the calls")
	assert.Contains(t, logs.String(), `"op":"APIKeys.Get"`)
	assert.Contains(t, logs.String(), `"wait"`)
	for _, text := range append(seenText, logs.String()) {
		assert.NotContains(t, text, testToken)
		assert.NotContains(t, text, testToken[:12])
	}
}

// TestErrorBodyMasksAcrossItsCap: an error reply that echoes the bearer
// token where APIError.Body's 64 KiB cap cuts it, as is or spelled with
// JSON escapes in a longer JSON body, shows no part of it in Body.
func TestErrorBodyMasksAcrossItsCap(t *testing.T) {
	const limit = 64 << 10
	escaped := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		return b.String()
	}
	n := len(testToken)
	type spelling struct {
		name string
		form string
	}
	for _, sp := range []spelling{{name: "as is", form: testToken}, {name: "escaped", form: escaped(testToken)}} {
		for _, before := range []int{1, n / 2, n - 1, n, len(sp.form) - 1, len(sp.form), len(sp.form) + 1, 100} {
			t.Run(fmt.Sprintf("%s/%d bytes before the cap", sp.name, before), func(t *testing.T) {
				head := `{"message":"`
				body := head + strings.Repeat("x", limit-before-len(head)) + sp.form + strings.Repeat("y", 1000) + `"}`
				s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
					reply(w, http.StatusBadRequest, body)
				})
				c, _ := newClient(t, s, apikeys.WithRetry(apikeys.RetryPolicy{}))
				err := getKey(t.Context(), c)
				var ae *apikeys.APIError
				require.ErrorAs(t, err, &ae)
				require.NotEmpty(t, ae.Body)
				assert.LessOrEqual(t, len(ae.Body), limit)
				for _, part := range []string{testToken[:8], escaped(testToken[:4])} {
					assert.False(t, strings.Contains(string(ae.Body), part), "Body shows %q", part)
				}
			})
		}
	}
	t.Run("escaped, in a JSON body longer than what is read", func(t *testing.T) {
		body := `{"message":"token ` + escaped(testToken) + " " + strings.Repeat("x", 2*limit) + `"}`
		s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			reply(w, http.StatusBadRequest, body)
		})
		c, _ := newClient(t, s, apikeys.WithRetry(apikeys.RetryPolicy{}), apikeys.WithMaxResponseBytes(1<<10))
		err := getKey(t.Context(), c)
		var ae *apikeys.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, `{"message":"token `, string(ae.Body), "the start before the first escape is kept")
	})
}

func TestSilentByDefault(t *testing.T) {
	// retryablehttp logs every request to stderr unless told not to; the
	// SDK must not. Capture stderr around a failing, retried call.
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, http.StatusBadGateway, `{}`) })
	c, _ := newClient(t, s)
	out := captureStderr(t, func() { _, _ = c.APIKeys.Get(context.Background(), "k") })
	assert.Empty(t, out)
	assert.Equal(t, 4, s.count())
}

// TestRedirects: credentials never follow a redirect to another host, and
// an https -> http redirect is refused.
func TestRedirects(t *testing.T) {
	var got http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		reply(w, http.StatusOK, envelope(`{"apikey":`+keyJSON+`}`))
	}))
	defer other.Close()
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		// 127.0.0.1 and localhost are different hosts for the client.
		target := strings.Replace(other.URL, "127.0.0.1", "localhost", 1) + r.URL.Path
		http.Redirect(w, r, target, http.StatusTemporaryRedirect)
	})
	c, _ := newClient(t, s)
	_, err := c.APIKeys.Get(context.Background(), "k")
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Empty(t, got.Get("Authorization"))

	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	defer tlsSrv.Close()
	c2, err := apikeys.NewClient(apikeys.WithBaseURL(tlsSrv.URL+basePath), apikeys.WithToken(testToken),
		apikeys.WithHTTPClient(tlsSrv.Client()), apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 3}))
	require.NoError(t, err)
	got = nil
	var info apikeys.Response
	_, err = c2.APIKeys.Get(apikeys.CaptureResponse(context.Background(), &info), "k")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refusing redirect from https to http")
	assert.False(t, apikeys.IsRetryable(err))
	assert.Equal(t, 1, info.Attempts, "a refused redirect is not retried")
	assert.Nil(t, got, "the http server is never reached")
}

// TestHugeContentLengthIsNotTrusted: a reply that claims the largest
// Content-Length there is, then breaks off, is an error, never a panic
// or an allocation of that size.
func TestHugeContentLengthIsNotTrusted(t *testing.T) {
	tests := []struct {
		status  string
		wantErr func(t *testing.T, err error)
	}{
		{status: "200 OK", wantErr: func(t *testing.T, err error) {
			var te *apikeys.TransportError
			assert.ErrorAs(t, err, &te, "a 2xx body that breaks off is a transport failure")
		}},
		{status: "500 Internal Server Error", wantErr: func(t *testing.T, err error) {
			assert.ErrorIs(t, err, apikeys.ErrServer)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				conn, buf, err := http.NewResponseController(w).Hijack()
				if !assert.NoError(t, err) {
					return
				}
				defer conn.Close()
				_, _ = buf.WriteString("HTTP/1.1 " + tt.status + "\r\nContent-Type: application/json\r\nContent-Length: 9223372036854775807\r\n\r\n{\"message\":\"x\"}")
				_ = buf.Flush()
			})
			c, _ := newClient(t, s, apikeys.WithRetry(apikeys.RetryPolicy{}))
			_, err := c.APIKeys.Get(context.Background(), "k")
			require.Error(t, err)
			tt.wantErr(t, err)
		})
	}
}

// fixedTokens is a TokenSource that always returns one token.
type fixedTokens string

func (f fixedTokens) Token(context.Context) (*apikeys.Token, error) {
	return &apikeys.Token{AccessToken: string(f), TokenType: "Bearer"}, nil
}

// TestUnusableTokenFromSourceIsNotSent: a token no Authorization header can
// carry fails the call with a *ValidationError before any I/O, for a
// create too (nothing was sent: not ambiguous), and is never retried.
func TestUnusableTokenFromSourceIsNotSent(t *testing.T) {
	for _, tok := range []string{"", "  ", "tok\x01en", "tok en", "tok\r\nX-Evil: 1"} {
		t.Run(fmt.Sprintf("%q", tok), func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, http.StatusOK, `{}`) })
			c, err := apikeys.NewClient(apikeys.WithBaseURL(s.URL+basePath), apikeys.WithTokenSource(fixedTokens(tok)))
			require.NoError(t, err)
			w := &waits{}
			apikeys.SetRetryClock(c, w.sleep, func() float64 { return 0.5 }, time.Now)
			for _, call := range []func() error{
				func() error { _, err := c.APIKeys.Get(context.Background(), "k"); return err },
				func() error {
					_, err := c.APIKeys.Create(context.Background(), "env", apikeys.CreateAPIKeyRequest{Name: "n", JWKSURL: "https://keys.example.com/jwks.json"})
					return err
				},
			} {
				err := call()
				var ve *apikeys.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, "token", ve.Field)
				assert.False(t, apikeys.IsAmbiguous(err))
				assert.False(t, apikeys.IsRetryable(err))
				if tok != "" && strings.TrimSpace(tok) != "" {
					assert.NotContains(t, err.Error(), tok, "the token is not in the message")
				}
			}
			assert.Equal(t, 0, s.count(), "no request was sent")
			assert.Empty(t, w.all(), "nothing was retried")
		})
	}
}

// TestCaptureResponseSharedByConcurrentCalls: 64 calls share one
// CaptureResponse context. Each fills the Response in whole, one after the
// other (run with -race), and it ends describing one of them.
func TestCaptureResponseSharedByConcurrentCalls(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("X-Call", strconv.Itoa(n))
		reply(w, http.StatusOK, envelope(`{"apikey":`+keyJSON+`}`))
	})
	c, _ := newClient(t, s)
	var info apikeys.Response
	ctx := apikeys.CaptureResponse(t.Context(), &info)
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			_, err := c.APIKeys.Get(ctx, "client-1")
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, http.StatusOK, info.StatusCode)
	assert.Equal(t, 1, info.Attempts)
	assert.Equal(t, "1.0.0", info.Version)
	n, err := strconv.Atoi(info.Header.Get("X-Call"))
	require.NoError(t, err)
	assert.True(t, n >= 0 && n < 64, "the header of one of the calls: %d", n)
}

// captureStderr returns what f wrote to os.Stderr.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	old := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	f()
	os.Stderr = old
	require.NoError(t, w.Close())
	return <-done
}

package apikeys_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// prefixRE finds "apikeys:" anywhere but at the end of a URL path.
var prefixRE = regexp.MustCompile(`(?:^|[^/])apikeys:`)

// failingTokenSource is a caller's TokenSource that fails with err.
type failingTokenSource struct{ err error }

func (s failingTokenSource) Token(context.Context) (*apikeys.Token, error) { return nil, s.err }

// TestErrorMessagesHaveOnePrefix checks the rule of errors.go: every error
// message starts with "apikeys: " exactly once, however many SDK errors it
// wraps, and names the operation that failed.
func TestErrorMessagesHaveOnePrefix(t *testing.T) {
	ctx := context.Background()
	key, err := apikeys.GenerateSigningKey(apikeys.ES256)
	require.NoError(t, err)

	// platform returns a client whose server answers every request with h.
	platform := func(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int), opts ...apikeys.Option) *apikeys.Client {
		c, _ := newClient(t, newServer(t, h), opts...)
		return c
	}
	// withTokens returns a client with a token source whose endpoint
	// answers with respond, and a Platform server that must not be reached.
	withTokens := func(t *testing.T, respond func(w http.ResponseWriter)) *apikeys.Client {
		tokens := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { respond(w) })
		ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: testClientID, Key: key, TokenURL: tokens.URL + "/v2/auth/token"})
		require.NoError(t, err)
		apikeys.SetTokenSourceWait(ts, func(ctx context.Context, _ time.Duration) error { return ctx.Err() })
		srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { t.Error("the Platform API was called") })
		c, err := apikeys.NewClient(apikeys.WithBaseURL(srv.URL+basePath), apikeys.WithTokenSource(ts),
			apikeys.WithRetry(apikeys.RetryPolicy{}))
		require.NoError(t, err)
		return c
	}
	legacy := func(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) *apikeys.Client {
		return newLegacyClient(t, newServer(t, h), apikeys.WithRetry(apikeys.RetryPolicy{}))
	}
	create := func(c *apikeys.Client) error {
		_, err := c.APIKeys.Create(ctx, "env-1", apikeys.CreateAPIKeyRequest{Name: "n"})
		return err
	}
	get := func(c *apikeys.Client) error {
		_, err := c.APIKeys.Get(ctx, "client-1")
		return err
	}

	tests := []struct {
		name string
		want any    // pointer to the error type errors.As must find
		op   string // operation the message must name ("" if none)
		call func(t *testing.T) error
	}{
		{name: "decode error (HTML page)", want: new(*apikeys.DecodeError), op: "APIKeys.Get", call: func(t *testing.T) error {
			return get(platform(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Content-Type", "text/html")
				_, _ = w.Write([]byte("<html>proxy</html>"))
			}))
		}},
		{name: "decode error (truncated JSON)", want: new(*apikeys.DecodeError), op: "APIKeys.List", call: func(t *testing.T) error {
			c := platform(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				reply(w, 200, `{"meta":{"version":"1.0.0"},"payl`)
			})
			_, err := c.APIKeys.List(ctx, "env-1")
			return err
		}},
		{name: "unsupported version", want: &apikeys.ErrUnsupportedVersion, op: "APIKeys.Get", call: func(t *testing.T) error {
			return get(platform(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				reply(w, 200, `{"meta":{"version":"2.0.0"},"payload":{}}`)
			}))
		}},
		{name: "API error", want: new(*apikeys.APIError), op: "", call: func(t *testing.T) error {
			return get(platform(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				reply(w, 404, `{"message":"no such key"}`)
			}))
		}},
		{name: "not configured (no token)", want: &apikeys.ErrNotConfigured, op: "APIKeys.Get", call: func(t *testing.T) error {
			c, err := apikeys.NewClient()
			require.NoError(t, err)
			return get(c)
		}},
		{name: "token endpoint error", want: new(*apikeys.TokenError), op: "APIKeys.Get", call: func(t *testing.T) error {
			return get(withTokens(t, func(w http.ResponseWriter) {
				reply(w, 400, `{"error":"invalid_client","error_description":"Public key not found"}`)
			}))
		}},
		{name: "token reply that is not a token", want: new(*apikeys.DecodeError), op: "APIKeys.Get", call: func(t *testing.T) error {
			return get(withTokens(t, func(w http.ResponseWriter) { reply(w, 200, `{"token_type":"Bearer"}`) }))
		}},
		{name: "token endpoint unreachable", want: new(*apikeys.TransportError), op: "APIKeys.Get", call: func(t *testing.T) error {
			return get(withTokens(t, func(w http.ResponseWriter) { hangUp(w) }))
		}},
		{name: "caller's token source fails with an SDK error", want: new(*apikeys.ValidationError), op: "APIKeys.Get", call: func(t *testing.T) error {
			srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { t.Error("the Platform API was called") })
			c, err := apikeys.NewClient(apikeys.WithBaseURL(srv.URL+basePath),
				apikeys.WithTokenSource(failingTokenSource{err: &apikeys.ValidationError{Field: "f", Reason: "is bad"}}))
			require.NoError(t, err)
			return get(c)
		}},
		{name: "caller's token source fails", want: nil, op: "APIKeys.Get", call: func(t *testing.T) error {
			srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { t.Error("the Platform API was called") })
			c, err := apikeys.NewClient(apikeys.WithBaseURL(srv.URL+basePath), apikeys.WithTokenSource(failingTokenSource{err: errors.New("vault sealed")}))
			require.NoError(t, err)
			return get(c)
		}},
		{name: "token source on its own", want: new(*apikeys.TokenError), op: "", call: func(t *testing.T) error {
			tokens := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { reply(w, 401, `{"error":"invalid_client"}`) })
			ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: testClientID, Key: key, TokenURL: tokens.URL + "/token"})
			require.NoError(t, err)
			_, err = ts.Token(ctx)
			return err
		}},
		{name: "transport error (connection refused)", want: new(*apikeys.TransportError), op: "APIKeys.Get", call: func(t *testing.T) error {
			s := newServer(t, func(http.ResponseWriter, *http.Request, int) {})
			c, _ := newClient(t, s, apikeys.WithRetry(apikeys.RetryPolicy{}))
			s.Close()
			return get(c)
		}},
		{name: "transport error (redirect loop)", want: new(*apikeys.TransportError), op: "APIKeys.Get", call: func(t *testing.T) error {
			return get(platform(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				http.Redirect(w, r, r.URL.Path, http.StatusFound)
			}))
		}},
		{name: "context ended", want: &context.Canceled, op: "APIKeys.Get", call: func(t *testing.T) error {
			c := platform(t, func(http.ResponseWriter, *http.Request, int) { t.Error("called") })
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := c.APIKeys.Get(cctx, "client-1")
			return err
		}},
		{name: "validation error (call)", want: new(*apikeys.ValidationError), op: "", call: func(t *testing.T) error {
			c := platform(t, func(http.ResponseWriter, *http.Request, int) { t.Error("called") })
			_, err := c.APIKeys.Get(ctx, "a/b")
			return err
		}},
		{name: "validation error (option)", want: new(*apikeys.ValidationError), op: "", call: func(t *testing.T) error {
			_, err := apikeys.NewClient(apikeys.WithBaseURL("ftp://example.com"))
			return err
		}},
		{name: "ambiguous create (500)", want: new(*apikeys.AmbiguousError), op: "APIKeys.Create", call: func(t *testing.T) error {
			return create(platform(t, func(w http.ResponseWriter, _ *http.Request, _ int) { reply(w, 500, `{"message":"oops"}`) }))
		}},
		{name: "ambiguous create (reset after send)", want: new(*apikeys.AmbiguousError), op: "APIKeys.Create", call: func(t *testing.T) error {
			return create(platform(t, func(w http.ResponseWriter, _ *http.Request, _ int) { hangUp(w) }))
		}},
		{name: "ambiguous create (unreadable reply)", want: new(*apikeys.AmbiguousError), op: "APIKeys.Create", call: func(t *testing.T) error {
			return create(platform(t, func(w http.ResponseWriter, _ *http.Request, _ int) { reply(w, 201, `{"meta":`) }))
		}},
		{name: "legacy error (200 + status error)", want: new(*apikeys.APIError), op: "Legacy.List", call: func(t *testing.T) error {
			c := legacy(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeLegacy(w, 200, `{"status":"error","message":"quota reached"}`)
			})
			_, err := c.Legacy.List(ctx, apikeys.UserKeys())
			return err
		}},
		{name: "legacy error (502)", want: new(*apikeys.APIError), op: "Legacy.Update", call: func(t *testing.T) error {
			c := legacy(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeLegacy(w, 502, "") })
			_, err := c.Legacy.Update(ctx, legacyKeyValue, "l")
			return err
		}},
		{name: "legacy decode error", want: new(*apikeys.DecodeError), op: "Legacy.Validate", call: func(t *testing.T) error {
			c := legacy(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeLegacy(w, 200, `{"status":"ok"}`) })
			_, err := c.Legacy.Validate(ctx, apikeys.KeyTypeUser, legacyKeyValue)
			return err
		}},
		{name: "legacy ambiguous create", want: new(*apikeys.AmbiguousError), op: "Legacy.Create", call: func(t *testing.T) error {
			c := legacy(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeLegacy(w, 503, `{"status":"error","message":"busy"}`)
			})
			_, err := c.Legacy.Create(ctx, apikeys.AppKeys("app-1"), "ci")
			return err
		}},
		{name: "legacy not configured", want: &apikeys.ErrNotConfigured, op: "Legacy.List", call: func(t *testing.T) error {
			c, err := apikeys.NewClient(apikeys.WithToken(testToken))
			require.NoError(t, err)
			_, err = c.Legacy.List(ctx, apikeys.UserKeys())
			return err
		}},
		{name: "FetchJWKS: API error", want: new(*apikeys.APIError), op: "", call: func(t *testing.T) error {
			s := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { reply(w, 404, `{"error":"gone"}`) })
			_, err := apikeys.FetchJWKS(ctx, s.URL+"/jwks.json", apikeys.FetchInsecureLoopbackHTTP())
			return err
		}},
		{name: "FetchJWKS: a key that is not an object", want: new(*apikeys.DecodeError), op: "", call: func(t *testing.T) error {
			s := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { reply(w, 200, `{"keys":[7]}`) })
			_, err := apikeys.FetchJWKS(ctx, s.URL+"/jwks.json", apikeys.FetchInsecureLoopbackHTTP())
			return err
		}},
		{name: "FetchJWKS: transport error", want: new(*apikeys.TransportError), op: "FetchJWKS", call: func(t *testing.T) error {
			s := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { hangUp(w) })
			_, err := apikeys.FetchJWKS(ctx, s.URL+"/jwks.json", apikeys.FetchInsecureLoopbackHTTP())
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(t)
			require.Error(t, err)
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, "apikeys: "), "message does not start with the prefix: %s", msg)
			// The Platform path /v1/environments/<id>/apikeys, followed by
			// ": <status>", is no prefix: count "apikeys:" only where it
			// does not end a URL path.
			assert.Len(t, prefixRE.FindAllString(msg, -1), 1, "prefix repeated: %s", msg)
			t.Log(msg)
			if tt.op != "" {
				assert.Contains(t, msg, tt.op, "the operation is named")
				assert.Equal(t, 1, strings.Count(msg, tt.op+":"), "operation repeated: %s", msg)
			}
			switch want := tt.want.(type) {
			case nil:
			case *error:
				assert.ErrorIs(t, err, *want)
			default:
				assert.ErrorAs(t, err, want)
			}
		})
	}
}

// TestServerTextIsFilteredAndCapped: text a server sends that reaches an
// error string (a content type, a message, a request ID, a status line
// quoted by net/http) is cut to a few hundred runes, with controls, line
// and paragraph separators and bidi overrides made spaces. Go accepts
// reply headers up to 10 MiB.
func TestServerTextIsFilteredAndCapped(t *testing.T) {
	hostile := strings.Repeat("a\u2028b\u202ec\x1b[31m", 20_000) // 200 KB and more
	tests := []struct {
		name  string
		write func(w http.ResponseWriter)
		call  func(context.Context, *apikeys.Client) error
	}{
		{name: "Content-Type of an undecodable 2xx", write: func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html; x="+hostile)
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, "<html>proxy</html>")
		}, call: getKey},
		{name: "Platform message", write: func(w http.ResponseWriter) {
			b, _ := json.Marshal(map[string]string{"message": hostile})
			reply(w, http.StatusBadRequest, string(b))
		}, call: getKey},
		{name: "legacy message and request ID", write: func(w http.ResponseWriter) {
			w.Header().Set("X-FH-REQUEST-ID", hostile)
			b, _ := json.Marshal(map[string]string{"status": "error", "message": hostile})
			reply(w, http.StatusOK, string(b))
		}, call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.Legacy.List(ctx, apikeys.UserKeys())
			return err
		}},
		{name: "legacy unknown status", write: func(w http.ResponseWriter) {
			b, _ := json.Marshal(map[string]string{"status": hostile})
			reply(w, http.StatusOK, string(b))
		}, call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.Legacy.List(ctx, apikeys.UserKeys())
			return err
		}},
		{name: "meta.version", write: func(w http.ResponseWriter) {
			b, _ := json.Marshal(map[string]any{"meta": map[string]string{"version": "9." + hostile}, "payload": map[string]any{}})
			reply(w, http.StatusOK, string(b))
		}, call: getKey},
		{name: "malformed status line", write: func(w http.ResponseWriter) {
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			_, _ = buf.WriteString("HTTP/1.1 2x0 " + hostile + "\r\n\r\n")
			_ = buf.Flush()
		}, call: getKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { tt.write(w) })
			c, _ := newClient(t, s, apikeys.WithRetry(apikeys.RetryPolicy{}),
				apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: s.URL, Domain: "acme", UserKey: "4a23bd0e3c1f9a8b7c6d5e4f3a2b1c0d9e8fec9e"}))
			err := tt.call(t.Context(), c)
			require.Error(t, err)
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err)} {
				assert.Less(t, len(text), 2048, "an error string stays short")
				assert.NotContains(t, text, "\u2028")
				assert.NotContains(t, text, "\u202e")
				assert.NotContains(t, text, "\x1b")
			}
		})
	}
}

// TestEchoedCredentialsAreMasked: a reply that echoes a credential the
// call sent (a gateway page quoting the bearer token, a JSON message
// quoting it, in plain text or spelt with JSON escapes) keeps no trace of
// it in the error: not in Error(), %+v, Message, Body or Excerpt. One rule
// for both APIs.
func TestEchoedCredentialsAreMasked(t *testing.T) {
	const userKey = "4a23bd0e3c1f9a8b7c6d5e4f3a2b1c0d9e8fec9e"
	escaped := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		return b.String()
	}
	tests := []struct {
		name   string
		status int
		ctype  string
		body   string
		legacy bool
	}{
		{name: "HTML 200 quoting the bearer token", status: 200, ctype: "text/html", body: "<html><body>Bearer " + testToken + " refused by gateway</body></html>"},
		{name: "JSON 401 quoting the token", status: 401, ctype: "application/json", body: `{"message":"token ` + testToken + ` expired"}`},
		{name: "JSON 403 spelling the token with escapes", status: 403, ctype: "application/json", body: `{"message":"token ` + escaped(testToken) + ` refused","error":"` + escaped(testToken) + `"}`},
		{name: "text 502 quoting the token", status: 502, ctype: "text/plain", body: "upstream refused Authorization: Bearer " + testToken},
		{name: "legacy HTML 200 quoting the user key", status: 200, ctype: "text/html", body: "<html>user " + userKey + "</html>", legacy: true},
		{name: "legacy JSON error spelling the user key with escapes", status: 200, ctype: "application/json", body: `{"status":"error","message":"bad key ` + escaped(userKey) + `"}`, legacy: true},
		{name: "legacy 500 quoting the user key", status: 500, ctype: "application/json", body: `{"status":"error","msg":["no user ` + userKey + `"]}`, legacy: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Content-Type", tt.ctype)
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			c, _ := newClient(t, s, apikeys.WithRetry(apikeys.RetryPolicy{}),
				apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: s.URL, Domain: "acme", UserKey: userKey}))
			var err error
			if tt.legacy {
				_, err = c.Legacy.List(t.Context(), apikeys.UserKeys())
			} else {
				err = getKey(t.Context(), c)
			}
			require.Error(t, err)
			kept := []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)}
			var ae *apikeys.APIError
			if errors.As(err, &ae) {
				kept = append(kept, ae.Message, string(ae.Body))
				var decoded any
				if json.Unmarshal(ae.Body, &decoded) == nil {
					kept = append(kept, fmt.Sprint(decoded))
				}
			}
			var le *apikeys.APIError
			if errors.As(err, &le) {
				kept = append(kept, le.Message)
			}
			var de *apikeys.DecodeError
			if errors.As(err, &de) {
				kept = append(kept, de.Excerpt)
			}
			for _, text := range kept {
				assert.NotContains(t, text, testToken)
				assert.NotContains(t, text, userKey)
			}
		})
	}
}

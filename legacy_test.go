package apikeys_test

import (
	"bytes"
	"context"
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
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

const (
	legacyPrefix   = "/tenant-proxy"
	legacyDomain   = "acme dev" // escaped as acme%20dev
	legacyUserKey  = "f00dfeed0123456789abcdef0123456789f00d42"
	legacyCookie   = "sess-C00KIE-5ecret-value"
	legacyKeyValue = "4a23c0ffee0123456789abcdef0123456789ec9e"
	legacySecret   = "api-SECRET-0987654321-shh"
	legacyReqID    = "req-7f3a"
)

// legacyKeyJSON is a key as a real server sends it: null revoked* members
// and fields the SDK does not know.
const legacyKeyJSON = `{"label":"ci","keyType":"app","key":"` + legacyKeyValue + `","keyReference":"app-1",` +
	`"secret":"` + legacySecret + `","revoked":null,"revokedBy":null,"revokedEmail":null,"_id":"x1","createdBy":{"id":"u1"},"tags":[1,2]}`

// legacyHit is what the fake server saw of one request.
type legacyHit struct {
	Method string
	Path   string // escaped
	Header http.Header
	Body   []byte
}

// legacyServer records every request and answers attempt n with handle.
type legacyServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits []legacyHit
}

func newLegacyServer(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int)) *legacyServer {
	t.Helper()
	s := &legacyServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.hits)
		s.hits = append(s.hits, legacyHit{Method: r.Method, Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: body})
		s.mu.Unlock()
		handle(w, r, n)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *legacyServer) seen() []legacyHit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]legacyHit(nil), s.hits...)
}

// legacyConfig points a LegacyConfig at s, mounted under a path prefix.
func legacyConfig(s *legacyServer) apikeys.LegacyConfig {
	return apikeys.LegacyConfig{BaseURL: s.URL + legacyPrefix, Domain: legacyDomain, UserKey: legacyUserKey, SessionCookie: legacyCookie}
}

// newLegacyClient returns a client for s with zero-wait retries.
func newLegacyClient(t *testing.T, s *legacyServer, opts ...apikeys.Option) *apikeys.Client {
	t.Helper()
	opts = append([]apikeys.Option{apikeys.WithLegacy(legacyConfig(s)), apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 3})}, opts...)
	c, err := apikeys.NewClient(opts...)
	require.NoError(t, err)
	return c
}

// writeLegacy sends a reply with a JSON content type and a request ID.
func writeLegacy(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-FH-REQUEST-ID", legacyReqID)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// legacyHangUp drops the connection with a reset after the request was read.
func legacyHangUp(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// legacyOp is one legacy call with its documented request and a success reply.
type legacyOp struct {
	name string
	path string // the op segment
	body string // the exact JSON body sent
	ok   string // a success reply
	call func(ctx context.Context, s *apikeys.LegacyService) (any, error)
}

func legacyOps() []legacyOp {
	apiKeyOK := `{"status":"ok","apiKey":` + legacyKeyJSON + `,"unknown":true}`
	return []legacyOp{
		{"list user", "list", `{"type":"user"}`, `{"status":"ok","list":[` + legacyKeyJSON + `],"count":1}`,
			func(ctx context.Context, s *apikeys.LegacyService) (any, error) {
				return s.List(ctx, apikeys.UserKeys())
			}},
		{"list app", "list", `{"type":"app","appId":"app-1"}`, `{"status":"ok","list":[` + legacyKeyJSON + `]}`,
			func(ctx context.Context, s *apikeys.LegacyService) (any, error) {
				return s.List(ctx, apikeys.AppKeys("app-1"))
			}},
		{"create user", "create", `{"type":"user","label":"ci","fields":{"label":"ci"}}`, apiKeyOK,
			func(ctx context.Context, s *apikeys.LegacyService) (any, error) {
				return s.Create(ctx, apikeys.UserKeys(), "ci")
			}},
		{"create app", "create", `{"type":"app","label":"ci","appId":"app-1","fields":{"label":"ci"}}`, apiKeyOK,
			func(ctx context.Context, s *apikeys.LegacyService) (any, error) {
				return s.Create(ctx, apikeys.AppKeys("app-1"), "ci")
			}},
		{"revoke", "revoke", `{"key":"` + legacyKeyValue + `"}`, apiKeyOK,
			func(ctx context.Context, s *apikeys.LegacyService) (any, error) { return s.Revoke(ctx, legacyKeyValue) }},
		{"delete", "delete", `{"key":"` + legacyKeyValue + `"}`, apiKeyOK,
			func(ctx context.Context, s *apikeys.LegacyService) (any, error) { return s.Delete(ctx, legacyKeyValue) }},
		{"update", "update", `{"key":"` + legacyKeyValue + `","fields":{"label":"ci"},"label":"ci"}`, apiKeyOK,
			func(ctx context.Context, s *apikeys.LegacyService) (any, error) {
				return s.Update(ctx, legacyKeyValue, "ci")
			}},
		{"validate", "validate", `{"type":"app","key":"` + legacyKeyValue + `"}`, `{"status":"ok","valid":true,"extra":null}`,
			func(ctx context.Context, s *apikeys.LegacyService) (any, error) {
				return s.Validate(ctx, apikeys.KeyTypeApp, legacyKeyValue)
			}},
	}
}

func legacyPath(op string) string {
	return legacyPrefix + "/box/srv/1.1/ide/acme%20dev/api/" + op
}

func TestLegacyCallsSendDocumentedRequests(t *testing.T) {
	for _, op := range legacyOps() {
		t.Run(op.name, func(t *testing.T) {
			srv := newLegacyServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeLegacy(w, http.StatusOK, op.ok) })
			c := newLegacyClient(t, srv)

			got, err := op.call(context.Background(), c.Legacy)
			require.NoError(t, err)

			hits := srv.seen()
			require.Len(t, hits, 1)
			h := hits[0]
			assert.Equal(t, http.MethodPost, h.Method)
			assert.Equal(t, legacyPath(op.path), h.Path)
			assert.Equal(t, legacyUserKey, h.Header.Get("X-FH-AUTH-USER"))
			assert.Equal(t, "feedhenry="+legacyCookie, h.Header.Get("Cookie"))
			assert.Equal(t, "application/json", h.Header.Get("Content-Type"))
			assert.Equal(t, "application/json", h.Header.Get("Accept"))
			assert.True(t, strings.HasPrefix(h.Header.Get("User-Agent"), "apikeys-go/"), h.Header.Get("User-Agent"))
			assert.Empty(t, h.Header.Get("Authorization"), "legacy calls carry no Platform token")
			assert.JSONEq(t, op.body, string(h.Body))

			want := &apikeys.LegacyKey{Label: "ci", KeyType: "app", Key: legacyKeyValue, KeyReference: "app-1", Secret: legacySecret}
			switch v := got.(type) {
			case []*apikeys.LegacyKey:
				require.Len(t, v, 1)
				assert.Equal(t, want, legacyFields(v[0]))
				assert.JSONEq(t, legacyKeyJSON, string(v[0].Raw()), "the object as sent, unknown members included")
			case *apikeys.LegacyKey:
				assert.Equal(t, want, legacyFields(v))
				assert.JSONEq(t, legacyKeyJSON, string(v.Raw()), "the object as sent, unknown members included")
				assert.False(t, v.IsRevoked())
			case bool:
				assert.True(t, v)
			default:
				t.Fatalf("unexpected result %T", got)
			}
		})
	}
}

func TestLegacyCredentialHeaders(t *testing.T) {
	tests := []struct {
		name             string
		userKey, cookie  string
		wantUser, wantCk string
	}{
		{"user key only", legacyUserKey, "", legacyUserKey, ""},
		{"cookie only", "", legacyCookie, "", "feedhenry=" + legacyCookie},
		{"both", legacyUserKey, legacyCookie, legacyUserKey, "feedhenry=" + legacyCookie},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newLegacyServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeLegacy(w, http.StatusOK, `{"status":"ok","list":[]}`)
			})
			cfg := legacyConfig(srv)
			cfg.UserKey, cfg.SessionCookie = tt.userKey, tt.cookie
			c, err := apikeys.NewClient(apikeys.WithLegacy(cfg))
			require.NoError(t, err)

			keys, err := c.Legacy.List(context.Background(), apikeys.UserKeys())
			require.NoError(t, err)
			assert.Empty(t, keys)
			assert.NotNil(t, keys)

			hits := srv.seen()
			require.Len(t, hits, 1)
			assert.Equal(t, tt.wantUser, hits[0].Header.Get("X-FH-AUTH-USER"))
			assert.Equal(t, tt.wantCk, hits[0].Header.Get("Cookie"))
			_, hasUser := hits[0].Header["X-Fh-Auth-User"]
			assert.Equal(t, tt.userKey != "", hasUser)
		})
	}
}

func TestLegacyListDecodesKeys(t *testing.T) {
	body := `{"status":"ok","list":[
		{"label":"old","keyType":"user","key":"k-revoked-0001","keyReference":"user-1","revoked":1425990896789,"revokedBy":"user-2","revokedEmail":"ops@example.com"},
		null,
		{"label":"repo","keyType":"git_repo","key":"k-active-0002","keyReference":"user-1","revoked":"","revokedBy":null,"new":{"nested":[1]}}
	]}`
	srv := newLegacyServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeLegacy(w, http.StatusOK, body) })
	c := newLegacyClient(t, srv)

	keys, err := c.Legacy.List(context.Background(), apikeys.UserKeys())
	require.NoError(t, err)
	require.Len(t, keys, 2, "null entries are skipped")

	revokedAt := time.Date(2015, 3, 10, 12, 34, 56, 789e6, time.UTC)
	assert.Equal(t, &apikeys.LegacyKey{Label: "old", KeyType: apikeys.KeyTypeUser, Key: "k-revoked-0001", KeyReference: "user-1",
		Revoked: &revokedAt, RevokedBy: "user-2", RevokedEmail: "ops@example.com"}, legacyFields(keys[0]))
	assert.True(t, keys[0].IsRevoked())
	assert.Equal(t, &apikeys.LegacyKey{Label: "repo", KeyType: "git_repo", Key: "k-active-0002", KeyReference: "user-1"}, legacyFields(keys[1]))
	assert.False(t, keys[1].IsRevoked())
}

func TestLegacyErrorReplies(t *testing.T) {
	type want struct {
		legacy   *apikeys.APIError // nil: a *DecodeError
		is       []error
		isNot    []error
		excerpt  string // DecodeError excerpt
		maxMsgLn int    // a cap on LegacyError.Message's length (0: exact match)
	}
	html := "<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body>" + strings.Repeat("<p>stack trace line</p>", 50) + "</body></html>"
	tests := []struct {
		name   string
		status int
		ctype  string
		body   string
		want   want
	}{
		{"200 status error message", 200, "", `{"status":"error","message":"Label is required"}`,
			want{legacy: &apikeys.APIError{StatusCode: 200, Message: "Label is required", RequestID: legacyReqID}, isNot: []error{apikeys.ErrNotFound}}},
		{"200 status error msg string", 200, "", `{"status":"error","msg":"Invalid request"}`,
			want{legacy: &apikeys.APIError{StatusCode: 200, Message: "Invalid request", RequestID: legacyReqID}}},
		{"200 status error msg array", 200, "", `{"status":"error","msg":["Invalid key","Invalid type",3]}`,
			want{legacy: &apikeys.APIError{StatusCode: 200, Message: "Invalid key; Invalid type", RequestID: legacyReqID}}},
		{"200 status error not found", 200, "", `{"status":"error","message":"API Key Not Found"}`,
			want{legacy: &apikeys.APIError{StatusCode: 200, Message: "API Key Not Found", RequestID: legacyReqID}, is: []error{apikeys.ErrNotFound}}},
		{"200 status error with malformed payload member", 200, "", `{"status":"error","message":"nope","list":"not a list","valid":"x"}`,
			want{legacy: &apikeys.APIError{StatusCode: 200, Message: "nope", RequestID: legacyReqID}}},
		{"200 status error without message", 200, "", `{"status":"error"}`,
			want{legacy: &apikeys.APIError{StatusCode: 200, RequestID: legacyReqID}}},
		{"401 JSON", 401, "", `{"status":"error","message":"not logged in"}`,
			want{legacy: &apikeys.APIError{StatusCode: 401, Message: "not logged in", RequestID: legacyReqID}, is: []error{apikeys.ErrUnauthorized}, isNot: []error{apikeys.ErrNotFound}}},
		{"404 JSON without message", 404, "", `{"status":"error"}`,
			want{legacy: &apikeys.APIError{StatusCode: 404, RequestID: legacyReqID}, is: []error{apikeys.ErrNotFound}}},
		{"500 HTML page", 500, "text/html", html,
			want{legacy: &apikeys.APIError{StatusCode: 500, RequestID: legacyReqID}, is: []error{apikeys.ErrServer}, maxMsgLn: 64}},
		{"200 truncated JSON", 200, "", `{"status":"ok","list":[{"label":"ci","key":`, want{}},
		{"200 empty body", 200, "", ``, want{}},
		{"200 whitespace body", 200, "", " \n", want{}},
		{"200 status missing", 200, "", `{"list":[],"apiKey":{},"valid":true}`, want{}},
		{"200 status unknown", 200, "", `{"status":"pending","list":[],"apiKey":{},"valid":true}`, want{}},
		{"200 status not a string", 200, "", `{"status":1}`, want{}},
		{"200 JSON array", 200, "", `[]`, want{}},
		{"200 JSON null", 200, "", `null`, want{}},
		{"200 ok without payload", 200, "", `{"status":"ok"}`, want{}},
		{"200 ok with null payload", 200, "", `{"status":"ok","list":null,"apiKey":null,"valid":null}`, want{}},
		{"200 HTML login page", 200, "text/html", `<html><body>Please log in</body></html>`, want{excerpt: "<html><body>Please log in</body></html>"}},
	}
	for _, op := range legacyOps() {
		for _, tt := range tests {
			t.Run(op.name+"/"+tt.name, func(t *testing.T) {
				srv := newLegacyServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
					if tt.ctype != "" {
						w.Header().Set("Content-Type", tt.ctype)
						w.Header().Set("X-FH-REQUEST-ID", legacyReqID)
						w.WriteHeader(tt.status)
						_, _ = io.WriteString(w, tt.body)
						return
					}
					writeLegacy(w, tt.status, tt.body)
				})
				c := newLegacyClient(t, srv, apikeys.WithRetry(apikeys.RetryPolicy{}))

				got, err := op.call(context.Background(), c.Legacy)
				require.Error(t, err)
				assert.Len(t, srv.seen(), 1)
				assert.Contains(t, err.Error(), "Legacy.")
				switch v := got.(type) {
				case []*apikeys.LegacyKey:
					assert.Nil(t, v)
				case *apikeys.LegacyKey:
					assert.Nil(t, v)
				case bool:
					assert.False(t, v)
				}

				if tt.want.legacy == nil {
					var de *apikeys.DecodeError
					require.ErrorAs(t, err, &de)
					assert.Equal(t, tt.status, de.StatusCode)
					assert.Equal(t, tt.want.excerpt, de.Excerpt)
					// An unreadable 2xx reply to a create was most likely applied.
					assert.Equal(t, op.path == "create", apikeys.IsAmbiguous(err))
					var le *apikeys.APIError
					assert.False(t, errors.As(err, &le))
					return
				}
				var le *apikeys.APIError
				require.ErrorAs(t, err, &le)
				if tt.want.maxMsgLn > 0 {
					assert.LessOrEqual(t, len(le.Message), tt.want.maxMsgLn)
					assert.Contains(t, le.Message, "500 Internal Server Error")
					le.Message = ""
				}
				assert.Equal(t, tt.want.legacy.StatusCode, le.StatusCode)
				assert.Equal(t, tt.want.legacy.Message, le.Message)
				assert.Equal(t, tt.want.legacy.RequestID, le.RequestID)
				assert.Equal(t, apikeys.LegacyAPI, le.API)
				assert.Equal(t, "Legacy."+strings.ToUpper(op.path[:1])+op.path[1:], le.Op)
				assert.Equal(t, http.MethodPost, le.Method)
				assert.True(t, strings.HasPrefix(le.URL, srv.URL+"/") && strings.HasSuffix(le.URL, "/api/"+op.path), le.URL)
				assert.Contains(t, err.Error(), legacyReqID)
				for _, target := range tt.want.is {
					assert.ErrorIs(t, err, target)
				}
				for _, target := range tt.want.isNot {
					assert.NotErrorIs(t, err, target)
				}
				// Only a create hit by a 5xx is ambiguous.
				assert.Equal(t, op.path == "create" && tt.status >= 500, apikeys.IsAmbiguous(err))
			})
		}
	}
}

func TestLegacyOversizeReplyIsDecodeError(t *testing.T) {
	body := `{"status":"ok","list":[` + strings.Repeat(legacyKeyJSON+",", 20) + legacyKeyJSON + `]}`
	srv := newLegacyServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeLegacy(w, http.StatusOK, body) })
	c := newLegacyClient(t, srv, apikeys.WithMaxResponseBytes(1024))

	keys, err := c.Legacy.List(context.Background(), apikeys.UserKeys())
	assert.Nil(t, keys)
	var de *apikeys.DecodeError
	require.ErrorAs(t, err, &de)
	assert.Contains(t, de.Error(), "exceeds 1024 bytes")
}

// TestLegacyUndecodableReplyQuotesNoSecret: a 2xx reply that cannot be
// decoded is quoted in the DecodeError only when it is a markup page, never
// when it holds (or may hold) a key and its secret.
func TestLegacyUndecodableReplyQuotesNoSecret(t *testing.T) {
	const secret = "TOPSECRET-0123456789"
	tests := []struct {
		name, ctype, body, excerpt string
	}{
		{"JSON after a newline, as text", "text/plain", "\n{\"status\":\"ok\",\"apiKey\":{\"secret\":\"" + secret + "\"},\"list\":5}", ""},
		{"JSON after a byte-order mark", "text/plain", "\uFEFF{\"status\":\"ok\",\"apiKey\":{\"secret\":\"" + secret + "\"},\"list\":5}", ""},
		{"text with JSON inside", "text/plain", "x{\"apiKey\":{\"secret\":\"" + secret + "\"}}", ""},
		{"form-encoded", "application/x-www-form-urlencoded", "secret=" + secret, ""},
		{"HTML page", "text/html", "  <html><title>502 Bad Gateway</title></html>", "<html><title>502 Bad Gateway</title></html>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newLegacyServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Content-Type", tt.ctype)
				_, _ = io.WriteString(w, tt.body)
			})
			c := newLegacyClient(t, srv)
			_, err := c.Legacy.Create(context.Background(), apikeys.UserKeys(), "ci")
			var de *apikeys.DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tt.excerpt, de.Excerpt)
			assert.NotContains(t, err.Error(), secret)
			assert.NotContains(t, fmt.Sprintf("%+v %#v", err, de), secret)
		})
	}
}

func TestLegacyErrorIs(t *testing.T) {
	tests := []struct {
		status int
		msg    string
		target error
		want   bool
	}{
		// The legacy API's wording for an unknown key, in any case and
		// with detail after it, matches ErrNotFound whatever the status
		// (200, 400) when the status has no sentinel of its own.
		{200, "API key not found", apikeys.ErrNotFound, true},
		{200, "API KEY NOT FOUND", apikeys.ErrNotFound, true},
		{200, "api key was not found.", apikeys.ErrNotFound, true},
		{200, "apiKey not found: 4a23…ec9e", apikeys.ErrNotFound, true},
		{200, "The key is not found", apikeys.ErrNotFound, true},
		{400, "key not found", apikeys.ErrNotFound, true},
		{200, "invalid request; API key not found", apikeys.ErrNotFound, true}, // a "msg" array
		{404, "", apikeys.ErrNotFound, true},
		{404, "domain not found", apikeys.ErrNotFound, true}, // the status says so
		// Any other "not found" is not an unknown key.
		{200, "NOT FOUND", apikeys.ErrNotFound, false},
		{200, "user not found", apikeys.ErrNotFound, false},
		{200, "domain not found", apikeys.ErrNotFound, false},
		{200, "app not found", apikeys.ErrNotFound, false},
		{200, "user key not found", apikeys.ErrNotFound, false}, // the caller's credential
		{400, "environment not found for key", apikeys.ErrNotFound, false},
		{200, "key not foundation", apikeys.ErrNotFound, false},
		{200, "keyring not found", apikeys.ErrNotFound, false},
		{401, "API key not found", apikeys.ErrNotFound, false}, // 401 has its own sentinel
		{401, "API key not found", apikeys.ErrUnauthorized, true},
		{500, "template not found", apikeys.ErrNotFound, false},
		{500, "template not found", apikeys.ErrServer, true},
		{200, "found it", apikeys.ErrNotFound, false},
		{401, "", apikeys.ErrUnauthorized, true},
		// The legacy API also says "not logged in" with HTTP 200: the user
		// key or session was not accepted, as with a 401.
		{200, "not logged in", apikeys.ErrUnauthorized, true},
		{200, "Error, check your login details", apikeys.ErrUnauthorized, true},
		{200, "login required", apikeys.ErrUnauthorized, true},
		{200, "logged in as admin", apikeys.ErrUnauthorized, false},
		{403, "", apikeys.ErrForbidden, true},
		{429, "", apikeys.ErrRateLimited, true},
		{200, "not found", nil, false},
		{200, "not found", apikeys.ErrServer, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %s %v", tt.status, tt.msg, tt.target), func(t *testing.T) {
			err := error(&apikeys.APIError{API: apikeys.LegacyAPI, StatusCode: tt.status, Message: tt.msg})
			assert.Equal(t, tt.want, errors.Is(err, tt.target))
			assert.Equal(t, tt.want, errors.Is(fmt.Errorf("wrapped: %w", err), tt.target))
		})
	}
	e := &apikeys.APIError{Op: "Legacy.Update", API: apikeys.LegacyAPI, Method: "POST", URL: "https://acme.example.com/box/srv/1.1/ide/acme/api/update",
		StatusCode: 200, Message: "Invalid label", RequestID: "r-1"}
	assert.Equal(t, "apikeys: Legacy.Update: POST https://acme.example.com/box/srv/1.1/ide/acme/api/update: error reply (HTTP 200): Invalid label (request ID r-1)", e.Error())
	assert.Equal(t, "apikeys: 502 Bad Gateway", (&apikeys.APIError{API: apikeys.LegacyAPI, StatusCode: 502}).Error())
}

func TestLegacyRevokedFormats(t *testing.T) {
	at := time.Date(2015, 3, 10, 12, 34, 56, 0, time.UTC)
	atMs := at.Add(789 * time.Millisecond)
	zero := time.Time{}
	tests := []struct {
		name    string
		revoked string // the JSON value
		want    *time.Time
		wantErr bool // from ParseRevoked; the key then holds the zero time
	}{
		{"ms epoch number", `1425990896789`, &atMs, false},
		{"ms epoch float", `1425990896789.0`, &atMs, false},
		{"ms epoch exponent", `1.425990896789e12`, &atMs, false},
		{"ms epoch numeric string", `"1425990896789"`, &atMs, false},
		{"ISO with ms", `"2015-03-10T12:34:56.789Z"`, &atMs, false},
		{"ISO with offset", `"2015-03-10T13:34:56+01:00"`, &at, false},
		{"ISO offset without colon", `"2015-03-10T13:34:56+0100"`, &at, false},
		{"ISO without zone", `"2015-03-10T12:34:56"`, &at, false},
		{"space separated", `"2015-03-10 12:34:56"`, &at, false},
		{"space separated with ms", `"2015-03-10 12:34:56.789"`, &atMs, false},
		{"RFC1123", `"Tue, 10 Mar 2015 12:34:56 GMT"`, &at, false},
		{"RFC1123Z", `"Tue, 10 Mar 2015 12:34:56 +0000"`, &at, false},
		{"JS Date string", `"Tue Mar 10 2015 12:34:56 GMT+0000 (UTC)"`, &at, false},
		{"JS Date string other zone", `"Tue Mar 10 2015 13:34:56 GMT+0100 (Central European Standard Time)"`, &at, false},
		{"Unix date", `"Tue Mar 10 12:34:56 UTC 2015"`, &at, false},
		{"padded string", `"  2015-03-10T12:34:56Z "`, &at, false},
		{"empty string", `""`, nil, false},
		{"null", `null`, nil, false},
		{"false", `false`, nil, false},
		{"zero", `0`, nil, false},
		{"zero string", `"0"`, nil, false},
		{"garbage string", `"yesterday-ish"`, &zero, true},
		{"true", `true`, &zero, true},
		{"negative", `-5`, &zero, true},
		{"beyond year 9999", `1e20`, &zero, true},
		{"object", `{"$date":1425990896789}`, &zero, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := apikeys.ParseRevoked([]byte(tt.revoked))
			if tt.wantErr {
				assert.Error(t, err)
				assert.Nil(t, got)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
			}

			var k apikeys.LegacyKey
			require.NoError(t, json.Unmarshal([]byte(`{"key":"k1","revoked":`+tt.revoked+`,"revokedBy":null,"revokedEmail":null}`), &k))
			assert.Equal(t, tt.want, k.Revoked)
			assert.Equal(t, tt.want != nil, k.IsRevoked())
			assert.Equal(t, "k1", k.Key)
			assert.Empty(t, k.RevokedBy)
			assert.Empty(t, k.RevokedEmail)
		})
	}
}

func TestLegacyKeyJSONRoundTrip(t *testing.T) {
	revoked := time.Date(2015, 3, 10, 12, 34, 56, 789e6, time.UTC)
	for _, k := range []apikeys.LegacyKey{
		{Label: "ci", KeyType: "app", Key: legacyKeyValue, KeyReference: "app-1", Secret: legacySecret, Revoked: &revoked, RevokedBy: "u", RevokedEmail: "u@example.com"},
		{Label: "ci", KeyType: "user", Key: legacyKeyValue},
		{Key: legacyKeyValue, Revoked: &time.Time{}},
	} {
		b, err := json.Marshal(k)
		require.NoError(t, err)
		var back apikeys.LegacyKey
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, &k, legacyFields(&back))
		assert.JSONEq(t, string(b), string(back.Raw()))
	}
}

func TestLegacyKeyMasksSecrets(t *testing.T) {
	revoked := time.Date(2015, 3, 10, 12, 34, 56, 0, time.UTC)
	k := apikeys.LegacyKey{Label: "ci", KeyType: "app", Key: legacyKeyValue, KeyReference: "app-1", Secret: legacySecret,
		Revoked: &revoked, RevokedBy: "user-2", RevokedEmail: "ops@example.com"}
	want := `LegacyKey{Label: "ci", KeyType: "app", Key: "4a23…ec9e", KeyReference: "app-1", Secret: "****", Revoked: 2015-03-10T12:34:56Z, RevokedBy: "user-2", RevokedEmail: "ops@example.com"}`
	assert.Equal(t, want, k.String())
	assert.Equal(t, "apikeys."+want, k.GoString())
	assert.Equal(t, want, fmt.Sprintf("%v", &k))
	assert.Equal(t, want, fmt.Sprintf("%+v", k))
	assert.Equal(t, "apikeys."+want, fmt.Sprintf("%#v", &k))

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("key", "k", k, "p", &k)
	assert.Contains(t, buf.String(), `"k":{"label":"ci","key_type":"app","key":"4a23…ec9e","key_reference":"app-1","secret":"****","revoked":"2015-03-10T12:34:56Z","revoked_by":"user-2","revoked_email":"ops@example.com"}`)
	assert.Contains(t, buf.String(), `"p":{"label":"ci"`)

	tests := []struct {
		key, secret      string
		wantKey, wantSec string
	}{
		{"", "", `""`, `""`},
		{"abcd", "s", `"****"`, `"****"`},
		{"abcdefgh", "", `"****"`, `""`},
		{"abcdefghi", "", `"abcd…fghi"`, `""`},
		{"ключключключ", "", `"ключ…ключ"`, `""`},
	}
	for _, tt := range tests {
		s := apikeys.LegacyKey{Key: tt.key, Secret: tt.secret}.String()
		assert.Contains(t, s, "Key: "+tt.wantKey+",")
		assert.Contains(t, s, "Secret: "+tt.wantSec+",")
		assert.Contains(t, s, "Revoked: nil,")
	}
	assert.Contains(t, apikeys.LegacyKey{Revoked: &time.Time{}}.String(), "Revoked: unknown-time,")
}

func TestLegacyRetryTable(t *testing.T) {
	ctx := context.Background()
	notFound := `{"status":"error","message":"API key not found"}`
	ok := func(op legacyOp) func(w http.ResponseWriter, r *http.Request, n int) {
		return func(w http.ResponseWriter, _ *http.Request, _ int) { writeLegacy(w, http.StatusOK, op.ok) }
	}
	find := func(name string) legacyOp {
		for _, op := range legacyOps() {
			if op.name == name {
				return op
			}
		}
		t.Fatalf("no op %q", name)
		return legacyOp{}
	}

	t.Run("idempotent calls are retried on 503", func(t *testing.T) {
		for _, name := range []string{"list user", "list app", "validate", "update"} {
			op := find(name)
			srv := newLegacyServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 0 {
					writeLegacy(w, http.StatusServiceUnavailable, `{"status":"error","message":"busy"}`)
					return
				}
				ok(op)(w, r, n)
			})
			_, err := op.call(ctx, newLegacyClient(t, srv).Legacy)
			assert.NoError(t, err, name)
			assert.Len(t, srv.seen(), 2, name)
		}
	})

	t.Run("idempotent calls are retried after a reset", func(t *testing.T) {
		for _, name := range []string{"list user", "validate", "update"} {
			op := find(name)
			srv := newLegacyServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 0 {
					legacyHangUp(w)
					return
				}
				ok(op)(w, r, n)
			})
			_, err := op.call(ctx, newLegacyClient(t, srv).Legacy)
			assert.NoError(t, err, name)
			assert.Len(t, srv.seen(), 2, name)
		}
	})

	t.Run("delete: not found after a lost reply is success", func(t *testing.T) {
		for _, second := range []struct {
			status int
			body   string
		}{
			{200, notFound}, {404, notFound},
			{200, `{"status":"error","message":"Key not found: 4a23…ec9e"}`},
			{400, `{"status":"error","msg":["invalid request","API KEY NOT FOUND"]}`},
		} {
			op := find("delete")
			srv := newLegacyServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
				if n == 0 {
					legacyHangUp(w) // applied, but the reply is lost
					return
				}
				writeLegacy(w, second.status, second.body)
			})
			var resp apikeys.Response
			got, err := op.call(apikeys.CaptureResponse(ctx, &resp), newLegacyClient(t, srv).Legacy)
			require.NoError(t, err, second.body)
			assert.Equal(t, &apikeys.LegacyKey{Key: legacyKeyValue}, got)
			assert.Len(t, srv.seen(), 2)
			assert.Equal(t, 2, resp.Attempts)
		}
	})

	t.Run("revoke: not found after a transient fault is an error", func(t *testing.T) {
		// Revoked keys stay listed, so "not found" never means that the
		// earlier attempt revoked the key: the key never existed.
		for _, first := range []func(http.ResponseWriter){
			legacyHangUp,
			func(w http.ResponseWriter) {
				writeLegacy(w, http.StatusServiceUnavailable, `{"status":"error","message":"busy"}`)
			},
		} {
			for _, second := range []struct {
				status int
				body   string
			}{{200, notFound}, {404, notFound}, {404, ""}} {
				srv := newLegacyServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
					if n == 0 {
						first(w)
						return
					}
					writeLegacy(w, second.status, second.body)
				})
				got, err := find("revoke").call(ctx, newLegacyClient(t, srv).Legacy)
				assert.ErrorIs(t, err, apikeys.ErrNotFound, second.body)
				assert.False(t, apikeys.IsAmbiguous(err))
				assert.Nil(t, got, "no key, revoked or not, is returned")
				assert.Len(t, srv.seen(), 2)
			}
		}
	})

	t.Run("revoke and delete: another not found after a lost reply is an error", func(t *testing.T) {
		// Only the key being unknown says the lost attempt removed it.
		for _, name := range []string{"revoke", "delete"} {
			for _, second := range []struct {
				status int
				body   string
				is     error
			}{
				{200, `{"status":"error","message":"user not found"}`, nil},
				{200, `{"status":"error","message":"domain not found"}`, nil},
				{200, `{"status":"error","msg":["not found"]}`, nil},
				{404, `{"status":"error","message":"domain not found"}`, apikeys.ErrNotFound},
				{404, `{"status":"error","message":"app not found"}`, apikeys.ErrNotFound},
				{401, `{"status":"error","message":"API key not found"}`, apikeys.ErrUnauthorized},
				{403, `{"status":"error","message":"key not found"}`, apikeys.ErrForbidden},
			} {
				op := find(name)
				srv := newLegacyServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
					if n == 0 {
						legacyHangUp(w) // the reply is lost
						return
					}
					writeLegacy(w, second.status, second.body)
				})
				got, err := op.call(ctx, newLegacyClient(t, srv).Legacy)
				var le *apikeys.APIError
				require.ErrorAs(t, err, &le, "%s %d %s", name, second.status, second.body)
				assert.Equal(t, second.status, le.StatusCode)
				if second.is != nil {
					assert.ErrorIs(t, err, second.is)
				} else {
					assert.NotErrorIs(t, err, apikeys.ErrNotFound)
				}
				assert.Nil(t, got, name)
				assert.Len(t, srv.seen(), 2, name)
			}
		}
	})

	t.Run("revoke and delete: not found on the first attempt is an error", func(t *testing.T) {
		for _, name := range []string{"revoke", "delete"} {
			op := find(name)
			srv := newLegacyServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeLegacy(w, 200, notFound) })
			got, err := op.call(ctx, newLegacyClient(t, srv).Legacy)
			assert.ErrorIs(t, err, apikeys.ErrNotFound, name)
			assert.Nil(t, got, name)
			assert.Len(t, srv.seen(), 1, name)
		}
	})

	t.Run("revoke and delete are retried on 503", func(t *testing.T) {
		for _, name := range []string{"revoke", "delete"} {
			op := find(name)
			srv := newLegacyServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n < 2 {
					writeLegacy(w, http.StatusBadGateway, "")
					return
				}
				ok(op)(w, r, n)
			})
			got, err := op.call(ctx, newLegacyClient(t, srv).Legacy)
			require.NoError(t, err, name)
			assert.Equal(t, legacySecret, got.(*apikeys.LegacyKey).Secret)
			assert.Len(t, srv.seen(), 3, name)
		}
	})

	for _, name := range []string{"create user", "create app"} {
		op := find(name)
		t.Run(name+": reset after the server applied it is ambiguous, not retried", func(t *testing.T) {
			srv := newLegacyServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { legacyHangUp(w) })
			got, err := op.call(ctx, newLegacyClient(t, srv).Legacy)
			assert.Nil(t, got)
			assert.True(t, apikeys.IsAmbiguous(err), "%v", err)
			assert.False(t, apikeys.IsRetryable(err))
			var te *apikeys.TransportError
			assert.ErrorAs(t, err, &te)
			assert.Len(t, srv.seen(), 1, "exactly one create reached the server")
		})

		t.Run(name+": 429 is retried", func(t *testing.T) {
			srv := newLegacyServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 0 {
					w.Header().Set("Retry-After", "0")
					writeLegacy(w, http.StatusTooManyRequests, `{"status":"error","message":"slow down"}`)
					return
				}
				ok(op)(w, r, n)
			})
			got, err := op.call(ctx, newLegacyClient(t, srv).Legacy)
			require.NoError(t, err)
			assert.Equal(t, legacyKeyValue, got.(*apikeys.LegacyKey).Key)
			assert.Len(t, srv.seen(), 2)
		})

		t.Run(name+": 429 until the retries run out is a rate limit, not ambiguous", func(t *testing.T) {
			srv := newLegacyServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeLegacy(w, http.StatusTooManyRequests, `{"status":"error","message":"slow down"}`)
			})
			_, err := op.call(ctx, newLegacyClient(t, srv).Legacy)
			assert.ErrorIs(t, err, apikeys.ErrRateLimited)
			assert.False(t, apikeys.IsAmbiguous(err))
			assert.True(t, apikeys.IsRetryable(err))
			assert.Len(t, srv.seen(), 4)
		})

		t.Run(name+": 500 is ambiguous, not retried", func(t *testing.T) {
			srv := newLegacyServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeLegacy(w, http.StatusInternalServerError, `{"status":"error","message":"db down"}`)
			})
			got, err := op.call(ctx, newLegacyClient(t, srv).Legacy)
			assert.Nil(t, got)
			assert.True(t, apikeys.IsAmbiguous(err))
			assert.ErrorIs(t, err, apikeys.ErrServer)
			var le *apikeys.APIError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, 500, le.StatusCode)
			assert.Equal(t, "db down", le.Message)
			assert.Contains(t, err.Error(), "Legacy.Create")
			assert.Len(t, srv.seen(), 1)
		})

		t.Run(name+": connection refused is retried and not ambiguous", func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			addr := ln.Addr().String()
			require.NoError(t, ln.Close())
			c, err := apikeys.NewClient(
				apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: "http://" + addr + legacyPrefix, Domain: legacyDomain, UserKey: legacyUserKey}),
				apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 3}))
			require.NoError(t, err)

			var resp apikeys.Response
			got, err := op.call(apikeys.CaptureResponse(ctx, &resp), c.Legacy)
			assert.Nil(t, got)
			assert.False(t, apikeys.IsAmbiguous(err), "%v", err)
			assert.True(t, apikeys.IsRetryable(err))
			var te *apikeys.TransportError
			assert.ErrorAs(t, err, &te)
			assert.Equal(t, 4, resp.Attempts, "dial errors are safe to retry")
		})
	}
}

func TestLegacyCallsNeedWithLegacy(t *testing.T) {
	var hits int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	c, err := apikeys.NewClient(apikeys.WithBaseURL(srv.URL+"/platform"), apikeys.WithToken("tok"))
	require.NoError(t, err)

	for _, op := range legacyOps() {
		for _, svc := range []*apikeys.LegacyService{c.Legacy, {}, nil} {
			got, err := op.call(context.Background(), svc)
			assert.ErrorIs(t, err, apikeys.ErrNotConfigured, op.name)
			assert.Contains(t, err.Error(), "WithLegacy")
			switch v := got.(type) {
			case []*apikeys.LegacyKey:
				assert.Nil(t, v)
			case *apikeys.LegacyKey:
				assert.Nil(t, v)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Zero(t, hits)
}

func TestLegacyBadInputIsRefusedBeforeIO(t *testing.T) {
	long := strings.Repeat("a", 1025)
	tests := []struct {
		name  string
		field string
		call  func(ctx context.Context, s *apikeys.LegacyService) error
	}{
		{"list zero owner", "owner", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.List(ctx, apikeys.KeyOwner{})
			return err
		}},
		{"list empty app id", "appID", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.List(ctx, apikeys.AppKeys(""))
			return err
		}},
		{"list app id with slash", "appID", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.List(ctx, apikeys.AppKeys("a/b"))
			return err
		}},
		{"list app id with control", "appID", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.List(ctx, apikeys.AppKeys("a\x00b"))
			return err
		}},
		{"create zero owner", "owner", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Create(ctx, apikeys.KeyOwner{}, "ci")
			return err
		}},
		{"create empty app id", "appID", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Create(ctx, apikeys.AppKeys(""), "ci")
			return err
		}},
		{"create empty label", "label", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Create(ctx, apikeys.UserKeys(), "")
			return err
		}},
		{"create blank label", "label", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Create(ctx, apikeys.UserKeys(), " \t ")
			return err
		}},
		{"create label with control", "label", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Create(ctx, apikeys.AppKeys("app-1"), "ci\nfoo")
			return err
		}},
		{"create long label", "label", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Create(ctx, apikeys.UserKeys(), long)
			return err
		}},
		{"revoke empty key", "key", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Revoke(ctx, "")
			return err
		}},
		{"revoke key with space", "key", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Revoke(ctx, "ab cd")
			return err
		}},
		{"delete empty key", "key", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Delete(ctx, "")
			return err
		}},
		{"delete key with control", "key", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Delete(ctx, "ab\x7fcd")
			return err
		}},
		{"update empty key", "key", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Update(ctx, "", "ci")
			return err
		}},
		{"update key with tab", "key", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Update(ctx, "ab\tcd", "ci")
			return err
		}},
		{"update empty label", "label", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Update(ctx, legacyKeyValue, "")
			return err
		}},
		{"update long label", "label", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Update(ctx, legacyKeyValue, long)
			return err
		}},
		{"validate empty type", "keyType", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Validate(ctx, "", legacyKeyValue)
			return err
		}},
		{"validate blank type", "keyType", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Validate(ctx, "  ", legacyKeyValue)
			return err
		}},
		{"validate type with control", "keyType", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Validate(ctx, "app\r\n", legacyKeyValue)
			return err
		}},
		{"validate empty key", "key", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Validate(ctx, apikeys.KeyTypeUser, "")
			return err
		}},
		{"validate key with newline", "key", func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Validate(ctx, apikeys.KeyTypeUser, "ab\ncd")
			return err
		}},
	}
	srv := newLegacyServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeLegacy(w, 200, `{"status":"ok"}`) })
	c := newLegacyClient(t, srv)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(context.Background(), c.Legacy)
			var ve *apikeys.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
		})
	}
	assert.Empty(t, srv.seen())
}

func TestLegacySecretsNeverLeak(t *testing.T) {
	secrets := []string{legacyUserKey, legacyCookie, legacySecret, legacyKeyValue}
	// Replies that echo the credentials and the key value (the SDK masks
	// those; it cannot know the secret of a key it did not receive).
	echo := "user " + legacyUserKey + " cookie " + legacyCookie + " key " + legacyKeyValue
	routes := map[string][]func(w http.ResponseWriter){
		"list": {func(w http.ResponseWriter) { writeLegacy(w, 200, `{"status":"ok","list":[`+legacyKeyJSON+`]}`) }},
		"create": {func(w http.ResponseWriter) {
			writeLegacy(w, 200, `{"status":"ok","apiKey":`+legacyKeyJSON+`}`)
		}},
		"update": {func(w http.ResponseWriter) {
			writeLegacy(w, 200, `{"status":"error","message":"bad key `+legacyKeyValue+` for `+legacyUserKey+`","msg":"`+echo+`"}`)
		}},
		"revoke": {func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html>"+echo+"</html>")
		}},
		"delete": {
			func(w http.ResponseWriter) { legacyHangUp(w) },
			func(w http.ResponseWriter) {
				writeLegacy(w, 200, `{"status":"error","msg":["`+echo+`","API key not found"]}`)
			},
		},
		"validate": {func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, legacyKeyValue+" "+legacyUserKey)
		}},
	}
	var mu sync.Mutex
	calls := map[string]int{}
	srv := newLegacyServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		op := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		mu.Lock()
		n := calls[op]
		calls[op]++
		mu.Unlock()
		replies := routes[op]
		replies[min(n, len(replies)-1)](w)
	})
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newLegacyClient(t, srv, apikeys.WithLogger(logger))
	ctx := context.Background()

	var values []any
	var errs []error
	keys, err := c.Legacy.List(ctx, apikeys.UserKeys())
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.Equal(t, legacySecret, keys[0].Secret)
	values = append(values, keys, keys[0], *keys[0])
	key, err := c.Legacy.Create(ctx, apikeys.AppKeys("app-1"), "ci")
	require.NoError(t, err)
	values = append(values, key)
	_, err = c.Legacy.Update(ctx, legacyKeyValue, "new")
	errs = append(errs, err)
	_, err = c.Legacy.Revoke(ctx, legacyKeyValue)
	errs = append(errs, err)
	gone, err := c.Legacy.Delete(ctx, legacyKeyValue)
	require.NoError(t, err)
	values = append(values, gone)
	_, err = c.Legacy.Validate(ctx, apikeys.KeyTypeApp, legacyKeyValue)
	errs = append(errs, err)
	_, err = apikeys.NewClient(apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: srv.URL, Domain: "d", UserKey: legacyUserKey + " " + legacyCookie}))
	errs = append(errs, err)

	var le *apikeys.APIError
	require.ErrorAs(t, errs[0], &le)
	assert.Contains(t, le.Message, "4a23…ec9e", "the key is shown masked")
	assert.Contains(t, le.Message, "****")
	for _, err := range errs {
		require.Error(t, err)
		values = append(values, err)
	}
	values = append(values, legacyConfig(srv), c)
	for _, v := range values {
		if _, isSlice := v.([]*apikeys.LegacyKey); isSlice {
			// slog's JSON handler marshals a slice with encoding/json,
			// which writes every field: log keys one by one.
			continue
		}
		logger.Info("value", "v", v)
	}

	var printed strings.Builder
	printed.WriteString(logs.String())
	for _, v := range values {
		fmt.Fprintf(&printed, "%v\n%+v\n%#v\n%s\n", v, v, v, v)
	}
	for _, err := range errs {
		printed.WriteString(err.Error() + "\n")
	}
	out := printed.String()
	require.Contains(t, out, "Legacy.Update", "the flows ran and were printed")
	require.Contains(t, logs.String(), "apikeys: retrying", "the SDK logged the delete's retry")
	for _, s := range secrets {
		assert.NotContains(t, out, s)
	}
}

func FuzzParseRevoked(f *testing.F) {
	for _, s := range []string{`1425990896789`, `"1425990896789"`, `"2015-03-10T12:34:56.789Z"`, `"Tue Mar 10 2015 12:34:56 GMT+0000 (UTC)"`,
		`null`, `""`, `-0`, `1e400`, `"-Inf"`, `NaN`, `"  ("`, `" ()"`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := apikeys.ParseRevoked(b)
		if err != nil {
			assert.Nil(t, got)
		}
		if got != nil {
			assert.False(t, got.IsZero())
			assert.Equal(t, time.UTC, got.Location())
		}
	})
}

// TestLegacyNotLoggedInIsUnauthorized: legacy servers also say "not
// logged in" with HTTP 200, in two shapes (API-NOTES): a body with no
// status and "address":{"login-status":"none"}, and a "status":"error"
// body whose text says so. Both mean the user key or session was not
// accepted, as a 401 does: they match ErrUnauthorized, are not retried
// and leave a create not ambiguous.
func TestLegacyNotLoggedInIsUnauthorized(t *testing.T) {
	for _, body := range []string{
		`{"msg":"Error, check your login details","address":{"login-status":"none"}}`,
		`{"address":{"login-status":"none"}}`,
		`{"msg":["x"],"address":{"login-status":"none","ip":"10.0.0.1"}}`,
		`{"status":"error","msg":"not logged in"}`,
		`{"status":"error","message":"Not logged in"}`,
		`{"status":"error","msg":["Login required"]}`,
	} {
		for _, op := range legacyOps() {
			t.Run(op.name+"/"+body, func(t *testing.T) {
				srv := newLegacyServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeLegacy(w, http.StatusOK, body) })
				_, err := op.call(t.Context(), newLegacyClient(t, srv).Legacy)
				assert.ErrorIs(t, err, apikeys.ErrUnauthorized)
				var le *apikeys.APIError
				require.ErrorAs(t, err, &le)
				assert.Equal(t, http.StatusOK, le.StatusCode)
				assert.Contains(t, strings.ToLower(le.Message), "log")
				assert.False(t, apikeys.IsAmbiguous(err))
				assert.False(t, apikeys.IsRetryable(err))
				assert.Len(t, srv.seen(), 1)
			})
		}
	}
}

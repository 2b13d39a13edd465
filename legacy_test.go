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

// legacyFields is k without the JSON it was decoded from (Raw), for
// comparing what was decoded; tests check Raw on its own.
func legacyFields(k *apikeys.LegacyKey) *apikeys.LegacyKey {
	return &apikeys.LegacyKey{Label: k.Label, KeyType: k.KeyType, Key: k.Key, KeyReference: k.KeyReference,
		Secret: k.Secret, Revoked: k.Revoked, RevokedBy: k.RevokedBy, RevokedEmail: k.RevokedEmail}
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
		{name: "list user", path: "list", body: `{"type":"user"}`, ok: `{"status":"ok","list":[` + legacyKeyJSON + `],"count":1}`,
			call: func(ctx context.Context, s *apikeys.LegacyService) (any, error) {
				return s.List(ctx, apikeys.UserKeys())
			}},
		{name: "list app", path: "list", body: `{"type":"app","appId":"app-1"}`, ok: `{"status":"ok","list":[` + legacyKeyJSON + `]}`,
			call: func(ctx context.Context, s *apikeys.LegacyService) (any, error) {
				return s.List(ctx, apikeys.AppKeys("app-1"))
			}},
		{name: "create user", path: "create", body: `{"type":"user","label":"ci","fields":{"label":"ci"}}`, ok: apiKeyOK,
			call: func(ctx context.Context, s *apikeys.LegacyService) (any, error) {
				return s.Create(ctx, apikeys.UserKeys(), "ci")
			}},
		{name: "create app", path: "create", body: `{"type":"app","label":"ci","appId":"app-1","fields":{"label":"ci"}}`, ok: apiKeyOK,
			call: func(ctx context.Context, s *apikeys.LegacyService) (any, error) {
				return s.Create(ctx, apikeys.AppKeys("app-1"), "ci")
			}},
		{name: "revoke", path: "revoke", body: `{"key":"` + legacyKeyValue + `"}`, ok: apiKeyOK,
			call: func(ctx context.Context, s *apikeys.LegacyService) (any, error) { return s.Revoke(ctx, legacyKeyValue) }},
		{name: "delete", path: "delete", body: `{"key":"` + legacyKeyValue + `"}`, ok: apiKeyOK,
			call: func(ctx context.Context, s *apikeys.LegacyService) (any, error) { return s.Delete(ctx, legacyKeyValue) }},
		{name: "update", path: "update", body: `{"key":"` + legacyKeyValue + `","fields":{"label":"ci"},"label":"ci"}`, ok: apiKeyOK,
			call: func(ctx context.Context, s *apikeys.LegacyService) (any, error) {
				return s.Update(ctx, legacyKeyValue, "ci")
			}},
		{name: "validate", path: "validate", body: `{"type":"app","key":"` + legacyKeyValue + `"}`, ok: `{"status":"ok","valid":true,"extra":null}`,
			call: func(ctx context.Context, s *apikeys.LegacyService) (any, error) {
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
			srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeLegacy(w, http.StatusOK, op.ok) })
			c := newLegacyClient(t, srv)

			got, err := op.call(context.Background(), c.Legacy)
			require.NoError(t, err)

			hits := srv.requests()
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
		{name: "user key only", userKey: legacyUserKey, cookie: "", wantUser: legacyUserKey, wantCk: ""},
		{name: "cookie only", userKey: "", cookie: legacyCookie, wantUser: "", wantCk: "feedhenry=" + legacyCookie},
		{name: "both", userKey: legacyUserKey, cookie: legacyCookie, wantUser: legacyUserKey, wantCk: "feedhenry=" + legacyCookie},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
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

			hits := srv.requests()
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
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeLegacy(w, http.StatusOK, body) })
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
		maxMsgLn int    // a cap on APIError.Message's length (0: exact match)
	}
	html := "<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body>" + strings.Repeat("<p>stack trace line</p>", 50) + "</body></html>"
	tests := []struct {
		name   string
		status int
		ctype  string
		body   string
		want   want
	}{
		{name: "200 status error message", status: 200, ctype: "", body: `{"status":"error","message":"Label is required"}`,
			want: want{legacy: &apikeys.APIError{StatusCode: 200, Message: "Label is required", RequestID: legacyReqID}, isNot: []error{apikeys.ErrNotFound}}},
		{name: "200 status error msg string", status: 200, ctype: "", body: `{"status":"error","msg":"Invalid request"}`,
			want: want{legacy: &apikeys.APIError{StatusCode: 200, Message: "Invalid request", RequestID: legacyReqID}}},
		{name: "200 status error msg array", status: 200, ctype: "", body: `{"status":"error","msg":["Invalid key","Invalid type",3]}`,
			want: want{legacy: &apikeys.APIError{StatusCode: 200, Message: "Invalid key; Invalid type", RequestID: legacyReqID}}},
		{name: "200 status error not found", status: 200, ctype: "", body: `{"status":"error","message":"API Key Not Found"}`,
			want: want{legacy: &apikeys.APIError{StatusCode: 200, Message: "API Key Not Found", RequestID: legacyReqID}, is: []error{apikeys.ErrNotFound}}},
		{name: "200 status error with malformed payload member", status: 200, ctype: "", body: `{"status":"error","message":"nope","list":"not a list","valid":"x"}`,
			want: want{legacy: &apikeys.APIError{StatusCode: 200, Message: "nope", RequestID: legacyReqID}}},
		{name: "200 status error without message", status: 200, ctype: "", body: `{"status":"error"}`,
			want: want{legacy: &apikeys.APIError{StatusCode: 200, RequestID: legacyReqID}}},
		{name: "401 JSON", status: 401, ctype: "", body: `{"status":"error","message":"not logged in"}`,
			want: want{legacy: &apikeys.APIError{StatusCode: 401, Message: "not logged in", RequestID: legacyReqID}, is: []error{apikeys.ErrUnauthorized}, isNot: []error{apikeys.ErrNotFound}}},
		{name: "404 JSON without message", status: 404, ctype: "", body: `{"status":"error"}`,
			want: want{legacy: &apikeys.APIError{StatusCode: 404, RequestID: legacyReqID}, is: []error{apikeys.ErrNotFound}}},
		{name: "500 HTML page", status: 500, ctype: "text/html", body: html,
			want: want{legacy: &apikeys.APIError{StatusCode: 500, RequestID: legacyReqID}, is: []error{apikeys.ErrServer}, maxMsgLn: 64}},
		{name: "200 truncated JSON", status: 200, ctype: "", body: `{"status":"ok","list":[{"label":"ci","key":`, want: want{}},
		{name: "200 empty body", status: 200, ctype: "", body: ``, want: want{}},
		{name: "200 whitespace body", status: 200, ctype: "", body: " \n", want: want{}},
		{name: "200 status missing", status: 200, ctype: "", body: `{"list":[],"apiKey":{},"valid":true}`, want: want{}},
		{name: "200 status unknown", status: 200, ctype: "", body: `{"status":"pending","list":[],"apiKey":{},"valid":true}`, want: want{}},
		{name: "200 status not a string", status: 200, ctype: "", body: `{"status":1}`, want: want{}},
		{name: "200 JSON array", status: 200, ctype: "", body: `[]`, want: want{}},
		{name: "200 JSON null", status: 200, ctype: "", body: `null`, want: want{}},
		{name: "200 ok without payload", status: 200, ctype: "", body: `{"status":"ok"}`, want: want{}},
		{name: "200 ok with null payload", status: 200, ctype: "", body: `{"status":"ok","list":null,"apiKey":null,"valid":null}`, want: want{}},
		{name: "200 HTML login page", status: 200, ctype: "text/html", body: `<html><body>Please log in</body></html>`, want: want{excerpt: "<html><body>Please log in</body></html>"}},
	}
	for _, op := range legacyOps() {
		for _, tt := range tests {
			t.Run(op.name+"/"+tt.name, func(t *testing.T) {
				srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
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
				assert.Len(t, srv.requests(), 1)
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
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeLegacy(w, http.StatusOK, body) })
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
		{name: "JSON after a newline, as text", ctype: "text/plain", body: "\n{\"status\":\"ok\",\"apiKey\":{\"secret\":\"" + secret + "\"},\"list\":5}", excerpt: ""},
		{name: "JSON after a byte-order mark", ctype: "text/plain", body: "\uFEFF{\"status\":\"ok\",\"apiKey\":{\"secret\":\"" + secret + "\"},\"list\":5}", excerpt: ""},
		{name: "text with JSON inside", ctype: "text/plain", body: "x{\"apiKey\":{\"secret\":\"" + secret + "\"}}", excerpt: ""},
		{name: "form-encoded", ctype: "application/x-www-form-urlencoded", body: "secret=" + secret, excerpt: ""},
		{name: "HTML page", ctype: "text/html", body: "  <html><title>502 Bad Gateway</title></html>", excerpt: "<html><title>502 Bad Gateway</title></html>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
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
		{status: 200, msg: "API key not found", target: apikeys.ErrNotFound, want: true},
		{status: 200, msg: "API KEY NOT FOUND", target: apikeys.ErrNotFound, want: true},
		{status: 200, msg: "api key was not found.", target: apikeys.ErrNotFound, want: true},
		{status: 200, msg: "apiKey not found: 4a23…ec9e", target: apikeys.ErrNotFound, want: true},
		{status: 200, msg: "The key is not found", target: apikeys.ErrNotFound, want: true},
		{status: 400, msg: "key not found", target: apikeys.ErrNotFound, want: true},
		{status: 200, msg: "invalid request; API key not found", target: apikeys.ErrNotFound, want: true}, // a "msg" array
		{status: 404, msg: "", target: apikeys.ErrNotFound, want: true},
		{status: 404, msg: "domain not found", target: apikeys.ErrNotFound, want: true}, // the status says so
		// Any other "not found" is not an unknown key.
		{status: 200, msg: "NOT FOUND", target: apikeys.ErrNotFound, want: false},
		{status: 200, msg: "user not found", target: apikeys.ErrNotFound, want: false},
		{status: 200, msg: "domain not found", target: apikeys.ErrNotFound, want: false},
		{status: 200, msg: "app not found", target: apikeys.ErrNotFound, want: false},
		{status: 200, msg: "user key not found", target: apikeys.ErrNotFound, want: false}, // the caller's credential
		{status: 400, msg: "environment not found for key", target: apikeys.ErrNotFound, want: false},
		{status: 200, msg: "key not foundation", target: apikeys.ErrNotFound, want: false},
		{status: 200, msg: "keyring not found", target: apikeys.ErrNotFound, want: false},
		{status: 401, msg: "API key not found", target: apikeys.ErrNotFound, want: false}, // 401 has its own sentinel
		{status: 401, msg: "API key not found", target: apikeys.ErrUnauthorized, want: true},
		{status: 500, msg: "template not found", target: apikeys.ErrNotFound, want: false},
		{status: 500, msg: "template not found", target: apikeys.ErrServer, want: true},
		{status: 200, msg: "found it", target: apikeys.ErrNotFound, want: false},
		{status: 401, msg: "", target: apikeys.ErrUnauthorized, want: true},
		// The legacy API also says "not logged in" with HTTP 200: the user
		// key or session was not accepted, as with a 401.
		{status: 200, msg: "not logged in", target: apikeys.ErrUnauthorized, want: true},
		{status: 200, msg: "Error, check your login details", target: apikeys.ErrUnauthorized, want: true},
		{status: 200, msg: "login required", target: apikeys.ErrUnauthorized, want: true},
		{status: 200, msg: "logged in as admin", target: apikeys.ErrUnauthorized, want: false},
		{status: 403, msg: "", target: apikeys.ErrForbidden, want: true},
		{status: 429, msg: "", target: apikeys.ErrRateLimited, want: true},
		{status: 200, msg: "not found", target: nil, want: false},
		{status: 200, msg: "not found", target: apikeys.ErrServer, want: false},
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
		{name: "ms epoch number", revoked: `1425990896789`, want: &atMs, wantErr: false},
		{name: "ms epoch float", revoked: `1425990896789.0`, want: &atMs, wantErr: false},
		{name: "ms epoch exponent", revoked: `1.425990896789e12`, want: &atMs, wantErr: false},
		{name: "ms epoch numeric string", revoked: `"1425990896789"`, want: &atMs, wantErr: false},
		{name: "ISO with ms", revoked: `"2015-03-10T12:34:56.789Z"`, want: &atMs, wantErr: false},
		{name: "ISO with offset", revoked: `"2015-03-10T13:34:56+01:00"`, want: &at, wantErr: false},
		{name: "ISO offset without colon", revoked: `"2015-03-10T13:34:56+0100"`, want: &at, wantErr: false},
		{name: "ISO without zone", revoked: `"2015-03-10T12:34:56"`, want: &at, wantErr: false},
		{name: "space separated", revoked: `"2015-03-10 12:34:56"`, want: &at, wantErr: false},
		{name: "space separated with ms", revoked: `"2015-03-10 12:34:56.789"`, want: &atMs, wantErr: false},
		{name: "RFC1123", revoked: `"Tue, 10 Mar 2015 12:34:56 GMT"`, want: &at, wantErr: false},
		{name: "RFC1123Z", revoked: `"Tue, 10 Mar 2015 12:34:56 +0000"`, want: &at, wantErr: false},
		{name: "JS Date string", revoked: `"Tue Mar 10 2015 12:34:56 GMT+0000 (UTC)"`, want: &at, wantErr: false},
		{name: "JS Date string other zone", revoked: `"Tue Mar 10 2015 13:34:56 GMT+0100 (Central European Standard Time)"`, want: &at, wantErr: false},
		{name: "Unix date", revoked: `"Tue Mar 10 12:34:56 UTC 2015"`, want: &at, wantErr: false},
		{name: "padded string", revoked: `"  2015-03-10T12:34:56Z "`, want: &at, wantErr: false},
		{name: "empty string", revoked: `""`, want: nil, wantErr: false},
		{name: "null", revoked: `null`, want: nil, wantErr: false},
		{name: "false", revoked: `false`, want: nil, wantErr: false},
		{name: "zero", revoked: `0`, want: nil, wantErr: false},
		{name: "zero string", revoked: `"0"`, want: nil, wantErr: false},
		{name: "garbage string", revoked: `"yesterday-ish"`, want: &zero, wantErr: true},
		{name: "true", revoked: `true`, want: &zero, wantErr: true},
		{name: "negative", revoked: `-5`, want: &zero, wantErr: true},
		{name: "beyond year 9999", revoked: `1e20`, want: &zero, wantErr: true},
		{name: "object", revoked: `{"$date":1425990896789}`, want: &zero, wantErr: true},
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
		{key: "", secret: "", wantKey: `""`, wantSec: `""`},
		{key: "abcd", secret: "s", wantKey: `"****"`, wantSec: `"****"`},
		{key: "abcdefgh", secret: "", wantKey: `"****"`, wantSec: `""`},
		{key: "abcdefghi", secret: "", wantKey: `"****"`, wantSec: `""`},
		{key: "ключключключключ", secret: "", wantKey: `"ключ…ключ"`, wantSec: `""`},
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
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 0 {
					writeLegacy(w, http.StatusServiceUnavailable, `{"status":"error","message":"busy"}`)
					return
				}
				ok(op)(w, r, n)
			})
			_, err := op.call(ctx, newLegacyClient(t, srv).Legacy)
			assert.NoError(t, err, name)
			assert.Len(t, srv.requests(), 2, name)
		}
	})

	t.Run("idempotent calls are retried after a reset", func(t *testing.T) {
		for _, name := range []string{"list user", "validate", "update"} {
			op := find(name)
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 0 {
					legacyHangUp(w)
					return
				}
				ok(op)(w, r, n)
			})
			_, err := op.call(ctx, newLegacyClient(t, srv).Legacy)
			assert.NoError(t, err, name)
			assert.Len(t, srv.requests(), 2, name)
		}
	})

	t.Run("delete: not found after a lost reply is success", func(t *testing.T) {
		for _, second := range []struct {
			status int
			body   string
		}{
			{status: 200, body: notFound}, {status: 404, body: notFound},
			{status: 200, body: `{"status":"error","message":"Key not found: 4a23…ec9e"}`},
			{status: 400, body: `{"status":"error","msg":["invalid request","API KEY NOT FOUND"]}`},
		} {
			op := find("delete")
			srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
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
			assert.Len(t, srv.requests(), 2)
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
			}{{status: 200, body: notFound}, {status: 404, body: notFound}, {status: 404, body: ""}} {
				srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
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
				assert.Len(t, srv.requests(), 2)
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
				{status: 200, body: `{"status":"error","message":"user not found"}`, is: nil},
				{status: 200, body: `{"status":"error","message":"domain not found"}`, is: nil},
				{status: 200, body: `{"status":"error","msg":["not found"]}`, is: nil},
				{status: 404, body: `{"status":"error","message":"domain not found"}`, is: apikeys.ErrNotFound},
				{status: 404, body: `{"status":"error","message":"app not found"}`, is: apikeys.ErrNotFound},
				{status: 401, body: `{"status":"error","message":"API key not found"}`, is: apikeys.ErrUnauthorized},
				{status: 403, body: `{"status":"error","message":"key not found"}`, is: apikeys.ErrForbidden},
			} {
				op := find(name)
				srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
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
				assert.Len(t, srv.requests(), 2, name)
			}
		}
	})

	t.Run("revoke and delete: not found on the first attempt is an error", func(t *testing.T) {
		for _, name := range []string{"revoke", "delete"} {
			op := find(name)
			srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeLegacy(w, 200, notFound) })
			got, err := op.call(ctx, newLegacyClient(t, srv).Legacy)
			assert.ErrorIs(t, err, apikeys.ErrNotFound, name)
			assert.Nil(t, got, name)
			assert.Len(t, srv.requests(), 1, name)
		}
	})

	t.Run("revoke and delete are retried on 503", func(t *testing.T) {
		for _, name := range []string{"revoke", "delete"} {
			op := find(name)
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n < 2 {
					writeLegacy(w, http.StatusBadGateway, "")
					return
				}
				ok(op)(w, r, n)
			})
			got, err := op.call(ctx, newLegacyClient(t, srv).Legacy)
			require.NoError(t, err, name)
			assert.Equal(t, legacySecret, got.(*apikeys.LegacyKey).Secret)
			assert.Len(t, srv.requests(), 3, name)
		}
	})

	for _, name := range []string{"create user", "create app"} {
		op := find(name)
		t.Run(name+": reset after the server applied it is ambiguous, not retried", func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { legacyHangUp(w) })
			got, err := op.call(ctx, newLegacyClient(t, srv).Legacy)
			assert.Nil(t, got)
			assert.True(t, apikeys.IsAmbiguous(err), "%v", err)
			assert.False(t, apikeys.IsRetryable(err))
			var te *apikeys.TransportError
			assert.ErrorAs(t, err, &te)
			assert.Len(t, srv.requests(), 1, "exactly one create reached the server")
		})

		t.Run(name+": 429 is retried", func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
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
			assert.Len(t, srv.requests(), 2)
		})

		t.Run(name+": 429 until the retries run out is a rate limit, not ambiguous", func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeLegacy(w, http.StatusTooManyRequests, `{"status":"error","message":"slow down"}`)
			})
			_, err := op.call(ctx, newLegacyClient(t, srv).Legacy)
			assert.ErrorIs(t, err, apikeys.ErrRateLimited)
			assert.False(t, apikeys.IsAmbiguous(err))
			assert.True(t, apikeys.IsRetryable(err))
			assert.Len(t, srv.requests(), 4)
		})

		t.Run(name+": 500 is ambiguous, not retried", func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
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
			assert.Len(t, srv.requests(), 1)
		})

		t.Run(name+": connection refused is retried and not ambiguous", func(t *testing.T) {
			addr := closedAddr(t)
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
		{name: "list zero owner", field: "owner", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.List(ctx, apikeys.KeyOwner{})
			return err
		}},
		{name: "list empty app id", field: "appID", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.List(ctx, apikeys.AppKeys(""))
			return err
		}},
		{name: "list app id with slash", field: "appID", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.List(ctx, apikeys.AppKeys("a/b"))
			return err
		}},
		{name: "list app id with control", field: "appID", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.List(ctx, apikeys.AppKeys("a\x00b"))
			return err
		}},
		{name: "create zero owner", field: "owner", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Create(ctx, apikeys.KeyOwner{}, "ci")
			return err
		}},
		{name: "create empty app id", field: "appID", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Create(ctx, apikeys.AppKeys(""), "ci")
			return err
		}},
		{name: "create empty label", field: "label", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Create(ctx, apikeys.UserKeys(), "")
			return err
		}},
		{name: "create blank label", field: "label", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Create(ctx, apikeys.UserKeys(), " \t ")
			return err
		}},
		{name: "create label with control", field: "label", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Create(ctx, apikeys.AppKeys("app-1"), "ci\nfoo")
			return err
		}},
		{name: "create long label", field: "label", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Create(ctx, apikeys.UserKeys(), long)
			return err
		}},
		{name: "revoke empty key", field: "key", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Revoke(ctx, "")
			return err
		}},
		{name: "revoke key with space", field: "key", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Revoke(ctx, "ab cd")
			return err
		}},
		{name: "delete empty key", field: "key", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Delete(ctx, "")
			return err
		}},
		{name: "delete key with control", field: "key", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Delete(ctx, "ab\x7fcd")
			return err
		}},
		{name: "update empty key", field: "key", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Update(ctx, "", "ci")
			return err
		}},
		{name: "update key with tab", field: "key", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Update(ctx, "ab\tcd", "ci")
			return err
		}},
		{name: "update empty label", field: "label", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Update(ctx, legacyKeyValue, "")
			return err
		}},
		{name: "update long label", field: "label", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Update(ctx, legacyKeyValue, long)
			return err
		}},
		{name: "validate empty type", field: "keyType", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Validate(ctx, "", legacyKeyValue)
			return err
		}},
		{name: "validate blank type", field: "keyType", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Validate(ctx, "  ", legacyKeyValue)
			return err
		}},
		{name: "validate type with control", field: "keyType", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Validate(ctx, "app\r\n", legacyKeyValue)
			return err
		}},
		{name: "validate empty key", field: "key", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Validate(ctx, apikeys.KeyTypeUser, "")
			return err
		}},
		{name: "validate key with newline", field: "key", call: func(ctx context.Context, s *apikeys.LegacyService) error {
			_, err := s.Validate(ctx, apikeys.KeyTypeUser, "ab\ncd")
			return err
		}},
	}
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeLegacy(w, 200, `{"status":"ok"}`) })
	c := newLegacyClient(t, srv)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(context.Background(), c.Legacy)
			var ve *apikeys.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
		})
	}
	assert.Empty(t, srv.requests())
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
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
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
				srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeLegacy(w, http.StatusOK, body) })
				_, err := op.call(t.Context(), newLegacyClient(t, srv).Legacy)
				assert.ErrorIs(t, err, apikeys.ErrUnauthorized)
				var le *apikeys.APIError
				require.ErrorAs(t, err, &le)
				assert.Equal(t, http.StatusOK, le.StatusCode)
				assert.Contains(t, strings.ToLower(le.Message), "log")
				assert.False(t, apikeys.IsAmbiguous(err))
				assert.False(t, apikeys.IsRetryable(err))
				assert.Len(t, srv.requests(), 1)
			})
		}
	}
}

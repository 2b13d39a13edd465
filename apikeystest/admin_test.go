package apikeystest_test

import (
	"context"
	"crypto/elliptic"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// admin calls the admin API; body "" sends none.
func (f *fixture) admin(method, path, body string) reply {
	f.t.Helper()
	var h []string
	if body != "" {
		h = []string{"Content-Type", "application/json"}
	}
	return f.send(method, f.srv.AdminURL+path, body, h...)
}

// adminOK checks an admin reply's status and decodes its JSON body.
func adminOK(t *testing.T, r reply, status int) map[string]any {
	t.Helper()
	require.Equal(t, status, r.status, "%s", r.body)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	return r.object(t)
}

func startAdmin(t *testing.T, opts ...apikeystest.Option) *fixture {
	t.Helper()
	return start(t, append([]apikeystest.Option{apikeystest.WithAdminAPI()}, opts...)...)
}

// createKeyRaw creates a Platform key with net/http and the static token.
func createKeyRaw(f *fixture, name string) reply {
	f.t.Helper()
	return f.platform(http.MethodPost, "/v1/environments/"+f.srv.EnvironmentID("Staging")+"/apikeys", `{"name":"`+name+`"}`)
}

// TestAdminAPIOffByDefault: without WithAdminAPI there is no admin surface: /_fake/ is an
// unknown path, logged like any other.
func TestAdminAPIOffByDefault(t *testing.T) {
	f := start(t)
	assert.Empty(t, f.srv.AdminURL)
	r := f.send(http.MethodPost, f.srv.URL+"/_fake/reset", "")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, map[string]any{"message": "not found"}, r.object(t))
	require.Len(t, f.srv.Requests(), 1)
	assert.Equal(t, "no such route", f.srv.Requests()[0].Reason)
}

// TestAdminStatusFault: a status fault injected through the admin API is the Go API's: the next
// create fails with it and is counted and logged (masked); admin calls are neither.
func TestAdminStatusFault(t *testing.T) {
	f := startAdmin(t)
	assert.Equal(t, f.srv.URL+"/_fake", f.srv.AdminURL)
	got := adminOK(t, f.admin(http.MethodPost, "/faults",
		`{"route":"CreateAPIKey","kind":"status","status":503,"retryAfter":"2"}`), http.StatusCreated)
	assert.Equal(t, map[string]any{"fault": map[string]any{
		"route": "CreateAPIKey", "kind": "status", "count": 1.0, "status": 503.0, "retryAfter": "2",
	}}, got)

	r := createKeyRaw(f, "svc")
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, "2", r.header.Get("Retry-After"))
	assert.Equal(t, map[string]any{"message": "injected fault: status 503"}, r.object(t))
	assert.Equal(t, http.StatusOK, createKeyRaw(f, "svc").status, "one fault only")

	counts := adminOK(t, f.admin(http.MethodGet, "/counts", ""), http.StatusOK)["counts"].(map[string]any)
	assert.Len(t, counts, 13, "every route, zero or not")
	assert.Equal(t, 2.0, counts["CreateAPIKey"])
	assert.Equal(t, 0.0, counts["LegacyList"])

	reqs := adminOK(t, f.admin(http.MethodGet, "/requests", ""), http.StatusOK)["requests"].([]any)
	require.Len(t, reqs, 2, "admin calls are not logged")
	first := reqs[0].(map[string]any)
	assert.Equal(t, "CreateAPIKey", first["route"])
	assert.Equal(t, "POST", first["method"])
	assert.Equal(t, "injected fault", first["reason"])
	assert.Equal(t, "HTTP/1.1", first["proto"])
	assert.Equal(t, `{"name":"svc"}`, first["body"])
	assert.Equal(t, []any{"Bearer ****"}, first["header"].(map[string]any)["Authorization"])
	assert.Len(t, f.srv.Requests(), 2)
}

// TestAdminFaultKinds: every kind of fault the admin API takes does what its Go method does.
func TestAdminFaultKinds(t *testing.T) {
	f := startAdmin(t)
	adminOK(t, f.admin(http.MethodPost, "/faults",
		`{"route":"CreateAPIKey","kind":"body","status":200,"contentType":"text/html","body":"<html>proxy</html>"}`), http.StatusCreated)
	r := createKeyRaw(f, "a")
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "text/html", r.header.Get("Content-Type"))
	assert.Equal(t, "<html>proxy</html>", string(r.body))
	assert.Empty(t, f.srv.APIKeys(), "not applied")

	adminOK(t, f.admin(http.MethodPost, "/faults", `{"route":"CreateAPIKey","kind":"drop"}`), http.StatusCreated)
	_, err := f.try(http.MethodPost, f.srv.PlatformURL+"/v1/environments/"+f.srv.EnvironmentID("Staging")+"/apikeys",
		`{"name":"b"}`, "Authorization", "Bearer "+f.srv.BearerToken, "Content-Type", "application/json")
	assert.Error(t, err)
	assert.Empty(t, f.srv.APIKeys(), "not applied")

	adminOK(t, f.admin(http.MethodPost, "/faults", `{"route":"CreateAPIKey","kind":"dropAfterApply","count":1}`), http.StatusCreated)
	_, err = f.try(http.MethodPost, f.srv.PlatformURL+"/v1/environments/"+f.srv.EnvironmentID("Staging")+"/apikeys",
		`{"name":"c"}`, "Authorization", "Bearer "+f.srv.BearerToken, "Content-Type", "application/json")
	assert.Error(t, err)
	require.Len(t, f.srv.APIKeys(), 1, "applied, then cut")

	got := adminOK(t, f.admin(http.MethodPost, "/faults", `{"route":"ListEnvironments","kind":"latency","latency":"1h"}`), http.StatusCreated)
	assert.Equal(t, "1h0m0s", got["fault"].(map[string]any)["latency"])
	adminOK(t, f.admin(http.MethodPost, "/faults", `{"route":"GetAPIKey","kind":"status","status":500,"count":3}`), http.StatusCreated)
	r = f.admin(http.MethodDelete, "/faults", "")
	assert.Equal(t, http.StatusNoContent, r.status)
	assert.Equal(t, http.StatusOK, listEnvs(f, f.srv.BearerToken).status, "the latency is cleared")
	assert.Equal(t, http.StatusOK, f.platform(http.MethodGet, "/v1/apikeys/"+f.srv.APIKeys()[0].ID, "").status, "the faults are cleared")

	// A latency of 0 removes it.
	adminOK(t, f.admin(http.MethodPost, "/faults", `{"route":"ListEnvironments","kind":"latency","latency":"1h"}`), http.StatusCreated)
	adminOK(t, f.admin(http.MethodPost, "/faults", `{"route":"ListEnvironments","kind":"latency","latency":"0s"}`), http.StatusCreated)
	assert.Equal(t, http.StatusOK, listEnvs(f, f.srv.BearerToken).status)
}

// TestAdminRefusesBadInput: bad input is answered 400 with {"error"} and changes nothing.
func TestAdminRefusesBadInput(t *testing.T) {
	f := startAdmin(t)
	for _, tc := range []struct {
		name, path, body, want string
	}{
		{name: "no body", path: "/faults", body: "", want: "the body must be a JSON object"},
		{name: "an array", path: "/faults", body: `[]`, want: "the body must be a JSON object"},
		{name: "bad JSON", path: "/faults", body: `{"route":`, want: "invalid JSON body"},
		{name: "trailing data", path: "/faults", body: `{"route":"Token","kind":"drop"} {}`, want: "data after the object"},
		{name: "unknown member", path: "/faults", body: `{"route":"Token","kind":"drop","retry_after":"1"}`, want: `unknown field "retry_after"`},
		{name: "no route", path: "/faults", body: `{"kind":"drop"}`, want: "route is required"},
		{name: "unknown route", path: "/faults", body: `{"route":"Nope","kind":"drop"}`, want: `unknown route "Nope" (one of ListAPIKeys, CreateAPIKey`},
		{name: "no kind", path: "/faults", body: `{"route":"Token"}`, want: "kind is required"},
		{name: "unknown kind", path: "/faults", body: `{"route":"Token","kind":"explode"}`, want: `unknown kind "explode"`},
		{name: "count 0", path: "/faults", body: `{"route":"Token","kind":"drop","count":0}`, want: "count must be at least 1"},
		{name: "negative count", path: "/faults", body: `{"route":"Token","kind":"status","status":503,"count":-1}`, want: "count must be at least 1"},
		{name: "no status", path: "/faults", body: `{"route":"Token","kind":"status"}`, want: "status is required, from 200 to 599"},
		{name: "status 99", path: "/faults", body: `{"route":"Token","kind":"body","status":99}`, want: "status is required"},
		{name: "status 600", path: "/faults", body: `{"route":"Token","kind":"status","status":600}`, want: "status is required"},
		{name: "status on a drop", path: "/faults", body: `{"route":"Token","kind":"drop","status":503}`, want: "status does not apply to a drop fault"},
		{name: "retryAfter on a body", path: "/faults", body: `{"route":"Token","kind":"body","status":200,"retryAfter":"1"}`, want: "retryAfter does not apply to a body fault"},
		{name: "count on a latency", path: "/faults", body: `{"route":"Token","kind":"latency","latency":"1s","count":2}`, want: "count does not apply to a latency fault"},
		{name: "no latency", path: "/faults", body: `{"route":"Token","kind":"latency"}`, want: "latency is required"},
		{name: "bad latency", path: "/faults", body: `{"route":"Token","kind":"latency","latency":"soon"}`, want: `latency "soon" is not a duration`},
		{name: "negative latency", path: "/faults", body: `{"route":"Token","kind":"latency","latency":"-1s"}`, want: "is not a duration of 0 or more"},
		{name: "newline in retryAfter", path: "/faults", body: `{"route":"Token","kind":"status","status":503,"retryAfter":"1\r\nX-Evil: 1"}`, want: "retryAfter must not hold control characters"},
		{name: "key without name", path: "/apikeys", body: `{"environmentFlag":"Staging"}`, want: "name is required"},
		{name: "key without environment", path: "/apikeys", body: `{"name":"x"}`, want: "environmentId or environmentFlag is required"},
		{name: "key with both", path: "/apikeys", body: `{"name":"x","environmentFlag":"Staging","environmentId":"e"}`, want: "not both"},
		{name: "key in unknown flag", path: "/apikeys", body: `{"name":"x","environmentFlag":"QA"}`, want: `no environment with flag "QA"`},
		{name: "key in unknown environment", path: "/apikeys", body: `{"name":"x","environmentId":"e"}`, want: `environment "e" not found`},
		{name: "key with private JWK", path: "/apikeys", body: `{"name":"x","environmentFlag":"Staging","jwkSet":{"keys":[{"kid":"a","kty":"EC","d":"x"}]}}`, want: `private member "d"`},
		{name: "key with bad jwksURL", path: "/apikeys", body: `{"name":"x","environmentFlag":"Staging","jwksURL":"keys.json"}`, want: "jwksURL must be an absolute http(s) URL"},
		{name: "user with bad key", path: "/legacy/users", body: `{"key":"ABC"}`, want: "key must be 40 lower-case hex characters"},
		{name: "seeded user again", path: "/legacy/users", body: `{"id":"user-1"}`, want: "already exists"},
		{name: "legacy key without label", path: "/legacy/keys", body: `{"keyType":"user"}`, want: "label is required"},
		{name: "legacy key of unknown user", path: "/legacy/keys", body: `{"label":"x","keyType":"user","keyReference":"bob"}`, want: `no legacy user "bob"`},
		{name: "legacy revoked as text", path: "/legacy/keys", body: `{"label":"x","keyType":"user","revoked":"yesterday"}`, want: "invalid JSON body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := adminOK(t, f.admin(http.MethodPost, tc.path, tc.body), http.StatusBadRequest)
			assert.Contains(t, got["error"], tc.want)
		})
	}
	assert.Empty(t, f.srv.APIKeys())
	assert.Empty(t, f.srv.LegacyKeys())
	assert.Len(t, f.srv.LegacyUsers(), 1)
	assert.Equal(t, http.StatusBadRequest, f.token(nil).status)
	assert.Equal(t, "missing grant_type", f.lastReason(), "no fault was queued on Token")
}

// TestAdminRouting: unknown admin paths are 404 and wrong methods 405 with Allow, in JSON; the
// index lists every route.
func TestAdminRouting(t *testing.T) {
	f := startAdmin(t)
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{method: http.MethodGet, path: "/nothing", status: http.StatusNotFound, allow: ""},
		{method: http.MethodGet, path: "/requests/", status: http.StatusNotFound, allow: ""},
		{method: http.MethodGet, path: "", status: http.StatusNotFound, allow: ""},
		{method: http.MethodGet, path: "/faults", status: http.StatusMethodNotAllowed, allow: "POST, DELETE"},
		{method: http.MethodPut, path: "/apikeys", status: http.StatusMethodNotAllowed, allow: "GET, POST"},
		{method: http.MethodGet, path: "/reset", status: http.StatusMethodNotAllowed, allow: "POST"},
		{method: http.MethodHead, path: "/counts", status: http.StatusMethodNotAllowed, allow: "GET"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := f.admin(tc.method, tc.path, "")
			assert.Equal(t, tc.status, r.status)
			assert.Equal(t, tc.allow, r.header.Get("Allow"))
			if tc.method != http.MethodHead {
				assert.NotEmpty(t, r.object(t)["error"])
			}
		})
	}
	routes := adminOK(t, f.admin(http.MethodGet, "/", ""), http.StatusOK)["routes"].([]any)
	assert.Contains(t, routes, "POST /_fake/faults")
	assert.Contains(t, routes, "GET /_fake/legacy/keys")
	assert.Len(t, routes, 16)
	assert.Empty(t, f.srv.Requests(), "no admin call is logged")
}

// TestAdminSeedAndInspect: what the admin API adds is what the Go API sees, and the other way
// round.
func TestAdminSeedAndInspect(t *testing.T) {
	f := startAdmin(t, apikeystest.WithLegacyAdmin(true))
	info := adminOK(t, f.admin(http.MethodGet, "/info", ""), http.StatusOK)
	assert.Equal(t, map[string]any{
		"baseURL": f.srv.URL, "platformURL": f.srv.PlatformURL, "tokenURL": f.srv.TokenURL,
		"legacyURL": f.srv.URL, "legacyDomain": "acme", "adminURL": f.srv.AdminURL, "organizationId": 1.0,
		"environments": map[string]any{
			"Production": f.srv.EnvironmentID("Production"), "Staging": f.srv.EnvironmentID("Staging"),
			"Development": f.srv.EnvironmentID("Development"),
		},
		"bearerToken": f.srv.BearerToken, "legacyUserKey": f.srv.LegacyUserKey, "sessionCookie": f.srv.SessionCookie,
	}, info)
	envs := adminOK(t, f.admin(http.MethodGet, "/environments", ""), http.StatusOK)["environments"].([]any)
	require.Len(t, envs, 3)
	assert.Equal(t, map[string]any{
		"id": f.srv.EnvironmentID("Production"), "name": "Acme Production", "environmentFlag": "Production", "organizationId": 1.0,
	}, envs[0])

	// A Platform key with a JWK Set, then a token flow with it.
	priv := ecKey(t, elliptic.P384())
	set := jwkSet(t, map[string]any{"a": priv.Public()})
	got := adminOK(t, f.admin(http.MethodPost, "/apikeys", `{"environmentFlag":"Staging","name":"svc","jwkSet":`+string(set)+`}`), http.StatusCreated)
	k := got["apikey"].(map[string]any)
	stored := f.srv.APIKeys()
	require.Len(t, stored, 1)
	assert.Equal(t, stored[0].ID, k["id"])
	assert.Equal(t, "Staging", k["environmentFlag"])
	assert.Equal(t, f.srv.EnvironmentID("Staging"), k["environmentId"])
	assert.NotNil(t, k["jwkSet"])
	assert.NotContains(t, k, "jwksURL")
	hosted := adminOK(t, f.admin(http.MethodPost, "/apikeys",
		`{"environmentId":"`+f.srv.EnvironmentID("Production")+`","name":"hosted","jwksURL":"https://keys.example.com/jwks.json","jwkSet":null}`), http.StatusCreated)
	assert.Equal(t, "https://keys.example.com/jwks.json", hosted["apikey"].(map[string]any)["jwksURL"])
	assert.NotContains(t, hosted["apikey"], "jwkSet")
	keys := adminOK(t, f.admin(http.MethodGet, "/apikeys", ""), http.StatusOK)["apikeys"].([]any)
	assert.Equal(t, []any{k, hosted["apikey"]}, keys)

	r := f.token(tokenForm(sign(t, priv, jose.ES384, "a", claims(f, stored[0].ID))))
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	toks := adminOK(t, f.admin(http.MethodGet, "/tokens", ""), http.StatusOK)["tokens"].([]any)
	assert.Equal(t, []any{map[string]any{
		"clientId": stored[0].ID, "keyId": "a",
		"issuedAt": t0.Format(time.RFC3339), "expiresAt": t0.Add(5 * time.Minute).Format(time.RFC3339),
	}}, toks)

	// Legacy users and keys.
	u := adminOK(t, f.admin(http.MethodPost, "/legacy/users", `{"id":"ann","email":"ann@corp.test"}`), http.StatusCreated)["legacyUser"].(map[string]any)
	annKey, _ := u["key"].(string)
	assert.Regexp(t, hex40RE, annKey)
	assert.Equal(t, f.srv.LegacyUsers()[1], apikeystest.LegacyUser{ID: "ann", Email: "ann@corp.test", Key: annKey})
	users := adminOK(t, f.admin(http.MethodGet, "/legacy/users", ""), http.StatusOK)["legacyUsers"].([]any)
	assert.Equal(t, []any{
		map[string]any{"id": "user-1", "email": "dev@example.com", "key": f.srv.LegacyUserKey}, u,
	}, users)

	lk := adminOK(t, f.admin(http.MethodPost, "/legacy/keys", `{"label":"ci","keyType":"user","keyReference":"ann"}`), http.StatusCreated)["legacyKey"].(map[string]any)
	assert.Equal(t, "ann", lk["keyReference"])
	assert.Nil(t, lk["revoked"])
	assert.Nil(t, lk["revokedBy"], "null while active, as on the wire")
	assert.Contains(t, lk, "revokedEmail")
	assert.Nil(t, lk["revokedEmail"])
	revoked := adminOK(t, f.admin(http.MethodPost, "/legacy/keys",
		`{"label":"old","keyType":"app","keyReference":"app-1","revoked":1700000000123}`), http.StatusCreated)["legacyKey"].(map[string]any)
	assert.Equal(t, 1700000000123.0, revoked["revoked"])
	assert.Equal(t, "user-1", revoked["revokedBy"])
	assert.Equal(t, "dev@example.com", revoked["revokedEmail"])
	byOps := adminOK(t, f.admin(http.MethodPost, "/legacy/keys",
		`{"label":"older","keyType":"app","keyReference":"app-2","revoked":1,"revokedBy":"ops","revokedEmail":"ops@corp.test"}`), http.StatusCreated)["legacyKey"].(map[string]any)
	assert.Equal(t, "ops", byOps["revokedBy"])
	assert.Equal(t, "ops@corp.test", byOps["revokedEmail"])
	list := adminOK(t, f.admin(http.MethodGet, "/legacy/keys", ""), http.StatusOK)["legacyKeys"].([]any)
	assert.Equal(t, []any{lk, revoked, byOps}, list)
	l, _ := ok(t, f.legacyAs(annKey, "list", `{"type":"user"}`))["list"].([]any)
	require.Len(t, l, 1)
	assert.Equal(t, lk["key"], l[0].(map[string]any)["key"])
	assert.Equal(t, lk["secret"], l[0].(map[string]any)["secret"])
}

// TestAdminReset: POST /_fake/reset is Reset.
func TestAdminReset(t *testing.T) {
	f := startAdmin(t)
	require.Equal(t, http.StatusOK, createKeyRaw(f, "svc").status)
	apiKey(t, f.legacy("create", `{"type":"user","label":"x"}`))
	adminOK(t, f.admin(http.MethodPost, "/faults", `{"route":"Token","kind":"drop","count":9}`), http.StatusCreated)
	r := f.admin(http.MethodPost, "/reset", "")
	assert.Equal(t, http.StatusNoContent, r.status)
	assert.Empty(t, r.body)
	assert.Empty(t, f.srv.APIKeys())
	assert.Empty(t, f.srv.LegacyKeys())
	assert.Empty(t, f.srv.Requests())
	assert.Zero(t, f.srv.Count(apikeystest.RouteCreateAPIKey))
	assert.Equal(t, http.StatusBadRequest, f.token(nil).status, "the drop faults are gone")
}

// TestAdminAwait: GET /_fake/await returns once a route has been seen, and 408 when it is not
// within the timeout.
func TestAdminAwait(t *testing.T) {
	f := startAdmin(t)
	done := make(chan reply, 1)
	go func() {
		done <- f.send(http.MethodGet, f.srv.AdminURL+"/await?route=ListEnvironments&count=2&timeout=10s", "")
	}()
	require.Equal(t, http.StatusOK, listEnvs(f, f.srv.BearerToken).status)
	require.Equal(t, http.StatusOK, listEnvs(f, f.srv.BearerToken).status)
	r := <-done
	assert.Equal(t, map[string]any{"route": "ListEnvironments", "count": 2.0}, adminOK(t, r, http.StatusOK))

	r = f.admin(http.MethodGet, "/await?route=CreateAPIKey&timeout=10ms", "")
	assert.Equal(t, "CreateAPIKey seen 0 times, not 1, after 10ms", adminOK(t, r, http.StatusRequestTimeout)["error"])
	for _, q := range []string{"", "?route=Nope", "?route=Token&count=0", "?route=Token&count=x",
		"?route=Token&timeout=0s", "?route=Token&timeout=1h", "?route=Token&wait=1s"} {
		assert.Equal(t, http.StatusBadRequest, f.admin(http.MethodGet, "/await"+q, "").status, q)
	}
}

// TestAdminWithClient: the SDK client of Server.Client sees faults injected through the admin
// API exactly as those injected in Go.
func TestAdminWithClient(t *testing.T) {
	f := startAdmin(t)
	c := f.srv.Client(t, apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 0}))
	adminOK(t, f.admin(http.MethodPost, "/faults", `{"route":"CreateAPIKey","kind":"status","status":503}`), http.StatusCreated)
	_, err := c.APIKeys.Create(t.Context(), f.srv.EnvironmentID("Staging"), apikeys.CreateAPIKeyRequest{Name: "svc"})
	var apiErr *apikeys.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusServiceUnavailable, apiErr.StatusCode)
	assert.True(t, apikeys.IsAmbiguous(err))

	var counts struct{ Counts map[string]int }
	require.NoError(t, json.Unmarshal(f.admin(http.MethodGet, "/counts", "").body, &counts))
	assert.Equal(t, 1, counts.Counts["CreateAPIKey"])
	assert.Equal(t, 1, counts.Counts["Token"])
	assert.True(t, strings.HasPrefix(f.srv.Requests()[1].Header.Get("Authorization"), "Bearer "))
}

// TestAdminListsAreArrays: every list the admin API serves is a JSON array
// on a fresh fake, an empty one included, never null.
func TestAdminListsAreArrays(t *testing.T) {
	f := startAdmin(t)
	for _, tc := range []struct {
		path, member string
		empty        bool
	}{
		{path: "/requests", member: "requests", empty: true},
		{path: "/environments", member: "environments", empty: false},
		{path: "/apikeys", member: "apikeys", empty: true},
		{path: "/tokens", member: "tokens", empty: true},
		{path: "/legacy/users", member: "legacyUsers", empty: false},
		{path: "/legacy/keys", member: "legacyKeys", empty: true},
	} {
		t.Run(tc.member, func(t *testing.T) {
			got := adminOK(t, f.admin(http.MethodGet, tc.path, ""), http.StatusOK)
			list, ok := got[tc.member].([]any)
			require.True(t, ok, "%s is %#v, not an array", tc.member, got[tc.member])
			assert.Equal(t, tc.empty, len(list) == 0)
		})
	}
}

// awaitInBackground sends GET /_fake/await?query with a context of its own, and returns once
// the fake waits on it; the reply (status -1 on an error) comes on the channel.
func awaitInBackground(t *testing.T, f *fixture, query string) (<-chan reply, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	done := make(chan reply, 1)
	go func() {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.AdminURL+"/await?"+query, nil)
		if err != nil {
			done <- reply{status: -1}
			return
		}
		resp, err := f.hc.Do(req)
		if err != nil {
			done <- reply{status: -1}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- reply{status: resp.StatusCode, body: b}
	}()
	// No admin request is logged or counted: the registered waiter is the one sign it arrived.
	require.Eventually(t, func() bool { return apikeystest.Waiters(f.srv) == 1 }, guard, time.Millisecond,
		"the await never reached the fake")
	return done, cancel
}

// TestAdminAwaitEndsWhenTheFakeStops: an await still waiting when the fake stops is answered
// 503 at once, so it holds neither Shutdown (which returns nil, nothing was cut) nor Close.
func TestAdminAwaitEndsWhenTheFakeStops(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(*apikeystest.Server) error
	}{
		{name: "Shutdown", stop: func(s *apikeystest.Server) error {
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			return s.Shutdown(ctx)
		}},
		{name: "Close", stop: func(s *apikeystest.Server) error { s.Close(); return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startAdmin(t)
			done, _ := awaitInBackground(t, f, "route=ListEnvironments&timeout=5m")
			assert.NoError(t, tc.stop(f.srv))
			r := <-done
			assert.Equal(t, http.StatusServiceUnavailable, r.status)
			assert.JSONEq(t, `{"error":"server shutting down"}`, string(r.body))
		})
	}
}

// TestAdminAwaitForgetsItsWaiter: an await that times out or whose client gives up leaves no
// waiter behind for every later request to rescan.
func TestAdminAwaitForgetsItsWaiter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		query  string
		cancel bool
	}{
		{name: "timeout", query: "route=ListEnvironments&timeout=1ms"},
		{name: "client gone", query: "route=ListEnvironments&timeout=5m", cancel: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startAdmin(t)
			if tc.cancel {
				_, cancel := awaitInBackground(t, f, tc.query)
				cancel()
			} else {
				require.Equal(t, http.StatusRequestTimeout, f.admin(http.MethodGet, "/await?"+tc.query, "").status)
			}
			// The handler forgets its waiter as it returns, which the client need not see first.
			assert.Eventually(t, func() bool { return apikeystest.Waiters(f.srv) == 0 }, guard, time.Millisecond,
				"%d waiters left", apikeystest.Waiters(f.srv))
		})
	}
}

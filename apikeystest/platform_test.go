package apikeystest_test

import (
	"crypto/elliptic"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys/apikeystest"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestListEnvironments(t *testing.T) {
	f := start(t)
	r := f.platform(http.MethodGet, fmt.Sprintf("/v1/organizations/%d/environments", f.srv.OrganizationID()), "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))

	envs, ok := r.payload(t)["environments"].([]any)
	require.True(t, ok)
	require.Len(t, envs, 3)
	for i, want := range f.srv.Environments() {
		assert.Regexp(t, uuidRE, want.ID)
		assert.Equal(t, map[string]any{
			"id": want.ID, "name": want.Name, "environmentFlag": want.Flag,
			"organization": map[string]any{"id": float64(1)},
		}, envs[i])
		assert.Equal(t, want.ID, f.srv.EnvironmentID(want.Flag))
	}
	assert.Equal(t, []string{"Production", "Staging", "Development"},
		[]string{f.srv.Environments()[0].Flag, f.srv.Environments()[1].Flag, f.srv.Environments()[2].Flag})
	assert.Empty(t, f.srv.EnvironmentID("Sandbox"))
}

func TestAPIKeyLifecycle(t *testing.T) {
	f := start(t)
	env := f.srv.EnvironmentID("Staging")
	k1 := ecKey(t, elliptic.P384())
	set1 := jwkSet(t, map[string]any{"k1": k1.Public()})

	// Create, with an unknown top-level field tolerated.
	r := f.platform(http.MethodPost, "/v1/environments/"+env+"/apikeys",
		`{"name":"ci","jwkSet":`+string(set1)+`,"extra":true}`)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	created, ok := r.payload(t)["apikey"].(map[string]any)
	require.True(t, ok)
	id, _ := created["id"].(string)
	assert.Regexp(t, uuidRE, id)
	assert.Equal(t, "ci", created["name"])
	assert.NotContains(t, created, "jwksURL", "an unset jwksURL is omitted")
	assert.Equal(t, map[string]any{"id": env, "environmentFlag": "Staging"}, created["environment"])
	keys := created["jwkSet"].(map[string]any)["keys"].([]any)
	require.Len(t, keys, 1)
	assert.Equal(t, "k1", keys[0].(map[string]any)["kid"])

	// List and get return the same key.
	r = f.platform(http.MethodGet, "/v1/environments/"+env+"/apikeys", "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Equal(t, []any{created}, r.payload(t)["apikeys"])
	r = f.platform(http.MethodGet, "/v1/apikeys/"+id, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Equal(t, created, r.payload(t)["apikey"])

	// Other environments stay empty (an empty array, not null).
	r = f.platform(http.MethodGet, "/v1/environments/"+f.srv.EnvironmentID("Production")+"/apikeys", "")
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, []any{}, r.payload(t)["apikeys"])

	// PATCH changes only the fields sent.
	r = f.platform(http.MethodPatch, "/v1/apikeys/"+id, `{"name":"ci-2"}`)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	patched := r.payload(t)["apikey"].(map[string]any)
	assert.Equal(t, "ci-2", patched["name"])
	assert.Equal(t, created["jwkSet"], patched["jwkSet"])

	// PATCH with jwkSet replaces the set; jwksURL can be added.
	set2 := jwkSet(t, map[string]any{"k2": ecKey(t, elliptic.P256()).Public()})
	r = f.platform(http.MethodPatch, "/v1/apikeys/"+id,
		`{"jwkSet":`+string(set2)+`,"jwksURL":"https://keys.example.com/jwks.json"}`)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	patched = r.payload(t)["apikey"].(map[string]any)
	keys = patched["jwkSet"].(map[string]any)["keys"].([]any)
	require.Len(t, keys, 1)
	assert.Equal(t, "k2", keys[0].(map[string]any)["kid"])
	assert.Equal(t, "https://keys.example.com/jwks.json", patched["jwksURL"])
	stored := f.srv.APIKeys()
	require.Len(t, stored, 1)
	assert.Equal(t, apikeystest.APIKey{
		ID: id, Name: "ci-2", EnvironmentID: env, EnvironmentFlag: "Staging",
		JWKSURL: "https://keys.example.com/jwks.json", JWKSet: stored[0].JWKSet,
	}, stored[0])
	assert.JSONEq(t, string(set2), string(stored[0].JWKSet))

	// jwksURL "" removes the URL.
	r = f.platform(http.MethodPatch, "/v1/apikeys/"+id, `{"jwksURL":""}`)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.NotContains(t, r.payload(t)["apikey"], "jwksURL")

	// Delete answers with a message; the key is then gone.
	r = f.platform(http.MethodDelete, "/v1/apikeys/"+id, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Equal(t, map[string]any{"message": "API key deleted"}, r.payload(t))
	assert.Empty(t, f.srv.APIKeys())
	r = f.platform(http.MethodGet, "/v1/apikeys/"+id, "")
	assert.Equal(t, http.StatusNotFound, r.status)
}

func TestAddAPIKey(t *testing.T) {
	f := start(t)
	env := f.srv.EnvironmentID("Development")
	k, err := f.srv.AddAPIKey(env, "seeded", nil, "http://127.0.0.1:1/jwks")
	require.NoError(t, err)
	assert.Equal(t, "Development", k.EnvironmentFlag)
	assert.Nil(t, k.JWKSet)

	r := f.platform(http.MethodGet, "/v1/apikeys/"+k.ID, "")
	require.Equal(t, http.StatusOK, r.status)
	got := r.payload(t)["apikey"].(map[string]any)
	assert.NotContains(t, got, "jwkSet", "an unset jwkSet is omitted")
	assert.Equal(t, "http://127.0.0.1:1/jwks", got["jwksURL"])

	for name, tc := range map[string]struct {
		env, name, url string
		set            []byte
	}{
		"unknown environment": {env: "nope", name: "x"},
		"empty name":          {env: env, name: " "},
		"relative jwksURL":    {env: env, name: "x", url: "/jwks"},
		"private member":      {env: env, name: "x", set: []byte(`{"keys":[{"kid":"a","kty":"oct","k":"c2VjcmV0"}]}`)},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.srv.AddAPIKey(tc.env, tc.name, tc.set, tc.url)
			assert.Error(t, err)
		})
	}
	assert.Len(t, f.srv.APIKeys(), 1)
}

// TestAddAPIKeyUnsetJWKSet: AddAPIKey takes a JSON null jwkSet as unset, as the admin API
// (whose JSON body may hold "jwkSet":null) and the create call do.
func TestAddAPIKeyUnsetJWKSet(t *testing.T) {
	f := start(t)
	for name, set := range map[string][]byte{
		"nil": nil, "empty": {}, "null": []byte("null"), "null with spaces": []byte(" null\n"),
	} {
		t.Run(name, func(t *testing.T) {
			k, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Staging"), "hosted", set, "https://keys.example.com/jwks.json")
			require.NoError(t, err)
			assert.Nil(t, k.JWKSet)
		})
	}
}

func TestPlatformNotFound(t *testing.T) {
	f := start(t)
	k, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Staging"), "x", nil, "")
	require.NoError(t, err)
	tests := []struct {
		name, method, path, body string
		route                    apikeystest.Route
	}{
		{name: "list keys of unknown environment", method: http.MethodGet, path: "/v1/environments/nope/apikeys", body: "", route: apikeystest.RouteListAPIKeys},
		{name: "create in unknown environment", method: http.MethodPost, path: "/v1/environments/nope/apikeys", body: `{"name":"x"}`, route: apikeystest.RouteCreateAPIKey},
		{name: "get unknown key", method: http.MethodGet, path: "/v1/apikeys/nope", body: "", route: apikeystest.RouteGetAPIKey},
		{name: "update unknown key", method: http.MethodPatch, path: "/v1/apikeys/nope", body: `{"name":"x"}`, route: apikeystest.RouteUpdateAPIKey},
		{name: "delete unknown key", method: http.MethodDelete, path: "/v1/apikeys/nope", body: "", route: apikeystest.RouteDeleteAPIKey},
		{name: "escaped slash is one segment", method: http.MethodGet, path: "/v1/apikeys/" + k.ID + "%2Fx", body: "", route: apikeystest.RouteGetAPIKey},
		{name: "unknown organization", method: http.MethodGet, path: "/v1/organizations/2/environments", body: "", route: apikeystest.RouteListEnvironments},
		{name: "non-numeric organization", method: http.MethodGet, path: "/v1/organizations/acme/environments", body: "", route: apikeystest.RouteListEnvironments},
		{name: "unknown path", method: http.MethodGet, path: "/v1/nothing", body: "", route: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := f.platform(tc.method, tc.path, tc.body)
			assert.Equal(t, http.StatusNotFound, r.status)
			assert.NotEmpty(t, r.object(t)["message"])
			reqs := f.srv.Requests()
			assert.Equal(t, tc.route, reqs[len(reqs)-1].Route)
		})
	}
	assert.Len(t, f.srv.APIKeys(), 1)
}

func TestPlatformBadRequest(t *testing.T) {
	f := start(t)
	k, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Staging"), "x", nil, "")
	require.NoError(t, err)
	create := "/v1/environments/" + f.srv.EnvironmentID("Staging") + "/apikeys"
	update := "/v1/apikeys/" + k.ID
	tests := []struct {
		name, path, body, method, reason string
	}{
		{name: "not JSON", path: create, body: `{"name":`, method: "", reason: "invalid JSON body"},
		{name: "array body", path: create, body: `[{"name":"x"}]`, method: "", reason: "body must be a JSON object"},
		{name: "missing name", path: create, body: `{"jwksURL":"https://a.example/jwks"}`, method: "", reason: "name is required"},
		{name: "empty name", path: create, body: `{"name":""}`, method: "", reason: "name is required"},
		{name: "name not a string", path: create, body: `{"name":5}`, method: "", reason: "invalid JSON body"},
		{name: "relative jwksURL", path: create, body: `{"name":"x","jwksURL":"/jwks"}`, method: "", reason: "jwksURL must be"},
		{name: "ftp jwksURL", path: create, body: `{"name":"x","jwksURL":"ftp://a.example/jwks"}`, method: "", reason: "jwksURL must be"},
		{name: "jwkSet not an object", path: create, body: `{"name":"x","jwkSet":[]}`, method: "", reason: "jwkSet must be a JSON object"},
		{name: "jwkSet without keys", path: create, body: `{"name":"x","jwkSet":{}}`, method: "", reason: "jwkSet.keys must be an array"},
		{name: "key missing kid", path: create, body: `{"name":"x","jwkSet":{"keys":[{"kty":"EC"}]}}`, method: "", reason: "kid is required"},
		{name: "key missing kty", path: create, body: `{"name":"x","jwkSet":{"keys":[{"kid":"a"}]}}`, method: "", reason: "kty is required"},
		{name: "private RSA member", path: create, body: `{"name":"x","jwkSet":{"keys":[{"kid":"a","kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}]}}`, method: "", reason: `private member "d"`},
		{name: "symmetric key", path: create, body: `{"name":"x","jwkSet":{"keys":[{"kid":"a","kty":"oct","k":"AQAB"}]}}`, method: "", reason: `private member "k"`},
		{name: "duplicate kid", path: create, body: `{"name":"x","jwkSet":{"keys":[{"kid":"a","kty":"EC"},{"kid":"a","kty":"RSA"}]}}`, method: "", reason: `duplicate kid "a"`},
		{name: "update with empty name", path: update, body: `{"name":""}`, method: http.MethodPatch, reason: "name must not be empty"},
		{name: "update with bad jwksURL", path: update, body: `{"jwksURL":"keys"}`, method: http.MethodPatch, reason: "jwksURL must be"},
		{name: "update with private member", path: update, body: `{"jwkSet":{"keys":[{"kid":"a","kty":"EC","d":"AQAB"}]}}`, method: http.MethodPatch, reason: `private member "d"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			r := f.platform(method, tc.path, tc.body)
			assert.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
			msg, _ := r.object(t)["message"].(string)
			assert.Contains(t, msg, tc.reason)
			assert.Contains(t, f.lastReason(), tc.reason)
		})
	}
	stored := f.srv.APIKeys()
	require.Len(t, stored, 1)
	assert.Equal(t, "x", stored[0].Name, "refused updates change nothing")
	assert.Nil(t, stored[0].JWKSet)
}

func TestPlatformContentTypeAndSize(t *testing.T) {
	f := start(t)
	path := f.srv.PlatformURL + "/v1/environments/" + f.srv.EnvironmentID("Staging") + "/apikeys"
	auth := "Bearer " + f.srv.BearerToken

	r := f.send(http.MethodPost, path, `{"name":"x"}`, "Authorization", auth, "Content-Type", "text/plain")
	assert.Equal(t, http.StatusUnsupportedMediaType, r.status)
	r = f.send(http.MethodPost, path, `{"name":"x"}`, "Authorization", auth)
	assert.Equal(t, http.StatusUnsupportedMediaType, r.status, "a body without content-type")
	r = f.send(http.MethodPost, path, `{"name":"x"}`, "Authorization", auth, "Content-Type", "application/json; charset=utf-8")
	assert.Equal(t, http.StatusOK, r.status, "parameters are allowed")

	big := `{"name":"x","pad":"` + strings.Repeat("a", 10<<20) + `"}`
	r = f.send(http.MethodPost, path, big, "Authorization", auth, "Content-Type", "application/json")
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.status)
	assert.Len(t, f.srv.APIKeys(), 1)

	r = f.send(http.MethodPut, f.srv.PlatformURL+"/v1/apikeys/x", "", "Authorization", auth)
	assert.Equal(t, http.StatusMethodNotAllowed, r.status)
	assert.Equal(t, "GET, PATCH, DELETE", r.header.Get("Allow"))
}

func TestPlatformUnauthorized(t *testing.T) {
	f := start(t)
	env := f.srv.EnvironmentID("Production")
	routes := []struct{ method, path, body string }{
		{method: http.MethodGet, path: "/v1/organizations/1/environments", body: ""},
		{method: http.MethodGet, path: "/v1/environments/" + env + "/apikeys", body: ""},
		{method: http.MethodPost, path: "/v1/environments/" + env + "/apikeys", body: `{"name":"x"}`},
		{method: http.MethodGet, path: "/v1/apikeys/x", body: ""},
		{method: http.MethodPatch, path: "/v1/apikeys/x", body: `{"name":"x"}`},
		{method: http.MethodDelete, path: "/v1/apikeys/x", body: ""},
	}
	auths := []struct{ name, header, reason string }{
		{name: "no header", header: "", reason: "missing bearer token"},
		{name: "unknown token", header: "Bearer nope", reason: "unknown bearer token"},
		{name: "basic scheme", header: "Basic " + f.srv.BearerToken, reason: "missing bearer token"},
		{name: "empty token", header: "Bearer ", reason: "missing bearer token"},
	}
	for _, rt := range routes {
		for _, a := range auths {
			t.Run(rt.method+" "+rt.path+" "+a.name, func(t *testing.T) {
				h := []string{"Content-Type", "application/json"}
				if a.header != "" {
					h = append(h, "Authorization", a.header)
				}
				r := f.send(rt.method, f.srv.PlatformURL+rt.path, rt.body, h...)
				assert.Equal(t, http.StatusUnauthorized, r.status)
				assert.Equal(t, "Unauthorized", r.object(t)["message"])
				assert.Equal(t, a.reason, f.lastReason())
			})
		}
	}
	assert.Empty(t, f.srv.APIKeys())
	r := f.send(http.MethodGet, f.srv.PlatformURL+"/v1/organizations/1/environments", "", "Authorization", "bearer "+f.srv.BearerToken)
	assert.Equal(t, http.StatusOK, r.status, "the scheme is case-insensitive")
}

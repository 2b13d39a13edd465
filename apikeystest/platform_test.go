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

func TestPlatformNotFound(t *testing.T) {
	f := start(t)
	k, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Staging"), "x", nil, "")
	require.NoError(t, err)
	tests := []struct {
		name, method, path, body string
		route                    apikeystest.Route
	}{
		{"list keys of unknown environment", http.MethodGet, "/v1/environments/nope/apikeys", "", apikeystest.RouteListAPIKeys},
		{"create in unknown environment", http.MethodPost, "/v1/environments/nope/apikeys", `{"name":"x"}`, apikeystest.RouteCreateAPIKey},
		{"get unknown key", http.MethodGet, "/v1/apikeys/nope", "", apikeystest.RouteGetAPIKey},
		{"update unknown key", http.MethodPatch, "/v1/apikeys/nope", `{"name":"x"}`, apikeystest.RouteUpdateAPIKey},
		{"delete unknown key", http.MethodDelete, "/v1/apikeys/nope", "", apikeystest.RouteDeleteAPIKey},
		{"escaped slash is one segment", http.MethodGet, "/v1/apikeys/" + k.ID + "%2Fx", "", apikeystest.RouteGetAPIKey},
		{"unknown organization", http.MethodGet, "/v1/organizations/2/environments", "", apikeystest.RouteListEnvironments},
		{"non-numeric organization", http.MethodGet, "/v1/organizations/acme/environments", "", apikeystest.RouteListEnvironments},
		{"unknown path", http.MethodGet, "/v1/nothing", "", ""},
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
		{"not JSON", create, `{"name":`, "", "invalid JSON body"},
		{"array body", create, `[{"name":"x"}]`, "", "body must be a JSON object"},
		{"missing name", create, `{"jwksURL":"https://a.example/jwks"}`, "", "name is required"},
		{"empty name", create, `{"name":""}`, "", "name is required"},
		{"name not a string", create, `{"name":5}`, "", "invalid JSON body"},
		{"relative jwksURL", create, `{"name":"x","jwksURL":"/jwks"}`, "", "jwksURL must be"},
		{"ftp jwksURL", create, `{"name":"x","jwksURL":"ftp://a.example/jwks"}`, "", "jwksURL must be"},
		{"jwkSet not an object", create, `{"name":"x","jwkSet":[]}`, "", "jwkSet must be a JSON object"},
		{"jwkSet without keys", create, `{"name":"x","jwkSet":{}}`, "", "jwkSet.keys must be an array"},
		{"key missing kid", create, `{"name":"x","jwkSet":{"keys":[{"kty":"EC"}]}}`, "", "kid is required"},
		{"key missing kty", create, `{"name":"x","jwkSet":{"keys":[{"kid":"a"}]}}`, "", "kty is required"},
		{"private RSA member", create, `{"name":"x","jwkSet":{"keys":[{"kid":"a","kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}]}}`, "", `private member "d"`},
		{"symmetric key", create, `{"name":"x","jwkSet":{"keys":[{"kid":"a","kty":"oct","k":"AQAB"}]}}`, "", `private member "k"`},
		{"duplicate kid", create, `{"name":"x","jwkSet":{"keys":[{"kid":"a","kty":"EC"},{"kid":"a","kty":"RSA"}]}}`, "", `duplicate kid "a"`},
		{"update with empty name", update, `{"name":""}`, http.MethodPatch, "name must not be empty"},
		{"update with bad jwksURL", update, `{"jwksURL":"keys"}`, http.MethodPatch, "jwksURL must be"},
		{"update with private member", update, `{"jwkSet":{"keys":[{"kid":"a","kty":"EC","d":"AQAB"}]}}`, http.MethodPatch, `private member "d"`},
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
		{http.MethodGet, "/v1/organizations/1/environments", ""},
		{http.MethodGet, "/v1/environments/" + env + "/apikeys", ""},
		{http.MethodPost, "/v1/environments/" + env + "/apikeys", `{"name":"x"}`},
		{http.MethodGet, "/v1/apikeys/x", ""},
		{http.MethodPatch, "/v1/apikeys/x", `{"name":"x"}`},
		{http.MethodDelete, "/v1/apikeys/x", ""},
	}
	auths := []struct{ name, header, reason string }{
		{"no header", "", "missing bearer token"},
		{"unknown token", "Bearer nope", "unknown bearer token"},
		{"basic scheme", "Basic " + f.srv.BearerToken, "missing bearer token"},
		{"empty token", "Bearer ", "missing bearer token"},
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

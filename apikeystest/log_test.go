package apikeystest_test

import (
	"crypto/elliptic"
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys/apikeystest"
)

func TestRequestLogMasksSecrets(t *testing.T) {
	f := start(t, apikeystest.WithLegacyAdmin(true))
	priv := ecKey(t, elliptic.P384())
	k, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Staging"), "svc", jwkSet(t, map[string]any{"a": priv.Public()}), "")
	require.NoError(t, err)

	// Token flow, then Platform calls with both kinds of bearer token.
	assertion := sign(t, priv, jose.ES384, "a", claims(f, k.ID))
	r := f.token(tokenForm(assertion))
	require.Equal(t, http.StatusOK, r.status)
	access, _ := r.object(t)["access_token"].(string)
	require.NotEmpty(t, access)
	require.Equal(t, http.StatusOK, listEnvs(f, access).status)
	require.Equal(t, http.StatusOK, listEnvs(f, f.srv.BearerToken).status)

	// A refused upload of a private key.
	privD := base64.RawURLEncoding.EncodeToString(priv.D.Bytes())
	r = f.platform(http.MethodPost, "/v1/environments/"+f.srv.EnvironmentID("Staging")+"/apikeys",
		`{"name":"oops","jwkSet":{"keys":[{"kid":"p","kty":"EC","crv":"P-384","d":"`+privD+`"}]}}`)
	require.Equal(t, http.StatusBadRequest, r.status)

	// Legacy calls with the user key and the cookie; keys and secrets in replies and bodies.
	created := apiKey(t, f.legacy("create", `{"type":"user","label":"x"}`))
	key, secret := created["key"].(string), created["secret"].(string)
	require.NotEmpty(t, secret)
	apiKey(t, f.legacy("update", `{"key":"`+key+`","fields":{"label":"y"}}`))
	ok(t, f.legacy("validate", `{"type":"user","key":"`+key+`"}`))
	r = f.send(http.MethodPost, f.legacyURL("revoke"), `{"key":"`+key+`"}`,
		"Cookie", "feedhenry="+f.srv.SessionCookie, "Content-Type", "application/json")
	require.Equal(t, http.StatusOK, r.status)
	f.legacy("list", `{"type":`+key) // malformed JSON: the key, unnamed, is masked in full

	reqs := f.srv.Requests()
	require.Len(t, reqs, 9)
	all := fmt.Sprintf("%#v", reqs)
	for name, s := range map[string]string{
		"assertion": assertion, "access token": access, "static bearer": f.srv.BearerToken,
		"legacy user key": f.srv.LegacyUserKey, "session cookie": f.srv.SessionCookie,
		"legacy key": key, "legacy secret": secret, "private JWK member": privD,
	} {
		assert.NotContains(t, all, s, name)
	}

	assert.Equal(t, apikeystest.RouteToken, reqs[0].Route)
	assert.Contains(t, reqs[0].Body, "client_assertion=****")
	assert.Contains(t, reqs[0].Body, "grant_type=client_credentials")
	assert.Equal(t, "Bearer ****", reqs[1].Header.Get("Authorization"))
	assert.Equal(t, "Bearer ****", reqs[2].Header.Get("Authorization"))
	assert.Contains(t, reqs[3].Body, `"d":"****"`)
	assert.Equal(t, "****", reqs[4].Header.Get("X-FH-AUTH-USER"))
	assert.Contains(t, reqs[5].Body, `"key":"`+key[:4]+"…"+key[36:]+`"`)
	assert.Equal(t, "****", reqs[7].Header.Get("Cookie"))
	assert.Equal(t, `{"type":****`, reqs[8].Body)
	assert.Equal(t, "/box/srv/1.1/ide/acme/api/list", reqs[8].Path)
	assert.Equal(t, http.MethodPost, reqs[8].Method)
}

func TestRequestLogIsACopy(t *testing.T) {
	f := start(t)
	listEnvs(f, f.srv.BearerToken)
	reqs := f.srv.Requests()
	reqs[0].Header.Set("Authorization", "changed")
	reqs[0].Reason = "changed"
	assert.Equal(t, "Bearer ****", f.srv.Requests()[0].Header.Get("Authorization"))
	assert.Empty(t, f.srv.Requests()[0].Reason)

	_, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Staging"), "x", []byte(`{"keys":[]}`), "")
	require.NoError(t, err)
	keys := f.srv.APIKeys()
	keys[0].JWKSet[0] = 'X'
	assert.JSONEq(t, `{"keys":[]}`, string(f.srv.APIKeys()[0].JWKSet))
}

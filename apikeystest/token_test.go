package apikeystest_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apikeys-go/apikeys/apikeystest"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listEnvs calls a Platform route with token.
func listEnvs(f *fixture, token string) reply {
	f.t.Helper()
	return f.platformAs(token, http.MethodGet, "/v1/organizations/1/environments", "")
}

func TestTokenAuthorizesPlatformCalls(t *testing.T) {
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	p256, p384 := ecKey(t, elliptic.P256()), ecKey(t, elliptic.P384())
	tests := []struct {
		name string
		priv any
		pub  any
		alg  jose.SignatureAlgorithm
	}{
		{name: "ES384", priv: p384, pub: p384.Public(), alg: jose.ES384},
		{name: "ES256", priv: p256, pub: p256.Public(), alg: jose.ES256},
		{name: "RS384", priv: rsaKey(), pub: rsaKey().Public(), alg: jose.RS384},
		{name: "PS256", priv: rsaKey(), pub: rsaKey().Public(), alg: jose.PS256},
		{name: "EdDSA", priv: edPriv, pub: edPriv.Public(), alg: jose.EdDSA},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t)
			k, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Production"), "svc", jwkSet(t, map[string]any{"kid-1": tc.pub}), "")
			require.NoError(t, err)

			r := f.token(tokenForm(sign(t, tc.priv, tc.alg, "kid-1", claims(f, k.ID))))
			require.Equal(t, http.StatusOK, r.status, "%s (reason %q)", r.body, f.lastReason())
			assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
			var tok struct {
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
				ExpiresIn   int    `json:"expires_in"`
				Scope       string `json:"scope"`
			}
			require.NoError(t, json.Unmarshal(r.body, &tok))
			assert.NotEmpty(t, tok.AccessToken)
			assert.NotEqual(t, f.srv.BearerToken, tok.AccessToken)
			assert.Equal(t, "bearer", tok.TokenType)
			assert.Equal(t, 300, tok.ExpiresIn)
			assert.Equal(t, "system/*.read", tok.Scope)
			assert.Equal(t, 1, f.srv.IssuedTokens())

			assert.Equal(t, http.StatusOK, listEnvs(f, tok.AccessToken).status)
		})
	}
}

func TestTokenExpiry(t *testing.T) {
	f := start(t)
	priv := ecKey(t, elliptic.P384())
	k, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Staging"), "svc", jwkSet(t, map[string]any{"a": priv.Public()}), "")
	require.NoError(t, err)
	r := f.token(tokenForm(sign(t, priv, jose.ES384, "a", claims(f, k.ID))))
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	tok, _ := r.object(t)["access_token"].(string)

	f.clock.Advance(299 * time.Second)
	assert.Equal(t, http.StatusOK, listEnvs(f, tok).status, "valid just before 300 s")
	f.clock.Advance(time.Second)
	assert.Equal(t, http.StatusUnauthorized, listEnvs(f, tok).status, "expired at 300 s")
	assert.Equal(t, "expired bearer token", f.lastReason())
	assert.Equal(t, http.StatusOK, listEnvs(f, f.srv.BearerToken).status, "the static token never expires")
}

func TestTokenRefusals(t *testing.T) {
	const kid = "k1"
	signer := ecKey(t, elliptic.P384())
	other := ecKey(t, elliptic.P384())
	const notFound = "Public key not found, check client_id, kid and Redox dashboard settings"
	const toSign = "<signed after edit>"

	// each case edits a valid request: signing key, alg, kid, claims and form.
	type req struct {
		key    any
		alg    jose.SignatureAlgorithm
		kid    string
		claims map[string]any
		form   url.Values // the assertion is signed after the edit unless the edit replaced it
	}
	tests := []struct {
		name                   string
		edit                   func(f *fixture, r *req)
		status                 int
		code, desc, reason     string
		sendTwice, contentJSON bool
	}{
		{name: "missing kid", edit: func(_ *fixture, r *req) { r.kid = "" },
			status: 400, code: "invalid_request", desc: "JWT header kid property is required", reason: "missing kid"},
		{name: "unknown kid", edit: func(_ *fixture, r *req) { r.kid = "k2" },
			status: 400, code: "invalid_request", desc: notFound, reason: "unknown kid"},
		{name: "wrong alg for key", edit: func(_ *fixture, r *req) { r.key, r.alg = rsaKey(), jose.RS384 },
			status: 400, code: "invalid_request", reason: "alg does not fit key"},
		{name: "wrong EC curve alg", edit: func(_ *fixture, r *req) { r.key, r.alg = ecKey(t, elliptic.P256()), jose.ES256 },
			status: 400, code: "invalid_request", reason: "alg does not fit key"},
		{name: "bad signature", edit: func(_ *fixture, r *req) { r.key = other },
			status: 401, code: "invalid_client", reason: "bad signature"},
		{name: "wrong aud", edit: func(f *fixture, r *req) { r.claims["aud"] = f.srv.PlatformURL },
			status: 400, code: "invalid_request", reason: "wrong aud"},
		{name: "aud with a second value", edit: func(f *fixture, r *req) { r.claims["aud"] = []string{f.srv.TokenURL, "x"} },
			status: 400, code: "invalid_request", reason: "wrong aud"},
		{name: "iat too old", edit: func(f *fixture, r *req) {
			r.claims["iat"] = f.clock.Now().Add(-5*time.Minute - time.Second).Unix()
			r.claims["exp"] = f.clock.Now().Add(time.Minute).Unix()
		}, status: 400, code: "invalid_request", reason: "iat too old"},
		{name: "iat in the future", edit: func(f *fixture, r *req) { r.claims["iat"] = f.clock.Now().Add(11 * time.Second).Unix() },
			status: 400, code: "invalid_request", reason: "iat in the future"},
		{name: "missing iat", edit: func(_ *fixture, r *req) { delete(r.claims, "iat") },
			status: 400, code: "invalid_request", reason: "missing iat"},
		{name: "exp too far", edit: func(f *fixture, r *req) { r.claims["exp"] = f.clock.Now().Add(5*time.Minute + 11*time.Second).Unix() },
			status: 400, code: "invalid_request", reason: "exp too far"},
		{name: "missing exp", edit: func(_ *fixture, r *req) { delete(r.claims, "exp") },
			status: 400, code: "invalid_request", reason: "missing exp"},
		{name: "expired assertion", edit: func(f *fixture, r *req) {
			r.claims["iat"] = f.clock.Now().Add(-time.Minute).Unix()
			r.claims["exp"] = f.clock.Now().Unix()
		}, status: 400, code: "invalid_request", reason: "expired assertion"},
		{name: "nbf in the future", edit: func(f *fixture, r *req) { r.claims["nbf"] = f.clock.Now().Add(time.Minute).Unix() },
			status: 400, code: "invalid_request", reason: "nbf in the future"},
		{name: "missing jti", edit: func(_ *fixture, r *req) { delete(r.claims, "jti") },
			status: 400, code: "invalid_request", reason: "missing jti"},
		{name: "replayed jti", edit: func(*fixture, *req) {}, sendTwice: true,
			status: 400, code: "invalid_request", reason: "replayed jti"},
		{name: "unknown client", edit: func(_ *fixture, r *req) { r.claims["iss"], r.claims["sub"] = "nope", "nope" },
			status: 401, code: "invalid_client", desc: notFound, reason: "unknown client"},
		{name: "sub differs from iss", edit: func(_ *fixture, r *req) { r.claims["sub"] = "someone" },
			status: 400, code: "invalid_request", reason: "iss and sub differ"},
		{name: "wrong grant_type", edit: func(_ *fixture, r *req) { r.form.Set("grant_type", "password") },
			status: 400, code: "unsupported_grant_type", reason: "unsupported grant_type"},
		{name: "missing grant_type", edit: func(_ *fixture, r *req) { r.form.Del("grant_type") },
			status: 400, code: "invalid_request", reason: "missing grant_type"},
		{name: "missing client assertion", edit: func(_ *fixture, r *req) { r.form.Set("client_assertion", "") },
			status: 400, code: "invalid_request", desc: "Missing client assertion", reason: "missing client_assertion"},
		{name: "wrong client_assertion_type", edit: func(_ *fixture, r *req) { r.form.Set("client_assertion_type", "jwt") },
			status: 400, code: "invalid_request", reason: "wrong client_assertion_type"},
		{name: "HS256 assertion", edit: func(_ *fixture, r *req) { r.key, r.alg = []byte("0123456789abcdef0123456789abcdef"), jose.HS256 },
			status: 400, code: "invalid_request", reason: "malformed assertion"},
		{name: "not a JWT", edit: func(_ *fixture, r *req) { r.form.Set("client_assertion", "not.a.jwt") },
			status: 400, code: "invalid_request", reason: "malformed assertion"},
		{name: "JSON instead of a form", edit: func(*fixture, *req) {}, contentJSON: true,
			status: 400, code: "invalid_request", reason: "content-type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t)
			k, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Production"), "svc", jwkSet(t, map[string]any{kid: signer.Public()}), "")
			require.NoError(t, err)
			r := &req{key: signer, alg: jose.ES384, kid: kid, claims: claims(f, k.ID), form: tokenForm(toSign)}
			tc.edit(f, r)
			if r.form.Get("client_assertion") == toSign {
				r.form.Set("client_assertion", sign(t, r.key, r.alg, r.kid, r.claims))
			}

			var got reply
			if tc.contentJSON {
				got = f.send(http.MethodPost, f.srv.TokenURL, `{"grant_type":"client_credentials"}`, "Content-Type", "application/json")
			} else {
				if tc.sendTwice {
					first := f.token(r.form)
					require.Equal(t, http.StatusOK, first.status, "%s", first.body)
				}
				got = f.token(r.form)
			}
			assert.Equal(t, tc.status, got.status, "%s", got.body)
			assert.Equal(t, map[string]any{"error": tc.code, "error_description": tc.desc, "error_uri": ""}, got.object(t))
			assert.Equal(t, tc.reason, f.lastReason())
			if !tc.sendTwice {
				assert.Zero(t, f.srv.IssuedTokens())
			}
		})
	}
}

func TestTokenFromJWKSURL(t *testing.T) {
	priv := ecKey(t, elliptic.P384())
	// The hosted set starts with a key type go-jose does not know: it must be skipped, not fatal.
	hosted := `{"keys":[{"kty":"XYZ","kid":"odd"},` + string(jwkSet(t, map[string]any{"hosted": priv.Public()}))[len(`{"keys":[`):]
	var fetches atomic.Int32
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write([]byte(hosted))
	}))
	defer jwks.Close()

	f := start(t, apikeystest.WithJWKSCache(0)) // fetched for every token request
	k, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Staging"), "hosted", nil, jwks.URL+"/.well-known/jwks.json")
	require.NoError(t, err)

	r := f.token(tokenForm(sign(t, priv, jose.ES384, "hosted", claims(f, k.ID))))
	require.Equal(t, http.StatusOK, r.status, "%s (reason %q)", r.body, f.lastReason())
	tok, _ := r.object(t)["access_token"].(string)
	assert.Equal(t, http.StatusOK, listEnvs(f, tok).status)

	r = f.token(tokenForm(sign(t, priv, jose.ES384, "odd", claims(f, k.ID))))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "unknown kid", f.lastReason())
	assert.EqualValues(t, 2, fetches.Load())

	jwks.Close()
	r = f.token(tokenForm(sign(t, priv, jose.ES384, "hosted", claims(f, k.ID))))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Contains(t, f.lastReason(), "jwks fetch failed")
}

// TestJWKSURLIsCached: the fake keeps a fetched jwksURL set for the cache TTL on its clock, as the
// Platform caches a hosted set. A kid added to the hosted set meanwhile is refused ("unknown
// kid") until the cached copy expires; then the set is fetched again and the kid accepted. Each
// issued token records the kid that signed its assertion.
func TestJWKSURLIsCached(t *testing.T) {
	oldKey, newKey := ecKey(t, elliptic.P384()), ecKey(t, elliptic.P384())
	var hosted atomic.Pointer[[]byte]
	first := jwkSet(t, map[string]any{"old": oldKey.Public()})
	hosted.Store(&first)
	var fetches atomic.Int32
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(*hosted.Load())
	}))
	defer jwks.Close()

	f := start(t, apikeystest.WithJWKSCache(time.Minute))
	k, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Staging"), "hosted", nil, jwks.URL+"/jwks.json")
	require.NoError(t, err)
	token := func(priv crypto.Signer, kid string) int {
		return f.token(tokenForm(sign(t, priv, jose.ES384, kid, claims(f, k.ID)))).status
	}

	require.Equal(t, http.StatusOK, token(oldKey, "old"))
	both := jwkSet(t, map[string]any{"old": oldKey.Public(), "new": newKey.Public()})
	hosted.Store(&both) // rotated: the new key is published next to the old one

	assert.Equal(t, http.StatusBadRequest, token(newKey, "new"), "the cached set does not have the new kid yet")
	assert.Equal(t, "unknown kid", f.lastReason())
	assert.Equal(t, http.StatusOK, token(oldKey, "old"), "the old kid still works")
	assert.EqualValues(t, 1, fetches.Load(), "the cached copy served every request")

	f.clock.Advance(time.Minute)
	assert.Equal(t, http.StatusOK, token(newKey, "new"), "the cache expired: the set is fetched again")
	assert.EqualValues(t, 2, fetches.Load())

	var kids []string
	for _, tok := range f.srv.Tokens() {
		assert.Equal(t, k.ID, tok.ClientID)
		kids = append(kids, tok.KeyID)
	}
	assert.Equal(t, []string{"old", "old", "new"}, kids)
}

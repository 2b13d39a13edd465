package apikeys_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// countingServer counts every request and every connection it sees.
// The bad-input table points every client, token source and fetch at one
// of these and expects both counts to stay zero.
type countingServer struct {
	*httptest.Server
	requests atomic.Int64
	conns    atomic.Int64
}

func newCountingServer(t *testing.T) *countingServer {
	t.Helper()
	s := &countingServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.requests.Add(1)
		reply(w, http.StatusOK, envelope(`{"apikey":`+keyJSON+`}`))
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// badInputEnv is what each row of the bad-input table may use: clients
// and a token configuration that all point at the counting server.
type badInputEnv struct {
	url      string              // the counting server, e.g. http://127.0.0.1:PORT
	platform *apikeys.Client     // Platform client with a static token
	legacy   *apikeys.Client     // legacy client
	bare     *apikeys.Client     // neither a token nor WithLegacy
	token    apikeys.TokenConfig // a valid token configuration
	ts       *apikeys.AssertionTokenSource
	jwk      map[string]apikeys.JWK // public keys of testdata/jwks/jwks.json by kid
	rsa1024  *rsa.PrivateKey
}

// secretMarker marks every credential and credential-like input of the
// table: no error may repeat it.
const secretMarker = "SECRET"

const markedUserKey = "4a23bd0e3c1f9a8b7c6d5e4f3a2b1c0d9e8f" + secretMarker

func newBadInputEnv(t *testing.T, s *countingServer) *badInputEnv {
	t.Helper()
	e := &badInputEnv{url: s.URL, jwk: map[string]apikeys.JWK{}}
	var err error
	e.platform, err = apikeys.NewClient(apikeys.WithBaseURL(s.URL+basePath), apikeys.WithToken("tok-"+secretMarker))
	require.NoError(t, err)
	e.legacy, err = apikeys.NewClient(apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: s.URL, Domain: "acme", UserKey: markedUserKey}))
	require.NoError(t, err)
	e.bare, err = apikeys.NewClient(apikeys.WithBaseURL(s.URL + basePath))
	require.NoError(t, err)
	key, err := apikeys.GenerateSigningKey(apikeys.ES256)
	require.NoError(t, err)
	e.token = apikeys.TokenConfig{ClientID: "client-1", Key: key, TokenURL: s.URL + "/v2/auth/token"}
	e.ts, err = apikeys.NewTokenSource(e.token)
	require.NoError(t, err)

	var set apikeys.JWKSet
	require.NoError(t, json.Unmarshal(fixture(t, "jwks.json"), &set))
	for _, k := range set.Keys {
		e.jwk[k.KeyID()] = k
	}
	e.rsa1024, err = rsa.GenerateKey(rand.Reader, 1024) //nolint:gosec // the weak key is the bad input
	require.NoError(t, err)
	return e
}

// editJWK returns k with members set (a nil value deletes the member).
func editJWK(t *testing.T, k apikeys.JWK, set map[string]any) apikeys.JWK {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(k.Raw(), &m))
	for name, v := range set {
		if v == nil {
			delete(m, name)
		} else {
			m[name] = v
		}
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	out, err := apikeys.ParseJWK(b)
	require.NoError(t, err)
	return out
}

// encodeBase64URL is base64url without padding, as in JWKs.
var encodeBase64URL = base64.RawURLEncoding.EncodeToString

type badInput struct {
	name   string
	field  string // the *ValidationError's Field; "" when is is set
	is     error  // the error the call must match instead (errors.Is)
	reason string // a substring of the Reason, when the row checks one
	call   func(ctx context.Context, e *badInputEnv, t *testing.T) error
}

// badInputs is the SDK's bad-input table: one row per input, across
// every public entry point that takes one.
func badInputs() []badInput {
	// Platform calls.
	get := func(id string) func(context.Context, *badInputEnv, *testing.T) error {
		return func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := e.platform.APIKeys.Get(ctx, id)
			return err
		}
	}
	list := func(env string) func(context.Context, *badInputEnv, *testing.T) error {
		return func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := e.platform.APIKeys.List(ctx, env)
			return err
		}
	}
	del := func(id string) func(context.Context, *badInputEnv, *testing.T) error {
		return func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := e.platform.APIKeys.Delete(ctx, id)
			return err
		}
	}
	create := func(env string, req apikeys.CreateAPIKeyRequest) func(context.Context, *badInputEnv, *testing.T) error {
		return func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := e.platform.APIKeys.Create(ctx, env, req)
			return err
		}
	}
	update := func(id string, req apikeys.UpdateAPIKeyRequest) func(context.Context, *badInputEnv, *testing.T) error {
		return func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := e.platform.APIKeys.Update(ctx, id, req)
			return err
		}
	}
	named := func(n string) apikeys.CreateAPIKeyRequest { return apikeys.CreateAPIKeyRequest{Name: n} }
	withURL := func(u string) apikeys.CreateAPIKeyRequest { return apikeys.CreateAPIKeyRequest{Name: "n", JWKSURL: u} }
	str := func(s string) *string { return &s }
	// uploadKey creates a key whose jwkSet holds the JWK made by build.
	uploadKey := func(build func(e *badInputEnv, t *testing.T) []apikeys.JWK) func(context.Context, *badInputEnv, *testing.T) error {
		return func(ctx context.Context, e *badInputEnv, t *testing.T) error {
			_, err := e.platform.APIKeys.Create(ctx, "env", apikeys.CreateAPIKeyRequest{Name: "n", JWKSet: apikeys.NewJWKSet(build(e, t)...)})
			return err
		}
	}
	edit := func(kid string, set map[string]any) func(e *badInputEnv, t *testing.T) []apikeys.JWK {
		return func(e *badInputEnv, t *testing.T) []apikeys.JWK { return []apikeys.JWK{editJWK(t, e.jwk[kid], set)} }
	}
	raw := func(s string) func(e *badInputEnv, t *testing.T) []apikeys.JWK {
		return func(_ *badInputEnv, t *testing.T) []apikeys.JWK {
			k, err := apikeys.ParseJWK([]byte(s))
			require.NoError(t, err)
			return []apikeys.JWK{k}
		}
	}
	// Legacy calls.
	legacyList := func(o apikeys.KeyOwner) func(context.Context, *badInputEnv, *testing.T) error {
		return func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := e.legacy.Legacy.List(ctx, o)
			return err
		}
	}
	legacyCreate := func(o apikeys.KeyOwner, label string) func(context.Context, *badInputEnv, *testing.T) error {
		return func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := e.legacy.Legacy.Create(ctx, o, label)
			return err
		}
	}
	legacyKeyCall := func(op, key, label string) func(context.Context, *badInputEnv, *testing.T) error {
		return func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			var err error
			switch op {
			case "revoke":
				_, err = e.legacy.Legacy.Revoke(ctx, key)
			case "delete":
				_, err = e.legacy.Legacy.Delete(ctx, key)
			case "update":
				_, err = e.legacy.Legacy.Update(ctx, key, label)
			case "validate":
				_, err = e.legacy.Legacy.Validate(ctx, label, key)
			}
			return err
		}
	}
	const goodKey = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"
	// Client options, with the counting server as base URL.
	newClient := func(opts ...apikeys.Option) func(context.Context, *badInputEnv, *testing.T) error {
		return func(ctx context.Context, e *badInputEnv, t *testing.T) error {
			c, err := apikeys.NewClient(append([]apikeys.Option{apikeys.WithBaseURL(e.url + basePath)}, opts...)...)
			assert.Nil(t, c)
			return err
		}
	}
	baseURL := func(u string) func(context.Context, *badInputEnv, *testing.T) error {
		return func(ctx context.Context, e *badInputEnv, t *testing.T) error {
			c, err := apikeys.NewClient(apikeys.WithBaseURL(u), apikeys.WithToken("tok-"+secretMarker))
			assert.Nil(t, c)
			return err
		}
	}
	legacyConfig := func(edit func(*apikeys.LegacyConfig)) func(context.Context, *badInputEnv, *testing.T) error {
		return func(ctx context.Context, e *badInputEnv, t *testing.T) error {
			cfg := apikeys.LegacyConfig{BaseURL: e.url, Domain: "acme", UserKey: markedUserKey}
			edit(&cfg)
			c, err := apikeys.NewClient(apikeys.WithLegacy(cfg))
			assert.Nil(t, c)
			return err
		}
	}
	legacyBase := func(u string) func(context.Context, *badInputEnv, *testing.T) error {
		return legacyConfig(func(c *apikeys.LegacyConfig) { c.BaseURL = u })
	}
	tokenConfig := func(edit func(*apikeys.TokenConfig, *badInputEnv)) func(context.Context, *badInputEnv, *testing.T) error {
		return func(ctx context.Context, e *badInputEnv, t *testing.T) error {
			cfg := e.token
			edit(&cfg, e)
			ts, err := apikeys.NewTokenSource(cfg)
			assert.Nil(t, ts)
			return err
		}
	}
	fetch := func(u func(e *badInputEnv) string) func(context.Context, *badInputEnv, *testing.T) error {
		return func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := apikeys.FetchJWKS(ctx, u(e), apikeys.FetchInsecureLoopbackHTTP())
			return err
		}
	}
	long := strings.Repeat("x", 1025)

	return []badInput{
		// IDs (path parameters).
		{name: "Get: empty key ID", field: "apiKeyID", is: nil, reason: "is empty", call: get("")},
		{name: "List: environment ID with a slash", field: "environmentID", is: nil, reason: "slash", call: list("a/b")},
		{name: "Delete: key ID ..", field: "apiKeyID", is: nil, reason: `".."`, call: del("..")},
		{name: "Get: key ID .", field: "apiKeyID", is: nil, reason: `"."`, call: get(".")},
		{name: "Get: key ID with a backslash", field: "apiKeyID", is: nil, reason: "slash", call: get(`a\b`)},
		{name: "Get: key ID with NUL", field: "apiKeyID", is: nil, reason: "control", call: get("a\x00b")},
		{name: "Get: key ID with a C1 control (U+0085)", field: "apiKeyID", is: nil, reason: "control", call: get("id\u0085")},
		{name: "Update: key ID with a newline", field: "apiKeyID", is: nil, reason: "control", call: update("a\nb", apikeys.UpdateAPIKeyRequest{Name: str("n")})},
		{name: "Delete: key ID over 256 bytes", field: "apiKeyID", is: nil, reason: "longer", call: del(strings.Repeat("a", 257))},
		{name: "Get: key ID with leading space", field: "apiKeyID", is: nil, reason: "spaces", call: get(" id")},
		{name: "List: environment ID with trailing tab", field: "environmentID", is: nil, reason: "", call: list("env\t")},
		{name: "Create: environment ID with DEL", field: "environmentID", is: nil, reason: "control", call: create("env\x7f", named("n"))},
		{name: "Create: environment ID with an embedded ..", field: "environmentID", is: nil, reason: `".."`, call: create("a..b", named("n"))},
		{name: "Environments: organization ID 0", field: "organizationID", is: nil, reason: "positive", call: func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := e.platform.Environments.List(ctx, 0)
			return err
		}},
		{name: "Environments: negative organization ID", field: "organizationID", is: nil, reason: "positive", call: func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := e.platform.Environments.List(ctx, -7)
			return err
		}},

		// Names.
		{name: "Create: empty name", field: "Name", is: nil, reason: "empty", call: create("env", named(""))},
		{name: "Create: blank name", field: "Name", is: nil, reason: "empty", call: create("env", named(" \t "))},
		{name: "Create: name with ESC", field: "Name", is: nil, reason: "control", call: create("env", named("a\x1b[31mb"))},
		{name: "Create: name over 1024 bytes", field: "Name", is: nil, reason: "longer", call: create("env", named(long))},
		{name: "Update: name set to blank", field: "Name", is: nil, reason: "empty", call: update("id", apikeys.UpdateAPIKeyRequest{Name: str("\n")})},
		{name: "Update: nothing set", field: "UpdateAPIKeyRequest", is: nil, reason: "no field", call: update("id", apikeys.UpdateAPIKeyRequest{})},

		// jwksURL.
		{name: "Create: jwksURL plain http to a remote host", field: "JWKSURL", is: nil, reason: "https", call: create("env", withURL("http://keys.example.com/jwks.json"))},
		{name: "Create: jwksURL plain http to loopback without WithInsecureHTTP", field: "JWKSURL", is: nil, reason: "https", call: create("env", withURL("http://127.0.0.1:8443/jwks.json"))},
		{name: "Create: jwksURL with user info", field: "JWKSURL", is: nil, reason: "user info", call: create("env", withURL("https://u:"+secretMarker+"@keys.example.com/jwks.json"))},
		{name: "Create: jwksURL javascript:", field: "JWKSURL", is: nil, reason: "absolute", call: create("env", withURL("javascript:alert(1)"))},
		{name: "Create: jwksURL with a newline", field: "JWKSURL", is: nil, reason: "control", call: create("env", withURL("https://keys.example.com/\njwks.json"))},
		{name: "Update: relative jwksURL", field: "JWKSURL", is: nil, reason: "absolute", call: update("id", apikeys.UpdateAPIKeyRequest{JWKSURL: str("keys/jwks.json")})},

		// JWK sets.
		{name: `jwkSet: EC key with "d"`, field: "JWKSet", is: nil, reason: `private key member "d"`, call: uploadKey(edit("ec-p256", map[string]any{"d": encodeBase64URL([]byte(secretMarker))}))},
		{name: `jwkSet: RSA key with "p"`, field: "JWKSet", is: nil, reason: `private key member "p"`, call: uploadKey(edit("rsa-2048", map[string]any{"p": encodeBase64URL([]byte(secretMarker))}))},
		{name: `jwkSet: RSA key with "q"`, field: "JWKSet", is: nil, reason: `private key member "q"`, call: uploadKey(edit("rsa-2048", map[string]any{"q": "AQAB"}))},
		{name: `jwkSet: RSA key with "dp"`, field: "JWKSet", is: nil, reason: `private key member "dp"`, call: uploadKey(edit("rsa-2048", map[string]any{"dp": "AQAB"}))},
		{name: `jwkSet: RSA key with "dq"`, field: "JWKSet", is: nil, reason: `private key member "dq"`, call: uploadKey(edit("rsa-2048", map[string]any{"dq": "AQAB"}))},
		{name: `jwkSet: RSA key with "qi"`, field: "JWKSet", is: nil, reason: `private key member "qi"`, call: uploadKey(edit("rsa-2048", map[string]any{"qi": "AQAB"}))},
		{name: `jwkSet: RSA key with "P" and "Q" (any letter case)`, field: "JWKSet", is: nil, reason: `private key member "P"`, call: uploadKey(edit("rsa-2048", map[string]any{"P": "AQAB", "Q": "AQAB"}))},
		{name: `jwkSet: oct key with "k"`, field: "JWKSet", is: nil, reason: `"oct"`, call: uploadKey(raw(`{"kty":"oct","kid":"hmac","k":"` + encodeBase64URL([]byte(secretMarker)) + `"}`))},
		{name: "jwkSet: duplicate kid", field: "JWKSet", is: nil, reason: "duplicate kid", call: uploadKey(func(e *badInputEnv, t *testing.T) []apikeys.JWK {
			return []apikeys.JWK{e.jwk["ec-p256"], editJWK(t, e.jwk["ec-p384"], map[string]any{"kid": "ec-p256"})}
		})},
		{name: "jwkSet: RSA-1024", field: "JWKSet", is: nil, reason: "1024 bits", call: uploadKey(func(e *badInputEnv, t *testing.T) []apikeys.JWK {
			return []apikeys.JWK{editJWK(t, e.jwk["rsa-2048"], map[string]any{"n": encodeBase64URL(e.rsa1024.N.Bytes())})}
		})},
		{name: "jwkSet: RSA with an empty modulus", field: "JWKSet", is: nil, reason: "0 bits", call: uploadKey(edit("rsa-2048", map[string]any{"n": ""}))},
		{name: "jwkSet: EC on secp256k1", field: "JWKSet", is: nil, reason: `"secp256k1"`, call: uploadKey(edit("ec-p256", map[string]any{"crv": "secp256k1", "alg": nil}))},
		{name: "jwkSet: EC on P-224", field: "JWKSet", is: nil, reason: `"P-224"`, call: uploadKey(edit("ec-p256", map[string]any{"crv": "P-224", "alg": nil}))},
		{name: "jwkSet: ES256 on a P-384 key", field: "JWKSet", is: nil, reason: "needs crv P-256", call: uploadKey(edit("ec-p384", map[string]any{"alg": "ES256"}))},
		{name: "jwkSet: RS256 on an EC key", field: "JWKSet", is: nil, reason: "needs a RSA key", call: uploadKey(edit("ec-p256", map[string]any{"alg": "RS256"}))},
		{name: "jwkSet: EdDSA on an RSA key", field: "JWKSet", is: nil, reason: "needs a OKP key", call: uploadKey(edit("rsa-2048", map[string]any{"alg": "EdDSA"}))},
		{name: "jwkSet: HS256 on an RSA key", field: "JWKSet", is: nil, reason: "symmetric", call: uploadKey(edit("rsa-2048", map[string]any{"alg": "HS256"}))},
		{name: `jwkSet: alg "none"`, field: "JWKSet", is: nil, reason: `"none"`, call: uploadKey(edit("ed25519", map[string]any{"alg": "none"}))},
		{name: `jwkSet: use "enc"`, field: "JWKSet", is: nil, reason: `use "enc"`, call: uploadKey(edit("ec-p256", map[string]any{"use": "enc"}))},
		{name: "jwkSet: no kid", field: "JWKSet", is: nil, reason: "missing kid", call: uploadKey(edit("ec-p256", map[string]any{"kid": nil}))},
		{name: "jwkSet: no kty", field: "JWKSet", is: nil, reason: "missing kty", call: uploadKey(edit("ed25519", map[string]any{"kty": nil}))},
		{name: "jwkSet: kty of another type", field: "JWKSet", is: nil, reason: "not a string", call: uploadKey(edit("ec-p256", map[string]any{"kty": 2}))},
		{name: "jwkSet: OKP on X25519", field: "JWKSet", is: nil, reason: `"X25519"`, call: uploadKey(edit("ed25519", map[string]any{"crv": "X25519", "alg": nil}))},
		{name: `Update: jwkSet with an Ed25519 "d"`, field: "JWKSet", is: nil, reason: `private key member "d"`, call: func(ctx context.Context, e *badInputEnv, t *testing.T) error {
			k := editJWK(t, e.jwk["ed25519"], map[string]any{"d": encodeBase64URL([]byte(secretMarker))})
			_, err := e.platform.APIKeys.Update(ctx, "id", apikeys.UpdateAPIKeyRequest{JWKSet: apikeys.NewJWKSet(k)})
			return err
		}},

		// Legacy owners, labels, key types and key values.
		{name: "Legacy.List: zero KeyOwner", field: "owner", is: nil, reason: "zero KeyOwner", call: legacyList(apikeys.KeyOwner{})},
		{name: "Legacy.Create: zero KeyOwner", field: "owner", is: nil, reason: "zero KeyOwner", call: legacyCreate(apikeys.KeyOwner{}, "ci")},
		{name: `Legacy.List: AppKeys("")`, field: "appID", is: nil, reason: "empty", call: legacyList(apikeys.AppKeys(""))},
		{name: "Legacy.Create: app ID with a slash", field: "appID", is: nil, reason: "slash", call: legacyCreate(apikeys.AppKeys("a/b"), "ci")},
		{name: "Legacy.List: app ID ..", field: "appID", is: nil, reason: `".."`, call: legacyList(apikeys.AppKeys(".."))},
		{name: "Legacy.Create: app ID with leading space", field: "appID", is: nil, reason: "spaces", call: legacyCreate(apikeys.AppKeys(" app"), "ci")},
		{name: "Legacy.Create: empty label", field: "label", is: nil, reason: "empty", call: legacyCreate(apikeys.UserKeys(), "")},
		// Invalid UTF-8 would reach the server as U+FFFD: a label cut
		// mid-character could then never be found again by a caller
		// reconciling an ambiguous create.
		{name: "Legacy.Create: label cut mid-character", field: "label", is: nil, reason: "UTF-8", call: legacyCreate(apikeys.AppKeys("app-1"), "déploiement"[:2])},
		{name: "Legacy.Update: label with a lone continuation byte", field: "label", is: nil, reason: "UTF-8", call: legacyKeyCall("update", goodKey, "ci\x80")},
		{name: "Legacy.Revoke: key value not UTF-8", field: "key", is: nil, reason: "UTF-8", call: legacyKeyCall("revoke", "\xff"+goodKey, "")},
		{name: "Legacy.Validate: key type not UTF-8", field: "keyType", is: nil, reason: "UTF-8", call: legacyKeyCall("validate", goodKey, "app\xc3")},
		{name: "Legacy.List: app ID not UTF-8", field: "appID", is: nil, reason: "UTF-8", call: legacyList(apikeys.AppKeys("app-\xe2\x82"))},
		{name: "Create: name cut mid-character", field: "Name", is: nil, reason: "UTF-8", call: create("env", named("déploiement"[:2]))},
		{name: "Update: name with an overlong encoding", field: "Name", is: nil, reason: "UTF-8", call: update("id", apikeys.UpdateAPIKeyRequest{Name: str("n\xc0\xaf")})},
		{name: "Get: key ID not UTF-8", field: "apiKeyID", is: nil, reason: "UTF-8", call: get("client-\xff")},
		{name: "Create: environment ID with a surrogate half", field: "environmentID", is: nil, reason: "UTF-8", call: create("env-\xed\xa0\x80", named("n"))},
		{name: "TokenConfig: client ID not UTF-8", field: "TokenConfig.ClientID", is: nil, reason: "UTF-8", call: tokenConfig(func(c *apikeys.TokenConfig, _ *badInputEnv) { c.ClientID = "client-\xff" })},
		{name: "LegacyConfig: domain not UTF-8", field: "LegacyConfig.Domain", is: nil, reason: "UTF-8", call: legacyConfig(func(c *apikeys.LegacyConfig) { c.Domain = "acme\xff" })},
		{name: "Legacy.Create: label with CR LF", field: "label", is: nil, reason: "control", call: legacyCreate(apikeys.UserKeys(), "ci\r\nX-Evil: 1")},
		{name: "Legacy.Create: label over 1024 bytes", field: "label", is: nil, reason: "longer", call: legacyCreate(apikeys.AppKeys("app-1"), long)},
		{name: "Legacy.Update: blank label", field: "label", is: nil, reason: "empty", call: legacyKeyCall("update", goodKey, "  ")},
		{name: "Legacy.Revoke: empty key", field: "key", is: nil, reason: "empty", call: legacyKeyCall("revoke", "", "")},
		{name: "Legacy.Delete: key with a space", field: "key", is: nil, reason: "spaces", call: legacyKeyCall("delete", "ab cd", "")},
		{name: "Legacy.Update: key with NUL", field: "key", is: nil, reason: "control", call: legacyKeyCall("update", "ab\x00cd", "ci")},
		{name: "Legacy.Validate: key with U+2028", field: "key", is: nil, reason: "spaces", call: legacyKeyCall("validate", "ab\u2028cd", apikeys.KeyTypeUser)},
		{name: "Legacy.Revoke: key with a no-break space", field: "key", is: nil, reason: "spaces", call: legacyKeyCall("revoke", "\u00a0"+goodKey, "")},
		{name: "Legacy.Validate: empty key type", field: "keyType", is: nil, reason: "empty", call: legacyKeyCall("validate", goodKey, "")},
		{name: "Legacy.Validate: key type with a newline", field: "keyType", is: nil, reason: "control", call: legacyKeyCall("validate", goodKey, "app\n")},

		// Legacy configuration.
		{name: "WithLegacy: empty domain", field: "LegacyConfig.Domain", is: nil, reason: "empty", call: legacyConfig(func(c *apikeys.LegacyConfig) { c.Domain = "" })},
		{name: "WithLegacy: domain with a slash", field: "LegacyConfig.Domain", is: nil, reason: "slash", call: legacyConfig(func(c *apikeys.LegacyConfig) { c.Domain = "acme/../x" })},
		{name: "WithLegacy: domain ..", field: "LegacyConfig.Domain", is: nil, reason: `".."`, call: legacyConfig(func(c *apikeys.LegacyConfig) { c.Domain = ".." })},
		{name: "WithLegacy: domain with a newline", field: "LegacyConfig.Domain", is: nil, reason: "control", call: legacyConfig(func(c *apikeys.LegacyConfig) { c.Domain = "acme\n" })},
		{name: "WithLegacy: no user key and no cookie", field: "LegacyConfig.UserKey", is: nil, reason: "empty", call: legacyConfig(func(c *apikeys.LegacyConfig) { c.UserKey = "" })},
		{name: "WithLegacy: user key with a semicolon", field: "LegacyConfig.UserKey", is: nil, reason: "separators", call: legacyConfig(func(c *apikeys.LegacyConfig) { c.UserKey = secretMarker + ";x=1" })},
		{name: "WithLegacy: user key with CR LF", field: "LegacyConfig.UserKey", is: nil, reason: "control", call: legacyConfig(func(c *apikeys.LegacyConfig) { c.UserKey = secretMarker + "\r\nX-Evil: 1" })},
		{name: "WithLegacy: cookie with a quote", field: "LegacyConfig.SessionCookie", is: nil, reason: "separators", call: legacyConfig(func(c *apikeys.LegacyConfig) { c.SessionCookie = `"` + secretMarker })},
		{name: "WithLegacy: cookie with a space", field: "LegacyConfig.SessionCookie", is: nil, reason: "spaces", call: legacyConfig(func(c *apikeys.LegacyConfig) { c.SessionCookie = secretMarker + " x" })},
		{name: "WithLegacy: empty BaseURL", field: "LegacyConfig.BaseURL", is: nil, reason: "absolute", call: legacyBase("")},
		{name: "WithLegacy: ftp BaseURL", field: "LegacyConfig.BaseURL", is: nil, reason: "https", call: legacyBase("ftp://acme.feedhenry.com")},
		{name: "WithLegacy: plain http BaseURL to a remote host", field: "LegacyConfig.BaseURL", is: nil, reason: "https", call: legacyBase("http://acme.feedhenry.com")},
		{name: "WithLegacy: BaseURL with user info", field: "LegacyConfig.BaseURL", is: nil, reason: "user info", call: legacyBase("https://admin:" + secretMarker + "@acme.feedhenry.com")},
		{name: "WithLegacy: BaseURL with a query", field: "LegacyConfig.BaseURL", is: nil, reason: "query", call: legacyBase("https://acme.feedhenry.com/?x=1")},
		{name: "WithLegacy: BaseURL with a fragment", field: "LegacyConfig.BaseURL", is: nil, reason: "fragment", call: legacyBase("https://acme.feedhenry.com/#top")},
		{name: "WithLegacy: BaseURL over 2048 bytes", field: "LegacyConfig.BaseURL", is: nil, reason: "2048", call: legacyBase("https://acme.feedhenry.com/" + strings.Repeat("a", 2048))},

		// Platform base URL.
		{name: "WithBaseURL: empty", field: "WithBaseURL", is: nil, reason: "empty", call: baseURL("")},
		{name: "WithBaseURL: scheme-relative", field: "WithBaseURL", is: nil, reason: "absolute", call: baseURL("//api.example.com/platform")},
		{name: "WithBaseURL: with a fragment", field: "WithBaseURL", is: nil, reason: "fragment", call: baseURL("https://api.example.com/platform#x")},
		{name: "WithBaseURL: plain http to a private address", field: "WithBaseURL", is: nil, reason: "https", call: baseURL("http://10.0.0.1/platform")},
		{name: "WithBaseURL: with DEL", field: "WithBaseURL", is: nil, reason: "control", call: baseURL("https://api.example.com/\x7f")},
		{name: "WithBaseURL: with a query", field: "WithBaseURL", is: nil, reason: "query", call: baseURL("https://api.example.com/platform?token=" + secretMarker)},
		{name: "WithBaseURL: with user info", field: "WithBaseURL", is: nil, reason: "user info", call: baseURL("https://u:" + secretMarker + "@api.example.com")},
		{name: "WithBaseURL: mailto:", field: "WithBaseURL", is: nil, reason: "absolute", call: baseURL("mailto:ops@example.com")},
		{name: "WithBaseURL: unclosed IPv6 host", field: "WithBaseURL", is: nil, reason: "not a URL", call: baseURL("https://[::1/platform")},

		// Token source configuration.
		{name: "TokenConfig: empty client ID", field: "TokenConfig.ClientID", is: nil, reason: "empty", call: tokenConfig(func(c *apikeys.TokenConfig, _ *badInputEnv) { c.ClientID = "" })},
		{name: "TokenConfig: client ID with a tab around", field: "TokenConfig.ClientID", is: nil, reason: "control", call: tokenConfig(func(c *apikeys.TokenConfig, _ *badInputEnv) { c.ClientID = "\tclient-1" })},
		{name: "TokenConfig: client ID with a space around", field: "TokenConfig.ClientID", is: nil, reason: "spaces", call: tokenConfig(func(c *apikeys.TokenConfig, _ *badInputEnv) { c.ClientID = " client-1" })},
		{name: "TokenConfig: client ID with a slash", field: "TokenConfig.ClientID", is: nil, reason: "slash", call: tokenConfig(func(c *apikeys.TokenConfig, _ *badInputEnv) { c.ClientID = "client/1" })},
		{name: "TokenConfig: client ID with NUL", field: "TokenConfig.ClientID", is: nil, reason: "control", call: tokenConfig(func(c *apikeys.TokenConfig, _ *badInputEnv) { c.ClientID = "client\x00-1" })},
		{name: "TokenConfig: no signer", field: "TokenConfig.Key.Signer", is: nil, reason: "nil", call: tokenConfig(func(c *apikeys.TokenConfig, _ *badInputEnv) { c.Key.Signer = nil })},
		{name: "TokenConfig: no key ID", field: "TokenConfig.Key.KeyID", is: nil, reason: "empty", call: tokenConfig(func(c *apikeys.TokenConfig, _ *badInputEnv) { c.Key.KeyID = "" })},
		{name: "TokenConfig: no alg", field: "TokenConfig.Key.Algorithm", is: nil, reason: "empty", call: tokenConfig(func(c *apikeys.TokenConfig, _ *badInputEnv) { c.Key.Algorithm = "" })},
		{name: "TokenConfig: HS256", field: "TokenConfig.Key.Algorithm", is: nil, reason: "symmetric", call: tokenConfig(func(c *apikeys.TokenConfig, _ *badInputEnv) { c.Key.Algorithm = "HS256" })},
		{name: "TokenConfig: RS256 with an EC key", field: "TokenConfig.Key.Algorithm", is: nil, reason: "RSA", call: tokenConfig(func(c *apikeys.TokenConfig, _ *badInputEnv) { c.Key.Algorithm = apikeys.RS256 })},
		{name: "TokenConfig: RSA-1024 signer", field: "TokenConfig.Key.Signer", is: nil, reason: "1024 bits", call: tokenConfig(func(c *apikeys.TokenConfig, e *badInputEnv) {
			c.Key = apikeys.SigningKey{Signer: e.rsa1024, KeyID: "weak", Algorithm: apikeys.RS256}
		})},
		{name: "TokenConfig: http token URL to a remote host", field: "TokenConfig.TokenURL", is: nil, reason: "https", call: tokenConfig(func(c *apikeys.TokenConfig, _ *badInputEnv) {
			c.TokenURL = "http://api.redoxengine.com/v2/auth/token"
		})},
		{name: "TokenConfig: token URL with a query", field: "TokenConfig.TokenURL", is: nil, reason: "query", call: tokenConfig(func(c *apikeys.TokenConfig, e *badInputEnv) { c.TokenURL = e.url + "/token?x=1" })},
		{name: "TokenConfig: token URL ending in ?", field: "TokenConfig.TokenURL", is: nil, reason: "query", call: tokenConfig(func(c *apikeys.TokenConfig, e *badInputEnv) { c.TokenURL = e.url + "/token?" })},
		{name: "TokenConfig: file: token URL", field: "TokenConfig.TokenURL", is: nil, reason: "absolute", call: tokenConfig(func(c *apikeys.TokenConfig, _ *badInputEnv) { c.TokenURL = "file:///etc/passwd" })},
		{name: "TokenConfig: scope with a newline", field: "TokenConfig.Scope", is: nil, reason: "control", call: tokenConfig(func(c *apikeys.TokenConfig, _ *badInputEnv) { c.Scope = "keys\nx" })},

		// Client options.
		{name: "WithHTTPClient(nil)", field: "WithHTTPClient", is: nil, reason: "nil", call: newClient(apikeys.WithHTTPClient(nil))},
		{name: "WithTokenSource(nil)", field: "WithTokenSource", is: nil, reason: "nil", call: newClient(apikeys.WithTokenSource(nil))},
		{name: "WithToken and WithTokenSource", field: "WithTokenSource", is: nil, reason: "already set", call: func(ctx context.Context, e *badInputEnv, t *testing.T) error {
			return newClient(apikeys.WithToken("tok-"+secretMarker), apikeys.WithTokenSource(e.ts))(ctx, e, t)
		}},
		{name: "WithToken: empty", field: "WithToken", is: nil, reason: "empty", call: newClient(apikeys.WithToken(""))},
		{name: "WithToken: with a space", field: "WithToken", is: nil, reason: "spaces", call: newClient(apikeys.WithToken("Bearer " + secretMarker))},
		{name: "WithRetry: negative MinWait", field: "WithRetry", is: nil, reason: "MinWait", call: newClient(apikeys.WithRetry(apikeys.RetryPolicy{MinWait: -time.Millisecond}))},
		{name: "WithRetry: negative MaxRetries", field: "WithRetry", is: nil, reason: "MaxRetries", call: newClient(apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: -1}))},
		{name: "WithRetry: MaxRetries over 100", field: "WithRetry", is: nil, reason: "MaxRetries", call: newClient(apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 101}))},
		{name: "WithRetry: MaxWait under MinWait", field: "WithRetry", is: nil, reason: "MaxWait", call: newClient(apikeys.WithRetry(apikeys.RetryPolicy{MinWait: time.Second}))},
		{name: "WithMaxResponseBytes: negative", field: "WithMaxResponseBytes", is: nil, reason: "positive", call: newClient(apikeys.WithMaxResponseBytes(-1))},
		{name: "WithUserAgent: empty", field: "WithUserAgent", is: nil, reason: "empty", call: newClient(apikeys.WithUserAgent(""))},
		{name: "WithLogger(nil)", field: "WithLogger", is: nil, reason: "nil", call: newClient(apikeys.WithLogger(nil))},
		{name: "nil Option", field: "Option", is: nil, reason: "nil", call: newClient(nil)},

		// Calls the Client is not configured for.
		{name: "Platform call without a token", field: "", is: apikeys.ErrNotConfigured, reason: "", call: func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := e.bare.APIKeys.Create(ctx, "env", named("n"))
			return err
		}},
		{name: "Environments call without a token", field: "", is: apikeys.ErrNotConfigured, reason: "", call: func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := e.bare.Environments.List(ctx, 1)
			return err
		}},
		{name: "Legacy call without WithLegacy", field: "", is: apikeys.ErrNotConfigured, reason: "", call: func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := e.platform.Legacy.List(ctx, apikeys.UserKeys())
			return err
		}},

		// Contexts.
		{name: "Platform call with a nil context", field: "ctx", is: nil, reason: "nil", call: func(_ context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := e.platform.APIKeys.Get(nil, "id") //nolint:staticcheck // the nil context is the bad input
			return err
		}},
		{name: "Legacy call with a nil context", field: "ctx", is: nil, reason: "nil", call: func(_ context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := e.legacy.Legacy.List(nil, apikeys.UserKeys()) //nolint:staticcheck // the nil context is the bad input
			return err
		}},
		{name: "Token with a nil context", field: "ctx", is: nil, reason: "nil", call: func(_ context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := e.ts.Token(nil) //nolint:staticcheck // the nil context is the bad input
			return err
		}},
		{name: "Platform call with a cancelled context", field: "", is: context.Canceled, reason: "", call: func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := e.platform.APIKeys.List(ctx, "env")
			return err
		}},
		{name: "Legacy call with a cancelled context", field: "", is: context.Canceled, reason: "", call: func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := e.legacy.Legacy.Create(ctx, apikeys.UserKeys(), "ci")
			return err
		}},
		{name: "Token with a cancelled context", field: "", is: context.Canceled, reason: "", call: func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := e.ts.Token(ctx)
			return err
		}},

		// FetchJWKS.
		{name: "FetchJWKS: plain http to a remote host, even with FetchInsecureLoopbackHTTP", field: "jwksURL", is: nil, reason: "https", call: fetch(func(*badInputEnv) string { return "http://keys.example.com/jwks.json" })},
		{name: "FetchJWKS: loopback URL with a fragment", field: "jwksURL", is: nil, reason: "fragment", call: fetch(func(e *badInputEnv) string { return e.url + "/jwks.json#k" })},
		{name: "FetchJWKS: URL with user info", field: "jwksURL", is: nil, reason: "user info", call: fetch(func(e *badInputEnv) string {
			return strings.Replace(e.url, "http://", "http://u:"+secretMarker+"@", 1) + "/jwks.json"
		})},
		{name: "FetchJWKS: plain http to loopback without FetchInsecureLoopbackHTTP", field: "jwksURL", is: nil, reason: "FetchInsecureLoopbackHTTP", call: func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := apikeys.FetchJWKS(ctx, e.url+"/jwks.json")
			return err
		}},
		{name: "FetchJWKS: FetchHTTPClient(nil)", field: "FetchHTTPClient", is: nil, reason: "nil", call: func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := apikeys.FetchJWKS(ctx, e.url+"/jwks.json", apikeys.FetchHTTPClient(nil), apikeys.FetchInsecureLoopbackHTTP())
			return err
		}},
		{name: "FetchJWKS: nil FetchOption", field: "FetchOption", is: nil, reason: "nil", call: func(ctx context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := apikeys.FetchJWKS(ctx, e.url+"/jwks.json", apikeys.FetchInsecureLoopbackHTTP(), nil)
			return err
		}},
		{name: "FetchJWKS: nil context", field: "ctx", is: nil, reason: "nil", call: func(_ context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := apikeys.FetchJWKS(nil, e.url+"/jwks.json", apikeys.FetchInsecureLoopbackHTTP()) //nolint:staticcheck // the nil context is the bad input
			return err
		}},

		// Keys given to the SDK.
		{name: "NewJWK: nil key", field: "key", is: nil, reason: "nil", call: func(context.Context, *badInputEnv, *testing.T) error { _, err := apikeys.NewJWK(nil, ""); return err }},
		{name: "NewJWK: RSA-1024", field: "key", is: nil, reason: "1024 bits", call: func(_ context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := apikeys.NewJWK(&e.rsa1024.PublicKey, "")
			return err
		}},
		{name: "NewJWK: ES384 on a P-256 key", field: "alg", is: nil, reason: "P-384", call: func(_ context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := apikeys.NewJWK(e.token.Key.Signer, apikeys.ES384)
			return err
		}},
		{name: "GenerateSigningKey: HS256", field: "alg", is: nil, reason: "HS256", call: func(context.Context, *badInputEnv, *testing.T) error {
			_, err := apikeys.GenerateSigningKey("HS256")
			return err
		}},
		{name: "ParseSigningKey: empty", field: "key", is: nil, reason: "empty", call: func(context.Context, *badInputEnv, *testing.T) error {
			_, err := apikeys.ParseSigningKey(nil, "")
			return err
		}},
		{name: "ParseSigningKey: a public key PEM", field: "key", is: nil, reason: "public key", call: func(_ context.Context, e *badInputEnv, t *testing.T) error {
			der, err := x509.MarshalPKIXPublicKey(e.token.Key.Public())
			require.NoError(t, err)
			_, err = apikeys.ParseSigningKey(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), "")
			return err
		}},
		{name: "ParseSigningKey: RSA-1024 PEM", field: "key", is: nil, reason: "1024 bits", call: func(_ context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := apikeys.ParseSigningKey(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(e.rsa1024)}), "")
			return err
		}},
		{name: "VerifyJWT: no allowed algs", field: "allowedAlgs", is: nil, reason: "empty", call: func(_ context.Context, e *badInputEnv, _ *testing.T) error {
			_, err := apikeys.NewJWKSet(e.jwk["ec-p256"]).VerifyJWT("a.b.c", nil)
			return err
		}},
	}
}

// TestEveryBadInputIsRefusedBeforeIO: every bad input is refused with its
// documented error (a *ValidationError naming the field, ErrNotConfigured
// or the context's error) before any I/O: one counting server sees no
// request and no connection across the whole table, and no error repeats
// a credential.
func TestEveryBadInputIsRefusedBeforeIO(t *testing.T) {
	srv := newCountingServer(t)
	env := newBadInputEnv(t, srv)
	rows := badInputs()
	require.GreaterOrEqual(t, len(rows), 40)
	names := map[string]bool{}
	for _, row := range rows {
		require.False(t, names[row.name], "duplicate row %q", row.name)
		names[row.name] = true
		t.Run(row.name, func(t *testing.T) {
			before := srv.requests.Load()
			err := row.call(context.Background(), env, t)
			require.Error(t, err)
			if row.is != nil {
				assert.ErrorIs(t, err, row.is)
			} else {
				var ve *apikeys.ValidationError
				require.ErrorAs(t, err, &ve, "got %T %v", err, err)
				assert.Equal(t, row.field, ve.Field)
				assert.NotEmpty(t, ve.Reason)
				if row.reason != "" {
					assert.Contains(t, ve.Reason, row.reason)
				}
				assert.False(t, apikeys.IsRetryable(err))
			}
			assert.NotContains(t, err.Error(), secretMarker)
			assert.NotContains(t, fmt.Sprintf("%+v %#v", err, err), secretMarker)
			assert.Equal(t, before, srv.requests.Load(), "the call sent a request")
		})
	}
	assert.Zero(t, srv.requests.Load(), "requests seen")
	assert.Zero(t, srv.conns.Load(), "connections seen")

	// The server does answer: a good call through the same clients
	// reaches it, so the zero counts above mean something.
	_, err := env.platform.APIKeys.Get(context.Background(), "client-1")
	require.NoError(t, err)
	assert.Equal(t, int64(1), srv.requests.Load())
}

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
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// secCountingServer counts every request and every connection it sees.
// The bad-input table points every client, token source and fetch at one
// of these and expects both counts to stay zero.
type secCountingServer struct {
	*httptest.Server
	requests atomic.Int64
	conns    atomic.Int64
}

func secNewCountingServer(t *testing.T) *secCountingServer {
	t.Helper()
	s := &secCountingServer{}
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

// secBadEnv is what each row of the bad-input table may use: clients
// and a token configuration that all point at the counting server.
type secBadEnv struct {
	url      string              // the counting server, e.g. http://127.0.0.1:PORT
	platform *apikeys.Client     // Platform client with a static token
	legacy   *apikeys.Client     // legacy client
	bare     *apikeys.Client     // neither a token nor WithLegacy
	token    apikeys.TokenConfig // a valid token configuration
	ts       *apikeys.AssertionTokenSource
	jwk      map[string]apikeys.JWK // public keys of testdata/jwks/jwks.json by kid
	rsa1024  *rsa.PrivateKey
}

// secSecret marks every credential and credential-like input of the
// table: no error may repeat it.
const secSecret = "SECRET"

const secLegacyUserKey = "4a23bd0e3c1f9a8b7c6d5e4f3a2b1c0d9e8f" + secSecret

func secNewBadEnv(t *testing.T, s *secCountingServer) *secBadEnv {
	t.Helper()
	e := &secBadEnv{url: s.URL, jwk: map[string]apikeys.JWK{}}
	var err error
	e.platform, err = apikeys.NewClient(apikeys.WithBaseURL(s.URL+basePath), apikeys.WithToken("tok-"+secSecret))
	require.NoError(t, err)
	e.legacy, err = apikeys.NewClient(apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: s.URL, Domain: "acme", UserKey: secLegacyUserKey}))
	require.NoError(t, err)
	e.bare, err = apikeys.NewClient(apikeys.WithBaseURL(s.URL + basePath))
	require.NoError(t, err)
	key, err := apikeys.GenerateSigningKey(apikeys.ES256)
	require.NoError(t, err)
	e.token = apikeys.TokenConfig{ClientID: "client-1", Key: key, TokenURL: s.URL + "/v2/auth/token"}
	e.ts, err = apikeys.NewTokenSource(e.token)
	require.NoError(t, err)

	data, err := os.ReadFile("testdata/jwks/jwks.json")
	require.NoError(t, err)
	var set apikeys.JWKSet
	require.NoError(t, json.Unmarshal(data, &set))
	for _, k := range set.Keys {
		e.jwk[k.KeyID()] = k
	}
	e.rsa1024, err = rsa.GenerateKey(rand.Reader, 1024) //nolint:gosec // the weak key is the bad input
	require.NoError(t, err)
	return e
}

// secEditJWK returns k with members set (a nil value deletes the member).
func secEditJWK(t *testing.T, k apikeys.JWK, set map[string]any) apikeys.JWK {
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

// secB64 is base64url without padding, as in JWKs.
var secB64 = base64.RawURLEncoding.EncodeToString

type secBadInput struct {
	name   string
	field  string // the *ValidationError's Field; "" when is is set
	is     error  // the error the call must match instead (errors.Is)
	reason string // a substring of the Reason, when the row checks one
	call   func(ctx context.Context, e *secBadEnv, t *testing.T) error
}

// secBadInputs is the SDK's bad-input table: one row per input, across
// every public entry point that takes one.
func secBadInputs() []secBadInput {
	// Platform calls.
	get := func(id string) func(context.Context, *secBadEnv, *testing.T) error {
		return func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := e.platform.APIKeys.Get(ctx, id)
			return err
		}
	}
	list := func(env string) func(context.Context, *secBadEnv, *testing.T) error {
		return func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := e.platform.APIKeys.List(ctx, env)
			return err
		}
	}
	del := func(id string) func(context.Context, *secBadEnv, *testing.T) error {
		return func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := e.platform.APIKeys.Delete(ctx, id)
			return err
		}
	}
	create := func(env string, req apikeys.CreateAPIKeyRequest) func(context.Context, *secBadEnv, *testing.T) error {
		return func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := e.platform.APIKeys.Create(ctx, env, req)
			return err
		}
	}
	update := func(id string, req apikeys.UpdateAPIKeyRequest) func(context.Context, *secBadEnv, *testing.T) error {
		return func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := e.platform.APIKeys.Update(ctx, id, req)
			return err
		}
	}
	named := func(n string) apikeys.CreateAPIKeyRequest { return apikeys.CreateAPIKeyRequest{Name: n} }
	withURL := func(u string) apikeys.CreateAPIKeyRequest { return apikeys.CreateAPIKeyRequest{Name: "n", JWKSURL: u} }
	str := func(s string) *string { return &s }
	// uploadKey creates a key whose jwkSet holds the JWK made by build.
	uploadKey := func(build func(e *secBadEnv, t *testing.T) []apikeys.JWK) func(context.Context, *secBadEnv, *testing.T) error {
		return func(ctx context.Context, e *secBadEnv, t *testing.T) error {
			_, err := e.platform.APIKeys.Create(ctx, "env", apikeys.CreateAPIKeyRequest{Name: "n", JWKSet: apikeys.NewJWKSet(build(e, t)...)})
			return err
		}
	}
	edit := func(kid string, set map[string]any) func(e *secBadEnv, t *testing.T) []apikeys.JWK {
		return func(e *secBadEnv, t *testing.T) []apikeys.JWK { return []apikeys.JWK{secEditJWK(t, e.jwk[kid], set)} }
	}
	raw := func(s string) func(e *secBadEnv, t *testing.T) []apikeys.JWK {
		return func(_ *secBadEnv, t *testing.T) []apikeys.JWK {
			k, err := apikeys.ParseJWK([]byte(s))
			require.NoError(t, err)
			return []apikeys.JWK{k}
		}
	}
	// Legacy calls.
	legacyList := func(o apikeys.KeyOwner) func(context.Context, *secBadEnv, *testing.T) error {
		return func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := e.legacy.Legacy.List(ctx, o)
			return err
		}
	}
	legacyCreate := func(o apikeys.KeyOwner, label string) func(context.Context, *secBadEnv, *testing.T) error {
		return func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := e.legacy.Legacy.Create(ctx, o, label)
			return err
		}
	}
	legacyKeyCall := func(op, key, label string) func(context.Context, *secBadEnv, *testing.T) error {
		return func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
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
	newClient := func(opts ...apikeys.Option) func(context.Context, *secBadEnv, *testing.T) error {
		return func(ctx context.Context, e *secBadEnv, t *testing.T) error {
			c, err := apikeys.NewClient(append([]apikeys.Option{apikeys.WithBaseURL(e.url + basePath)}, opts...)...)
			assert.Nil(t, c)
			return err
		}
	}
	baseURL := func(u string) func(context.Context, *secBadEnv, *testing.T) error {
		return func(ctx context.Context, e *secBadEnv, t *testing.T) error {
			c, err := apikeys.NewClient(apikeys.WithBaseURL(u), apikeys.WithToken("tok-"+secSecret))
			assert.Nil(t, c)
			return err
		}
	}
	legacyConfig := func(edit func(*apikeys.LegacyConfig)) func(context.Context, *secBadEnv, *testing.T) error {
		return func(ctx context.Context, e *secBadEnv, t *testing.T) error {
			cfg := apikeys.LegacyConfig{BaseURL: e.url, Domain: "acme", UserKey: secLegacyUserKey}
			edit(&cfg)
			c, err := apikeys.NewClient(apikeys.WithLegacy(cfg))
			assert.Nil(t, c)
			return err
		}
	}
	legacyBase := func(u string) func(context.Context, *secBadEnv, *testing.T) error {
		return legacyConfig(func(c *apikeys.LegacyConfig) { c.BaseURL = u })
	}
	tokenConfig := func(edit func(*apikeys.TokenConfig, *secBadEnv)) func(context.Context, *secBadEnv, *testing.T) error {
		return func(ctx context.Context, e *secBadEnv, t *testing.T) error {
			cfg := e.token
			edit(&cfg, e)
			ts, err := apikeys.NewTokenSource(cfg)
			assert.Nil(t, ts)
			return err
		}
	}
	fetch := func(u func(e *secBadEnv) string) func(context.Context, *secBadEnv, *testing.T) error {
		return func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := apikeys.FetchJWKS(ctx, u(e), apikeys.FetchInsecureLoopbackHTTP())
			return err
		}
	}
	long := strings.Repeat("x", 1025)

	return []secBadInput{
		// IDs (path parameters).
		{"Get: empty key ID", "apiKeyID", nil, "is empty", get("")},
		{"List: environment ID with a slash", "environmentID", nil, "slash", list("a/b")},
		{"Delete: key ID ..", "apiKeyID", nil, `".."`, del("..")},
		{"Get: key ID .", "apiKeyID", nil, `"."`, get(".")},
		{"Get: key ID with a backslash", "apiKeyID", nil, "slash", get(`a\b`)},
		{"Get: key ID with NUL", "apiKeyID", nil, "control", get("a\x00b")},
		{"Get: key ID with a C1 control (U+0085)", "apiKeyID", nil, "control", get("id\u0085")},
		{"Update: key ID with a newline", "apiKeyID", nil, "control", update("a\nb", apikeys.UpdateAPIKeyRequest{Name: str("n")})},
		{"Delete: key ID over 256 bytes", "apiKeyID", nil, "longer", del(strings.Repeat("a", 257))},
		{"Get: key ID with leading space", "apiKeyID", nil, "spaces", get(" id")},
		{"List: environment ID with trailing tab", "environmentID", nil, "", list("env\t")},
		{"Create: environment ID with DEL", "environmentID", nil, "control", create("env\x7f", named("n"))},
		{"Create: environment ID with an embedded ..", "environmentID", nil, `".."`, create("a..b", named("n"))},
		{"Environments: organization ID 0", "organizationID", nil, "positive", func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := e.platform.Environments.List(ctx, 0)
			return err
		}},
		{"Environments: negative organization ID", "organizationID", nil, "positive", func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := e.platform.Environments.List(ctx, -7)
			return err
		}},

		// Names.
		{"Create: empty name", "Name", nil, "empty", create("env", named(""))},
		{"Create: blank name", "Name", nil, "empty", create("env", named(" \t "))},
		{"Create: name with ESC", "Name", nil, "control", create("env", named("a\x1b[31mb"))},
		{"Create: name over 1024 bytes", "Name", nil, "longer", create("env", named(long))},
		{"Update: name set to blank", "Name", nil, "empty", update("id", apikeys.UpdateAPIKeyRequest{Name: str("\n")})},
		{"Update: nothing set", "UpdateAPIKeyRequest", nil, "no field", update("id", apikeys.UpdateAPIKeyRequest{})},

		// jwksURL.
		{"Create: jwksURL plain http to a remote host", "JWKSURL", nil, "https", create("env", withURL("http://keys.example.com/jwks.json"))},
		{"Create: jwksURL plain http to loopback without WithInsecureHTTP", "JWKSURL", nil, "https", create("env", withURL("http://127.0.0.1:8443/jwks.json"))},
		{"Create: jwksURL with user info", "JWKSURL", nil, "user info", create("env", withURL("https://u:"+secSecret+"@keys.example.com/jwks.json"))},
		{"Create: jwksURL javascript:", "JWKSURL", nil, "absolute", create("env", withURL("javascript:alert(1)"))},
		{"Create: jwksURL with a newline", "JWKSURL", nil, "control", create("env", withURL("https://keys.example.com/\njwks.json"))},
		{"Update: relative jwksURL", "JWKSURL", nil, "absolute", update("id", apikeys.UpdateAPIKeyRequest{JWKSURL: str("keys/jwks.json")})},

		// JWK sets.
		{`jwkSet: EC key with "d"`, "JWKSet", nil, `private key member "d"`, uploadKey(edit("ec-p256", map[string]any{"d": secB64([]byte(secSecret))}))},
		{`jwkSet: RSA key with "p"`, "JWKSet", nil, `private key member "p"`, uploadKey(edit("rsa-2048", map[string]any{"p": secB64([]byte(secSecret))}))},
		{`jwkSet: RSA key with "q"`, "JWKSet", nil, `private key member "q"`, uploadKey(edit("rsa-2048", map[string]any{"q": "AQAB"}))},
		{`jwkSet: RSA key with "dp"`, "JWKSet", nil, `private key member "dp"`, uploadKey(edit("rsa-2048", map[string]any{"dp": "AQAB"}))},
		{`jwkSet: RSA key with "dq"`, "JWKSet", nil, `private key member "dq"`, uploadKey(edit("rsa-2048", map[string]any{"dq": "AQAB"}))},
		{`jwkSet: RSA key with "qi"`, "JWKSet", nil, `private key member "qi"`, uploadKey(edit("rsa-2048", map[string]any{"qi": "AQAB"}))},
		{`jwkSet: RSA key with "P" and "Q" (any letter case)`, "JWKSet", nil, `private key member "P"`, uploadKey(edit("rsa-2048", map[string]any{"P": "AQAB", "Q": "AQAB"}))},
		{`jwkSet: oct key with "k"`, "JWKSet", nil, `"oct"`, uploadKey(raw(`{"kty":"oct","kid":"hmac","k":"` + secB64([]byte(secSecret)) + `"}`))},
		{"jwkSet: duplicate kid", "JWKSet", nil, "duplicate kid", uploadKey(func(e *secBadEnv, t *testing.T) []apikeys.JWK {
			return []apikeys.JWK{e.jwk["ec-p256"], secEditJWK(t, e.jwk["ec-p384"], map[string]any{"kid": "ec-p256"})}
		})},
		{"jwkSet: RSA-1024", "JWKSet", nil, "1024 bits", uploadKey(func(e *secBadEnv, t *testing.T) []apikeys.JWK {
			return []apikeys.JWK{secEditJWK(t, e.jwk["rsa-2048"], map[string]any{"n": secB64(e.rsa1024.N.Bytes())})}
		})},
		{"jwkSet: RSA with an empty modulus", "JWKSet", nil, "0 bits", uploadKey(edit("rsa-2048", map[string]any{"n": ""}))},
		{"jwkSet: EC on secp256k1", "JWKSet", nil, `"secp256k1"`, uploadKey(edit("ec-p256", map[string]any{"crv": "secp256k1", "alg": nil}))},
		{"jwkSet: EC on P-224", "JWKSet", nil, `"P-224"`, uploadKey(edit("ec-p256", map[string]any{"crv": "P-224", "alg": nil}))},
		{"jwkSet: ES256 on a P-384 key", "JWKSet", nil, "needs crv P-256", uploadKey(edit("ec-p384", map[string]any{"alg": "ES256"}))},
		{"jwkSet: RS256 on an EC key", "JWKSet", nil, "needs a RSA key", uploadKey(edit("ec-p256", map[string]any{"alg": "RS256"}))},
		{"jwkSet: EdDSA on an RSA key", "JWKSet", nil, "needs a OKP key", uploadKey(edit("rsa-2048", map[string]any{"alg": "EdDSA"}))},
		{"jwkSet: HS256 on an RSA key", "JWKSet", nil, "symmetric", uploadKey(edit("rsa-2048", map[string]any{"alg": "HS256"}))},
		{`jwkSet: alg "none"`, "JWKSet", nil, `"none"`, uploadKey(edit("ed25519", map[string]any{"alg": "none"}))},
		{`jwkSet: use "enc"`, "JWKSet", nil, `use "enc"`, uploadKey(edit("ec-p256", map[string]any{"use": "enc"}))},
		{"jwkSet: no kid", "JWKSet", nil, "missing kid", uploadKey(edit("ec-p256", map[string]any{"kid": nil}))},
		{"jwkSet: no kty", "JWKSet", nil, "missing kty", uploadKey(edit("ed25519", map[string]any{"kty": nil}))},
		{"jwkSet: kty of another type", "JWKSet", nil, "not a string", uploadKey(edit("ec-p256", map[string]any{"kty": 2}))},
		{"jwkSet: OKP on X25519", "JWKSet", nil, `"X25519"`, uploadKey(edit("ed25519", map[string]any{"crv": "X25519", "alg": nil}))},
		{`Update: jwkSet with an Ed25519 "d"`, "JWKSet", nil, `private key member "d"`, func(ctx context.Context, e *secBadEnv, t *testing.T) error {
			k := secEditJWK(t, e.jwk["ed25519"], map[string]any{"d": secB64([]byte(secSecret))})
			_, err := e.platform.APIKeys.Update(ctx, "id", apikeys.UpdateAPIKeyRequest{JWKSet: apikeys.NewJWKSet(k)})
			return err
		}},

		// Legacy owners, labels, key types and key values.
		{"Legacy.List: zero KeyOwner", "owner", nil, "zero KeyOwner", legacyList(apikeys.KeyOwner{})},
		{"Legacy.Create: zero KeyOwner", "owner", nil, "zero KeyOwner", legacyCreate(apikeys.KeyOwner{}, "ci")},
		{`Legacy.List: AppKeys("")`, "appID", nil, "empty", legacyList(apikeys.AppKeys(""))},
		{"Legacy.Create: app ID with a slash", "appID", nil, "slash", legacyCreate(apikeys.AppKeys("a/b"), "ci")},
		{"Legacy.List: app ID ..", "appID", nil, `".."`, legacyList(apikeys.AppKeys(".."))},
		{"Legacy.Create: app ID with leading space", "appID", nil, "spaces", legacyCreate(apikeys.AppKeys(" app"), "ci")},
		{"Legacy.Create: empty label", "label", nil, "empty", legacyCreate(apikeys.UserKeys(), "")},
		// Invalid UTF-8 would reach the server as U+FFFD: a label cut
		// mid-character could then never be found again by a caller
		// reconciling an ambiguous create.
		{"Legacy.Create: label cut mid-character", "label", nil, "UTF-8", legacyCreate(apikeys.AppKeys("app-1"), "déploiement"[:2])},
		{"Legacy.Update: label with a lone continuation byte", "label", nil, "UTF-8", legacyKeyCall("update", goodKey, "ci\x80")},
		{"Legacy.Revoke: key value not UTF-8", "key", nil, "UTF-8", legacyKeyCall("revoke", "\xff"+goodKey, "")},
		{"Legacy.Validate: key type not UTF-8", "keyType", nil, "UTF-8", legacyKeyCall("validate", goodKey, "app\xc3")},
		{"Legacy.List: app ID not UTF-8", "appID", nil, "UTF-8", legacyList(apikeys.AppKeys("app-\xe2\x82"))},
		{"Create: name cut mid-character", "Name", nil, "UTF-8", create("env", named("déploiement"[:2]))},
		{"Update: name with an overlong encoding", "Name", nil, "UTF-8", update("id", apikeys.UpdateAPIKeyRequest{Name: str("n\xc0\xaf")})},
		{"Get: key ID not UTF-8", "apiKeyID", nil, "UTF-8", get("client-\xff")},
		{"Create: environment ID with a surrogate half", "environmentID", nil, "UTF-8", create("env-\xed\xa0\x80", named("n"))},
		{"TokenConfig: client ID not UTF-8", "TokenConfig.ClientID", nil, "UTF-8", tokenConfig(func(c *apikeys.TokenConfig, _ *secBadEnv) { c.ClientID = "client-\xff" })},
		{"LegacyConfig: domain not UTF-8", "LegacyConfig.Domain", nil, "UTF-8", legacyConfig(func(c *apikeys.LegacyConfig) { c.Domain = "acme\xff" })},
		{"Legacy.Create: label with CR LF", "label", nil, "control", legacyCreate(apikeys.UserKeys(), "ci\r\nX-Evil: 1")},
		{"Legacy.Create: label over 1024 bytes", "label", nil, "longer", legacyCreate(apikeys.AppKeys("app-1"), long)},
		{"Legacy.Update: blank label", "label", nil, "empty", legacyKeyCall("update", goodKey, "  ")},
		{"Legacy.Revoke: empty key", "key", nil, "empty", legacyKeyCall("revoke", "", "")},
		{"Legacy.Delete: key with a space", "key", nil, "spaces", legacyKeyCall("delete", "ab cd", "")},
		{"Legacy.Update: key with NUL", "key", nil, "control", legacyKeyCall("update", "ab\x00cd", "ci")},
		{"Legacy.Validate: key with U+2028", "key", nil, "spaces", legacyKeyCall("validate", "ab\u2028cd", apikeys.KeyTypeUser)},
		{"Legacy.Revoke: key with a no-break space", "key", nil, "spaces", legacyKeyCall("revoke", "\u00a0"+goodKey, "")},
		{"Legacy.Validate: empty key type", "keyType", nil, "empty", legacyKeyCall("validate", goodKey, "")},
		{"Legacy.Validate: key type with a newline", "keyType", nil, "control", legacyKeyCall("validate", goodKey, "app\n")},

		// Legacy configuration.
		{"WithLegacy: empty domain", "LegacyConfig.Domain", nil, "empty", legacyConfig(func(c *apikeys.LegacyConfig) { c.Domain = "" })},
		{"WithLegacy: domain with a slash", "LegacyConfig.Domain", nil, "slash", legacyConfig(func(c *apikeys.LegacyConfig) { c.Domain = "acme/../x" })},
		{"WithLegacy: domain ..", "LegacyConfig.Domain", nil, `".."`, legacyConfig(func(c *apikeys.LegacyConfig) { c.Domain = ".." })},
		{"WithLegacy: domain with a newline", "LegacyConfig.Domain", nil, "control", legacyConfig(func(c *apikeys.LegacyConfig) { c.Domain = "acme\n" })},
		{"WithLegacy: no user key and no cookie", "LegacyConfig.UserKey", nil, "empty", legacyConfig(func(c *apikeys.LegacyConfig) { c.UserKey = "" })},
		{"WithLegacy: user key with a semicolon", "LegacyConfig.UserKey", nil, "separators", legacyConfig(func(c *apikeys.LegacyConfig) { c.UserKey = secSecret + ";x=1" })},
		{"WithLegacy: user key with CR LF", "LegacyConfig.UserKey", nil, "control", legacyConfig(func(c *apikeys.LegacyConfig) { c.UserKey = secSecret + "\r\nX-Evil: 1" })},
		{"WithLegacy: cookie with a quote", "LegacyConfig.SessionCookie", nil, "separators", legacyConfig(func(c *apikeys.LegacyConfig) { c.SessionCookie = `"` + secSecret })},
		{"WithLegacy: cookie with a space", "LegacyConfig.SessionCookie", nil, "spaces", legacyConfig(func(c *apikeys.LegacyConfig) { c.SessionCookie = secSecret + " x" })},
		{"WithLegacy: empty BaseURL", "LegacyConfig.BaseURL", nil, "absolute", legacyBase("")},
		{"WithLegacy: ftp BaseURL", "LegacyConfig.BaseURL", nil, "https", legacyBase("ftp://acme.feedhenry.com")},
		{"WithLegacy: plain http BaseURL to a remote host", "LegacyConfig.BaseURL", nil, "https", legacyBase("http://acme.feedhenry.com")},
		{"WithLegacy: BaseURL with user info", "LegacyConfig.BaseURL", nil, "user info", legacyBase("https://admin:" + secSecret + "@acme.feedhenry.com")},
		{"WithLegacy: BaseURL with a query", "LegacyConfig.BaseURL", nil, "query", legacyBase("https://acme.feedhenry.com/?x=1")},
		{"WithLegacy: BaseURL with a fragment", "LegacyConfig.BaseURL", nil, "fragment", legacyBase("https://acme.feedhenry.com/#top")},
		{"WithLegacy: BaseURL over 2048 bytes", "LegacyConfig.BaseURL", nil, "2048", legacyBase("https://acme.feedhenry.com/" + strings.Repeat("a", 2048))},

		// Platform base URL.
		{"WithBaseURL: empty", "WithBaseURL", nil, "empty", baseURL("")},
		{"WithBaseURL: scheme-relative", "WithBaseURL", nil, "absolute", baseURL("//api.example.com/platform")},
		{"WithBaseURL: with a fragment", "WithBaseURL", nil, "fragment", baseURL("https://api.example.com/platform#x")},
		{"WithBaseURL: plain http to a private address", "WithBaseURL", nil, "https", baseURL("http://10.0.0.1/platform")},
		{"WithBaseURL: with DEL", "WithBaseURL", nil, "control", baseURL("https://api.example.com/\x7f")},
		{"WithBaseURL: with a query", "WithBaseURL", nil, "query", baseURL("https://api.example.com/platform?token=" + secSecret)},
		{"WithBaseURL: with user info", "WithBaseURL", nil, "user info", baseURL("https://u:" + secSecret + "@api.example.com")},
		{"WithBaseURL: mailto:", "WithBaseURL", nil, "absolute", baseURL("mailto:ops@example.com")},
		{"WithBaseURL: unclosed IPv6 host", "WithBaseURL", nil, "not a URL", baseURL("https://[::1/platform")},

		// Token source configuration.
		{"TokenConfig: empty client ID", "TokenConfig.ClientID", nil, "empty", tokenConfig(func(c *apikeys.TokenConfig, _ *secBadEnv) { c.ClientID = "" })},
		{"TokenConfig: client ID with a tab around", "TokenConfig.ClientID", nil, "spaces", tokenConfig(func(c *apikeys.TokenConfig, _ *secBadEnv) { c.ClientID = "\tclient-1" })},
		{"TokenConfig: client ID with NUL", "TokenConfig.ClientID", nil, "control", tokenConfig(func(c *apikeys.TokenConfig, _ *secBadEnv) { c.ClientID = "client\x00-1" })},
		{"TokenConfig: no signer", "TokenConfig.Key.Signer", nil, "nil", tokenConfig(func(c *apikeys.TokenConfig, _ *secBadEnv) { c.Key.Signer = nil })},
		{"TokenConfig: no key ID", "TokenConfig.Key.KeyID", nil, "empty", tokenConfig(func(c *apikeys.TokenConfig, _ *secBadEnv) { c.Key.KeyID = "" })},
		{"TokenConfig: no alg", "TokenConfig.Key.Algorithm", nil, "empty", tokenConfig(func(c *apikeys.TokenConfig, _ *secBadEnv) { c.Key.Algorithm = "" })},
		{"TokenConfig: HS256", "TokenConfig.Key.Algorithm", nil, "symmetric", tokenConfig(func(c *apikeys.TokenConfig, _ *secBadEnv) { c.Key.Algorithm = "HS256" })},
		{"TokenConfig: RS256 with an EC key", "TokenConfig.Key.Algorithm", nil, "RSA", tokenConfig(func(c *apikeys.TokenConfig, _ *secBadEnv) { c.Key.Algorithm = apikeys.RS256 })},
		{"TokenConfig: RSA-1024 signer", "TokenConfig.Key.Signer", nil, "1024 bits", tokenConfig(func(c *apikeys.TokenConfig, e *secBadEnv) {
			c.Key = apikeys.SigningKey{Signer: e.rsa1024, KeyID: "weak", Algorithm: apikeys.RS256}
		})},
		{"TokenConfig: http token URL to a remote host", "TokenConfig.TokenURL", nil, "https", tokenConfig(func(c *apikeys.TokenConfig, _ *secBadEnv) {
			c.TokenURL = "http://api.redoxengine.com/v2/auth/token"
		})},
		{"TokenConfig: token URL with a query", "TokenConfig.TokenURL", nil, "query", tokenConfig(func(c *apikeys.TokenConfig, e *secBadEnv) { c.TokenURL = e.url + "/token?x=1" })},
		{"TokenConfig: token URL ending in ?", "TokenConfig.TokenURL", nil, "query", tokenConfig(func(c *apikeys.TokenConfig, e *secBadEnv) { c.TokenURL = e.url + "/token?" })},
		{"TokenConfig: file: token URL", "TokenConfig.TokenURL", nil, "absolute", tokenConfig(func(c *apikeys.TokenConfig, _ *secBadEnv) { c.TokenURL = "file:///etc/passwd" })},
		{"TokenConfig: scope with a newline", "TokenConfig.Scope", nil, "control", tokenConfig(func(c *apikeys.TokenConfig, _ *secBadEnv) { c.Scope = "keys\nx" })},

		// Client options.
		{"WithHTTPClient(nil)", "WithHTTPClient", nil, "nil", newClient(apikeys.WithHTTPClient(nil))},
		{"WithTokenSource(nil)", "WithTokenSource", nil, "nil", newClient(apikeys.WithTokenSource(nil))},
		{"WithToken and WithTokenSource", "WithTokenSource", nil, "already set", func(ctx context.Context, e *secBadEnv, t *testing.T) error {
			return newClient(apikeys.WithToken("tok-"+secSecret), apikeys.WithTokenSource(e.ts))(ctx, e, t)
		}},
		{"WithToken: empty", "WithToken", nil, "empty", newClient(apikeys.WithToken(""))},
		{"WithToken: with a space", "WithToken", nil, "spaces", newClient(apikeys.WithToken("Bearer " + secSecret))},
		{"WithRetry: negative MinWait", "WithRetry", nil, "MinWait", newClient(apikeys.WithRetry(apikeys.RetryPolicy{MinWait: -time.Millisecond}))},
		{"WithRetry: negative MaxRetries", "WithRetry", nil, "MaxRetries", newClient(apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: -1}))},
		{"WithRetry: MaxRetries over 100", "WithRetry", nil, "MaxRetries", newClient(apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 101}))},
		{"WithRetry: MaxWait under MinWait", "WithRetry", nil, "MaxWait", newClient(apikeys.WithRetry(apikeys.RetryPolicy{MinWait: time.Second}))},
		{"WithMaxResponseBytes: negative", "WithMaxResponseBytes", nil, "positive", newClient(apikeys.WithMaxResponseBytes(-1))},
		{"WithUserAgent: empty", "WithUserAgent", nil, "empty", newClient(apikeys.WithUserAgent(""))},
		{"WithLogger(nil)", "WithLogger", nil, "nil", newClient(apikeys.WithLogger(nil))},
		{"nil Option", "Option", nil, "nil", newClient(nil)},

		// Calls the Client is not configured for.
		{"Platform call without a token", "", apikeys.ErrNotConfigured, "", func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := e.bare.APIKeys.Create(ctx, "env", named("n"))
			return err
		}},
		{"Environments call without a token", "", apikeys.ErrNotConfigured, "", func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := e.bare.Environments.List(ctx, 1)
			return err
		}},
		{"Legacy call without WithLegacy", "", apikeys.ErrNotConfigured, "", func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := e.platform.Legacy.List(ctx, apikeys.UserKeys())
			return err
		}},

		// Contexts.
		{"Platform call with a nil context", "ctx", nil, "nil", func(_ context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := e.platform.APIKeys.Get(nil, "id") //nolint:staticcheck // the nil context is the bad input
			return err
		}},
		{"Legacy call with a nil context", "ctx", nil, "nil", func(_ context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := e.legacy.Legacy.List(nil, apikeys.UserKeys()) //nolint:staticcheck // the nil context is the bad input
			return err
		}},
		{"Token with a nil context", "ctx", nil, "nil", func(_ context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := e.ts.Token(nil) //nolint:staticcheck // the nil context is the bad input
			return err
		}},
		{"Platform call with a cancelled context", "", context.Canceled, "", func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := e.platform.APIKeys.List(ctx, "env")
			return err
		}},
		{"Legacy call with a cancelled context", "", context.Canceled, "", func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := e.legacy.Legacy.Create(ctx, apikeys.UserKeys(), "ci")
			return err
		}},
		{"Token with a cancelled context", "", context.Canceled, "", func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := e.ts.Token(ctx)
			return err
		}},

		// FetchJWKS.
		{"FetchJWKS: plain http to a remote host, even with FetchInsecureLoopbackHTTP", "jwksURL", nil, "https", fetch(func(*secBadEnv) string { return "http://keys.example.com/jwks.json" })},
		{"FetchJWKS: loopback URL with a fragment", "jwksURL", nil, "fragment", fetch(func(e *secBadEnv) string { return e.url + "/jwks.json#k" })},
		{"FetchJWKS: URL with user info", "jwksURL", nil, "user info", fetch(func(e *secBadEnv) string {
			return strings.Replace(e.url, "http://", "http://u:"+secSecret+"@", 1) + "/jwks.json"
		})},
		{"FetchJWKS: plain http to loopback without FetchInsecureLoopbackHTTP", "jwksURL", nil, "FetchInsecureLoopbackHTTP", func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := apikeys.FetchJWKS(ctx, e.url+"/jwks.json")
			return err
		}},
		{"FetchJWKS: FetchHTTPClient(nil)", "FetchHTTPClient", nil, "nil", func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := apikeys.FetchJWKS(ctx, e.url+"/jwks.json", apikeys.FetchHTTPClient(nil), apikeys.FetchInsecureLoopbackHTTP())
			return err
		}},
		{"FetchJWKS: nil FetchOption", "FetchOption", nil, "nil", func(ctx context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := apikeys.FetchJWKS(ctx, e.url+"/jwks.json", apikeys.FetchInsecureLoopbackHTTP(), nil)
			return err
		}},
		{"FetchJWKS: nil context", "ctx", nil, "nil", func(_ context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := apikeys.FetchJWKS(nil, e.url+"/jwks.json", apikeys.FetchInsecureLoopbackHTTP()) //nolint:staticcheck // the nil context is the bad input
			return err
		}},

		// Keys given to the SDK.
		{"NewJWK: nil key", "key", nil, "nil", func(context.Context, *secBadEnv, *testing.T) error { _, err := apikeys.NewJWK(nil, ""); return err }},
		{"NewJWK: RSA-1024", "key", nil, "1024 bits", func(_ context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := apikeys.NewJWK(&e.rsa1024.PublicKey, "")
			return err
		}},
		{"NewJWK: ES384 on a P-256 key", "alg", nil, "P-384", func(_ context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := apikeys.NewJWK(e.token.Key.Signer, apikeys.ES384)
			return err
		}},
		{"GenerateSigningKey: HS256", "alg", nil, "HS256", func(context.Context, *secBadEnv, *testing.T) error {
			_, err := apikeys.GenerateSigningKey("HS256")
			return err
		}},
		{"ParseSigningKey: empty", "key", nil, "empty", func(context.Context, *secBadEnv, *testing.T) error {
			_, err := apikeys.ParseSigningKey(nil, "")
			return err
		}},
		{"ParseSigningKey: a public key PEM", "key", nil, "public key", func(_ context.Context, e *secBadEnv, t *testing.T) error {
			der, err := x509.MarshalPKIXPublicKey(e.token.Key.Public())
			require.NoError(t, err)
			_, err = apikeys.ParseSigningKey(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), "")
			return err
		}},
		{"ParseSigningKey: RSA-1024 PEM", "key", nil, "1024 bits", func(_ context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := apikeys.ParseSigningKey(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(e.rsa1024)}), "")
			return err
		}},
		{"VerifyJWT: no allowed algs", "allowedAlgs", nil, "empty", func(_ context.Context, e *secBadEnv, _ *testing.T) error {
			_, err := apikeys.NewJWKSet(e.jwk["ec-p256"]).VerifyJWT("a.b.c", nil)
			return err
		}},
	}
}

// TestSecBadInputIsRefusedBeforeIO: every bad input is refused with its
// documented error (a *ValidationError naming the field, ErrNotConfigured
// or the context's error) before any I/O: one counting server sees no
// request and no connection across the whole table, and no error repeats
// a credential.
func TestSecBadInputIsRefusedBeforeIO(t *testing.T) {
	srv := secNewCountingServer(t)
	env := secNewBadEnv(t, srv)
	rows := secBadInputs()
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
			assert.NotContains(t, err.Error(), secSecret)
			assert.NotContains(t, fmt.Sprintf("%+v %#v", err, err), secSecret)
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

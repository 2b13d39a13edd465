package apikeys_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// rfc7638Thumbprint is the SHA-256 thumbprint RFC 7638 section 3.1
// publishes for the key of rfc7638N.
const rfc7638Thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

var allAlgs = []string{
	apikeys.RS256, apikeys.RS384, apikeys.RS512, apikeys.PS256, apikeys.PS384, apikeys.PS512,
	apikeys.ES256, apikeys.ES384, apikeys.ES512, apikeys.EdDSA,
}

// strictJWK parses a JWK the way a strict verifier does: go-jose, public only.
func strictJWK(t *testing.T, raw []byte) jose.JSONWebKey {
	t.Helper()
	var jk jose.JSONWebKey
	require.NoError(t, json.Unmarshal(raw, &jk), "go-jose must parse %s", raw)
	require.True(t, jk.Valid(), "go-jose Valid()")
	require.True(t, jk.IsPublic(), "go-jose IsPublic()")
	return jk
}

func members(t *testing.T, k apikeys.JWK) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(k.Raw(), &m))
	return m
}

func TestGenerateSigningKey(t *testing.T) {
	cases := []struct {
		alg  string
		kty  string
		crv  string
		bits int
	}{
		{alg: apikeys.RS256, kty: "RSA", crv: "", bits: 3072},
		{alg: apikeys.RS384, kty: "RSA", crv: "", bits: 3072},
		{alg: apikeys.RS512, kty: "RSA", crv: "", bits: 3072},
		{alg: apikeys.PS256, kty: "RSA", crv: "", bits: 3072},
		{alg: apikeys.PS384, kty: "RSA", crv: "", bits: 3072},
		{alg: apikeys.PS512, kty: "RSA", crv: "", bits: 3072},
		{alg: apikeys.ES256, kty: "EC", crv: "P-256", bits: 0},
		{alg: apikeys.ES384, kty: "EC", crv: "P-384", bits: 0},
		{alg: apikeys.ES512, kty: "EC", crv: "P-521", bits: 0},
		{alg: apikeys.EdDSA, kty: "OKP", crv: "Ed25519", bits: 0},
	}
	for _, tc := range cases {
		t.Run(tc.alg, func(t *testing.T) {
			t.Parallel()
			key := generatedKey(t, tc.alg)
			assert.Equal(t, tc.alg, key.Algorithm)
			switch k := key.Signer.(type) {
			case *rsa.PrivateKey:
				assert.Equal(t, "RSA", tc.kty)
				assert.Equal(t, tc.bits, k.N.BitLen())
			case *ecdsa.PrivateKey:
				assert.Equal(t, tc.crv, k.Curve.Params().Name)
			case ed25519.PrivateKey:
				assert.Equal(t, "OKP", tc.kty)
			default:
				t.Fatalf("unexpected signer type %T", key.Signer)
			}

			// The kid is the RFC 7638 thumbprint, computed by go-jose itself.
			sum, err := (&jose.JSONWebKey{Key: key.Public()}).Thumbprint(crypto.SHA256)
			require.NoError(t, err)
			assert.Equal(t, base64.RawURLEncoding.EncodeToString(sum), key.KeyID)

			// The public JWK parses strictly with go-jose, alone and in a set.
			jwk, err := key.JWK()
			require.NoError(t, err)
			jk := strictJWK(t, jwk.Raw())
			assert.Equal(t, key.KeyID, jk.KeyID)
			assert.Equal(t, tc.alg, jk.Algorithm)
			assert.Equal(t, "sig", jk.Use)
			m := members(t, jwk)
			assert.Equal(t, tc.kty, m["kty"])
			for _, priv := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
				assert.NotContains(t, m, priv)
			}
			setJSON, err := json.Marshal(apikeys.NewJWKSet(jwk))
			require.NoError(t, err)
			var strictSet jose.JSONWebKeySet
			require.NoError(t, json.Unmarshal(setJSON, &strictSet))
			require.Len(t, strictSet.Key(key.KeyID), 1)
			assert.True(t, strictSet.Key(key.KeyID)[0].Valid())

			tp, err := jwk.Thumbprint()
			require.NoError(t, err)
			assert.Equal(t, key.KeyID, tp)
			assert.NoError(t, apikeys.NewJWKSet(jwk).Validate())

			// A token go-jose signs with the key verifies against the set,
			// and go-jose verifies it with the JWK the SDK built.
			tok := signWithJose(t, key.Signer, tc.alg, key.KeyID, jwt.Claims{Subject: "s"})
			claims, err := apikeys.NewJWKSet(jwk).VerifyJWT(tok, []string{tc.alg})
			require.NoError(t, err)
			assert.Equal(t, "s", claims.Subject)
			parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tc.alg)})
			require.NoError(t, err)
			var c jwt.Claims
			assert.NoError(t, parsed.Claims(jk.Key, &c))
		})
	}
}

func TestGenerateSigningKeyUnknownAlg(t *testing.T) {
	for _, alg := range []string{"", "none", "HS256", "RS1", "rs384", "ES256K", "ed25519", "ED25519", "Ed448", "RSA-OAEP"} {
		t.Run(alg, func(t *testing.T) {
			_, err := apikeys.GenerateSigningKey(alg)
			var ve *apikeys.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "alg", ve.Field)
		})
	}
}

func TestRFC7638Thumbprint(t *testing.T) {
	raw := `{"kty":"RSA","n":"` + rfc7638N + `","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`
	k, err := apikeys.ParseJWK([]byte(raw))
	require.NoError(t, err)
	tp, err := k.Thumbprint()
	require.NoError(t, err)
	assert.Equal(t, rfc7638Thumbprint, tp)

	// NewJWK of the same public key uses the thumbprint as kid.
	pub, err := k.PublicKey()
	require.NoError(t, err)
	built, err := apikeys.NewJWK(pub, apikeys.RS256)
	require.NoError(t, err)
	assert.Equal(t, rfc7638Thumbprint, built.KeyID())
	assert.Equal(t, rfc7638N, members(t, built)["n"])
	assert.Equal(t, "AQAB", members(t, built)["e"])
	assert.NoError(t, apikeys.NewJWKSet(k, built).Validate() /* distinct kids */)
}

func TestHandWrittenJWKS(t *testing.T) {
	raw := fixture(t, "jwks.json")
	var set apikeys.JWKSet
	require.NoError(t, json.Unmarshal(raw, &set), "one unknown key type must not fail the set")
	require.Len(t, set.Keys, 6)

	// go-jose alone refuses the whole document because of the one AKP key.
	var strict jose.JSONWebKeySet
	assert.Error(t, json.Unmarshal(raw, &strict))

	want := []struct{ kid, kty, alg, use, crv string }{
		{kid: "rsa-2048", kty: "RSA", alg: "", use: "sig", crv: ""},
		{kid: "ec-p256", kty: "EC", alg: "ES256", use: "sig", crv: "P-256"},
		{kid: "ec-p384", kty: "EC", alg: "ES384", use: "", crv: "P-384"},
		{kid: "ec-p521", kty: "EC", alg: "ES512", use: "", crv: "P-521"},
		{kid: "ed25519", kty: "OKP", alg: "EdDSA", use: "", crv: "Ed25519"},
		{kid: "future-pq", kty: "AKP", alg: "ML-DSA-44", use: "", crv: ""},
	}
	for i, w := range want {
		k := set.Keys[i]
		assert.Equal(t, w.kid, k.KeyID(), "keys[%d]", i)
		assert.Equal(t, w.kty, k.KeyType(), "keys[%d]", i)
		assert.Equal(t, w.alg, k.Algorithm(), "keys[%d]", i)
		assert.Equal(t, w.use, k.Use(), "keys[%d]", i)
		assert.Equal(t, w.crv, k.Curve(), "keys[%d]", i)
		got, ok := set.Key(w.kid)
		assert.True(t, ok)
		assert.Equal(t, k.Raw(), got.Raw())
	}
	_, ok := set.Key("nope")
	assert.False(t, ok)

	// The unknown key round-trips with every member it had.
	out, err := json.Marshal(&set)
	require.NoError(t, err)
	assert.Contains(t, string(out), `"x-vendor":{"note":"a key type this SDK does not know"}`)
	_, err = set.Keys[5].PublicKey()
	assert.Error(t, err)

	// Validate refuses only the unknown key.
	var sErr *apikeys.JWKSetError
	require.ErrorAs(t, set.Validate(), &sErr)
	assert.Equal(t, []string{`keys[5] (kid "future-pq"): unknown kty "AKP" (want RSA, EC or OKP)`,
		`keys[5] (kid "future-pq"): alg "ML-DSA-44" is not a supported signature algorithm`}, sErr.Problems)

	// Each public key parses to the Go type of its private key file.
	priv := map[string]string{
		"rsa-2048": "rsa2048.pkcs8.pem", "ec-p256": "ec-p256.sec1.pem", "ec-p384": "ec-p384.pkcs8.pem",
		"ec-p521": "ec-p521.pkcs8.pem", "ed25519": "ed25519.pkcs8.pem",
	}
	for kid, file := range priv {
		sk, err := apikeys.ParseSigningKey(fixture(t, file), "")
		require.NoError(t, err, file)
		k, _ := set.Key(kid)
		pub, err := k.PublicKey()
		require.NoError(t, err, kid)
		assert.True(t, pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(sk.Public()), kid)
	}
}

func TestVerifyJWTEachAlg(t *testing.T) {
	var set apikeys.JWKSet
	require.NoError(t, json.Unmarshal(fixture(t, "jwks.json"), &set))
	keys := map[string]crypto.Signer{}
	for file, kid := range map[string]string{
		"rsa2048.pkcs1.pem": "rsa-2048", "ec-p256.sec1.pem": "ec-p256", "ec-p384.pkcs8.pem": "ec-p384",
		"ec-p521.pkcs8.pem": "ec-p521", "ed25519.pkcs8.pem": "ed25519",
	} {
		sk, err := apikeys.ParseSigningKey(fixture(t, file), "")
		require.NoError(t, err)
		keys[kid] = sk.Signer
	}
	cases := []struct{ alg, kid string }{
		{alg: apikeys.RS256, kid: "rsa-2048"}, {alg: apikeys.RS384, kid: "rsa-2048"}, {alg: apikeys.RS512, kid: "rsa-2048"},
		{alg: apikeys.PS256, kid: "rsa-2048"}, {alg: apikeys.PS384, kid: "rsa-2048"}, {alg: apikeys.PS512, kid: "rsa-2048"},
		{alg: apikeys.ES256, kid: "ec-p256"}, {alg: apikeys.ES384, kid: "ec-p384"}, {alg: apikeys.ES512, kid: "ec-p521"},
		{alg: apikeys.EdDSA, kid: "ed25519"},
	}
	for _, tc := range cases {
		t.Run(tc.alg, func(t *testing.T) {
			exp := time.Now().Add(time.Minute)
			tok := signWithJose(t, keys[tc.kid], tc.alg, tc.kid, map[string]any{
				"iss": "client-1", "aud": "https://example.test/token", "exp": exp.Unix(), "tenant": "acme",
			})
			var extra struct {
				Tenant string `json:"tenant"`
			}
			claims, err := set.VerifyJWT(tok, allAlgs, &extra)
			require.NoError(t, err)
			assert.Equal(t, "client-1", claims.Issuer)
			assert.Equal(t, jwt.Audience{"https://example.test/token"}, claims.Audience)
			assert.Equal(t, "acme", extra.Tenant)
			assert.NoError(t, claims.ValidateWithLeeway(jwt.Expected{Issuer: "client-1", AnyAudience: jwt.Audience{"https://example.test/token"}}, 0))

			// Not in the allow-list: refused before any key is looked at.
			others := []string{apikeys.ES256}
			if tc.alg == apikeys.ES256 {
				others = []string{apikeys.RS256}
			}
			_, err = set.VerifyJWT(tok, others)
			assert.Error(t, err)
		})
	}
}

func TestVerifyJWTErrors(t *testing.T) {
	ec := generatedKey(t, apikeys.ES256)
	ed := generatedKey(t, apikeys.EdDSA)
	ecJWK, err := ec.JWK()
	require.NoError(t, err)
	// A key with an alg member (ES256) and an OKP key without one, under
	// kids that tokens below reuse.
	edJWK, err := apikeys.NewJWK(ed.Public(), "")
	require.NoError(t, err)
	unknown, err := apikeys.ParseJWK([]byte(`{"kty":"XYZ","kid":"` + ec.KeyID + `"}`))
	require.NoError(t, err)
	unknownOnly, err := apikeys.ParseJWK([]byte(`{"kty":"XYZ","kid":"XYZ-only"}`))
	require.NoError(t, err)
	// The unknown key shares the kid and comes first: it is skipped.
	set := apikeys.NewJWKSet(unknown, ecJWK, edJWK, unknownOnly)

	good := signWithJose(t, ec.Signer, apikeys.ES256, ec.KeyID, jwt.Claims{Subject: "ok"})
	claims, err := set.VerifyJWT(good, []string{apikeys.ES256})
	require.NoError(t, err)
	assert.Equal(t, "ok", claims.Subject)

	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	hmacTok := signWithJose(t, []byte("0123456789abcdef0123456789abcdef"), "HS256", ec.KeyID, jwt.Claims{})
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin"}`)) + "." + parts[2]
	noneTok := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"`+ec.KeyID+`"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"x"}`)) + "."

	cases := []struct {
		name    string
		token   string
		algs    []string
		want    string
		unknown bool
	}{
		{name: "empty allow-list", token: good, algs: nil, want: "allowedAlgs", unknown: false},
		{name: "none allowed", token: good, algs: []string{"none"}, want: "allowedAlgs", unknown: false},
		{name: "HS256 allowed", token: good, algs: []string{"HS256"}, want: "allowedAlgs", unknown: false},
		{name: "alg none token", token: noneTok, algs: []string{apikeys.ES256}, want: "", unknown: false},
		{name: "HMAC token", token: hmacTok, algs: []string{apikeys.ES256}, want: "", unknown: false},
		{name: "not a JWT", token: "abc", algs: []string{apikeys.ES256}, want: "", unknown: false},
		{name: "no kid", token: signWithJose(t, ec.Signer, apikeys.ES256, "", jwt.Claims{}), algs: []string{apikeys.ES256}, want: "no kid", unknown: false},
		{name: "unknown kid", token: signWithJose(t, ec.Signer, apikeys.ES256, "who", jwt.Claims{}), algs: []string{apikeys.ES256}, want: "", unknown: true},
		{name: "wrong key", token: signWithJose(t, other, apikeys.ES256, ec.KeyID, jwt.Claims{}), algs: []string{apikeys.ES256}, want: "", unknown: false},
		{name: "tampered payload", token: tampered, algs: []string{apikeys.ES256}, want: "", unknown: false},
		{name: "alg does not fit key type", token: signWithJose(t, ed.Signer, apikeys.EdDSA, ec.KeyID, jwt.Claims{}), algs: []string{apikeys.EdDSA}, want: "needs a OKP key", unknown: false},
		{name: "alg differs from key alg", token: signWithJose(t, mustP384(t), apikeys.ES384, ec.KeyID, jwt.Claims{}), algs: []string{apikeys.ES384}, want: "needs crv P-384", unknown: false},
		{name: "only unknown key has kid", token: signWithJose(t, ec.Signer, apikeys.ES256, "XYZ-only", jwt.Claims{}), algs: []string{apikeys.ES256}, want: "", unknown: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := set.VerifyJWT(tc.token, tc.algs)
			require.Error(t, err)
			if tc.want != "" {
				assert.Contains(t, err.Error(), tc.want)
			}
			assert.Equal(t, tc.unknown, errors.Is(err, apikeys.ErrUnknownKeyID), err.Error())
		})
	}

	// A key whose own alg member differs from the token's header alg.
	rs := generatedKey(t, apikeys.RS384)
	rsJWK, err := rs.JWK() // alg RS384
	require.NoError(t, err)
	ps := signWithJose(t, rs.Signer, apikeys.PS256, rs.KeyID, jwt.Claims{})
	_, err = apikeys.NewJWKSet(rsJWK).VerifyJWT(ps, []string{apikeys.PS256, apikeys.RS384})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `differs from key`)

	var nilSet *apikeys.JWKSet
	_, err = nilSet.VerifyJWT(good, []string{apikeys.ES256})
	assert.Error(t, err)
}

func mustP384(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	return k
}

// ecJSON returns the public members of a new key on curve as a JWK object body.
func ecMembers(t *testing.T, curve elliptic.Curve, crv string) string {
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	require.NoError(t, err)
	size := (curve.Params().BitSize + 7) / 8
	x, y := make([]byte, size), make([]byte, size)
	k.X.FillBytes(x)
	k.Y.FillBytes(y)
	return fmt.Sprintf(`"kty":"EC","crv":%q,"x":%q,"y":%q`, crv,
		base64.RawURLEncoding.EncodeToString(x), base64.RawURLEncoding.EncodeToString(y))
}

func TestValidateRules(t *testing.T) {
	rsa2048 := `"kty":"RSA","n":"` + rfc7638N + `","e":"AQAB"`
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	rsa1024 := `"kty":"RSA","n":"` + base64.RawURLEncoding.EncodeToString(small.N.Bytes()) + `","e":"AQAB"`
	p256 := ecMembers(t, elliptic.P256(), "P-256")
	p384 := ecMembers(t, elliptic.P384(), "P-384")
	p521 := ecMembers(t, elliptic.P521(), "P-521")
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	ed := `"kty":"OKP","crv":"Ed25519","x":"` + base64.RawURLEncoding.EncodeToString(edPub) + `"`
	notOnCurve := strings.Replace(p256, `"y":"`, `"y":"A`, 1)
	notOnCurve = notOnCurve[:len(notOnCurve)-2] + `"` // same length, other value

	cases := []struct {
		name string
		keys []string // JWK object bodies, without braces
		want []string // every problem, in order
	}{
		{name: "valid RSA", keys: []string{`"kid":"a",` + rsa2048}, want: nil},
		{name: "valid RSA with alg and use", keys: []string{`"kid":"a","alg":"PS512","use":"sig",` + rsa2048}, want: nil},
		{name: "valid P-256", keys: []string{`"kid":"a","alg":"ES256",` + p256}, want: nil},
		{name: "valid P-384", keys: []string{`"kid":"a","alg":"ES384",` + p384}, want: nil},
		{name: "valid P-521", keys: []string{`"kid":"a","alg":"ES512",` + p521}, want: nil},
		{name: "valid Ed25519", keys: []string{`"kid":"a","alg":"EdDSA",` + ed}, want: nil},
		{name: "empty set", keys: nil, want: nil},
		{name: "missing kid", keys: []string{rsa2048}, want: []string{`keys[0] (kid ""): missing kid`}},
		{name: "duplicate kid", keys: []string{`"kid":"a",` + rsa2048, `"kid":"b",` + p256, `"kid":"a",` + ed},
			want: []string{`keys[2] (kid "a"): duplicate kid (also keys[0])`}},
		{name: "missing kty", keys: []string{`"kid":"a","n":"AQAB","e":"AQAB"`}, want: []string{`keys[0] (kid "a"): missing kty`}},
		{name: "unknown kty", keys: []string{`"kid":"a","kty":"XYZ"`}, want: []string{`keys[0] (kid "a"): unknown kty "XYZ" (want RSA, EC or OKP)`}},
		{name: "oct key", keys: []string{`"kid":"a","kty":"oct","k":"c2VjcmV0"`}, want: []string{
			`keys[0] (kid "a"): holds private key member "k"`,
			`keys[0] (kid "a"): kty "oct" is a symmetric key; only public keys are allowed`}},
		{name: "private d", keys: []string{`"kid":"a","d":"AAAA",` + p256}, want: []string{`keys[0] (kid "a"): holds private key member "d"`}},
		{name: "private p", keys: []string{`"kid":"a","p":"AAAA",` + rsa2048}, want: []string{`keys[0] (kid "a"): holds private key member "p"`}},
		{name: "private q", keys: []string{`"kid":"a","q":"AAAA",` + rsa2048}, want: []string{`keys[0] (kid "a"): holds private key member "q"`}},
		{name: "private dp", keys: []string{`"kid":"a","dp":"AAAA",` + rsa2048}, want: []string{`keys[0] (kid "a"): holds private key member "dp"`}},
		{name: "private dq", keys: []string{`"kid":"a","dq":"AAAA",` + rsa2048}, want: []string{`keys[0] (kid "a"): holds private key member "dq"`}},
		{name: "private qi", keys: []string{`"kid":"a","qi":"AAAA",` + rsa2048}, want: []string{`keys[0] (kid "a"): holds private key member "qi"`}},
		{name: "private k", keys: []string{`"kid":"a","k":"AAAA",` + ed}, want: []string{`keys[0] (kid "a"): holds private key member "k"`}},
		{name: "every RSA private member", keys: []string{`"kid":"a","d":"A","p":"A","q":"A","dp":"A","dq":"A","qi":"A",` + rsa2048}, want: []string{
			`keys[0] (kid "a"): holds private key member "d"`, `keys[0] (kid "a"): holds private key member "p"`,
			`keys[0] (kid "a"): holds private key member "q"`, `keys[0] (kid "a"): holds private key member "dp"`,
			`keys[0] (kid "a"): holds private key member "dq"`, `keys[0] (kid "a"): holds private key member "qi"`}},
		{name: "RSA under 2048 bits", keys: []string{`"kid":"a",` + rsa1024}, want: []string{`keys[0] (kid "a"): RSA modulus is 1024 bits, under 2048`}},
		{name: "EC curve P-192", keys: []string{`"kid":"a","kty":"EC","crv":"P-192","x":"AA","y":"AA"`}, want: []string{`keys[0] (kid "a"): EC crv "P-192" is not P-256, P-384 or P-521`}},
		{name: "EC curve secp256k1", keys: []string{`"kid":"a","kty":"EC","crv":"secp256k1","x":"AA","y":"AA"`}, want: []string{`keys[0] (kid "a"): EC crv "secp256k1" is not P-256, P-384 or P-521`}},
		{name: "EC curve missing", keys: []string{`"kid":"a","kty":"EC","x":"AA","y":"AA"`}, want: []string{`keys[0] (kid "a"): EC crv "" is not P-256, P-384 or P-521`}},
		{name: "OKP X25519", keys: []string{`"kid":"a","kty":"OKP","crv":"X25519","x":"AA"`}, want: []string{`keys[0] (kid "a"): OKP crv "X25519" is not Ed25519`}},
		{name: "OKP Ed448", keys: []string{`"kid":"a","kty":"OKP","crv":"Ed448","x":"AA"`}, want: []string{`keys[0] (kid "a"): OKP crv "Ed448" is not Ed25519`}},
		{name: "alg RS256 on EC", keys: []string{`"kid":"a","alg":"RS256",` + p256}, want: []string{`keys[0] (kid "a"): alg "RS256" needs a RSA key, not kty "EC"`}},
		{name: "alg PS256 on OKP", keys: []string{`"kid":"a","alg":"PS256",` + ed}, want: []string{`keys[0] (kid "a"): alg "PS256" needs a RSA key, not kty "OKP"`}},
		{name: "alg ES256 on RSA", keys: []string{`"kid":"a","alg":"ES256",` + rsa2048}, want: []string{`keys[0] (kid "a"): alg "ES256" needs a EC key, not kty "RSA"`}},
		{name: "alg ES384 on P-256", keys: []string{`"kid":"a","alg":"ES384",` + p256}, want: []string{`keys[0] (kid "a"): alg "ES384" needs crv P-384, not "P-256"`}},
		{name: "alg ES256 on P-521", keys: []string{`"kid":"a","alg":"ES256",` + p521}, want: []string{`keys[0] (kid "a"): alg "ES256" needs crv P-256, not "P-521"`}},
		{name: "alg ES512 on P-384", keys: []string{`"kid":"a","alg":"ES512",` + p384}, want: []string{`keys[0] (kid "a"): alg "ES512" needs crv P-521, not "P-384"`}},
		{name: "alg EdDSA on EC", keys: []string{`"kid":"a","alg":"EdDSA",` + p256}, want: []string{`keys[0] (kid "a"): alg "EdDSA" needs a OKP key, not kty "EC"`}},
		{name: "alg none", keys: []string{`"kid":"a","alg":"none",` + rsa2048}, want: []string{`keys[0] (kid "a"): alg "none" is not allowed`}},
		{name: "alg HS256", keys: []string{`"kid":"a","alg":"HS256",` + rsa2048}, want: []string{`keys[0] (kid "a"): alg "HS256" is symmetric; only public-key signature algorithms are allowed`}},
		{name: "alg RSA-OAEP", keys: []string{`"kid":"a","alg":"RSA-OAEP",` + rsa2048}, want: []string{`keys[0] (kid "a"): alg "RSA-OAEP" is not a supported signature algorithm`}},
		{name: "use enc", keys: []string{`"kid":"a","use":"enc",` + rsa2048}, want: []string{`keys[0] (kid "a"): use "enc" is not "sig"`}},
		{name: "RSA without n", keys: []string{`"kid":"a","kty":"RSA","e":"AQAB"`}, want: []string{`keys[0] (kid "a"): public key members do not parse`}},
		{name: "RSA bad e", keys: []string{`"kid":"a","kty":"RSA","n":"` + rfc7638N + `","e":"AQ"`}, want: []string{`keys[0] (kid "a"): public key members do not parse`}},
		{name: "EC point not on curve", keys: []string{`"kid":"a",` + notOnCurve}, want: []string{`keys[0] (kid "a"): public key members do not parse`}},
		{name: "EC bad base64", keys: []string{`"kid":"a","kty":"EC","crv":"P-256","x":"!!","y":"AA"`}, want: []string{`keys[0] (kid "a"): public key members do not parse`}},
		{name: "Ed25519 short x", keys: []string{`"kid":"a","kty":"OKP","crv":"Ed25519","x":"AAAA"`}, want: []string{`keys[0] (kid "a"): public key members do not parse`}},
		{name: "kid not a string", keys: []string{`"kid":7,` + rsa2048}, want: []string{`keys[0] (kid ""): kid is not a string`, `keys[0] (kid ""): missing kid`}},
		{name: "use not a string", keys: []string{`"kid":"a","use":["sig"],` + rsa2048}, want: []string{`keys[0] (kid "a"): use is not a string`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set := &apikeys.JWKSet{}
			for _, body := range tc.keys {
				k, err := apikeys.ParseJWK([]byte("{" + body + "}"))
				require.NoError(t, err)
				set.Keys = append(set.Keys, k)
			}
			err := set.Validate()
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			var sErr *apikeys.JWKSetError
			require.ErrorAs(t, err, &sErr)
			assert.Equal(t, tc.want, sErr.Problems)
			for _, p := range tc.want {
				assert.Contains(t, err.Error(), p)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	var set apikeys.JWKSet
	require.NoError(t, json.Unmarshal([]byte(`{"keys":[
		{"kid":"ok","kty":"RSA","n":"`+rfc7638N+`","e":"AQAB"},
		{"kty":"oct","k":"c2VjcmV0","alg":"HS256"},
		{"kid":"ok","kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA","use":"enc"},
		{"kid":"z","kty":"RSA","n":"AQAB","e":"AQAB","alg":"none"}
	]}`), &set))
	set.Keys = append(set.Keys, apikeys.JWK{}) // not a JSON object: the zero JWK
	err := set.Validate()
	var sErr *apikeys.JWKSetError
	require.ErrorAs(t, err, &sErr)
	assert.Equal(t, []string{
		`keys[1] (kid ""): missing kid`,
		`keys[1] (kid ""): holds private key member "k"`,
		`keys[1] (kid ""): kty "oct" is a symmetric key; only public keys are allowed`,
		`keys[1] (kid ""): alg "HS256" is symmetric; only public-key signature algorithms are allowed`,
		`keys[2] (kid "ok"): duplicate kid (also keys[0])`,
		`keys[2] (kid "ok"): holds private key member "d"`,
		`keys[2] (kid "ok"): public key members do not parse`,
		`keys[2] (kid "ok"): use "enc" is not "sig"`,
		`keys[3] (kid "z"): RSA modulus is 17 bits, under 2048`,
		`keys[3] (kid "z"): alg "none" is not allowed`,
		`keys[4] (kid ""): not a JSON object`,
	}, sErr.Problems)
	assert.True(t, strings.HasPrefix(err.Error(), "apikeys: JWKSet.Validate: invalid JWK set: keys[1]"), err.Error())

	var nilSet *apikeys.JWKSet
	assert.Error(t, nilSet.Validate())
}

func TestNewJWK(t *testing.T) {
	rs := generatedKey(t, apikeys.RS384).Signer.(*rsa.PrivateKey)
	ec := generatedKey(t, apikeys.ES384).Signer.(*ecdsa.PrivateKey)
	ed := generatedKey(t, apikeys.EdDSA).Signer.(ed25519.PrivateKey)
	cases := []struct {
		name    string
		key     crypto.PublicKey
		alg     string
		wantAlg string
		kty     string
	}{
		{name: "RSA public", key: &rs.PublicKey, alg: apikeys.RS256, wantAlg: apikeys.RS256, kty: "RSA"},
		{name: "RSA public value", key: rs.PublicKey, alg: apikeys.PS384, wantAlg: apikeys.PS384, kty: "RSA"},
		{name: "RSA private", key: rs, alg: apikeys.RS384, wantAlg: apikeys.RS384, kty: "RSA"},
		{name: "RSA infer", key: &rs.PublicKey, alg: "", wantAlg: apikeys.RS384, kty: "RSA"},
		{name: "EC public", key: &ec.PublicKey, alg: apikeys.ES384, wantAlg: apikeys.ES384, kty: "EC"},
		{name: "EC private infer", key: ec, alg: "", wantAlg: apikeys.ES384, kty: "EC"},
		{name: "Ed25519 public", key: ed.Public(), alg: apikeys.EdDSA, wantAlg: apikeys.EdDSA, kty: "OKP"},
		{name: "Ed25519 private", key: ed, alg: "", wantAlg: apikeys.EdDSA, kty: "OKP"},
		{name: "opaque signer", key: wrappedSigner{s: ec}, alg: apikeys.ES384, wantAlg: apikeys.ES384, kty: "EC"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := apikeys.NewJWK(tc.key, tc.alg)
			require.NoError(t, err)
			m := members(t, k)
			assert.Equal(t, tc.kty, m["kty"])
			assert.Equal(t, tc.wantAlg, m["alg"])
			assert.Equal(t, "sig", m["use"])
			for _, priv := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
				assert.NotContains(t, m, priv)
			}
			jk := strictJWK(t, k.Raw())
			tp, err := jk.Thumbprint(crypto.SHA256)
			require.NoError(t, err)
			assert.Equal(t, base64.RawURLEncoding.EncodeToString(tp), k.KeyID())
			assert.NoError(t, apikeys.NewJWKSet(k).Validate())
		})
	}

	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	require.NoError(t, err)
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	require.NoError(t, err)
	bad := []struct {
		name string
		key  crypto.PublicKey
		alg  string
	}{
		{name: "nil", key: nil, alg: ""},
		{name: "RSA 1024", key: &small.PublicKey, alg: apikeys.RS256},
		{name: "RSA 1024 private", key: small, alg: ""},
		{name: "P-224", key: &p224.PublicKey, alg: ""},
		{name: "X25519", key: x25519.PublicKey(), alg: ""},
		{name: "symmetric", key: []byte("secret"), alg: ""},
		{name: "RSA with ES256", key: &rs.PublicKey, alg: apikeys.ES256},
		{name: "P-384 with ES256", key: &ec.PublicKey, alg: apikeys.ES256},
		{name: "Ed25519 with RS256", key: ed.Public(), alg: apikeys.RS256},
		{name: "EC with EdDSA", key: ec, alg: apikeys.EdDSA},
		{name: "alg none", key: &rs.PublicKey, alg: "none"},
		{name: "alg HS256", key: &rs.PublicKey, alg: "HS256"},
		{name: "short Ed25519", key: ed25519.PublicKey([]byte{1, 2, 3}), alg: ""},
	}
	for _, tc := range bad {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			_, err := apikeys.NewJWK(tc.key, tc.alg)
			var ve *apikeys.ValidationError
			assert.ErrorAs(t, err, &ve)
		})
	}
}

func TestSigningKeyJWKKeepsKeyID(t *testing.T) {
	ec := generatedKey(t, apikeys.ES256)
	custom := apikeys.SigningKey{Signer: ec.Signer, KeyID: "2024-rotation-1", Algorithm: apikeys.ES256}
	k, err := custom.JWK()
	require.NoError(t, err)
	assert.Equal(t, "2024-rotation-1", k.KeyID())
	assert.Equal(t, apikeys.ES256, k.Algorithm())

	_, err = apikeys.SigningKey{KeyID: "x", Algorithm: apikeys.ES256}.JWK()
	assert.Error(t, err)
	_, err = apikeys.SigningKey{Signer: ec.Signer, KeyID: "x", Algorithm: apikeys.ES384}.JWK()
	assert.Error(t, err)
	assert.Nil(t, apikeys.SigningKey{}.Public())
}

// TestSigningKeyKeyIDRules: ParseSigningKey and SigningKey.JWK refuse a
// kid that signing (NewTokenSource) refuses, so no JWK is published under
// a kid no assertion can carry: a kid with any Unicode control character
// (category Cc, C0 and C1), and, for SigningKey.JWK, an empty KeyID.
func TestSigningKeyKeyIDRules(t *testing.T) {
	ec := generatedKey(t, apikeys.ES256)
	type testCase struct {
		name string
		kid  string
		ok   bool
	}
	var cases []testCase
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if unicode.IsControl(r) {
			cases = append(cases, testCase{name: fmt.Sprintf("%U", r), kid: "a" + string(r) + "b"})
		}
	}
	require.Len(t, cases, 65, "Cc is U+0000-U+001F and U+007F-U+009F")
	cases = append(cases,
		testCase{name: "space", kid: "a b", ok: true},
		testCase{name: "NO-BREAK SPACE", kid: "a\u00a0b", ok: true},
		testCase{name: "non-ASCII", kid: "clé-ключ", ok: true},
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			priv, err := json.Marshal(jose.JSONWebKey{Key: ec.Signer, KeyID: tc.kid})
			require.NoError(t, err)
			var ve *apikeys.ValidationError
			parsed, err := apikeys.ParseSigningKey(priv, "")
			jwk, jwkErr := apikeys.SigningKey{Signer: ec.Signer, KeyID: tc.kid, Algorithm: apikeys.ES256}.JWK()
			if tc.ok {
				assert.NoError(t, err)
				assert.Equal(t, tc.kid, parsed.KeyID)
				assert.NoError(t, jwkErr)
				assert.Equal(t, tc.kid, jwk.KeyID())
				return
			}
			assert.ErrorAs(t, err, &ve)
			assert.ErrorContains(t, err, "control characters")
			assert.ErrorAs(t, jwkErr, &ve)
			assert.ErrorContains(t, jwkErr, "control characters")
		})
	}
	t.Run("empty KeyID", func(t *testing.T) {
		_, err := apikeys.SigningKey{Signer: ec.Signer, Algorithm: apikeys.ES256}.JWK()
		var ve *apikeys.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "SigningKey.KeyID", ve.Field)
	})
}

func pemEncode(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestParseSigningKey(t *testing.T) {
	rsaPKCS8 := fixture(t, "rsa2048.pkcs8.pem")
	rsaPKCS1 := fixture(t, "rsa2048.pkcs1.pem")
	ecSEC1 := fixture(t, "ec-p256.sec1.pem")
	ec384 := fixture(t, "ec-p384.pkcs8.pem")
	ec521 := fixture(t, "ec-p521.pkcs8.pem")
	ed := fixture(t, "ed25519.pkcs8.pem")
	// A private JWK as go-jose writes it, with a kid of its own.
	rk, err := apikeys.ParseSigningKey(rsaPKCS8, "")
	require.NoError(t, err)
	privJWK, err := json.Marshal(jose.JSONWebKey{Key: rk.Signer, KeyID: "jwk-kid", Algorithm: "PS256"})
	require.NoError(t, err)
	ek, err := apikeys.ParseSigningKey(ec384, "")
	require.NoError(t, err)
	ecJWK, err := json.Marshal(jose.JSONWebKey{Key: ek.Signer})
	require.NoError(t, err)
	ek2, err := apikeys.ParseSigningKey(ed, "")
	require.NoError(t, err)
	edJWK, err := json.Marshal(jose.JSONWebKey{Key: ek2.Signer, KeyID: "ed"})
	require.NoError(t, err)

	cases := []struct {
		name    string
		data    []byte
		alg     string
		wantAlg string
		kid     string // "" means the thumbprint
	}{
		{name: "RSA PKCS#8 infer", data: rsaPKCS8, alg: "", wantAlg: apikeys.RS384, kid: ""},
		{name: "RSA PKCS#1 infer", data: rsaPKCS1, alg: "", wantAlg: apikeys.RS384, kid: ""},
		{name: "RSA PKCS#1 PS512", data: rsaPKCS1, alg: apikeys.PS512, wantAlg: apikeys.PS512, kid: ""},
		{name: "EC SEC1 after EC PARAMETERS", data: ecSEC1, alg: "", wantAlg: apikeys.ES256, kid: ""},
		{name: "EC P-384 PKCS#8", data: ec384, alg: "", wantAlg: apikeys.ES384, kid: ""},
		{name: "EC P-521 PKCS#8", data: ec521, alg: apikeys.ES512, wantAlg: apikeys.ES512, kid: ""},
		{name: "Ed25519 PKCS#8", data: ed, alg: "", wantAlg: apikeys.EdDSA, kid: ""},
		{name: "RSA JWK with alg and kid", data: privJWK, alg: "", wantAlg: apikeys.PS256, kid: "jwk-kid"},
		{name: "RSA JWK same alg given", data: privJWK, alg: apikeys.PS256, wantAlg: apikeys.PS256, kid: "jwk-kid"},
		{name: "EC JWK", data: ecJWK, alg: "", wantAlg: apikeys.ES384, kid: ""},
		{name: "Ed25519 JWK", data: edJWK, alg: "", wantAlg: apikeys.EdDSA, kid: "ed"},
		{name: "surrounding space", data: append(append([]byte("\n  "), ed...), "\n\n"...), alg: "", wantAlg: apikeys.EdDSA, kid: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := apikeys.ParseSigningKey(tc.data, tc.alg)
			require.NoError(t, err)
			assert.Equal(t, tc.wantAlg, k.Algorithm)
			want := tc.kid
			if want == "" {
				sum, err := (&jose.JSONWebKey{Key: k.Public()}).Thumbprint(crypto.SHA256)
				require.NoError(t, err)
				want = base64.RawURLEncoding.EncodeToString(sum)
			}
			assert.Equal(t, want, k.KeyID)
			// It signs, and the signature verifies with its own JWK.
			jwk, err := k.JWK()
			require.NoError(t, err)
			tok := signWithJose(t, k.Signer, k.Algorithm, k.KeyID, jwt.Claims{Subject: "x"})
			_, err = apikeys.NewJWKSet(jwk).VerifyJWT(tok, []string{k.Algorithm})
			assert.NoError(t, err)
		})
	}

	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	smallDER, err := x509.MarshalPKCS8PrivateKey(small)
	require.NoError(t, err)
	pubDER, err := x509.MarshalPKIXPublicKey(rk.Public())
	require.NoError(t, err)
	pubJWK, err := json.Marshal(jose.JSONWebKey{Key: rk.Public()})
	require.NoError(t, err)
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	require.NoError(t, err)
	xDER, err := x509.MarshalPKCS8PrivateKey(x25519)
	require.NoError(t, err)
	block, _ := pem.Decode(rsaPKCS8)
	corrupt := bytes.Clone(block.Bytes)
	corrupt[len(corrupt)/2] ^= 0xff
	corrupt = corrupt[:len(corrupt)-40]
	encrypted := []byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00000000000000000000000000000000\n\nAAAA\n-----END RSA PRIVATE KEY-----\n")

	bad := []struct {
		name string
		data []byte
		alg  string
		want string
	}{
		{name: "empty", data: nil, alg: "", want: "is empty"},
		{name: "garbage", data: []byte("not a key"), alg: "", want: "no PEM private key"},
		{name: "RSA 1024", data: pemEncode("PRIVATE KEY", smallDER), alg: "", want: "under 2048"},
		{name: "public PEM", data: pemEncode("PUBLIC KEY", pubDER), alg: "", want: "public key"},
		{name: "certificate", data: pemEncode("CERTIFICATE", []byte{1}), alg: "", want: "public key"},
		{name: "public JWK", data: pubJWK, alg: "", want: "public key"},
		{name: "oct JWK", data: []byte(`{"kty":"oct","k":"c2VjcmV0"}`), alg: "", want: "symmetric"},
		{name: "bad JSON", data: []byte(`{"kty":`), alg: "", want: "not valid JSON"},
		{name: "encrypted PKCS#8", data: pemEncode("ENCRYPTED PRIVATE KEY", []byte{1}), alg: "", want: "encrypted"},
		{name: "encrypted PKCS#1", data: encrypted, alg: "", want: "encrypted"},
		{name: "corrupt PKCS#8", data: pemEncode("PRIVATE KEY", corrupt), alg: "", want: "does not parse"},
		{name: "X25519", data: pemEncode("PRIVATE KEY", xDER), alg: "", want: "cannot sign"},
		{name: "alg mismatch RSA", data: rsaPKCS8, alg: apikeys.ES256, want: "needs a EC key"},
		{name: "alg mismatch curve", data: ecSEC1, alg: apikeys.ES384, want: "needs crv P-384"},
		{name: "alg none", data: rsaPKCS8, alg: "none", want: "not allowed"},
		{name: "JWK alg differs", data: privJWK, alg: apikeys.RS256, want: "differs"},
		{name: "unknown PEM type", data: pemEncode("OPENSSH PRIVATE KEY", []byte{1}), alg: "", want: "not a supported"},
	}
	for _, tc := range bad {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			_, err := apikeys.ParseSigningKey(tc.data, tc.alg)
			var ve *apikeys.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Contains(t, err.Error(), tc.want)
			assertNoKeyMaterial(t, err.Error(), tc.data)
		})
	}
}

// assertNoKeyMaterial checks that s holds no run of 12 characters from the
// base64 body of PEM or JSON key data.
func assertNoKeyMaterial(t *testing.T, s string, data []byte) {
	t.Helper()
	var chunks []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "-----") || strings.Contains(line, ":") && !strings.HasPrefix(line, "{") {
			continue
		}
		chunks = append(chunks, line)
	}
	var m map[string]any
	if json.Unmarshal(data, &m) == nil {
		chunks = chunks[:0]
		for _, v := range m {
			if s, ok := v.(string); ok && len(s) > 12 {
				chunks = append(chunks, s)
			}
		}
	}
	for _, c := range chunks {
		for i := 0; i+12 <= len(c); i += 6 {
			if strings.Contains(s, c[i:i+12]) {
				t.Errorf("%q contains key material %q", s, c[i:i+12])
				return
			}
		}
	}
}

func TestFetchJWKS(t *testing.T) {
	jwksBody := fixture(t, "jwks.json")
	big := `{"keys":[` + strings.Repeat(`{"kty":"XYZ","kid":"pad","x":"`+strings.Repeat("A", 1000)+`"},`, 1100) + `{"kty":"XYZ"}]}`
	cases := []struct {
		name   string
		status int
		ct     string
		body   string
		keys   int
		check  func(t *testing.T, err error)
	}{
		{name: "jwk-set+json", status: 200, ct: "application/jwk-set+json", body: string(jwksBody), keys: 6, check: nil},
		{name: "json with charset", status: 200, ct: "application/json; charset=utf-8", body: string(jwksBody), keys: 6, check: nil},
		{name: "other +json", status: 200, ct: "application/vnd.acme+json", body: `{"keys":[]}`, keys: 0, check: nil},
		{name: "html", status: 200, ct: "text/html", body: "<html>login</html>", keys: 0, check: func(t *testing.T, err error) {
			var de *apikeys.DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, "text/html", de.ContentType)
			assert.Contains(t, de.Excerpt, "login")
		}},
		{name: "no content type", status: 200, ct: "", body: `{"keys":[]}`, keys: 0, check: func(t *testing.T, err error) {
			var de *apikeys.DecodeError
			assert.ErrorAs(t, err, &de)
		}},
		{name: "bad JSON", status: 200, ct: "application/json", body: `{"keys":[`, keys: 0, check: func(t *testing.T, err error) {
			var de *apikeys.DecodeError
			assert.ErrorAs(t, err, &de)
		}},
		{name: "keys missing", status: 200, ct: "application/json", body: `{"other":1}`, keys: 0, check: func(t *testing.T, err error) {
			var de *apikeys.DecodeError
			require.ErrorAs(t, err, &de)
			assert.Contains(t, de.Error(), `"keys" member is missing`)
		}},
		{name: "key not an object", status: 200, ct: "application/json", body: `{"keys":["x"]}`, keys: 0, check: func(t *testing.T, err error) {
			var de *apikeys.DecodeError
			assert.ErrorAs(t, err, &de)
		}},
		{name: "over 1 MiB", status: 200, ct: "application/json", body: big, keys: 0, check: func(t *testing.T, err error) {
			var de *apikeys.DecodeError
			require.ErrorAs(t, err, &de)
			assert.Contains(t, de.Error(), "exceeds")
		}},
		{name: "404", status: 404, ct: "application/json", body: `{"message":"no such set"}`, keys: 0, check: func(t *testing.T, err error) {
			var ae *apikeys.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, 404, ae.StatusCode)
			assert.Equal(t, "no such set", ae.Message)
			assert.NotContains(t, ae.URL, "secret")
			assert.ErrorIs(t, err, apikeys.ErrNotFound)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var gotAccept string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotAccept = r.Header.Get("Accept")
				assert.Equal(t, "/tenant/.well-known/jwks.json", r.URL.Path)
				if tc.ct != "" {
					w.Header().Set("Content-Type", tc.ct)
				} else {
					w.Header()["Content-Type"] = nil
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			set, err := apikeys.FetchJWKS(context.Background(), srv.URL+"/tenant/.well-known/jwks.json?secret=1", apikeys.FetchInsecureLoopbackHTTP())
			if tc.check != nil {
				require.Error(t, err)
				tc.check(t, err)
				return
			}
			require.NoError(t, err)
			assert.Len(t, set.Keys, tc.keys)
			assert.Contains(t, gotAccept, "application/jwk-set+json")
		})
	}
}

func TestFetchJWKSRefusals(t *testing.T) {
	ctx := context.Background()
	// A server that must not be reached: every refusal comes before I/O.
	var reached atomic.Int64
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"keys":[]}`)
	}))
	defer loop.Close()
	for _, u := range []string{"http://example.com/jwks", "http://10.0.0.1/jwks", "ftp://localhost/jwks", "jwks.json",
		"https://user:pw@example.com/jwks", "https://example.com/jwks#frag", loop.URL + "/jwks#frag"} {
		for _, opts := range [][]apikeys.FetchOption{nil, {apikeys.FetchInsecureLoopbackHTTP()}} {
			_, err := apikeys.FetchJWKS(ctx, u, opts...)
			var ve *apikeys.ValidationError
			require.ErrorAs(t, err, &ve, u)
			assert.Equal(t, "jwksURL", ve.Field)
			assert.NotContains(t, err.Error(), "WithInsecureHTTP", "a Client option does not apply to FetchJWKS")
		}
	}
	// Plain http to loopback needs FetchInsecureLoopbackHTTP.
	for _, u := range []string{loop.URL + "/jwks", strings.Replace(loop.URL, "127.0.0.1", "localhost", 1) + "/jwks"} {
		_, err := apikeys.FetchJWKS(ctx, u)
		var ve *apikeys.ValidationError
		require.ErrorAs(t, err, &ve, u)
		assert.Equal(t, "jwksURL", ve.Field)
		assert.Contains(t, ve.Reason, "FetchInsecureLoopbackHTTP")
		assert.NotContains(t, err.Error(), "WithInsecureHTTP")
	}
	// Bad options.
	_, err := apikeys.FetchJWKS(ctx, loop.URL, apikeys.FetchHTTPClient(nil))
	var ve *apikeys.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "FetchHTTPClient", ve.Field)
	_, err = apikeys.FetchJWKS(ctx, loop.URL, apikeys.FetchInsecureLoopbackHTTP(), nil)
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "FetchOption", ve.Field)
	_, err = apikeys.FetchJWKS(nil, "https://example.com/jwks")
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "ctx", ve.Field)
	assert.Zero(t, reached.Load(), "a refused fetch sent a request")

	// With the option, loopback http works; a redirect from it to plain
	// http on another host is refused before any request leaves.
	set, err := apikeys.FetchJWKS(ctx, loop.URL+"/jwks", apikeys.FetchInsecureLoopbackHTTP())
	require.NoError(t, err)
	assert.Empty(t, set.Keys)
	away := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://keys.example.com/jwks.json", http.StatusFound)
	}))
	defer away.Close()
	_, err = apikeys.FetchJWKS(ctx, away.URL+"/jwks", apikeys.FetchInsecureLoopbackHTTP())
	var redirected *apikeys.TransportError
	require.ErrorAs(t, err, &redirected)
	assert.Contains(t, err.Error(), "refusing redirect to plain http on a non-loopback host")
	assert.False(t, apikeys.IsRetryable(err))

	// https -> http redirects are refused.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the http server must not be reached")
	}))
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/jwks", http.StatusFound)
	}))
	defer tlsSrv.Close()
	hc := tlsSrv.Client()
	before := hc.CheckRedirect
	_, err = apikeys.FetchJWKS(ctx, tlsSrv.URL+"/jwks", apikeys.FetchHTTPClient(hc))
	var te *apikeys.TransportError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, err.Error(), "https to http")
	assert.Nil(t, before)
	assert.Nil(t, hc.CheckRedirect, "the caller's client is not modified")

	// https works with the caller's client (trusting the test CA).
	h, err := apikeys.JWKSHandler(apikeys.NewJWKSet())
	require.NoError(t, err)
	tlsOK := httptest.NewTLSServer(h)
	defer tlsOK.Close()
	set, err = apikeys.FetchJWKS(ctx, tlsOK.URL, apikeys.FetchHTTPClient(tlsOK.Client()))
	require.NoError(t, err)
	assert.Empty(t, set.Keys)

	// A cancelled context ends the fetch with its error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = apikeys.FetchJWKS(cctx, tlsOK.URL)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestJWKSHandler(t *testing.T) {
	ec := generatedKey(t, apikeys.ES384)
	ed := generatedKey(t, apikeys.EdDSA)
	k1, err := ec.JWK()
	require.NoError(t, err)
	k2, err := ed.JWK()
	require.NoError(t, err)
	h, err := apikeys.JWKSHandler(apikeys.NewJWKSet(k1, k2))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/.well-known/jwks.json")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "application/jwk-set+json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "public, max-age=300", resp.Header.Get("Cache-Control"))
	var strict jose.JSONWebKeySet
	require.NoError(t, json.Unmarshal(body, &strict))
	require.Len(t, strict.Keys, 2)
	for _, k := range strict.Keys {
		assert.True(t, k.Valid())
		assert.True(t, k.IsPublic())
	}

	// FetchJWKS reads what the handler serves.
	set, err := apikeys.FetchJWKS(context.Background(), srv.URL, apikeys.FetchHTTPClient(srv.Client()), apikeys.FetchInsecureLoopbackHTTP())
	require.NoError(t, err)
	got, ok := set.Key(ec.KeyID)
	require.True(t, ok)
	assert.Equal(t, apikeys.ES384, got.Algorithm())

	req, err := http.NewRequest(http.MethodHead, srv.URL, nil)
	require.NoError(t, err)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	headBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Empty(t, headBody)
	assert.Equal(t, "application/jwk-set+json", resp.Header.Get("Content-Type"))

	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		req, err := http.NewRequest(m, srv.URL, strings.NewReader("{}"))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, m)
		assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
	}

	// A set with a private member is refused when the handler is made.
	priv, err := json.Marshal(jose.JSONWebKey{Key: ec.Signer, KeyID: "leak"})
	require.NoError(t, err)
	pk, err := apikeys.ParseJWK(priv)
	require.NoError(t, err)
	_, err = apikeys.JWKSHandler(apikeys.NewJWKSet(k1, pk))
	var sErr *apikeys.JWKSetError
	require.ErrorAs(t, err, &sErr)
	assert.Contains(t, err.Error(), `keys[1] (kid "leak"): holds private key member "d"`)
	_, err = apikeys.JWKSHandler(nil)
	assert.Error(t, err)

	// An empty set is served as {"keys":[]}.
	h, err = apikeys.JWKSHandler(&apikeys.JWKSet{})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.JSONEq(t, `{"keys":[]}`, rec.Body.String())
}

// TestJWKSHostZeroValue: a JWKSHost not made by NewJWKSHost holds no set.
// It does not panic: it serves 503 Service Unavailable, JWKSet is empty,
// and every method that changes or reads the set is a *ValidationError.
func TestJWKSHostZeroValue(t *testing.T) {
	k := publicJWK(t, generatedKey(t, apikeys.ES256))
	var ve *apikeys.ValidationError
	for _, tc := range []struct {
		name string
		call func(h *apikeys.JWKSHost) error
	}{
		{name: "Set", call: func(h *apikeys.JWKSHost) error { return h.Set(apikeys.NewJWKSet(k)) }},
		{name: "PublicKeys", call: func(h *apikeys.JWKSHost) error { _, err := h.PublicKeys(context.Background()); return err }},
		{name: "AddPublicKeys", call: func(h *apikeys.JWKSHost) error { return h.AddPublicKeys(context.Background(), k) }},
		{name: "RemovePublicKeys", call: func(h *apikeys.JWKSHost) error { return h.RemovePublicKeys(context.Background(), k.KeyID()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := new(apikeys.JWKSHost)
			assert.ErrorAs(t, tc.call(h), &ve)
			assert.Empty(t, h.JWKSet().Keys, "the zero host holds no set afterwards")
		})
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		t.Run("ServeHTTP "+method, func(t *testing.T) {
			rec := httptest.NewRecorder()
			new(apikeys.JWKSHost).ServeHTTP(rec, httptest.NewRequest(method, "/", nil))
			assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
			assert.Empty(t, rec.Header().Get("ETag"))
		})
	}
	set := new(apikeys.JWKSHost).JWKSet()
	require.NotNil(t, set)
	assert.Empty(t, set.Keys)
}

func TestJWKPublicKeyRefusesPrivate(t *testing.T) {
	ec := generatedKey(t, apikeys.ES256)
	priv, err := json.Marshal(jose.JSONWebKey{Key: ec.Signer, KeyID: "p"})
	require.NoError(t, err)
	k, err := apikeys.ParseJWK(priv)
	require.NoError(t, err)
	_, err = k.PublicKey()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "private key member")
	_, err = k.Thumbprint()
	assert.Error(t, err)

	oct, err := apikeys.ParseJWK([]byte(`{"kty":"oct","k":"c2VjcmV0"}`))
	require.NoError(t, err)
	_, err = oct.PublicKey()
	assert.Error(t, err)
	_, err = apikeys.JWK{}.PublicKey()
	assert.Error(t, err)
	_, err = apikeys.ParseJWK([]byte(`[1]`))
	assert.Error(t, err)

	// The D of the private key is nowhere in what a JWK built from it prints.
	d := base64.RawURLEncoding.EncodeToString(ec.Signer.(*ecdsa.PrivateKey).D.FillBytes(make([]byte, 32)))
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k)} {
		assert.NotContains(t, s, d)
	}
}

// TestJWKUnmarshalIntoReusedValue decodes several keys into one JWK
// variable, as a loop over a stream does, and keeps a copy of each: every
// copy must keep its own bytes, not share the variable's buffer.
func TestJWKUnmarshalIntoReusedValue(t *testing.T) {
	docs := []string{`{"kid":"aaaa"}`, `{"kid":"bbbb"}`, `{"kid":"cc"}`}
	var (
		k    apikeys.JWK
		kept []apikeys.JWK
	)
	for _, doc := range docs {
		require.NoError(t, json.Unmarshal([]byte(doc), &k))
		kept = append(kept, k)
	}
	dec := json.NewDecoder(strings.NewReader(strings.Join(docs, "\n")))
	for dec.More() {
		require.NoError(t, dec.Decode(&k))
		kept = append(kept, k)
	}
	for i, k := range kept {
		assert.Equal(t, docs[i%len(docs)], string(k.Raw()), "key %d", i)
	}
	assert.Equal(t, "aaaa", kept[0].KeyID())
	assert.Equal(t, "bbbb", kept[1].KeyID())
}

// TestSigningKeyPublicOfUnusableSigner: Public returns nil, and neither it
// nor JWK panics, for a Signer that is a typed nil pointer or an Ed25519
// key of the wrong size; other signers still answer for themselves.
func TestSigningKeyPublicOfUnusableSigner(t *testing.T) {
	for name, s := range map[string]crypto.Signer{
		"nil *rsa.PrivateKey":   (*rsa.PrivateKey)(nil),
		"nil *ecdsa.PrivateKey": (*ecdsa.PrivateKey)(nil),
		"empty Ed25519":         ed25519.PrivateKey{},
		"short Ed25519":         ed25519.PrivateKey(make([]byte, 40)),
	} {
		t.Run(name, func(t *testing.T) {
			k := apikeys.SigningKey{Signer: s, KeyID: "k", Algorithm: apikeys.RS256}
			require.NotPanics(t, func() { assert.Nil(t, k.Public()) })
			require.NotPanics(t, func() {
				_, err := k.JWK()
				assert.Error(t, err)
			})
		})
	}
	ec := generatedKey(t, apikeys.ES256)
	want := ec.Signer.Public()
	assert.Equal(t, want, ec.Public())
	assert.Equal(t, want, apikeys.SigningKey{Signer: wrappedSigner{s: ec.Signer}}.Public())
}

// TestValidateRefusesRepeatedMembers: a key that names a member twice is
// refused by go-jose (and other strict parsers) as it is written, so
// Validate, PublicKey and JWKSHandler, which publishes those very bytes,
// refuse it too, whichever copy a lenient parser would keep.
func TestValidateRefusesRepeatedMembers(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	n1024 := base64.RawURLEncoding.EncodeToString(small.N.Bytes())
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	x := base64.RawURLEncoding.EncodeToString(edPub)
	for _, tc := range []struct {
		name   string
		body   string
		member string
	}{
		{name: "n 1024 then 2048", body: `{"kid":"a","kty":"RSA","n":"` + n1024 + `","n":"` + rfc7638N + `","e":"AQAB"}`, member: "n"},
		{name: "n 2048 then 1024", body: `{"kid":"a","kty":"RSA","n":"` + rfc7638N + `","n":"` + n1024 + `","e":"AQAB"}`, member: "n"},
		{name: "e twice", body: `{"kid":"a","kty":"RSA","n":"` + rfc7638N + `","e":"AQAB","e":"AQAB"}`, member: "e"},
		{name: "kty twice", body: `{"kid":"a","kty":"OKP","crv":"Ed25519","x":"` + x + `","kty":"OKP"}`, member: "kty"},
		{name: "x twice", body: `{"kid":"a","kty":"OKP","crv":"Ed25519","x":"` + x + `","x":"` + x + `"}`, member: "x"},
		{name: "kid twice", body: `{"kid":"a","kty":"OKP","crv":"Ed25519","x":"` + x + `","kid":"a"}`, member: "kid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			var strict jose.JSONWebKey
			require.ErrorContains(t, strict.UnmarshalJSON([]byte(body)), "duplicate key", "go-jose must refuse the test input")

			k, err := apikeys.ParseJWK([]byte(body))
			require.NoError(t, err)
			set := apikeys.NewJWKSet(k)
			var sErr *apikeys.JWKSetError
			require.ErrorAs(t, set.Validate(), &sErr)
			assert.Equal(t, []string{`keys[0] (kid "a"): member "` + tc.member + `" appears twice`}, sErr.Problems)
			_, err = k.PublicKey()
			assert.Error(t, err)
			_, err = k.Thumbprint()
			assert.Error(t, err)
			_, err = apikeys.JWKSHandler(set)
			assert.ErrorAs(t, err, &sErr)
		})
	}
}

// Public keys published in the RFCs, as JWK object bodies without braces,
// each with kid "a" and an alg that fits it.
const (
	// RFC 7638 section 3.1 (the RSA key of RFC 7517 appendix A.1).
	rfcRSAMembers = `"kid":"a","alg":"RS256","kty":"RSA","n":"` + rfc7638N + `","e":"AQAB"`
	// RFC 7517 appendix A.1, the EC P-256 key.
	rfcECMembers = `"kid":"a","alg":"ES256","kty":"EC","crv":"P-256",` +
		`"x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"`
	// RFC 8037 appendix A.2, the Ed25519 public key.
	rfcOKPMembers = `"kid":"a","alg":"EdDSA","kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"`
)

// registeredJWKMembers are the member names registered for JWKs: RFC 7517
// section 4, RFC 7518 section 6, RFC 8037 section 2, RFC 9964 (AKP keys),
// and the later entries of the IANA "JSON Web Key Parameters" registry
// (ext from W3C Web Cryptography; iat, nbf, exp and revoked from OpenID
// Federation 1.0), each with a value of its type.
var registeredJWKMembers = []struct{ name, value string }{
	{name: "kty", value: `"EC"`}, {name: "use", value: `"sig"`}, {name: "key_ops", value: `["verify"]`}, {name: "alg", value: `"ES256"`}, {name: "kid", value: `"a"`},
	{name: "x5u", value: `"https://keys.example.com/a.pem"`}, {name: "x5c", value: `["MIIBHjCBxaADAgECAgEBMAoGCCqGSM49BAMC"]`},
	{name: "x5t", value: `"3fkZvhh0mFaa4sL_TxrPdURwCXw"`}, {name: "x5t#S256", value: `"Ui3fJaq3SWUPfoJj7oW1bIK_vOa-6JSJvIxbLzqnmWo"`},
	{name: "crv", value: `"P-256"`}, {name: "x", value: `"AA"`}, {name: "y", value: `"AA"`}, {name: "n", value: `"AQAB"`}, {name: "e", value: `"AQAB"`},
	{name: "d", value: `"AA"`}, {name: "p", value: `"AA"`}, {name: "q", value: `"AA"`}, {name: "dp", value: `"AA"`}, {name: "dq", value: `"AA"`}, {name: "qi", value: `"AA"`},
	{name: "oth", value: `[{"r":"AA","d":"AA","t":"AA"}]`}, {name: "k", value: `"AA"`}, {name: "pub", value: `"AA"`}, {name: "priv", value: `"AA"`},
	{name: "ext", value: `true`}, {name: "iat", value: `1700000000`}, {name: "nbf", value: `1700000000`}, {name: "exp", value: `1900000000`},
	{name: "revoked", value: `{"revoked_at":1700000000,"reason":"keyCompromise"}`},
}

// spellingsOf returns spellings of the member name: the name itself, and
// with its first letter as a JSON \u escape (which decodes to the same
// name), marked exact; then the other spellings that strings.EqualFold,
// and so Go's encoding/json, take for it: all upper case, all lower case,
// first or last letter upper case, KELVIN SIGN (U+212A) for k and LONG S
// (U+017F) for s.
func spellingsOf(name string) (spellings []string, exact []bool) {
	spellings = []string{name, fmt.Sprintf(`\u%04x`, name[0]) + name[1:]}
	exact = []bool{true, true}
	last := len(name) - 1
	for _, s := range []string{
		strings.ToUpper(name),
		strings.ToLower(name),
		strings.ToUpper(name[:1]) + name[1:],
		name[:last] + strings.ToUpper(name[last:]),
		strings.NewReplacer("k", "\u212a", "K", "\u212a").Replace(name),
		strings.NewReplacer("s", "\u017f", "S", "\u017f").Replace(name),
	} {
		if s != name && !slices.Contains(spellings, s) {
			spellings, exact = append(spellings, s), append(exact, false)
		}
	}
	return spellings, exact
}

// TestValidateRefusesMembersInTwoCases: a key that names a member twice,
// exactly or in two letter cases as Go's encoding/json folds them (where
// "KID" is "kid" and go-jose, reading names as spelled, sees two members),
// is refused by Validate with both spellings named, and PublicKey fails for
// it: for every registered JWK member name, in several spellings, added to
// a valid RSA, EC and OKP key from the RFCs.
func TestValidateRefusesMembersInTwoCases(t *testing.T) {
	keys := []struct{ kty, members string }{{kty: "RSA", members: rfcRSAMembers}, {kty: "EC", members: rfcECMembers}, {kty: "OKP", members: rfcOKPMembers}}
	type testCase struct {
		name string
		body string // the key
		want string // the problem Validate must report
	}
	var cases []testCase
	for _, key := range keys {
		k, err := apikeys.ParseJWK([]byte("{" + key.members + "}"))
		require.NoError(t, err)
		require.NoError(t, apikeys.NewJWKSet(k).Validate(), "the %s key without a repeated member", key.kty)
		_, err = k.PublicKey()
		require.NoError(t, err)
		var own map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(k.Raw(), &own))

		for _, member := range registeredJWKMembers {
			// The member as the key has it, or added; then another spelling
			// of it, with the same value.
			body, value := key.members, member.value
			if v, ok := own[member.name]; ok {
				value = string(v)
			} else {
				body += `,"` + member.name + `":` + value
			}
			spellings, exact := spellingsOf(member.name)
			for i, spelling := range spellings {
				want := `keys[0] (kid "a"): member "` + member.name + `" appears twice`
				if !exact[i] {
					require.True(t, strings.EqualFold(spelling, member.name), spelling)
					want = fmt.Sprintf(`keys[0] (kid "a"): member %q repeats %q in another letter case`, spelling, member.name)
				}
				cases = append(cases, testCase{
					name: key.kty + "/" + member.name + "/" + strconv.QuoteToASCII(spelling),
					body: "{" + body + `,"` + spelling + `":` + value + "}",
					want: want,
				})
			}
		}
		// The other spelling first: the problem names the first one seen.
		cases = append(cases, testCase{
			name: key.kty + "/KID first",
			body: `{"KID":"a",` + key.members + "}",
			want: `keys[0] (kid "a"): member "kid" repeats "KID" in another letter case`,
		})
	}
	require.Greater(t, len(cases), 3*len(registeredJWKMembers)*3)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := apikeys.ParseJWK([]byte(tc.body))
			require.NoError(t, err)
			var sErr *apikeys.JWKSetError
			require.ErrorAs(t, apikeys.NewJWKSet(k).Validate(), &sErr, tc.body)
			assert.Contains(t, sErr.Problems, tc.want)
			_, err = k.PublicKey()
			assert.Error(t, err, "PublicKey of %s", tc.body)
			_, err = k.Thumbprint()
			assert.Error(t, err)
		})
	}
}

// TestVerifyJWTSkipsKeyWithRepeatedMembers: VerifyJWT does not use a key
// that names a member twice, even when go-jose parses it (it reads "kid"
// and ignores "KID"): the token's kid then matches no usable key.
func TestVerifyJWTSkipsKeyWithRepeatedMembers(t *testing.T) {
	ec := generatedKey(t, apikeys.ES256)
	jwk, err := ec.JWK()
	require.NoError(t, err)
	tok := signWithJose(t, ec.Signer, apikeys.ES256, ec.KeyID, jwt.Claims{Subject: "s"})
	_, err = apikeys.NewJWKSet(jwk).VerifyJWT(tok, []string{apikeys.ES256})
	require.NoError(t, err, "the key without a repeated member verifies the token")

	for _, extra := range []string{`"KID":"` + ec.KeyID + `"`, `"Kty":"EC"`, `"\u212aty":"EC"`, `"U\u017fe":"sig"`, `"ALG":"ES256"`} {
		t.Run(extra, func(t *testing.T) {
			raw := append([]byte("{"+extra+","), jwk.Raw()[1:]...)
			var jk jose.JSONWebKey
			require.NoError(t, jk.UnmarshalJSON(raw), "go-jose parses the key, as spelled")
			k, err := apikeys.ParseJWK(raw)
			require.NoError(t, err)
			_, err = apikeys.NewJWKSet(k).VerifyJWT(tok, []string{apikeys.ES256})
			assert.ErrorIs(t, err, apikeys.ErrUnknownKeyID)
		})
	}
}

// TestJWKMemberNameCase pins what the comments on private members rely
// on: go-jose reads member names as spelled (to it "D" is an unknown
// member, and a member named twice is an error), while encoding/json,
// which other Go consumers use, reads "D" as "d". The SDK refuses private
// members in any letter case because of the latter.
func TestJWKMemberNameCase(t *testing.T) {
	ec := generatedKey(t, apikeys.ES256)
	priv, err := json.Marshal(jose.JSONWebKey{Key: ec.Signer})
	require.NoError(t, err)
	upper := bytes.Replace(priv, []byte(`"d":`), []byte(`"D":`), 1)
	require.NotEqual(t, priv, upper)

	var jk jose.JSONWebKey
	require.NoError(t, jk.UnmarshalJSON(upper))
	assert.True(t, jk.IsPublic(), "go-jose ignores \"D\"")
	var std struct {
		D string `json:"d"`
	}
	require.NoError(t, json.Unmarshal(upper, &std))
	assert.NotEmpty(t, std.D, "encoding/json reads \"D\" as \"d\"")

	twice := bytes.Replace(priv, []byte(`"d":`), []byte(`"x":"AA","d":`), 1)
	assert.ErrorContains(t, jk.UnmarshalJSON(twice), "duplicate key")

	k, err := apikeys.ParseJWK(upper)
	require.NoError(t, err)
	_, err = k.PublicKey()
	assert.ErrorContains(t, err, `private key member "D"`)
}

// TestFetchJWKSUsesDefaultTransport: without FetchHTTPClient, or with a
// client whose Transport is nil, FetchJWKS sends with http.DefaultTransport
// itself, as documented (and as net/http does for a nil Transport), not a
// new transport per call: the calls share its connection pool, so four
// calls in a row open one connection.
func TestFetchJWKSUsesDefaultTransport(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"keys":[]}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	ctx := context.Background()
	for _, opts := range [][]apikeys.FetchOption{
		{apikeys.FetchInsecureLoopbackHTTP()},
		{apikeys.FetchInsecureLoopbackHTTP()},
		{apikeys.FetchInsecureLoopbackHTTP(), apikeys.FetchHTTPClient(&http.Client{})},
		{apikeys.FetchInsecureLoopbackHTTP(), apikeys.FetchHTTPClient(&http.Client{Timeout: time.Minute})},
	} {
		set, err := apikeys.FetchJWKS(ctx, srv.URL, opts...)
		require.NoError(t, err)
		assert.Empty(t, set.Keys)
	}
	assert.Equal(t, int32(1), conns.Load(), "connections opened")
}

// rfcPrivateMembers are the registered JWK members that hold private or
// symmetric key material: RFC 7518 section 6 and "priv" of RFC 9964.
var rfcPrivateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// TestValidateRefusesLoneMiscasedMember: a key that spells a registered
// member name in another letter case, even once ("KID" without "kid"), is
// refused: Go's encoding/json reads "KID" as the kid, go-jose (and other
// strict verifiers) read no kid at all. The SDK reads the key as go-jose
// does: its kid, alg and use are go-jose's. For every registered JWK member
// name, in several spellings, in place of the member or added to a valid
// RSA, EC and OKP key from the RFCs.
func TestValidateRefusesLoneMiscasedMember(t *testing.T) {
	keys := []struct{ kty, members string }{{kty: "RSA", members: rfcRSAMembers}, {kty: "EC", members: rfcECMembers}, {kty: "OKP", members: rfcOKPMembers}}
	type testCase struct{ name, body, want string }
	var cases []testCase
	for _, key := range keys {
		for _, member := range registeredJWKMembers {
			spellings, exact := spellingsOf(member.name)
			for i, spelling := range spellings {
				if exact[i] {
					continue
				}
				body := strings.Replace(key.members, `"`+member.name+`":`, `"`+spelling+`":`, 1)
				if body == key.members {
					body += `,"` + spelling + `":` + member.value
				}
				want := fmt.Sprintf("member %q is %q in another letter case", spelling, member.name)
				if slices.Contains(rfcPrivateMembers, member.name) {
					want = fmt.Sprintf("holds private key member %q", spelling)
				}
				cases = append(cases, testCase{name: key.kty + "/" + strconv.QuoteToASCII(spelling), body: "{" + body + "}", want: want})
			}
		}
	}
	require.Greater(t, len(cases), 3*len(registeredJWKMembers))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := apikeys.ParseJWK([]byte(tc.body))
			require.NoError(t, err)
			var sErr *apikeys.JWKSetError
			require.ErrorAs(t, apikeys.NewJWKSet(k).Validate(), &sErr, tc.body)
			assert.Contains(t, strings.Join(sErr.Problems, "; "), tc.want)
			_, err = apikeys.NewJWKSHost(apikeys.NewJWKSet(k), time.Minute)
			assert.ErrorAs(t, err, &sErr)

			var jk jose.JSONWebKey
			if jk.UnmarshalJSON([]byte(tc.body)) == nil {
				assert.Equal(t, jk.KeyID, k.KeyID(), "kid as go-jose reads it")
				assert.Equal(t, jk.Algorithm, k.Algorithm(), "alg as go-jose reads it")
				assert.Equal(t, jk.Use, k.Use(), "use as go-jose reads it")
			}
		})
	}
}

// TestVerifyJWTIgnoresMiscasedKid: a key whose kid is spelled "KID" (or in
// any other letter case) has no kid to go-jose, so VerifyJWT does not find
// it by that kid either.
func TestVerifyJWTIgnoresMiscasedKid(t *testing.T) {
	ec := generatedKey(t, apikeys.ES256)
	jwk, err := ec.JWK()
	require.NoError(t, err)
	tok := signWithJose(t, ec.Signer, apikeys.ES256, ec.KeyID, jwt.Claims{Subject: "s"})
	_, err = apikeys.NewJWKSet(jwk).VerifyJWT(tok, []string{apikeys.ES256})
	require.NoError(t, err, "the key with its kid spelled exactly verifies the token")

	spellings, exact := spellingsOf("kid")
	for i, spelling := range spellings {
		if exact[i] {
			continue
		}
		t.Run(strconv.QuoteToASCII(spelling), func(t *testing.T) {
			raw := bytes.Replace(jwk.Raw(), []byte(`"kid":`), []byte(`"`+spelling+`":`), 1)
			require.NotEqual(t, jwk.Raw(), raw)
			var jk jose.JSONWebKey
			require.NoError(t, jk.UnmarshalJSON(raw))
			require.Empty(t, jk.KeyID, "go-jose reads no kid")
			k, err := apikeys.ParseJWK(raw)
			require.NoError(t, err)
			assert.Empty(t, k.KeyID())
			_, err = apikeys.NewJWKSet(k).VerifyJWT(tok, []string{apikeys.ES256})
			assert.ErrorIs(t, err, apikeys.ErrUnknownKeyID)
		})
	}
}

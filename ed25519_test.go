package apikeys_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// jose6 is testdata/jose6-ed25519/tokens.json: an Ed25519 key and JWTs
// made by node jose 6 (gen.mjs there), another JOSE implementation than
// the SDK's go-jose.
type jose6 struct {
	KeyID      string          `json:"kid"`
	PublicJWK  json.RawMessage `json:"publicJwk"`
	PrivateJWK json.RawMessage `json:"privateJwk"`
	Claims     struct {
		Issuer   string `json:"iss"`
		Subject  string `json:"sub"`
		Audience string `json:"aud"`
		IssuedAt int64  `json:"iat"`
		Expiry   int64  `json:"exp"`
		ID       string `json:"jti"`
		Tenant   string `json:"tenant"`
	} `json:"claims"`
	Tokens map[string]string `json:"tokens"`
}

func loadJose6(t *testing.T) jose6 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "jose6-ed25519", "tokens.json"))
	require.NoError(t, err)
	var f jose6
	require.NoError(t, json.Unmarshal(b, &f))
	require.NotEmpty(t, f.KeyID)
	return f
}

// withAlg returns the JWK raw with its alg member set to alg, or without
// one for alg "".
func withAlg(t *testing.T, raw []byte, alg string) []byte {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	delete(m, "alg")
	if alg != "" {
		m["alg"] = alg
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

// publicJWK returns jose's public JWK with its alg member set to alg, or
// without one for alg "".
func (f jose6) publicJWK(t *testing.T, alg string) apikeys.JWK {
	t.Helper()
	var exported struct {
		Alg string `json:"alg"`
	}
	require.NoError(t, json.Unmarshal(f.PublicJWK, &exported))
	require.Equal(t, apikeys.Ed25519, exported.Alg, "jose exported the JWK with alg Ed25519")
	k, err := apikeys.ParseJWK(withAlg(t, f.PublicJWK, alg))
	require.NoError(t, err)
	return k
}

// privateKey returns jose's private key as crypto/ed25519 reads it.
func (f jose6) privateKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	var m struct {
		D string `json:"d"`
	}
	require.NoError(t, json.Unmarshal(f.PrivateJWK, &m))
	seed, err := base64.RawURLEncoding.DecodeString(m.D)
	require.NoError(t, err)
	require.Len(t, seed, ed25519.SeedSize)
	return ed25519.NewKeyFromSeed(seed)
}

// when is a time inside the fixture tokens' validity.
func (f jose6) when() time.Time { return time.Unix(f.Claims.IssuedAt, 0).Add(time.Minute) }

// TestVerifyJWTJose6Ed25519: tokens node jose 6 signed with header alg
// Ed25519 (RFC 9864) or EdDSA verify, with a key whose own alg is
// Ed25519, EdDSA or absent: the two names are one signature.
func TestVerifyJWTJose6Ed25519(t *testing.T) {
	f := loadJose6(t)
	cases := []struct {
		token, keyAlg string
		allowed       []string
	}{
		{token: "ed25519", keyAlg: apikeys.Ed25519, allowed: []string{apikeys.Ed25519}},
		{token: "ed25519", keyAlg: apikeys.EdDSA, allowed: []string{apikeys.Ed25519}},
		{token: "ed25519", keyAlg: "", allowed: []string{apikeys.Ed25519}},
		{token: "ed25519", keyAlg: apikeys.Ed25519, allowed: []string{apikeys.ES256, apikeys.EdDSA, apikeys.Ed25519}},
		{token: "eddsa", keyAlg: apikeys.Ed25519, allowed: []string{apikeys.EdDSA}},
		{token: "eddsa", keyAlg: apikeys.EdDSA, allowed: []string{apikeys.EdDSA}},
		{token: "eddsa", keyAlg: "", allowed: []string{apikeys.EdDSA, apikeys.Ed25519}},
	}
	for _, tc := range cases {
		t.Run(tc.token+"/key alg "+tc.keyAlg+"/"+strings.Join(tc.allowed, ","), func(t *testing.T) {
			set := apikeys.NewJWKSet(f.publicJWK(t, tc.keyAlg))
			var extra struct {
				Tenant string `json:"tenant"`
			}
			claims, err := set.VerifyJWT(f.Tokens[tc.token], tc.allowed, &extra)
			require.NoError(t, err)
			assert.Equal(t, f.Claims.Issuer, claims.Issuer)
			assert.Equal(t, f.Claims.Subject, claims.Subject)
			assert.Equal(t, jwt.Audience{f.Claims.Audience}, claims.Audience)
			assert.Equal(t, f.Claims.ID, claims.ID)
			if assert.NotNil(t, claims.IssuedAt) && assert.NotNil(t, claims.Expiry) {
				assert.Equal(t, f.Claims.IssuedAt, claims.IssuedAt.Time().Unix())
				assert.Equal(t, f.Claims.Expiry, claims.Expiry.Time().Unix())
			}
			assert.Equal(t, f.Claims.Tenant, extra.Tenant)
			assert.NoError(t, claims.ValidateWithLeeway(jwt.Expected{
				Issuer: f.Claims.Issuer, Subject: f.Claims.Subject, AnyAudience: jwt.Audience{f.Claims.Audience}, Time: f.when(),
			}, 0))
		})
	}
}

// TestVerifyJWTJose6Ed25519BadSignature: a tampered payload, or a
// signature by another key under the same kid, fails for both names with
// the error VerifyJWT gives any bad signature.
func TestVerifyJWTJose6Ed25519BadSignature(t *testing.T) {
	f := loadJose6(t)
	set := apikeys.NewJWKSet(f.publicJWK(t, ""))
	allowed := []string{apikeys.EdDSA, apikeys.Ed25519}
	for _, bad := range []string{"Tampered", "WrongKey"} {
		t.Run(bad, func(t *testing.T) {
			msgs := map[string]string{}
			for _, name := range []string{"eddsa", "ed25519"} {
				tok := f.Tokens[name+bad]
				require.NotEmpty(t, tok)
				claims, err := set.VerifyJWT(tok, allowed)
				assert.Nil(t, claims, name)
				require.Error(t, err, name)
				assert.Contains(t, err.Error(), "apikeys: VerifyJWT: ", name)
				assert.NotErrorIs(t, err, apikeys.ErrUnknownKeyID, name)
				var ve *apikeys.ValidationError
				assert.False(t, errors.As(err, &ve), name)
				msgs[name] = err.Error()
			}
			assert.Equal(t, msgs["eddsa"], msgs["ed25519"], "one error for a bad signature, whatever the alg's name")
		})
	}
}

// TestVerifyJWTEd25519AllowedAlgs: alg names are exact: Ed25519 must be
// in allowedAlgs itself for an Ed25519 token, EdDSA for an EdDSA one, and
// other spellings are no alg at all.
func TestVerifyJWTEd25519AllowedAlgs(t *testing.T) {
	f := loadJose6(t)
	set := apikeys.NewJWKSet(f.publicJWK(t, ""))
	cases := []struct {
		token   string
		allowed []string
		want    string
	}{
		{token: "ed25519", allowed: []string{apikeys.EdDSA}, want: `token alg "Ed25519" is not in allowedAlgs`},
		{token: "ed25519", allowed: []string{apikeys.ES256, apikeys.RS384}, want: `token alg "Ed25519" is not in allowedAlgs`},
		{token: "eddsa", allowed: []string{apikeys.Ed25519}, want: `token alg "EdDSA" is not in allowedAlgs`},
		{token: "ed25519", allowed: []string{"ed25519"}, want: `invalid allowedAlgs: "ed25519" is not an accepted signature algorithm`},
		{token: "ed25519", allowed: []string{"ED25519"}, want: `invalid allowedAlgs: "ED25519" is not an accepted signature algorithm`},
	}
	for _, tc := range cases {
		t.Run(tc.token+"/"+strings.Join(tc.allowed, ","), func(t *testing.T) {
			claims, err := set.VerifyJWT(f.Tokens[tc.token], tc.allowed)
			assert.Nil(t, claims)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestVerifyJWTEd25519HeaderChecks: every check of a token's form and
// protected header applies to alg Ed25519 exactly as to EdDSA: each case
// is made for both names, signed with jose's key, and must fail the same
// way for both.
func TestVerifyJWTEd25519HeaderChecks(t *testing.T) {
	f := loadJose6(t)
	priv := f.privateKey(t)
	set := apikeys.NewJWKSet(f.publicJWK(t, ""))
	allowed := []string{apikeys.EdDSA, apikeys.Ed25519}
	b64 := base64.RawURLEncoding.EncodeToString
	payload := `{"iss":"client-1","sub":"client-1"}`

	// parts signs header and payload as a compact JWS and returns its
	// three segments.
	parts := func(header, payload string) []string {
		input := b64([]byte(header)) + "." + b64([]byte(payload))
		return []string{b64([]byte(header)), b64([]byte(payload)), b64(ed25519.Sign(priv, []byte(input)))}
	}
	// padded returns the padded encoding of s after appending spaces (JSON
	// whitespace) until it has padding.
	padded := func(t *testing.T, s string) string {
		for len(s)%3 == 0 {
			s += " "
		}
		p := base64.URLEncoding.EncodeToString([]byte(s))
		require.Contains(t, p, "=")
		return p
	}
	// stray sets padding bits in the last character of a segment: it
	// decodes to the same bytes unless decoding is strict.
	stray := func(t *testing.T, seg string) string {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		require.NotZero(t, len(seg)%4, "the segment must end in a partial group")
		i := strings.IndexByte(alphabet, seg[len(seg)-1])
		require.Zero(t, i&1)
		return seg[:len(seg)-1] + string(alphabet[i|1])
	}

	cases := []struct {
		name  string
		token func(t *testing.T, alg, kid string) string
		want  string
	}{
		{name: "crit", token: func(t *testing.T, alg, kid string) string {
			return strings.Join(parts(`{"alg":"`+alg+`","kid":"`+kid+`","crit":["exp"],"exp":1}`, payload), ".")
		}, want: `token header has "crit"`},
		{name: "crit empty", token: func(t *testing.T, alg, kid string) string {
			return strings.Join(parts(`{"alg":"`+alg+`","kid":"`+kid+`","crit":[]}`, payload), ".")
		}, want: `token header has "crit"`},
		{name: "b64 false", token: func(t *testing.T, alg, kid string) string {
			return strings.Join(parts(`{"alg":"`+alg+`","kid":"`+kid+`","b64":false,"crit":["b64"]}`, payload), ".")
		}, want: `token header has "b64"`},
		{name: "alg in lower case", token: func(t *testing.T, alg, kid string) string {
			return strings.Join(parts(`{"alg":"`+strings.ToLower(alg)+`","kid":"`+kid+`"}`, payload), ".")
		}, want: `is not in allowedAlgs`},
		{name: "alg in upper case", token: func(t *testing.T, alg, kid string) string {
			return strings.Join(parts(`{"alg":"`+strings.ToUpper(alg)+`","kid":"`+kid+`"}`, payload), ".")
		}, want: `is not in allowedAlgs`},
		{name: "alg named twice", token: func(t *testing.T, alg, kid string) string {
			return strings.Join(parts(`{"alg":"ES256","kid":"`+kid+`","alg":"`+alg+`"}`, payload), ".")
		}, want: `member "alg" appears twice`},
		{name: "kid named twice", token: func(t *testing.T, alg, kid string) string {
			return strings.Join(parts(`{"alg":"`+alg+`","kid":"`+kid+`","kid":"`+kid+`"}`, payload), ".")
		}, want: `member "kid" appears twice`},
		{name: "kid in another letter case", token: func(t *testing.T, alg, kid string) string {
			return strings.Join(parts(`{"alg":"`+alg+`","kid":"`+kid+`","KID":"other"}`, payload), ".")
		}, want: `member "KID" repeats "kid" in another letter case`},
		{name: "no kid", token: func(t *testing.T, alg, kid string) string {
			return strings.Join(parts(`{"alg":"`+alg+`"}`, payload), ".")
		}, want: `token header has no kid`},
		{name: "unknown kid", token: func(t *testing.T, alg, kid string) string {
			return strings.Join(parts(`{"alg":"`+alg+`","kid":"who"}`, payload), ".")
		}, want: `no usable key with the token's kid`},
		{name: "kid not a string", token: func(t *testing.T, alg, kid string) string {
			return strings.Join(parts(`{"alg":"`+alg+`","kid":1}`, payload), ".")
		}, want: `failed to unmarshal key ID`},
		{name: "header padded", token: func(t *testing.T, alg, kid string) string {
			p := parts(`{"alg":"`+alg+`","kid":"`+kid+`"}`, payload)
			p[0] = padded(t, `{"alg":"`+alg+`","kid":"`+kid+`"}`)
			return strings.Join(p, ".")
		}, want: `token header is not unpadded base64url`},
		{name: "payload padded", token: func(t *testing.T, alg, kid string) string {
			p := parts(`{"alg":"`+alg+`","kid":"`+kid+`"}`, payload)
			p[1] = padded(t, payload)
			return strings.Join(p, ".")
		}, want: `token payload is not unpadded base64url`},
		{name: "signature padded", token: func(t *testing.T, alg, kid string) string {
			p := parts(`{"alg":"`+alg+`","kid":"`+kid+`"}`, payload)
			sig, err := base64.RawURLEncoding.DecodeString(p[2])
			require.NoError(t, err)
			p[2] = base64.URLEncoding.EncodeToString(sig)
			require.Contains(t, p[2], "=")
			return strings.Join(p, ".")
		}, want: `token signature is not unpadded base64url`},
		{name: "line break in payload", token: func(t *testing.T, alg, kid string) string {
			p := parts(`{"alg":"`+alg+`","kid":"`+kid+`"}`, payload)
			p[1] = p[1][:8] + "\n" + p[1][8:]
			return strings.Join(p, ".")
		}, want: `token payload is not unpadded base64url`},
		{name: "stray bits in signature", token: func(t *testing.T, alg, kid string) string {
			p := parts(`{"alg":"`+alg+`","kid":"`+kid+`"}`, payload)
			p[2] = stray(t, p[2])
			return strings.Join(p, ".")
		}, want: `token signature is not unpadded base64url`},
		{name: "two segments", token: func(t *testing.T, alg, kid string) string {
			return strings.Join(parts(`{"alg":"`+alg+`","kid":"`+kid+`"}`, payload)[:2], ".")
		}, want: `token is not a compact JWS`},
		{name: "four segments", token: func(t *testing.T, alg, kid string) string {
			return strings.Join(append(parts(`{"alg":"`+alg+`","kid":"`+kid+`"}`, payload), "AAAA"), ".")
		}, want: `token is not a compact JWS`},
		{name: "JSON serialization", token: func(t *testing.T, alg, kid string) string {
			p := parts(`{"alg":"`+alg+`","kid":"`+kid+`"}`, payload)
			return `{"protected":"` + p[0] + `","payload":"` + p[1] + `","signature":"` + p[2] + `"}`
		}, want: `token is not a compact JWS`},
		{name: "signature one byte short", token: func(t *testing.T, alg, kid string) string {
			p := parts(`{"alg":"`+alg+`","kid":"`+kid+`"}`, payload)
			sig, err := base64.RawURLEncoding.DecodeString(p[2])
			require.NoError(t, err)
			p[2] = b64(sig[:ed25519.SignatureSize-1])
			return strings.Join(p, ".")
		}, want: `error in cryptographic primitive`},
		{name: "signature one byte long", token: func(t *testing.T, alg, kid string) string {
			p := parts(`{"alg":"`+alg+`","kid":"`+kid+`"}`, payload)
			sig, err := base64.RawURLEncoding.DecodeString(p[2])
			require.NoError(t, err)
			p[2] = b64(append(sig, 0))
			return strings.Join(p, ".")
		}, want: `error in cryptographic primitive`},
		{name: "no signature", token: func(t *testing.T, alg, kid string) string {
			p := parts(`{"alg":"`+alg+`","kid":"`+kid+`"}`, payload)
			p[2] = ""
			return strings.Join(p, ".")
		}, want: `error in cryptographic primitive`},
		{name: "embedded private jwk", token: func(t *testing.T, alg, kid string) string {
			return strings.Join(parts(`{"alg":"`+alg+`","kid":"`+kid+`","jwk":`+string(f.PrivateJWK)+`}`, payload), ".")
		}, want: `JWK contains private parameters`},
		{name: "x5c not a certificate", token: func(t *testing.T, alg, kid string) string {
			return strings.Join(parts(`{"alg":"`+alg+`","kid":"`+kid+`","x5c":["AAAA"]}`, payload), ".")
		}, want: `failed to unmarshal x5c header`},
	}
	// The alg's name, in any case, is the only difference allowed between
	// the errors for the two names.
	algName := regexp.MustCompile(`(?i)ed25519|eddsa`)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msgs := map[string]string{}
			for _, alg := range []string{apikeys.EdDSA, apikeys.Ed25519} {
				claims, err := set.VerifyJWT(tc.token(t, alg, f.KeyID), allowed)
				assert.Nil(t, claims, alg)
				if assert.Error(t, err, alg) {
					assert.Contains(t, err.Error(), tc.want, alg)
					msgs[alg] = algName.ReplaceAllString(err.Error(), "<alg>")
				}
			}
			assert.Equal(t, msgs[apikeys.EdDSA], msgs[apikeys.Ed25519])
		})
	}

	// The same construction without any of the faults verifies for both.
	for _, alg := range []string{apikeys.EdDSA, apikeys.Ed25519} {
		claims, err := set.VerifyJWT(strings.Join(parts(`{"alg":"`+alg+`","kid":"`+f.KeyID+`","typ":"JWT"}`, payload), "."), allowed)
		require.NoError(t, err, alg)
		assert.Equal(t, "client-1", claims.Subject, alg)
	}
}

// TestJWKSetEd25519: a JWK with alg Ed25519 is a valid public key, for an
// Ed25519 key only, and its name is exact.
func TestJWKSetEd25519(t *testing.T) {
	f := loadJose6(t)
	joseJWK := f.publicJWK(t, apikeys.Ed25519)
	require.NoError(t, apikeys.NewJWKSet(joseJWK).Validate(), "jose's JWK as exported")
	tp, err := joseJWK.Thumbprint()
	require.NoError(t, err)
	assert.Equal(t, f.KeyID, tp, "jose's kid is the RFC 7638 thumbprint the SDK computes")

	made, err := apikeys.NewJWK(f.privateKey(t).Public(), apikeys.Ed25519)
	require.NoError(t, err)
	assert.Equal(t, apikeys.Ed25519, made.Algorithm())
	assert.Equal(t, f.KeyID, made.KeyID())
	require.NoError(t, apikeys.NewJWKSet(made).Validate())

	_, err = apikeys.NewJWK(generatedKey(t, apikeys.ES256).Public(), apikeys.Ed25519)
	var ve *apikeys.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "alg", ve.Field)
	assert.Contains(t, ve.Reason, `alg "Ed25519" needs a OKP key, not kty "EC"`)

	ecJWK, err := apikeys.NewJWK(generatedKey(t, apikeys.ES256).Public(), "")
	require.NoError(t, err)
	cases := []struct {
		name string
		jwk  apikeys.JWK
		alg  string
		want string
	}{
		{name: "EC key", jwk: ecJWK, alg: apikeys.Ed25519, want: `alg "Ed25519" needs a OKP key, not kty "EC"`},
		{name: "lower case", jwk: joseJWK, alg: "ed25519", want: `alg "ed25519" is not a supported signature algorithm`},
		{name: "upper case", jwk: joseJWK, alg: "ED25519", want: `alg "ED25519" is not a supported signature algorithm`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := apikeys.ParseJWK(withAlg(t, tc.jwk.Raw(), tc.alg))
			require.NoError(t, err)
			var se *apikeys.JWKSetError
			require.ErrorAs(t, apikeys.NewJWKSet(k).Validate(), &se)
			require.Len(t, se.Problems, 1)
			assert.Contains(t, se.Problems[0], tc.want)
		})
	}
}

// TestParseSigningKeyJose6Ed25519: jose's private JWK parses, keeping its
// alg Ed25519 and kid; a given alg EdDSA or Ed25519 fits it (one
// signature) and is the one signed with; GenerateSigningKey makes Ed25519
// keys too.
func TestParseSigningKeyJose6Ed25519(t *testing.T) {
	f := loadJose6(t)
	priv := f.privateKey(t)
	noAlg := string(withAlg(t, f.PrivateJWK, ""))
	cases := []struct {
		name, jwk, alg, want string
	}{
		{name: "JWK alg", jwk: string(f.PrivateJWK), alg: "", want: apikeys.Ed25519},
		{name: "given Ed25519", jwk: string(f.PrivateJWK), alg: apikeys.Ed25519, want: apikeys.Ed25519},
		{name: "given EdDSA", jwk: string(f.PrivateJWK), alg: apikeys.EdDSA, want: apikeys.EdDSA},
		{name: "no JWK alg", jwk: noAlg, alg: "", want: apikeys.EdDSA},
		{name: "no JWK alg, given Ed25519", jwk: noAlg, alg: apikeys.Ed25519, want: apikeys.Ed25519},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sk, err := apikeys.ParseSigningKey([]byte(tc.jwk), tc.alg)
			require.NoError(t, err)
			assert.Equal(t, tc.want, sk.Algorithm)
			assert.Equal(t, f.KeyID, sk.KeyID)
			assert.True(t, priv.Equal(sk.Signer))
			pub, err := sk.JWK()
			require.NoError(t, err)
			assert.Equal(t, tc.want, pub.Algorithm())
		})
	}
	for _, alg := range []string{apikeys.ES256, "ed25519", "EDDSA"} {
		t.Run("given "+alg, func(t *testing.T) {
			_, err := apikeys.ParseSigningKey(f.PrivateJWK, alg)
			var ve *apikeys.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "alg", ve.Field)
			assert.NotContains(t, err.Error(), base64.RawURLEncoding.EncodeToString(priv.Seed()), "no key bytes in errors")
		})
	}

	gen, err := apikeys.GenerateSigningKey(apikeys.Ed25519)
	require.NoError(t, err)
	assert.Equal(t, apikeys.Ed25519, gen.Algorithm)
	assert.IsType(t, ed25519.PrivateKey{}, gen.Signer)
}

// opaqueSigner hides the key type, as an HSM or KMS signer does.
type opaqueSigner struct{ crypto.Signer }

// TestClientAssertionEd25519: a key whose Algorithm is Ed25519 signs
// client assertions with header alg Ed25519, and a default Ed25519 key
// still signs EdDSA; either way the header has alg, kid and typ only, and
// the signature is plain Ed25519, checked here with crypto/ed25519 and by
// VerifyJWT.
func TestClientAssertionEd25519(t *testing.T) {
	f := loadJose6(t)
	joseKey := func(alg string) func(t *testing.T) apikeys.SigningKey {
		return func(t *testing.T) apikeys.SigningKey {
			sk, err := apikeys.ParseSigningKey(f.PrivateJWK, alg)
			require.NoError(t, err)
			return sk
		}
	}
	pemKey := func(alg string) func(t *testing.T) apikeys.SigningKey {
		return func(t *testing.T) apikeys.SigningKey {
			sk, err := apikeys.ParseSigningKey(fixture(t, "ed25519.pkcs8.pem"), alg)
			require.NoError(t, err)
			return sk
		}
	}
	cases := []struct {
		name string
		key  func(t *testing.T) apikeys.SigningKey
		want string
	}{
		{name: "jose JWK", key: joseKey(""), want: apikeys.Ed25519},
		{name: "jose JWK, given EdDSA", key: joseKey(apikeys.EdDSA), want: apikeys.EdDSA},
		{name: "PEM, default alg", key: pemKey(""), want: apikeys.EdDSA},
		{name: "PEM, given Ed25519", key: pemKey(apikeys.Ed25519), want: apikeys.Ed25519},
		{name: "generated EdDSA", key: func(t *testing.T) apikeys.SigningKey { return generatedKey(t, apikeys.EdDSA) }, want: apikeys.EdDSA},
		{name: "generated Ed25519", key: func(t *testing.T) apikeys.SigningKey { return generatedKey(t, apikeys.Ed25519) }, want: apikeys.Ed25519},
		{name: "opaque signer, Ed25519", key: func(t *testing.T) apikeys.SigningKey {
			sk := joseKey("")(t)
			sk.Signer = opaqueSigner{Signer: sk.Signer}
			return sk
		}, want: apikeys.Ed25519},
		{name: "opaque signer, EdDSA", key: func(t *testing.T) apikeys.SigningKey {
			sk := joseKey(apikeys.EdDSA)(t)
			sk.Signer = opaqueSigner{Signer: sk.Signer}
			return sk
		}, want: apikeys.EdDSA},
	}
	now := f.when()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sk := tc.key(t)
			require.Equal(t, tc.want, sk.Algorithm)
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { tokenReply(n, w, r) })
			tokenURL := srv.URL + "/v2/auth/token"
			ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{
				ClientID: testClientID, Key: sk, TokenURL: tokenURL, HTTPClient: srv.Client(), Clock: func() time.Time { return now },
			})
			require.NoError(t, err)
			_, err = ts.Token(context.Background())
			require.NoError(t, err)
			reqs := srv.requests()
			require.Len(t, reqs, 1)
			form, err := url.ParseQuery(string(reqs[0].Body))
			require.NoError(t, err)
			assertion := form.Get("client_assertion")

			// By hand: the header, and the signature over the first two
			// segments as sent.
			segs := strings.Split(assertion, ".")
			require.Len(t, segs, 3)
			rawHeader, err := base64.RawURLEncoding.Strict().DecodeString(segs[0])
			require.NoError(t, err)
			var header map[string]any
			require.NoError(t, json.Unmarshal(rawHeader, &header))
			assert.Equal(t, map[string]any{"alg": tc.want, "kid": sk.KeyID, "typ": "JWT"}, header)
			sig, err := base64.RawURLEncoding.Strict().DecodeString(segs[2])
			require.NoError(t, err)
			require.Len(t, sig, ed25519.SignatureSize)
			pub, ok := sk.Public().(ed25519.PublicKey)
			require.True(t, ok)
			assert.True(t, ed25519.Verify(pub, []byte(segs[0]+"."+segs[1]), sig), "crypto/ed25519 verifies the assertion")

			// By VerifyJWT, with the key's own JWK.
			jwk, err := sk.JWK()
			require.NoError(t, err)
			claims, err := apikeys.NewJWKSet(jwk).VerifyJWT(assertion, []string{tc.want})
			require.NoError(t, err)
			assert.NoError(t, claims.ValidateWithLeeway(jwt.Expected{
				Issuer: testClientID, Subject: testClientID, AnyAudience: jwt.Audience{tokenURL}, Time: now,
			}, 0))
		})
	}
}

// TestFakeServerAcceptsEd25519Assertions: apikeystest's token endpoint
// takes an assertion signed with alg Ed25519 as it takes EdDSA, with the
// public key published under either name.
func TestFakeServerAcceptsEd25519Assertions(t *testing.T) {
	f := loadJose6(t)
	srv := apikeystest.NewServer()
	t.Cleanup(srv.Close)
	for _, published := range []string{apikeys.Ed25519, apikeys.EdDSA} {
		setJSON, err := json.Marshal(apikeys.NewJWKSet(f.publicJWK(t, published)))
		require.NoError(t, err)
		key, err := srv.AddAPIKey(srv.EnvironmentID("Production"), "svc-"+published, setJSON, "")
		require.NoError(t, err)
		for _, signed := range []string{apikeys.Ed25519, apikeys.EdDSA} {
			t.Run("published "+published+"/signed "+signed, func(t *testing.T) {
				sk, err := apikeys.ParseSigningKey(f.PrivateJWK, signed)
				require.NoError(t, err)
				ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: key.ID, Key: sk, TokenURL: srv.TokenURL, HTTPClient: srv.HTTPClient()})
				require.NoError(t, err)
				tok, err := ts.Token(context.Background())
				require.NoError(t, err)
				assert.NotEmpty(t, tok.AccessToken)
			})
		}
	}
	// A signature by another key under the same kid is still refused.
	other, err := apikeys.GenerateSigningKey(apikeys.Ed25519)
	require.NoError(t, err)
	other.KeyID = f.KeyID
	setJSON, err := json.Marshal(apikeys.NewJWKSet(f.publicJWK(t, apikeys.Ed25519)))
	require.NoError(t, err)
	key, err := srv.AddAPIKey(srv.EnvironmentID("Production"), "svc-other", setJSON, "")
	require.NoError(t, err)
	ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: key.ID, Key: other, TokenURL: srv.TokenURL, HTTPClient: srv.HTTPClient()})
	require.NoError(t, err)
	_, err = ts.Token(context.Background())
	var te *apikeys.TokenError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, http.StatusUnauthorized, te.StatusCode)
}

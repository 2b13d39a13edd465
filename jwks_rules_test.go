package apikeys_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// rsaFixture is an RSA private key of testdata/jwks, as PKCS #8 PEM and parsed.
type rsaFixture struct {
	pem  []byte
	priv *rsa.PrivateKey
}

// rsaFixtures loads each RSA key of testdata/jwks once per test binary.
// Keys over 4096 bits are fixtures, not generated: making one takes seconds
// to a minute (more under -race), see testdata/jwks/README.md.
var rsaFixtures = func() map[int]func() (rsaFixture, error) {
	m := make(map[int]func() (rsaFixture, error))
	for _, bits := range []int{2048, 4096, 4097, 6144, 8192} {
		m[bits] = sync.OnceValues(func() (rsaFixture, error) {
			data, err := os.ReadFile(filepath.Join("testdata", "jwks", fmt.Sprintf("rsa%d.pkcs8.pem", bits)))
			if err != nil {
				return rsaFixture{}, err
			}
			block, _ := pem.Decode(data)
			if block == nil {
				return rsaFixture{}, errors.New("no PEM block")
			}
			key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return rsaFixture{}, err
			}
			priv, ok := key.(*rsa.PrivateKey)
			if !ok || priv.N.BitLen() != bits {
				return rsaFixture{}, fmt.Errorf("not an RSA key of %d bits", bits)
			}
			return rsaFixture{pem: data, priv: priv}, nil
		})
	}
	return m
}()

func rsaKeyOf(t *testing.T, bits int) rsaFixture {
	t.Helper()
	load, ok := rsaFixtures[bits]
	require.True(t, ok, "no fixture of %d bits", bits)
	f, err := load()
	require.NoError(t, err)
	return f
}

// TestRSAKeySizeLimits: one rule for RSA keys at every entry point, 2048
// to 4096 bits. go-jose refuses to parse a JWK with a larger modulus, so
// VerifyJWT could never use a key that NewJWK, SigningKey.JWK,
// ParseSigningKey or NewTokenSource had let through; each refuses it with
// the key's size, and Validate names it rather than "do not parse".
func TestRSAKeySizeLimits(t *testing.T) {
	require.Equal(t, 4096, jose.MaxRSAModulusBits, "go-jose's cap, which the SDK's rule follows")
	const kid = "big"
	cases := []struct {
		name string
		bits int
		ok   bool
	}{
		{name: "2048 bits", bits: 2048, ok: true},
		{name: "4096 bits", bits: 4096, ok: true},
		{name: "4097 bits", bits: 4097, ok: false},
		{name: "6144 bits", bits: 6144, ok: false},
		{name: "8192 bits", bits: 8192, ok: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := rsaKeyOf(t, tc.bits)
			reason := fmt.Sprintf("RSA key is %d bits, over 4096", tc.bits)
			checkRefusal := func(t *testing.T, err error, field string) {
				t.Helper()
				if tc.ok {
					assert.NoError(t, err)
					return
				}
				var ve *apikeys.ValidationError
				if assert.ErrorAs(t, err, &ve) {
					assert.Equal(t, field, ve.Field)
					assert.Equal(t, reason, ve.Reason)
				}
			}
			signing := apikeys.SigningKey{Signer: f.priv, KeyID: kid, Algorithm: apikeys.RS256}

			_, err := apikeys.NewJWK(&f.priv.PublicKey, "")
			checkRefusal(t, err, "key")
			_, err = apikeys.NewJWK(f.priv, apikeys.PS256)
			checkRefusal(t, err, "key")
			_, err = signing.JWK()
			checkRefusal(t, err, "key")
			_, err = apikeys.ParseSigningKey(f.pem, "")
			checkRefusal(t, err, "key")
			privJWK, err := json.Marshal(jose.JSONWebKey{Key: f.priv, KeyID: kid, Algorithm: apikeys.RS256})
			require.NoError(t, err)
			_, err = apikeys.ParseSigningKey(privJWK, "")
			checkRefusal(t, err, "key")
			_, err = apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: "client-1", Key: signing, TokenURL: "https://auth.example/v2/auth/token"})
			checkRefusal(t, err, "TokenConfig.Key.Signer")

			// The public JWK as go-jose writes it (NewJWK refuses to).
			pubJWK, err := json.Marshal(jose.JSONWebKey{Key: &f.priv.PublicKey, KeyID: kid, Algorithm: apikeys.RS256, Use: "sig"})
			require.NoError(t, err)
			var strict jose.JSONWebKey
			require.Equal(t, tc.ok, strict.UnmarshalJSON(pubJWK) == nil, "go-jose parses only up to 4096 bits")
			k, err := apikeys.ParseJWK(pubJWK)
			require.NoError(t, err)
			set := apikeys.NewJWKSet(k)
			tok := signWithJose(t, f.priv, apikeys.RS256, kid, jwt.Claims{Subject: "s"})
			claims, verr := set.VerifyJWT(tok, []string{apikeys.RS256})
			if tc.ok {
				assert.NoError(t, set.Validate())
				require.NoError(t, verr)
				assert.Equal(t, "s", claims.Subject)
				return
			}
			var sErr *apikeys.JWKSetError
			if assert.ErrorAs(t, set.Validate(), &sErr) {
				assert.Equal(t, []string{fmt.Sprintf(`keys[0] (kid "big"): RSA modulus is %d bits, over 4096`, tc.bits)}, sErr.Problems)
			}
			assert.ErrorIs(t, verr, apikeys.ErrUnknownKeyID)
		})
	}
}

// invalidUTF8 are byte sequences that are not UTF-8, from Markus Kuhn's
// "UTF-8 decoder capability and stress test" and RFC 3629 section 10.
var invalidUTF8 = []struct{ name, bytes string }{
	{name: "lone continuation byte", bytes: "\x80"},
	{name: "0xFF", bytes: "\xff"},
	{name: "truncated 3-byte sequence", bytes: "\xe2\x82"},
	{name: "overlong slash", bytes: "\xc0\xaf"},
	{name: "UTF-16 surrogate U+D800", bytes: "\xed\xa0\x80"},
	{name: "over U+10FFFF", bytes: "\xf4\x90\x80\x80"},
}

// TestJWKInvalidUTF8: JSON text is UTF-8 and decoders read invalid bytes
// as U+FFFD, so a key holding them is not the key a server or verifier
// reads. ParseJWK, Validate and ParseSigningKey refuse such a JWK, and
// NewTokenSource and SigningKey.JWK such a KeyID.
func TestJWKInvalidUTF8(t *testing.T) {
	ec := generatedKey(t, apikeys.ES256)
	pub, err := ec.JWK()
	require.NoError(t, err)
	require.Contains(t, string(pub.Raw()), `"kid":"`+ec.KeyID+`"`)
	privJWK, err := json.Marshal(jose.JSONWebKey{Key: ec.Signer, KeyID: "kid-INVALID"})
	require.NoError(t, err)

	for _, bad := range invalidUTF8 {
		require.False(t, utf8.ValidString(bad.bytes), bad.name)
		for _, where := range []struct {
			name string
			raw  string // a valid public JWK with bad.bytes somewhere
		}{
			{name: "in kid", raw: strings.Replace(string(pub.Raw()), `"kid":"`+ec.KeyID+`"`, `"kid":"k`+bad.bytes+`"`, 1)},
			{name: "in an unknown member", raw: `{"note":"` + bad.bytes + `",` + string(pub.Raw()[1:])},
			{name: "in a member name", raw: `{"x-` + bad.bytes + `":1,` + string(pub.Raw()[1:])},
		} {
			t.Run(bad.name+" "+where.name, func(t *testing.T) {
				raw := []byte(where.raw)
				require.True(t, json.Valid(raw), "json.Valid does not check UTF-8")
				// What a consumer reads is not what the key holds.
				var read map[string]any
				require.NoError(t, json.Unmarshal(raw, &read))
				reencoded, err := json.Marshal(read)
				require.NoError(t, err)
				require.NotContains(t, string(reencoded), bad.bytes)

				_, err = apikeys.ParseJWK(raw)
				if assert.Error(t, err) {
					assert.Contains(t, err.Error(), "UTF-8")
				}

				// A set decoded by encoding/json (an APIKey, FetchJWKS)
				// keeps the bytes as sent; Validate refuses them.
				var set apikeys.JWKSet
				require.NoError(t, json.Unmarshal([]byte(`{"keys":[`+where.raw+`]}`), &set))
				require.Len(t, set.Keys, 1)
				require.False(t, utf8.Valid(set.Keys[0].Raw()))
				var sErr *apikeys.JWKSetError
				if assert.ErrorAs(t, set.Validate(), &sErr) {
					require.Len(t, sErr.Problems, 1)
					assert.Contains(t, sErr.Problems[0], "keys[0] (kid ")
					assert.True(t, strings.HasSuffix(sErr.Problems[0], ": not valid UTF-8 (JSON text is UTF-8; invalid bytes would be read as U+FFFD)"), sErr.Problems[0])
				}
			})
		}

		t.Run(bad.name+" private JWK", func(t *testing.T) {
			raw := bytes.Replace(privJWK, []byte("INVALID"), []byte(bad.bytes), 1)
			require.True(t, json.Valid(raw))
			_, err := apikeys.ParseSigningKey(raw, "")
			var ve *apikeys.ValidationError
			if assert.ErrorAs(t, err, &ve) {
				assert.Equal(t, "key", ve.Field)
				assert.Equal(t, "JWK is not valid UTF-8", ve.Reason)
			}
		})

		t.Run(bad.name+" SigningKey.KeyID", func(t *testing.T) {
			key := apikeys.SigningKey{Signer: ec.Signer, KeyID: "kid-" + bad.bytes, Algorithm: apikeys.ES256}
			_, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: "client-1", Key: key, TokenURL: "https://auth.example/v2/auth/token"})
			var ve *apikeys.ValidationError
			if assert.ErrorAs(t, err, &ve) {
				assert.Equal(t, "TokenConfig.Key.KeyID", ve.Field)
				assert.Equal(t, "is not valid UTF-8", ve.Reason)
			}
			_, err = key.JWK()
			if assert.ErrorAs(t, err, &ve) {
				assert.Equal(t, "SigningKey.KeyID", ve.Field)
				assert.Equal(t, "is not valid UTF-8", ve.Reason)
			}
		})
	}

	// Valid UTF-8 beyond ASCII is accepted everywhere.
	key := apikeys.SigningKey{Signer: ec.Signer, KeyID: "clé-2026-ключ", Algorithm: apikeys.ES256}
	_, err = apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: "client-1", Key: key, TokenURL: "https://auth.example/v2/auth/token"})
	require.NoError(t, err)
	jwk, err := key.JWK()
	require.NoError(t, err)
	assert.Equal(t, "clé-2026-ключ", jwk.KeyID())
	parsed, err := apikeys.ParseJWK(jwk.Raw())
	require.NoError(t, err)
	assert.NoError(t, apikeys.NewJWKSet(parsed).Validate())
	_, err = apikeys.ParseSigningKey(bytes.Replace(privJWK, []byte("INVALID"), []byte("clé"), 1), "")
	assert.NoError(t, err)
}

// hostileText is text a server, a JWK Set or a token may hold where an
// error message quotes it: huge, or with runes that break a log line or
// reorder what a reader sees.
var hostileText = []struct{ name, text string }{
	{name: "100 KB", text: strings.Repeat("A", 100<<10)},
	{name: "LINE SEPARATOR", text: "kid\u2028apikeys: forged log line"},
	{name: "PARAGRAPH SEPARATOR", text: "kid\u2029apikeys: forged log line"},
	{name: "RIGHT-TO-LEFT OVERRIDE", text: "\u202egnp.exe"}, // Trojan Source, CVE-2021-42574
	{name: "C0 controls", text: "a\x00b\x1b[31mred\x1b[0m\r\nX-Injected: 1\x7f"},
	{name: "C1 control and format runes", text: "a\u0085b\u200bc\ufeffd\u2066e"},
	{name: "100 KB of separators", text: strings.Repeat("\u2028\u202e\u0000", 100<<10/8)},
}

// assertShortAndPrintable checks an error message that quotes hostile text:
// at most 512 bytes, no run of 65 'A', and neither the hostile runes nor
// their escapes in it.
func assertShortAndPrintable(t *testing.T, msg string) {
	t.Helper()
	assert.LessOrEqual(t, len(msg), 512, "error is %d bytes", len(msg))
	assert.NotContains(t, msg, strings.Repeat("A", 65))
	for _, r := range msg {
		if !unicode.IsPrint(r) {
			assert.Failf(t, "unprintable rune in error", "%U in %.200q", r, msg)
			return
		}
	}
	for _, esc := range []string{`\u2028`, `\u2029`, `\u202e`, `\x00`, `\u0000`, `\x1b`, `\r`, `\n`, `\x7f`, `\u0085`, `\u200b`, `\ufeff`, `\u2066`} {
		assert.NotContains(t, msg, esc)
	}
}

// TestOutsideTextInErrorsIsCapped: every error of VerifyJWT, Validate,
// PublicKey and ParseSigningKey that quotes a kid, an alg, a kty, crv or
// use, a member name or a go-jose message quotes at most 64 printable
// runes of it (128 for go-jose's messages): a 100 KB kid makes a short
// error, and U+2028, U+202E or control characters never reach it.
func TestOutsideTextInErrorsIsCapped(t *testing.T) {
	ec := generatedKey(t, apikeys.ES256)
	ed := generatedKey(t, apikeys.EdDSA)
	ecJWK, err := ec.JWK()
	require.NoError(t, err)
	ecPub := string(ecJWK.Raw()[1 : len(ecJWK.Raw())-1]) // members, with kid and alg
	require.Contains(t, ecPub, `"kid":"`+ec.KeyID+`",`)
	ecMembersOnly := strings.Replace(strings.Replace(ecPub, `"kid":"`+ec.KeyID+`",`, "", 1), `"alg":"ES256",`, "", 1)
	require.NotContains(t, ecMembersOnly, `"kid"`)
	require.NotContains(t, ecMembersOnly, `"alg"`)
	privJWK, err := json.Marshal(jose.JSONWebKey{Key: ec.Signer})
	require.NoError(t, err)
	b64 := base64.RawURLEncoding.EncodeToString

	for _, h := range hostileText {
		q, err := json.Marshal(h.text) // as a JSON string
		require.NoError(t, err)
		hs := string(q)
		parse := func(raw string) apikeys.JWK {
			k, err := apikeys.ParseJWK([]byte(raw))
			require.NoError(t, err, raw)
			return k
		}
		// A published key with the hostile kid (SigningKey.JWK refuses
		// one with control characters).
		jwkWithKid := parse("{" + strings.Replace(ecPub, `"kid":"`+ec.KeyID+`"`, `"kid":`+hs, 1) + "}")
		require.Equal(t, h.text, jwkWithKid.KeyID())
		cases := []struct {
			name string
			err  func() error
		}{
			{name: "VerifyJWT, unknown kid", err: func() error {
				tok := signWithJose(t, ec.Signer, apikeys.ES256, h.text, jwt.Claims{})
				_, err := apikeys.NewJWKSet(ecJWK).VerifyJWT(tok, []string{apikeys.ES256})
				assert.ErrorIs(t, err, apikeys.ErrUnknownKeyID)
				return err
			}},
			{name: "VerifyJWT, alg does not fit the key", err: func() error {
				tok := signWithJose(t, ed.Signer, apikeys.EdDSA, h.text, jwt.Claims{})
				_, err := apikeys.NewJWKSet(jwkWithKid).VerifyJWT(tok, []string{apikeys.EdDSA})
				return err
			}},
			{name: "VerifyJWT, key's alg differs", err: func() error {
				k := parse(`{"kid":"k","alg":` + hs + `,` + ecMembersOnly + `}`)
				tok := signWithJose(t, ec.Signer, apikeys.ES256, "k", jwt.Claims{})
				_, err := apikeys.NewJWKSet(k).VerifyJWT(tok, []string{apikeys.ES256})
				return err
			}},
			{name: "VerifyJWT, token alg", err: func() error {
				tok := b64([]byte(`{"alg":`+hs+`,"kid":"k"}`)) + "." + b64([]byte(`{}`)) + ".AAAA"
				_, err := apikeys.NewJWKSet(ecJWK).VerifyJWT(tok, []string{apikeys.ES256})
				return err
			}},
			{name: "VerifyJWT, header member named twice", err: func() error {
				tok := b64([]byte(`{"alg":"ES256","kid":"k",`+hs+`:1,`+hs+`:1}`)) + "." + b64([]byte(`{}`)) + ".AAAA"
				_, err := apikeys.NewJWKSet(ecJWK).VerifyJWT(tok, []string{apikeys.ES256})
				return err
			}},
			{name: "Validate, kid and use", err: func() error {
				return apikeys.NewJWKSet(parse(`{"kid":` + hs + `,"use":` + hs + `,` + ecMembersOnly + `}`)).Validate()
			}},
			{name: "Validate, kty", err: func() error {
				return apikeys.NewJWKSet(parse(`{"kid":"k","kty":` + hs + `}`)).Validate()
			}},
			{name: "Validate, crv", err: func() error {
				return apikeys.NewJWKSet(parse(`{"kid":"k","kty":"EC","crv":` + hs + `,"x":"AA","y":"AA"}`)).Validate()
			}},
			{name: "Validate, alg", err: func() error {
				return apikeys.NewJWKSet(parse(`{"kid":"k","alg":` + hs + `,` + ecMembersOnly + `}`)).Validate()
			}},
			{name: "Validate, member named twice", err: func() error {
				return apikeys.NewJWKSet(parse(`{"kid":"k",` + hs + `:1,` + hs + `:1,` + ecMembersOnly + `}`)).Validate()
			}},
			{name: "PublicKey, private member", err: func() error {
				_, err := parse(`{"kid":` + hs + `,"d":"AA",` + ecMembersOnly + `}`).PublicKey()
				return err
			}},
			{name: "PublicKey, member named twice", err: func() error {
				_, err := parse(`{"kid":` + hs + `,` + hs + `:1,` + hs + `:2,` + ecMembersOnly + `}`).PublicKey()
				return err
			}},
			{name: "ParseSigningKey, kty", err: func() error {
				_, err := apikeys.ParseSigningKey([]byte(`{"kty":`+hs+`,"d":"AA"}`), "")
				return err
			}},
			{name: "ParseSigningKey, alg", err: func() error {
				raw := `{"alg":` + hs + `,` + string(privJWK[1:])
				_, err := apikeys.ParseSigningKey([]byte(raw), "")
				return err
			}},
			{name: "ParseSigningKey, alg differs", err: func() error {
				raw := `{"alg":` + hs + `,` + string(privJWK[1:])
				_, err := apikeys.ParseSigningKey([]byte(raw), apikeys.ES256)
				return err
			}},
		}
		for _, tc := range cases {
			t.Run(h.name+"/"+tc.name, func(t *testing.T) {
				err := tc.err()
				require.Error(t, err)
				assertShortAndPrintable(t, err.Error())
				var sErr *apikeys.JWKSetError
				if errors.As(err, &sErr) {
					for _, p := range sErr.Problems {
						assertShortAndPrintable(t, p)
					}
				}
			})
		}
	}
}

// TestVerifyJWTRefusesCritAndB64: a JWT's payload is always base64url
// (RFC 7519), and VerifyJWT understands no critical extension, so a token
// whose protected header has "b64" (RFC 7797) or "crit", with any value, is
// refused before verifying, although its signature is valid: go-jose alone
// accepts most of them, honouring "b64": false by verifying a signature
// over the raw payload bytes.
func TestVerifyJWTRefusesCritAndB64(t *testing.T) {
	ec := generatedKey(t, apikeys.ES256)
	ed := generatedKey(t, apikeys.EdDSA)
	ecJWK, err := ec.JWK()
	require.NoError(t, err)
	edJWK, err := ed.JWK()
	require.NoError(t, err)
	set := apikeys.NewJWKSet(ecJWK, edJWK)
	b64 := base64.RawURLEncoding.EncodeToString
	payload := []byte(`{"iss":"client-1","sub":"admin"}`)

	// sign makes a compact token of header (alg and kid are added) and
	// payload that go-jose verifies: the signing input holds the raw
	// payload when the header has "b64": false.
	sign := func(t *testing.T, key apikeys.SigningKey, header string) string {
		t.Helper()
		h := `{"alg":"` + key.Algorithm + `","kid":"` + key.KeyID + `"` + header + `}`
		var parsed struct {
			B64 any `json:"b64"`
		}
		require.NoError(t, json.Unmarshal([]byte(h), &parsed))
		input := b64([]byte(h)) + "." + b64(payload)
		if parsed.B64 == false {
			input = b64([]byte(h)) + "." + string(payload)
		}
		var sig []byte
		switch s := key.Signer.(type) {
		case ed25519.PrivateKey:
			sig = ed25519.Sign(s, []byte(input))
		case *ecdsa.PrivateKey:
			digest := sha256.Sum256([]byte(input))
			r, v, err := ecdsa.Sign(rand.Reader, s, digest[:])
			require.NoError(t, err)
			sig = append(r.FillBytes(make([]byte, 32)), v.FillBytes(make([]byte, 32))...)
		default:
			t.Fatalf("signer %T", key.Signer)
		}
		return b64([]byte(h)) + "." + b64(payload) + "." + b64(sig)
	}
	// goJoseAccepts reports whether go-jose alone verifies tok with key.
	goJoseAccepts := func(key apikeys.SigningKey, tok string) bool {
		parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(key.Algorithm)})
		if err != nil {
			return false
		}
		var c jwt.Claims
		return parsed.Claims(key.Public(), &c) == nil && c.Subject == "admin"
	}

	cases := []struct {
		name     string
		header   string // members after alg and kid
		member   string // the member named in the error
		goJoseOK bool   // go-jose alone verifies the token
	}{
		// RFC 7797 section 4: the unencoded payload as specified.
		{name: "b64 false, crit b64", header: `,"b64":false,"crit":["b64"]`, member: `"b64"`, goJoseOK: true},
		{name: "b64 false without crit", header: `,"b64":false`, member: `"b64"`, goJoseOK: true},
		{name: "b64 true, crit b64", header: `,"b64":true,"crit":["b64"]`, member: `"b64"`, goJoseOK: true},
		{name: "b64 true", header: `,"b64":true`, member: `"b64"`, goJoseOK: true},
		{name: "b64 a string", header: `,"b64":"false"`, member: `"b64"`, goJoseOK: true},
		{name: "crit empty", header: `,"crit":[]`, member: `"crit"`, goJoseOK: true},
		{name: "crit null", header: `,"crit":null`, member: `"crit"`, goJoseOK: true},
		// RFC 7515 section 4.1.11: an extension go-jose does not know.
		{name: "crit exp", header: `,"crit":["exp"],"exp":1363284000`, member: `"crit"`, goJoseOK: false},
	}
	for _, key := range []apikeys.SigningKey{ec, ed} {
		t.Run(key.Algorithm, func(t *testing.T) {
			good := sign(t, key, `,"typ":"JWT"`)
			require.True(t, goJoseAccepts(key, good))
			claims, err := set.VerifyJWT(good, []string{key.Algorithm})
			require.NoError(t, err, "the same construction without b64 or crit verifies")
			require.Equal(t, "admin", claims.Subject)

			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					tok := sign(t, key, tc.header)
					assert.Equal(t, tc.goJoseOK, goJoseAccepts(key, tok), "go-jose alone")
					claims, err := set.VerifyJWT(tok, []string{key.Algorithm})
					assert.Nil(t, claims)
					if assert.Error(t, err) {
						assert.Contains(t, err.Error(), "token header has "+tc.member)
						assert.NotErrorIs(t, err, apikeys.ErrUnknownKeyID)
					}
				})
			}
		})
	}

	// A header that is not base64url or not a JSON object is refused too.
	for _, tok := range []string{"!!!." + b64(payload) + ".AA", b64([]byte(`[1]`)) + "." + b64(payload) + ".AA", b64([]byte(`null`)) + ".e30.AA", "no-dots"} {
		_, err := set.VerifyJWT(tok, []string{apikeys.ES256})
		assert.Error(t, err, tok)
	}
}

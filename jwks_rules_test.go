package apikeys_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

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
		{"2048 bits", 2048, true},
		{"4096 bits", 4096, true},
		{"4097 bits", 4097, false},
		{"6144 bits", 6144, false},
		{"8192 bits", 8192, false},
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

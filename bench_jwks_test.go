package apikeys_test

// Benchmarks of the JWKS helpers. JWKSet.VerifyJWT has a floor, go-jose
// verifying the same token with the key parsed once (its .../gojose
// variant, paired with .../sdk in scripts/bench's first table); the others
// have none and are printed in its second table.

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/apikeys-go/apikeys"
)

// benchRSA2048 returns the process's RSA-2048 key named name
// (GenerateSigningKey makes RSA-3072 only).
func benchRSA2048(b *testing.B, name string) apikeys.SigningKey {
	return cachedSigningKey(b, name, func() (apikeys.SigningKey, error) {
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		return apikeys.SigningKey{Signer: priv, Algorithm: apikeys.RS256}, err
	})
}

// benchJWKSet returns a set of 10 public keys: RSA-2048 (RS256) and
// RSA-3072 (RS384), EC P-256 (ES256) and P-384 (ES384), and Ed25519
// (EdDSA), two of each, kid the RFC 7638 thumbprint. The EdDSA, RS384 and
// ES384 signing keys of generatedKey are the last three, so VerifyJWT
// looks at (nearly) every kid before it finds theirs.
func benchJWKSet(b *testing.B) *apikeys.JWKSet {
	b.Helper()
	alg := func(name, a string) apikeys.SigningKey {
		return cachedSigningKey(b, name, func() (apikeys.SigningKey, error) { return apikeys.GenerateSigningKey(a) })
	}
	keys := []apikeys.SigningKey{
		benchRSA2048(b, "RSA-2048-1"),
		alg("ES256-1", apikeys.ES256),
		alg("EdDSA-1", apikeys.EdDSA),
		alg("RS384-2", apikeys.RS384),
		alg("ES384-2", apikeys.ES384),
		benchRSA2048(b, "RSA-2048-2"),
		alg("ES256-2", apikeys.ES256),
		generatedKey(b, apikeys.EdDSA),
		generatedKey(b, apikeys.RS384),
		generatedKey(b, apikeys.ES384),
	}
	set := apikeys.NewJWKSet()
	for _, k := range keys {
		jwk, err := apikeys.NewJWK(k.Public(), k.Algorithm)
		if err != nil {
			b.Fatal(err)
		}
		set.Keys = append(set.Keys, jwk)
	}
	if err := set.Validate(); err != nil {
		b.Fatal(err)
	}
	return set
}

// BenchmarkJWKS measures NewJWK and JWK.Thumbprint for the key types the
// token endpoint documents (RSA-3072 as GenerateSigningKey makes it for
// RS384, and EC P-384), JWKSet.Validate of the 10-key set of benchJWKSet,
// and JWKSet.VerifyJWT of a client assertion (as the token source signs
// it) against that set.
func BenchmarkJWKS(b *testing.B) {
	for _, kc := range []struct{ name, alg string }{{name: "RSA-3072", alg: apikeys.RS384}, {name: "EC-P384", alg: apikeys.ES384}} {
		b.Run("NewJWK/key="+kc.name, func(b *testing.B) {
			pub := generatedKey(b, kc.alg).Public()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := apikeys.NewJWK(pub, kc.alg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, kc := range []struct{ name, alg string }{{name: "RSA-3072", alg: apikeys.RS384}, {name: "EC-P384", alg: apikeys.ES384}} {
		b.Run("Thumbprint/key="+kc.name, func(b *testing.B) {
			key := generatedKey(b, kc.alg)
			jwk, err := key.JWK()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if tp, err := jwk.Thumbprint(); err != nil || tp != key.KeyID {
					b.Fatalf("Thumbprint: %q, %v; want %q", tp, err, key.KeyID)
				}
			}
		})
	}
	// Validate of a set it has seen (what it finds wrong with a key is
	// kept per key text), and of sets it has not.
	b.Run("Validate/keys=10", func(b *testing.B) {
		set := benchJWKSet(b)
		b.ReportAllocs()
		for b.Loop() {
			if err := set.Validate(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Validate/keys=10/unseen", func(b *testing.B) {
		// 2,048 copies of the set whose keys differ only in their kids, so
		// that each call meets keys it has not seen (the cache holds 1,024
		// keys, then starts over).
		base := benchJWKSet(b)
		sets := make([]*apikeys.JWKSet, 2048)
		for i := range sets {
			sets[i] = apikeys.NewJWKSet()
			for _, k := range base.Keys {
				var m map[string]any
				if err := json.Unmarshal(k.Raw(), &m); err != nil {
					b.Fatal(err)
				}
				m["kid"] = fmt.Sprintf("%s-%d", m["kid"], i)
				raw, err := json.Marshal(m)
				if err != nil {
					b.Fatal(err)
				}
				jwk, err := apikeys.ParseJWK(raw)
				if err != nil {
					b.Fatal(err)
				}
				sets[i].Keys = append(sets[i].Keys, jwk)
			}
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := sets[i%len(sets)].Validate(); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	// VerifyJWT of a client assertion as the token source signs it, next
	// to its floor: go-jose parsing the same token with the same allowed
	// algs and checking its signature with the key parsed once, outside
	// the loop, from the same JWK.
	allowed := []string{apikeys.RS384, apikeys.ES384, apikeys.EdDSA}
	for _, alg := range allowed {
		b.Run("VerifyJWT/alg="+alg, func(b *testing.B) {
			set := benchJWKSet(b)
			key := generatedKey(b, alg)
			ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{
				ClientID: benchClientID, Key: key, TokenURL: "http://127.0.0.1/token",
			})
			if err != nil {
				b.Fatal(err)
			}
			token, err := apikeys.BenchSign(ts, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			b.Run("sdk", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					claims, err := set.VerifyJWT(token, allowed)
					if err != nil || claims.Issuer != benchClientID {
						b.Fatalf("VerifyJWT: %v", err)
					}
				}
			})
			b.Run("gojose", func(b *testing.B) {
				jwk, ok := set.Key(key.KeyID)
				if !ok {
					b.Fatalf("kid %q is not in the set", key.KeyID)
				}
				var jk jose.JSONWebKey
				if err := jk.UnmarshalJSON(jwk.Raw()); err != nil {
					b.Fatal(err)
				}
				algs := make([]jose.SignatureAlgorithm, len(allowed))
				for i, a := range allowed {
					algs[i] = jose.SignatureAlgorithm(a)
				}
				b.ReportAllocs()
				for b.Loop() {
					tok, err := jwt.ParseSigned(token, algs)
					if err != nil {
						b.Fatal(err)
					}
					var claims jwt.Claims
					if err := tok.Claims(jk.Key, &claims); err != nil || claims.Issuer != benchClientID {
						b.Fatalf("Claims: %v", err)
					}
				}
			})
		})
	}
}

package apikeys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"reflect"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// plainKeySeeds returns public JWKs of RSA keys and of every EC curve
// go-jose parses, as NewJWK writes them and as go-jose writes them without
// kid, alg and use (plain), and those followed by variants of them that
// go-jose refuses or that are not plain (all).
func plainKeySeeds(tb testing.TB) (plain, all []string) {
	tb.Helper()
	keys, err := plainSeedKeys()
	if err != nil {
		tb.Fatal(err)
	}
	var variants []string
	for _, pub := range keys {
		jwk, err := NewJWK(pub, "")
		if err != nil {
			tb.Fatal(err)
		}
		bare, err := jose.JSONWebKey{Key: pub}.MarshalJSON()
		if err != nil {
			tb.Fatal(err)
		}
		for _, s := range []string{string(jwk.raw), string(bare)} {
			plain = append(plain, s)
			variants = append(variants,
				strings.Replace(s, `"e":"AQAB"`, `"e":""`, 1),
				strings.Replace(s, `"e":"AQAB"`, `"e":"AQ"`, 1),
				strings.Replace(s, `"e":"AQAB"`, `"e":"gAAAAAAAAAAA"`, 1),
				strings.Replace(s, `"n":"`, `"n":"`+strings.Repeat("_", 12), 1),
				strings.Replace(s, `"n":"`, `"n":"=`, 1),
				strings.Replace(s, `"x":"`, `"x":"A`, 1),
				strings.Replace(s, `"y":"`, `"y":"AAAA`, 1),
				strings.Replace(s, `"y":"`, `"y":"\u0041`, 1),
				strings.Replace(s, `"crv":"P-`, `"crv":"P-2`, 1),
				strings.Replace(s, `"kty":"`, `"kty":"`+"\u00e9", 1),
				strings.Replace(s, `{`, `{"x":"!",`, 1),
				strings.Replace(s, `{`, `{"n":"",`, 1),
				strings.Replace(s, `{`, `{"kid":"a","kid":"b",`, 1),
				strings.Replace(s, `{`, `{"x5t":"AA",`, 1),
				strings.Replace(s, `{`, `{"d":"AA",`, 1),
			)
		}
	}
	return plain, append(plain, variants...)
}

// plainSeedKeys makes the keys of plainKeySeeds once per process: RSA-4096
// generation is slow.
var plainSeedKeys = sync.OnceValues(func() ([]any, error) {
	var keys []any
	for _, bits := range []int{2048, 4096} {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			return nil, err
		}
		keys = append(keys, &k.PublicKey)
	}
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			return nil, err
		}
		keys = append(keys, &k.PublicKey)
	}
	return keys, nil
})

// TestPlainPublicKeyReadsPlainKeys: the keys NewJWK and go-jose write are
// plain, so Validate and PublicKey parse them without go-jose's decoding.
func TestPlainPublicKeyReadsPlainKeys(t *testing.T) {
	plain, _ := plainKeySeeds(t)
	for _, s := range plain {
		members, ok := objectMembers(nil, []byte(s))
		if !ok {
			t.Fatalf("%s is not an object", s)
		}
		if _, ok := plainPublicKey(members); !ok {
			t.Errorf("plainPublicKey refused %s", s)
		}
	}
}

// FuzzPlainPublicKey: plainPublicKey accepts only JWKs go-jose accepts,
// and returns the key go-jose returns.
func FuzzPlainPublicKey(f *testing.F) {
	_, all := plainKeySeeds(f)
	for _, s := range all {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		members, ok := objectMembers(nil, data)
		if !ok {
			return
		}
		pub, ok := plainPublicKey(members)
		if !ok {
			return
		}
		var jk jose.JSONWebKey
		if err := jk.UnmarshalJSON(data); err != nil {
			t.Fatalf("plainPublicKey accepted %s, go-jose refuses it: %v", data, err)
		}
		if !reflect.DeepEqual(pub, jk.Key) {
			t.Fatalf("plainPublicKey(%s) = %#v, go-jose %#v", data, pub, jk.Key)
		}
	})
}

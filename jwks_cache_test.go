package apikeys_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// cacheKey is an Ed25519 key pair for the cache tests: its public JWK can
// be published under any kid, and it signs tokens for any kid.
type cacheKey struct{ priv ed25519.PrivateKey }

func newCacheKey(t *testing.T) cacheKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return cacheKey{priv}
}

// jwkJSON is the key's public JWK under kid, with use. Every key's JSON
// has the same length for the same kid and use: x is always 43 characters.
func (k cacheKey) jwkJSON(kid, use string) []byte {
	x := base64.RawURLEncoding.EncodeToString(k.priv.Public().(ed25519.PublicKey))
	return fmt.Appendf(nil, `{"kty":"OKP","crv":"Ed25519","x":%q,"kid":%q,"alg":"EdDSA","use":%q}`, x, kid, use)
}

func (k cacheKey) jwk(t *testing.T, kid string) apikeys.JWK {
	t.Helper()
	jwk, err := apikeys.ParseJWK(k.jwkJSON(kid, "sig"))
	require.NoError(t, err)
	return jwk
}

// token is a JWT signed by the key, naming kid.
func (k cacheKey) token(t *testing.T, kid string) string {
	t.Helper()
	return signWithJose(t, k.priv, apikeys.EdDSA, kid, jwt.Claims{Issuer: "iss-" + kid})
}

// verifyWith reports whether set verifies token.
func verifyWith(t *testing.T, set *apikeys.JWKSet, token string) error {
	t.Helper()
	_, err := set.VerifyJWT(token, []string{apikeys.EdDSA})
	return err
}

// TestVerifyJWTNeverUsesAStaleKey changes a set in every way a caller can
// between two verifications, each time after VerifyJWT has read (and
// cached) the key it held: the key the set holds now is used, and the one
// it held before is not. VerifyJWT caches what it reads from a key by the
// key's JSON text, so none of these can reach an entry of the old key.
func TestVerifyJWTNeverUsesAStaleKey(t *testing.T) {
	a, b, other := newCacheKey(t), newCacheKey(t), newCacheKey(t)
	tokA, tokB := a.token(t, "k"), b.token(t, "k")

	// holdsA checks that set verifies a's token for kid k and not b's,
	// holdsB the other way round.
	holdsA := func(t *testing.T, set *apikeys.JWKSet) {
		t.Helper()
		require.NoError(t, verifyWith(t, set, tokA), "a's token")
		require.Error(t, verifyWith(t, set, tokB), "b's token")
	}
	holdsB := func(t *testing.T, set *apikeys.JWKSet) {
		t.Helper()
		require.NoError(t, verifyWith(t, set, tokB), "b's token")
		require.Error(t, verifyWith(t, set, tokA), "a's token")
	}

	t.Run("element replaced", func(t *testing.T) {
		set := apikeys.NewJWKSet(other.jwk(t, "other"), a.jwk(t, "k"))
		holdsA(t, set)
		set.Keys[1] = b.jwk(t, "k")
		holdsB(t, set)
	})
	t.Run("appended", func(t *testing.T) {
		set := apikeys.NewJWKSet(other.jwk(t, "other"))
		require.ErrorIs(t, verifyWith(t, set, tokA), apikeys.ErrUnknownKeyID)
		set.Keys = append(set.Keys, a.jwk(t, "k"))
		holdsA(t, set)
	})
	t.Run("truncated", func(t *testing.T) {
		set := apikeys.NewJWKSet(other.jwk(t, "other"), a.jwk(t, "k"))
		holdsA(t, set)
		set.Keys = set.Keys[:1]
		require.ErrorIs(t, verifyWith(t, set, tokA), apikeys.ErrUnknownKeyID)
		// The dropped element is still in the backing array: appending
		// over it puts b's key there.
		set.Keys = append(set.Keys, b.jwk(t, "k"))
		holdsB(t, set)
	})
	t.Run("reordered", func(t *testing.T) {
		set := apikeys.NewJWKSet(a.jwk(t, "k1"), b.jwk(t, "k2"))
		tokA1, tokB2 := a.token(t, "k1"), b.token(t, "k2")
		require.NoError(t, verifyWith(t, set, tokA1))
		require.NoError(t, verifyWith(t, set, tokB2))
		set.Keys[0], set.Keys[1] = set.Keys[1], set.Keys[0]
		require.NoError(t, verifyWith(t, set, tokA1))
		require.NoError(t, verifyWith(t, set, tokB2))
		// The kids moved with their keys: each kid still names its key.
		require.Error(t, verifyWith(t, set, a.token(t, "k2")))
		require.Error(t, verifyWith(t, set, b.token(t, "k1")))
	})
	t.Run("Keys replaced by another set's", func(t *testing.T) {
		set, next := apikeys.NewJWKSet(a.jwk(t, "k")), apikeys.NewJWKSet(b.jwk(t, "k"))
		holdsA(t, set)
		holdsB(t, next)
		set.Keys = next.Keys
		holdsB(t, set)
	})
	t.Run("copied value, original replaced", func(t *testing.T) {
		set := apikeys.NewJWKSet(a.jwk(t, "k"))
		holdsA(t, set)
		kept := set.Keys[0]
		set.Keys[0] = b.jwk(t, "k")
		holdsB(t, set)
		holdsA(t, apikeys.NewJWKSet(kept))
	})
	t.Run("json.Unmarshal into the set", func(t *testing.T) {
		set := apikeys.NewJWKSet(a.jwk(t, "k"), other.jwk(t, "other"))
		holdsA(t, set)
		keys := set.Keys
		require.NoError(t, json.Unmarshal([]byte(`{"keys":[`+string(b.jwkJSON("k", "sig"))+`]}`), set))
		require.Same(t, &keys[0], &set.Keys[0], "encoding/json decodes into the elements in place")
		holdsB(t, set)
	})
	t.Run("json.Unmarshal into an element", func(t *testing.T) {
		set := apikeys.NewJWKSet(a.jwk(t, "k"))
		holdsA(t, set)
		require.NoError(t, json.Unmarshal(b.jwkJSON("k", "sig"), &set.Keys[0]))
		holdsB(t, set)
	})
	t.Run("UnmarshalJSON called on an element", func(t *testing.T) {
		set := apikeys.NewJWKSet(a.jwk(t, "k"))
		holdsA(t, set)
		require.NoError(t, set.Keys[0].UnmarshalJSON(b.jwkJSON("k", "sig")))
		holdsB(t, set)
	})
	t.Run("MarshalJSON's bytes written over", func(t *testing.T) {
		// MarshalJSON returns the key's own bytes: a caller who writes
		// over them changes the key in place, under the same slice.
		set := apikeys.NewJWKSet(a.jwk(t, "k"))
		holdsA(t, set)
		raw, err := set.Keys[0].MarshalJSON()
		require.NoError(t, err)
		next := b.jwkJSON("k", "sig")
		require.Len(t, next, len(raw))
		copy(raw, next)
		holdsB(t, set)
	})
	t.Run("key made unusable", func(t *testing.T) {
		set := apikeys.NewJWKSet(a.jwk(t, "k"))
		holdsA(t, set)
		enc, err := apikeys.ParseJWK(a.jwkJSON("k", "enc"))
		require.NoError(t, err)
		set.Keys[0] = enc
		require.ErrorIs(t, verifyWith(t, set, tokA), apikeys.ErrUnknownKeyID)
	})
}

// TestVerifyJWTConcurrent verifies tokens of several keys, good and bad,
// from many goroutines on one set, first use included, while other
// goroutines verify against sets of fresh keys: run with -race.
func TestVerifyJWTConcurrent(t *testing.T) {
	keys := []cacheKey{newCacheKey(t), newCacheKey(t), newCacheKey(t)}
	set := apikeys.NewJWKSet()
	var good, bad []string
	for i, k := range keys {
		kid := fmt.Sprintf("k%d", i)
		set.Keys = append(set.Keys, k.jwk(t, kid))
		good = append(good, k.token(t, kid))
		bad = append(bad, keys[(i+1)%len(keys)].token(t, kid))
	}
	type fresh struct {
		set   *apikeys.JWKSet
		token string
	}
	var fresher [2][10]fresh
	for i := range fresher {
		for j := range fresher[i] {
			k := newCacheKey(t)
			fresher[i][j] = fresh{apikeys.NewJWKSet(k.jwk(t, "fresh")), k.token(t, "fresh")}
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 30 {
				j := (g + i) % len(keys)
				claims, err := set.VerifyJWT(good[j], []string{apikeys.EdDSA})
				if assert.NoError(t, err) {
					assert.Equal(t, fmt.Sprintf("iss-k%d", j), claims.Issuer)
				}
				_, err = set.VerifyJWT(bad[j], []string{apikeys.EdDSA})
				assert.Error(t, err)
			}
		})
	}
	for _, sets := range fresher {
		wg.Go(func() {
			for _, f := range sets {
				_, err := f.set.VerifyJWT(f.token, []string{apikeys.EdDSA})
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
}

package apikeys

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestVerifyKeysBounded: the cache VerifyJWT reads keys through stays
// within maxCachedKeys entries and maxCachedKeyBytes of JSON however many
// keys go through it, from many goroutines at once (run with -race); a
// key over maxCachedKeyBytes/64 is read anew each time; and a key's entry
// is its text's, so the same text finds the same entry, and other text
// another.
func TestVerifyKeysBounded(t *testing.T) {
	okp := func(kid string) []byte {
		return []byte(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"` + kid + `"}`)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range maxCachedKeys {
				e := cachedKey(okp(fmt.Sprintf("k%d-%d", g, i)), false)
				if pub, kty, crv := e.public(); pub == nil || kty != "OKP" || crv != "Ed25519" {
					t.Errorf("public() = %v, %q, %q", pub, kty, crv)
					return
				}
				keyCache.RLock()
				n, bytes := len(keyCache.m), keyCache.bytes
				keyCache.RUnlock()
				if n > maxCachedKeys || bytes > maxCachedKeyBytes {
					t.Errorf("cache holds %d keys, %d bytes", n, bytes)
					return
				}
			}
		})
	}
	wg.Wait()

	a := cachedKey(okp("same"), false)
	if b := cachedKey(okp("same"), false); b != a {
		t.Error("the same text found another entry")
	}
	if b := cachedKey(okp("other"), false); b == a || b.hdr.KeyID != "other" {
		t.Errorf("other text found entry of kid %q", b.hdr.KeyID)
	}

	large := []byte(`{"kid":"large","x5c":["` + strings.Repeat("A", maxCachedKeyBytes/64) + `"]}`)
	if a, b := cachedKey(large, false), cachedKey(large, false); a == b || a.hdr.KeyID != "large" {
		t.Error("a key over maxCachedKeyBytes/64 was cached")
	}
}

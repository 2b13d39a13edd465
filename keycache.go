package apikeys

import (
	"crypto"
	"sync"
)

// keyFacts is what the SDK reads of one JWK: its header, read once; its
// public key, parsed and checked (PublicKey, keyShape) the first time a
// token names its kid (VerifyJWT); and what is wrong with it, found the
// first time a set holding it is validated (Validate).
type keyFacts struct {
	text string // the JWK's JSON; the key of keyCache
	hdr  jwkHeader

	once     sync.Once
	pub      crypto.PublicKey // nil when the key is not usable
	kty, crv string

	checked sync.Once
	own     []string // Validate's problems with the key alone (keyProblems)
	kidAt   int
}

// problems returns what is wrong with the key alone, found the first
// time it is asked (see keyProblems).
func (e *keyFacts) problems() ([]string, int) {
	e.checked.Do(func() {
		raw := []byte(e.text)
		var buf [16]member
		members, object := objectMembers(buf[:0], raw)
		e.own, e.kidAt = keyProblems(raw, members, object)
	})
	return e.own, e.kidAt
}

// public returns the key's public key, kty and crv, or a nil key when it
// is not usable: it does not parse, or is of a type, curve or size the SDK
// does not accept. The key is VerifyJWT's own: never handed to a caller,
// who could change it.
func (e *keyFacts) public() (crypto.PublicKey, string, string) {
	e.once.Do(func() {
		pub, err := JWK{raw: []byte(e.text)}.PublicKey()
		if err != nil {
			return
		}
		if e.kty, e.crv, err = keyShape(pub); err == nil {
			e.pub = pub
		}
	})
	return e.pub, e.kty, e.crv
}

// keyCache caches a keyFacts per JWK, keyed by the JWK's JSON text
// itself. What VerifyJWT and Validate read from a key depends on that
// text only, so a
// set whose Keys a caller changes in any way (an element replaced,
// appended, dropped or reordered, Keys replaced, a JWK decoded anew, even
// the bytes of MarshalJSON's result written over) can only find the entry
// of the text it holds now: never a stale key. The cache is shared by all
// sets of the process and bounded: when it would exceed
// maxCachedKeys entries or maxCachedKeyBytes of JSON, it starts over
// empty, and a JWK over maxCachedKeyBytes/64 is read anew on every call.
var keyCache struct {
	sync.RWMutex
	m     map[string]*keyFacts
	bytes int
}

const (
	maxCachedKeys     = 1024
	maxCachedKeyBytes = 4 << 20
)

// cachedKey returns the keyFacts of the JWK whose JSON is raw. check says
// the caller will ask for its problems: a key read for the first time is
// then checked at once, from the members its header is read from.
func cachedKey(raw []byte, check bool) *keyFacts {
	keyCache.RLock()
	e := keyCache.m[string(raw)] // no copy: a map index converts in place
	keyCache.RUnlock()
	if e != nil {
		return e
	}
	// The entry's own copy: raw may change once this returns.
	text := string(raw)
	var buf [16]member
	members, object := objectMembers(buf[:0], raw)
	e = &keyFacts{text: text, hdr: readHeader(members)}
	if check {
		e.checked.Do(func() { e.own, e.kidAt = keyProblems(raw, members, object) })
	}
	if len(text) > maxCachedKeyBytes/64 {
		return e
	}
	keyCache.Lock()
	defer keyCache.Unlock()
	if held := keyCache.m[text]; held != nil {
		return held // another goroutine read it first
	}
	if keyCache.m == nil || len(keyCache.m) >= maxCachedKeys || keyCache.bytes+len(text) > maxCachedKeyBytes {
		keyCache.m, keyCache.bytes = make(map[string]*keyFacts), 0
	}
	keyCache.m[text] = e
	keyCache.bytes += len(text)
	return e
}

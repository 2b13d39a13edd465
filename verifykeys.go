package apikeys

import (
	"crypto"
	"sync"
)

// verifyKey is what VerifyJWT needs of one JWK: its header, read once, and
// its public key, parsed and checked (PublicKey, keyShape) the first time
// a token names its kid.
type verifyKey struct {
	text string // the JWK's JSON; the key of verifyKeys
	hdr  jwkHeader

	once     sync.Once
	pub      crypto.PublicKey // nil when the key is not usable
	kty, crv string
}

// public returns the key's public key, kty and crv, or a nil key when it
// is not usable: it does not parse, or is of a type, curve or size the SDK
// does not accept. The key is VerifyJWT's own: never handed to a caller,
// who could change it.
func (e *verifyKey) public() (crypto.PublicKey, string, string) {
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

// verifyKeys caches a verifyKey per JWK, keyed by the JWK's JSON text
// itself. What VerifyJWT reads from a key depends on that text only, so a
// set whose Keys a caller changes in any way (an element replaced,
// appended, dropped or reordered, Keys replaced, a JWK decoded anew, even
// the bytes of MarshalJSON's result written over) can only find the entry
// of the text it holds now: never a stale key. The cache is shared by all
// sets of the process and bounded: when it would exceed
// maxVerifyKeys entries or maxVerifyKeyBytes of JSON, it starts over
// empty, and a JWK over maxVerifyKeyBytes/64 is read anew on every call.
var verifyKeys struct {
	sync.RWMutex
	m     map[string]*verifyKey
	bytes int
}

const (
	maxVerifyKeys     = 1024
	maxVerifyKeyBytes = 4 << 20
)

// cachedVerifyKey returns the verifyKey of the JWK whose JSON is raw.
func cachedVerifyKey(raw []byte) *verifyKey {
	verifyKeys.RLock()
	e := verifyKeys.m[string(raw)] // no copy: a map index converts in place
	verifyKeys.RUnlock()
	if e != nil {
		return e
	}
	text := string(raw)
	// Both the header and, later, the public key come from text, the
	// entry's own copy, whatever happens to raw.
	e = &verifyKey{text: text, hdr: JWK{raw: []byte(text)}.header()}
	if len(text) > maxVerifyKeyBytes/64 {
		return e
	}
	verifyKeys.Lock()
	defer verifyKeys.Unlock()
	if held := verifyKeys.m[text]; held != nil {
		return held // another goroutine read it first
	}
	if verifyKeys.m == nil || len(verifyKeys.m) >= maxVerifyKeys || verifyKeys.bytes+len(text) > maxVerifyKeyBytes {
		verifyKeys.m, verifyKeys.bytes = make(map[string]*verifyKey), 0
	}
	verifyKeys.m[text] = e
	verifyKeys.bytes += len(text)
	return e
}

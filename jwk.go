package apikeys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/apikeys-go/apikeys/internal/jwkmember"
)

// JWK is one JSON Web Key (RFC 7517) as it travels on the wire. It keeps
// every member it was given, so a key of a type this SDK does not know
// still round-trips and never breaks decoding an APIKey. Use the
// accessors to read the common members: they read them as go-jose does,
// by their names as spelled, so a "KID" member is no kid.
type JWK struct {
	raw json.RawMessage
}

// jwkHeader holds the members every JWK may carry (readHeader reads them).
type jwkHeader struct {
	KeyID, KeyType, Algorithm, Use, Curve string
}

// ParseJWK reads one JWK from its JSON object form. It checks that data
// is valid JSON and valid UTF-8: use it, not UnmarshalJSON, for bytes from
// elsewhere.
func ParseJWK(data []byte) (JWK, error) {
	const op = "ParseJWK"
	data = bytes.TrimSpace(data)
	if err := checkJWKObject(op, data); err != nil {
		return JWK{}, err
	}
	if !json.Valid(data) {
		return JWK{}, invalid(op, "JWK", "must be valid JSON")
	}
	if !utf8.Valid(data) {
		return JWK{}, invalid(op, "JWK", notUTF8)
	}
	return JWK{raw: bytes.Clone(data)}, nil
}

// notUTF8 refuses a JWK whose JSON is not valid UTF-8. JSON text is
// UTF-8 (RFC 8259 section 8.1), and json.Valid does not check it: Go's
// encoding/json, go-jose and most servers decode the invalid bytes of a
// string as U+FFFD, and json.Marshal writes a string holding them that
// way, so the key (its kid, say) that the Platform API or a verifier
// reads would not be the key held here.
const notUTF8 = "must be valid UTF-8 (JSON text is UTF-8; invalid bytes would be read as U+FFFD)"

// UnmarshalJSON keeps a copy of data once it is known to be a JSON object.
// It does not check the object's syntax again: encoding/json (Unmarshal,
// Decoder.Decode) refuses malformed input before it calls UnmarshalJSON
// and hands it one complete, valid value (though not necessarily valid
// UTF-8, which Validate reports). Call ParseJWK, which checks, for bytes
// from elsewhere.
func (k *JWK) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if err := checkJWKObject("JWK.UnmarshalJSON", data); err != nil {
		return err
	}
	// A new buffer every time: copies of a JWK share its raw slice, so
	// reusing k's old buffer would rewrite every copy made before.
	k.raw = bytes.Clone(data)
	return nil
}

// checkJWKObject refuses data that is not a JSON object by its first byte.
func checkJWKObject(op string, data []byte) error {
	if len(data) == 0 || data[0] != '{' {
		return invalid(op, "JWK", "must be a JSON object")
	}
	return nil
}

// MarshalJSON returns the key's members exactly as they were given.
func (k JWK) MarshalJSON() ([]byte, error) {
	if len(k.raw) == 0 {
		return []byte("{}"), nil
	}
	return k.raw, nil
}

// Raw returns a copy of the key's JSON object.
func (k JWK) Raw() []byte { return bytes.Clone(k.raw) }

// header returns the key's header as go-jose reads it (readHeader).
// Members of the wrong JSON type read as empty; Validate reports them.
func (k JWK) header() jwkHeader {
	var buf [16]member
	members, _ := objectMembers(buf[:0], k.raw)
	return readHeader(members)
}

// KeyID returns the "kid" member, or "".
func (k JWK) KeyID() string { return k.header().KeyID }

// KeyType returns the "kty" member (RSA, EC, OKP, oct, ...), or "".
func (k JWK) KeyType() string { return k.header().KeyType }

// Algorithm returns the "alg" member, or "".
func (k JWK) Algorithm() string { return k.header().Algorithm }

// Use returns the "use" member, or "".
func (k JWK) Use() string { return k.header().Use }

// Curve returns the "crv" member of an EC or OKP key, or "".
func (k JWK) Curve() string { return k.header().Curve }

// String describes the key by kid, kty and alg only: never key material.
func (k JWK) String() string {
	h := k.header()
	return fmt.Sprintf("JWK{kid=%q kty=%q alg=%q}", h.KeyID, h.KeyType, h.Algorithm)
}

// GoString is like String, so %#v prints no key material either.
func (k JWK) GoString() string { return "apikeys." + k.String() }

// LogValue logs the key's kid, kty and alg only.
func (k JWK) LogValue() slog.Value {
	h := k.header()
	return slog.GroupValue(slog.String("kid", h.KeyID), slog.String("kty", h.KeyType), slog.String("alg", h.Algorithm))
}

// Thumbprint returns the key's RFC 7638 JWK thumbprint: the base64url
// (unpadded) SHA-256 hash of its required public members. It works for
// RSA, EC (P-256, P-384, P-521) and OKP Ed25519 keys.
func (k JWK) Thumbprint() (string, error) {
	pub, err := k.PublicKey()
	if err != nil {
		return "", err
	}
	return thumbprint(pub)
}

// PublicKey parses the key's public members into an *rsa.PublicKey, an
// *ecdsa.PublicKey or an ed25519.PublicKey. It fails for a key that holds
// private or symmetric members, names a member twice (exactly or in two
// letter cases, see Validate), or is of a key type or curve this SDK does
// not support.
func (k JWK) PublicKey() (crypto.PublicKey, error) {
	const op = "JWK.PublicKey"
	var buf [16]member
	members, ok := objectMembers(buf[:0], k.raw)
	if !ok {
		return nil, invalid(op, "JWK", "is not a JSON object")
	}
	h := readHeader(members)
	field := func() string { return "JWK (kid " + quoted(h.KeyID) + ")" }
	if h.KeyType == "oct" {
		return nil, invalid(op, field(), "is a symmetric (oct) key")
	}
	if names := privateNames(members); len(names) > 0 {
		return nil, invalid(op, field(), "holds private key member %s", quoted(names[0]))
	}
	if repeats := repeatedMembers(members); len(repeats) > 0 {
		return nil, invalid(op, field(), "%s", repeats[0])
	}
	pub, err := parsePublicKey(k.raw, members)
	if err != nil {
		return nil, invalid(op, field(), "%v", err)
	}
	return pub, nil
}

// repeatedMembers returns one problem for each of members (a JSON
// object's, in order) whose name repeats the name of an earlier member,
// exactly (after JSON escapes are decoded) or under case folding. Go's
// encoding/json matches member names to struct fields with the folding of
// strings.EqualFold, in which KELVIN SIGN (U+212A) is "k" and LONG S
// (U+017F) is "s", and the last match wins; go-jose matches them exactly
// and refuses exact repeats. A key that names a member twice is thus read
// differently by different consumers, or not at all. A small object (a
// JWK or a JWS header has a handful of members) is checked pair by pair,
// a larger one with a map of folded names, so the time stays linear in
// its size.
func repeatedMembers(members []member) []string {
	const pairwise = 16
	var problems []string
	var first map[string]string // folded name -> first spelling, for a large object
	for j, m := range members {
		prev, seen := "", false
		if len(members) <= pairwise {
			for _, p := range members[:j] {
				if strings.EqualFold(p.name, m.name) {
					prev, seen = p.name, true
					break
				}
			}
		} else {
			if first == nil {
				first = make(map[string]string, len(members))
			}
			folded := strings.Map(foldRune, m.name)
			if prev, seen = first[folded]; !seen {
				first[folded] = m.name
			}
		}
		switch {
		case !seen:
		case prev == m.name:
			problems = append(problems, fmt.Sprintf("member %s appears twice", quoted(m.name)))
		default:
			problems = append(problems, fmt.Sprintf("member %s repeats %s in another letter case", quoted(m.name), quoted(prev)))
		}
	}
	return problems
}

// foldRune maps r to the smallest rune of its unicode.SimpleFold orbit,
// so that two names are equal under strings.EqualFold exactly when their
// runes map to the same runes (encoding/json folds names the same way).
func foldRune(r rune) rune {
	for {
		next := unicode.SimpleFold(r)
		if next <= r {
			return next
		}
		r = next
	}
}

// maxQuotedRunes caps the text from outside (a kid, an alg, a kty, crv or
// use, a member name) that an error message quotes, and
// maxLibraryErrorRunes the message of a go-jose error, which may quote
// such text too (e.g. "json: duplicate key '...' in object").
const (
	maxQuotedRunes       = 64
	maxLibraryErrorRunes = 128
)

// quoted returns s for an error message: at most maxQuotedRunes printable
// runes of it (excerpt turns the others, such as U+2028 or U+202E, into
// spaces), in double quotes. Every piece of text from a JWK, a token or a
// server that an error of this file shows goes through it.
func quoted(s string) string {
	return strconv.Quote(excerpt([]byte(s), maxQuotedRunes))
}

// libraryError returns the message of a go-jose error for an error
// message of the SDK: without go-jose's prefix, at most
// maxLibraryErrorRunes printable runes.
func libraryError(err error) string {
	return excerpt([]byte(strings.TrimPrefix(err.Error(), "go-jose/go-jose: ")), maxLibraryErrorRunes)
}

// parsePublicKey parses a JWK that holds no private member with go-jose,
// exactly as it is written (and so as it is uploaded or published): a
// member named twice, which go-jose and other strict parsers refuse, is
// refused here too. It parses one key at a time, so one odd key never
// fails a whole set. members are raw's (objectMembers), or nil: a plain
// RSA or EC key among them is parsed without go-jose's JSON decoding
// (plainPublicKey), to the key go-jose would return.
func parsePublicKey(raw []byte, members []member) (crypto.PublicKey, error) {
	if pub, ok := plainPublicKey(members); ok {
		return pub, nil
	}
	var jk jose.JSONWebKey
	if err := jk.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("public members do not parse: %s", libraryError(err))
	}
	switch key := jk.Key.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return key, nil
	}
	return nil, fmt.Errorf("unsupported key type %T", jk.Key)
}

// parsePublicMembers parses the public members of a key that also holds
// private ones (members, none named twice), those left out, so that
// Validate can also say whether the public ones parse. Such a key is
// refused anyway; a key without private members goes to parsePublicKey as
// it is written.
func parsePublicMembers(members []member) (crypto.PublicKey, error) {
	b := []byte{'{'}
	var pub []member
	for _, m := range members {
		if jwkmember.IsPrivate(m.name) {
			continue
		}
		if len(pub) > 0 {
			b = append(b, ',')
		}
		name, _ := json.Marshal(m.name) // a string always encodes
		b = append(append(append(b, name...), ':'), m.value...)
		pub = append(pub, m)
	}
	return parsePublicKey(append(b, '}'), pub)
}

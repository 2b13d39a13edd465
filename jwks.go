package apikeys

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/apikeys-go/apikeys/internal/jwkmember"
)

// JWKSet is a JSON Web Key Set: {"keys": [...]}.
type JWKSet struct {
	// Keys are the set's keys, in document order. A key of a type the SDK
	// does not know is kept as it came.
	Keys []JWK `json:"keys"`
}

// MarshalJSON writes the set as {"keys":[...]}, with [] when it has no
// keys: "keys" is an array (RFC 7517 section 5), and servers refuse null.
// Each key is written as it is held (JWK.MarshalJSON); json.Marshal, the
// set's usual caller, checks and compacts the whole, as it does whatever
// a MarshalJSON returns, so the set does not do it a second time.
func (s JWKSet) MarshalJSON() ([]byte, error) {
	n := len(`{"keys":[]}`)
	for _, k := range s.Keys {
		n += len(k.raw) + 2 // "{}" for a key without JSON; a comma
	}
	b := append(make([]byte, 0, n), `{"keys":[`...)
	for i, k := range s.Keys {
		if i > 0 {
			b = append(b, ',')
		}
		kb, _ := k.MarshalJSON() // never fails
		b = append(b, kb...)
	}
	return append(b, "]}"...), nil
}

// NewJWKSet returns a set holding keys.
func NewJWKSet(keys ...JWK) *JWKSet {
	return &JWKSet{Keys: append([]JWK(nil), keys...)}
}

// Key returns the first key whose kid is kid.
func (s *JWKSet) Key(kid string) (JWK, bool) {
	if s == nil {
		return JWK{}, false
	}
	for _, k := range s.Keys {
		if k.KeyID() == kid {
			return k, true
		}
	}
	return JWK{}, false
}

// With returns a new set holding s's keys followed by keys; s is not
// changed (a nil s is an empty set). A key whose kid s already holds is
// not added again when it is the same key material (the same RFC 7638
// thumbprint, so its alg or use may differ; for a key that does not parse,
// the same JSON), which makes With idempotent; the same kid with other key
// material is a *ValidationError, as is a key without a kid: one kid names
// one key. With does not validate the keys otherwise: see Validate.
func (s *JWKSet) With(keys ...JWK) (*JWKSet, error) {
	const op = "JWKSet.With"
	out := NewJWKSet(s.keys()...)
	for i, k := range keys {
		kid := k.KeyID()
		if kid == "" {
			return nil, invalid(op, fmt.Sprintf("keys[%d]", i), "has no kid")
		}
		if held, ok := out.Key(kid); ok {
			if !sameKeyMaterial(held, k) {
				return nil, invalid(op, fmt.Sprintf("keys[%d]", i), "kid %s is already in the set with other key material", quoted(kid))
			}
			continue
		}
		out.Keys = append(out.Keys, k)
	}
	return out, nil
}

// Without returns a new set holding s's keys but those whose kid is one
// of kids; s is not changed (a nil s is an empty set). A kid s does not
// hold is ignored, which makes Without idempotent.
func (s *JWKSet) Without(kids ...string) *JWKSet {
	out := &JWKSet{Keys: []JWK{}}
	for _, k := range s.keys() {
		if !slices.Contains(kids, k.KeyID()) {
			out.Keys = append(out.Keys, k)
		}
	}
	return out
}

// KeyIDs returns the kids of the set's keys, in order.
func (s *JWKSet) KeyIDs() []string {
	var kids []string
	for _, k := range s.keys() {
		kids = append(kids, k.KeyID())
	}
	return kids
}

func (s *JWKSet) keys() []JWK {
	if s == nil {
		return nil
	}
	return s.Keys
}

// sameKeyMaterial reports whether a and b hold the same public key: the
// same RFC 7638 thumbprint, or, when either does not parse, the same JSON.
func sameKeyMaterial(a, b JWK) bool {
	ta, errA := a.Thumbprint()
	tb, errB := b.Thumbprint()
	if errA == nil && errB == nil {
		return ta == tb
	}
	var ca, cb bytes.Buffer
	return json.Compact(&ca, a.raw) == nil && json.Compact(&cb, b.raw) == nil && bytes.Equal(ca.Bytes(), cb.Bytes())
}

// privateNames returns the names of members (a JSON object's, in order)
// that are private members in any letter case, each once, in the order of
// jwkmember.In. go-jose itself reads member names exactly as spelled (its
// own JSON decoder, which also refuses a member named twice), so to it "P"
// is an unknown member. But Go's encoding/json matches member names
// case-insensitively, so to a consumer that decodes a JWK with it (a
// struct with a `json:"p"` field) "P" holds a prime as surely as "p"
// does: a key that spells a private member in any letter case is refused.
// It builds a map only for a key that has one.
func privateNames(members []member) []string {
	var names map[string]bool
	for _, m := range members {
		if jwkmember.IsPrivate(m.name) {
			if names == nil {
				names = make(map[string]bool)
			}
			names[m.name] = true
		}
	}
	return jwkmember.In(names)
}

// stringMembers must be JSON strings when present.
var stringMembers = []string{"kid", "kty", "alg", "use", "crv"}

// Validate checks that the set is fit to upload as a key's public keys (or
// to publish at a JWKS URL) and reports every problem found, each with the
// key's index and kid, in a *JWKSetError. It checks that each key:
//   - is valid UTF-8 (JSON text is; a key decoded with UnmarshalJSON may
//     not be, and its invalid bytes would be read as U+FFFD);
//   - has a kid, unique in the set, and a kty;
//   - is an RSA, EC or OKP key (oct keys are symmetric and refused, other
//     types are unknown);
//   - holds no private or symmetric members (d, p, q, dp, dq, qi, oth, k,
//     priv, in any letter case);
//   - names no member twice, exactly or in two letter cases: Go's
//     encoding/json matches member names with the case folding of
//     strings.EqualFold ("KID", "Kid" and "\u212aid" with KELVIN SIGN are
//     all "kid"), while go-jose reads them as spelled, so a key with
//     "kty" and "KTY", or "kid" and "KID", means different keys to
//     different consumers;
//   - spells no registered member name in another letter case ("KID" or
//     "Kid" without "kid", "Alg", "N"): encoding/json reads it as that
//     member, go-jose as an unknown one, so to a strict verifier such a
//     key has no kid (the SDK reads members as spelled, as go-jose does);
//   - is RSA of 2048 to 4096 bits (go-jose, and so VerifyJWT, refuses
//     larger keys), EC on P-256, P-384 or P-521, or OKP on Ed25519, and its
//     public members parse as they are written (go-jose parses them);
//   - has an alg, if any, that fits the key (RS*/PS* for RSA, ES256 for
//     P-256, ES384 for P-384, ES512 for P-521, EdDSA or Ed25519 (RFC 9864)
//     for Ed25519; none and HS* are refused);
//   - has a use, if any, of "sig".
//
// Problems quote text from the keys (kid, kty, crv, alg, use, member
// names) as at most 64 printable runes: other runes, such as controls,
// U+2028 or U+202E, become spaces. An empty set is valid.
func (s *JWKSet) Validate() error {
	if s == nil {
		return invalid("JWKSet.Validate", "set", "is nil")
	}
	var problems []string
	seen := make(map[string]int, len(s.Keys))
	for i, k := range s.Keys {
		// What is wrong with a key alone depends on its JSON text only,
		// so it is found once per text (cachedKey); whether its kid
		// is another key's too is the set's business.
		e := cachedKey(k.raw, true)
		own, kidAt := e.problems()
		kid := e.hdr.KeyID
		var dup string
		// kidAt is -1 exactly when kid is "" (keyProblems reads the same header).
		if j, ok := seen[kid]; ok && kid != "" {
			dup = fmt.Sprintf("duplicate kid (also keys[%d])", j)
		} else if kid != "" {
			seen[kid] = i
		}
		for n, p := range own {
			if n == kidAt && dup != "" {
				problems = append(problems, keyName(i, kid)+dup)
			}
			problems = append(problems, keyName(i, kid)+p)
		}
		if kidAt == len(own) && dup != "" {
			problems = append(problems, keyName(i, kid)+dup)
		}
	}
	if len(problems) > 0 {
		return &JWKSetError{Op: "JWKSet.Validate", Problems: problems}
	}
	return nil
}

// keyName names the i-th key of a set, with kid, for a problem.
func keyName(i int, kid string) string { return fmt.Sprintf("keys[%d] (kid %s): ", i, quoted(kid)) }

// keyProblems returns what is wrong with the JWK raw, whose members are
// members (object false: it is no JSON object), on its own (see
// Validate), and the index in that list where a problem with its kid
// belongs: a kid shared with another key of the set, which only the set
// can tell (-1: the key has no kid to share).
func keyProblems(raw []byte, members []member, object bool) (problems []string, kidAt int) {
	h := readHeader(members) // empty when not an object
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if !object {
		add("not a JSON object")
		return problems, -1
	}
	if !utf8.Valid(raw) {
		add("not valid UTF-8 (JSON text is UTF-8; invalid bytes would be read as U+FFFD)")
	}
	badMember := false
	for _, name := range stringMembers {
		// The last member of that exact name, as a decoded map holds it.
		if v, ok := lastMember(members, name); ok && v[0] != '"' {
			add("%s is not a string", name)
			badMember = true
		}
	}
	// With a member named twice, which one counts depends on the
	// parser: go-jose refuses the key, encoding/json takes the last.
	for _, p := range repeatedMembers(members) {
		add("%s", p)
		badMember = true
	}
	for _, m := range members {
		// A spelling beside the exact one is a repeat, reported above.
		if name, ok := jwkmember.Miscased(m.name); ok {
			if _, exact := lastMember(members, name); !exact {
				add("member %s is %s in another letter case", quoted(m.name), quoted(name))
				badMember = true
			}
		}
	}
	kidAt = len(problems)
	if h.KeyID == "" {
		add("missing kid")
		kidAt = -1
	}
	private := privateNames(members)
	for _, name := range private {
		add("holds private key member %s", quoted(name))
	}
	typeOK := false
	switch h.KeyType {
	case "":
		add("missing kty")
	case "oct":
		add("kty \"oct\" is a symmetric key; only public keys are allowed")
	case "RSA":
		typeOK = true
	case "EC":
		if _, ok := ecCurves[h.Curve]; ok {
			typeOK = true
		} else {
			add("EC crv %s is not P-256, P-384 or P-521", quoted(h.Curve))
		}
	case "OKP":
		if h.Curve == "Ed25519" {
			typeOK = true
		} else {
			add("OKP crv %s is not Ed25519", quoted(h.Curve))
		}
	default:
		add("unknown kty %s (want RSA, EC or OKP)", quoted(h.KeyType))
	}
	if typeOK && !badMember {
		// The key as it is written, unless it holds private members
		// (already a problem): then whether the others parse.
		var pub crypto.PublicKey
		var err error
		if len(private) == 0 {
			pub, err = parsePublicKey(raw, members)
		} else {
			pub, err = parsePublicMembers(members)
		}
		if err == nil {
			checkParsedKey(pub, add)
		} else if bits := rsaModulusBits(h, members); bits > maxRSABits {
			// go-jose refuses a modulus over maxRSABits: name its
			// size. (Only asked when go-jose fails: a key it parses
			// is never that large.)
			add("RSA modulus %s", rsaSizeProblem(bits))
		} else {
			add("public key members do not parse")
		}
	}
	if h.Algorithm != "" {
		if reason := algFitsJWK(h.Algorithm, h.KeyType, h.Curve); reason != "" {
			add("%s", reason)
		}
	}
	if h.Use != "" && h.Use != "sig" {
		add("use %s is not \"sig\"", quoted(h.Use))
	}
	return problems, kidAt
}

// rsaModulusBits returns the size of the modulus in the "n" member of an
// RSA key (see jwkModulusBits), or 0.
func rsaModulusBits(h jwkHeader, members []member) int {
	n, ok := lastMember(members, "n")
	if h.KeyType != "RSA" || !ok {
		return 0
	}
	bits, _ := jwkModulusBits(json.RawMessage(n))
	return bits
}

// checkParsedKey checks the size of an RSA key go-jose parsed.
func checkParsedKey(pub crypto.PublicKey, add func(format string, args ...any)) {
	if key, ok := pub.(*rsa.PublicKey); ok {
		if problem := rsaSizeProblem(key.N.BitLen()); problem != "" {
			add("RSA modulus %s", problem)
		}
	}
}

// JWKSetError lists every problem JWKSet.Validate found.
type JWKSetError struct {
	// Op is "JWKSet.Validate".
	Op string
	// Problems has one entry per problem, each naming the key by index and
	// kid, e.g. `keys[1] (kid "k2"): RSA modulus is 1024 bits, under 2048`.
	Problems []string
}

func (e *JWKSetError) operation() string { return e.Op }
func (e *JWKSetError) describe() string  { return "invalid JWK set: " + strings.Join(e.Problems, "; ") }

// Error returns "apikeys: <op>: invalid JWK set: " and the problems
// joined with "; ".
func (e *JWKSetError) Error() string { return message(e.Op, e.describe()) }

package apikeys

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/apikeys-go/apikeys/internal/jwkmember"
)

// JWK is one JSON Web Key (RFC 7517) as it travels on the wire. It keeps
// every member it was given, so a key of a type this SDK does not know
// still round-trips and never breaks decoding an APIKey. Use the
// accessors to read the common members.
type JWK struct {
	raw json.RawMessage
}

// jwkHeader holds the members every JWK may carry.
type jwkHeader struct {
	KeyID     string `json:"kid"`
	KeyType   string `json:"kty"`
	Algorithm string `json:"alg"`
	Use       string `json:"use"`
	Curve     string `json:"crv"`
}

// ParseJWK reads one JWK from its JSON object form. It checks that data
// is valid JSON and valid UTF-8: use it, not UnmarshalJSON, for bytes from
// elsewhere.
func ParseJWK(data []byte) (JWK, error) {
	data = bytes.TrimSpace(data)
	if err := checkJWKObject(data); err != nil {
		return JWK{}, err
	}
	if !json.Valid(data) {
		return JWK{}, errors.New("apikeys: a JWK must be valid JSON")
	}
	if !utf8.Valid(data) {
		return JWK{}, errNotUTF8
	}
	return JWK{raw: bytes.Clone(data)}, nil
}

// errNotUTF8 refuses a JWK whose JSON is not valid UTF-8. JSON text is
// UTF-8 (RFC 8259 section 8.1), and json.Valid does not check it: Go's
// encoding/json, go-jose and most servers decode the invalid bytes of a
// string as U+FFFD, and json.Marshal writes a string holding them that
// way, so the key (its kid, say) that the Platform API or a verifier
// reads would not be the key held here.
var errNotUTF8 = errors.New("apikeys: a JWK must be valid UTF-8 (JSON text is UTF-8; invalid bytes would be read as U+FFFD)")

// UnmarshalJSON keeps a copy of data once it is known to be a JSON object.
// It does not check the object's syntax again: encoding/json (Unmarshal,
// Decoder.Decode) refuses malformed input before it calls UnmarshalJSON
// and hands it one complete, valid value (though not necessarily valid
// UTF-8, which Validate reports). Call ParseJWK, which checks, for bytes
// from elsewhere.
func (k *JWK) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if err := checkJWKObject(data); err != nil {
		return err
	}
	// A new buffer every time: copies of a JWK share its raw slice, so
	// reusing k's old buffer would rewrite every copy made before.
	k.raw = bytes.Clone(data)
	return nil
}

// checkJWKObject refuses data that is not a JSON object by its first byte.
func checkJWKObject(data []byte) error {
	if len(data) == 0 || data[0] != '{' {
		return errors.New("apikeys: a JWK must be a JSON object")
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

func (k JWK) header() jwkHeader {
	var h jwkHeader
	// Members of the wrong JSON type read as empty; Validate reports them.
	_ = json.Unmarshal(k.raw, &h)
	return h
}

// members returns the key's members by name; values stay raw.
func (k JWK) members() map[string]json.RawMessage {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(k.raw, &m)
	return m
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
	m := k.members()
	if m == nil {
		return nil, errors.New("apikeys: JWK is not a JSON object")
	}
	h := k.header()
	if h.KeyType == "oct" {
		return nil, errors.New("apikeys: JWK is a symmetric (oct) key")
	}
	if names := privateMembersIn(m); len(names) > 0 {
		return nil, fmt.Errorf("apikeys: JWK (kid %s) holds private key member %s", quoted(h.KeyID), quoted(names[0]))
	}
	if repeats := repeatedMembers(k.raw); len(repeats) > 0 {
		return nil, fmt.Errorf("apikeys: JWK (kid %s): %s", quoted(h.KeyID), repeats[0])
	}
	return parsePublicKey(k.raw)
}

// repeatedMembers returns one problem for each member of the JSON object
// raw whose name repeats the name of an earlier member, exactly (after
// JSON escapes are decoded) or under case folding. Go's encoding/json
// matches member names to struct fields with the folding of
// strings.EqualFold, in which KELVIN SIGN (U+212A) is "k" and LONG S
// (U+017F) is "s", and the last match wins; go-jose matches them exactly
// and refuses exact repeats. A key that names a member twice is thus read
// differently by different consumers, or not at all. The object is read
// member by member (a map would lose exact repeats), in time linear in
// its size. It returns nil for valid JSON that is not an object.
func repeatedMembers(raw []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var problems []string
	first := make(map[string]string) // folded name -> first spelling
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return problems
		}
		name, _ := tok.(string)
		var value json.RawMessage // skipped
		if err := dec.Decode(&value); err != nil {
			return problems
		}
		folded := strings.Map(foldRune, name)
		prev, seen := first[folded]
		switch {
		case !seen:
			first[folded] = name
		case prev == name:
			problems = append(problems, fmt.Sprintf("member %s appears twice", quoted(name)))
		default:
			problems = append(problems, fmt.Sprintf("member %s repeats %s in another letter case", quoted(name), quoted(prev)))
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
// fails a whole set.
func parsePublicKey(raw []byte) (crypto.PublicKey, error) {
	var jk jose.JSONWebKey
	if err := jk.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("apikeys: JWK public members do not parse: %s", libraryError(err))
	}
	switch key := jk.Key.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return key, nil
	}
	return nil, fmt.Errorf("apikeys: JWK: unsupported key type %T", jk.Key)
}

// parsePublicMembers parses the members m of a key that holds private
// members, those left out, so that Validate can also say whether the
// public ones parse. Such a key is refused anyway; a key without private
// members goes to parsePublicKey as it is written.
func parsePublicMembers(m map[string]json.RawMessage) (crypto.PublicKey, error) {
	pub := make(map[string]json.RawMessage, len(m))
	for name, v := range m {
		pub[name] = v
	}
	for _, name := range privateMembersIn(m) {
		delete(pub, name)
	}
	b, err := json.Marshal(pub)
	if err != nil {
		return nil, fmt.Errorf("apikeys: JWK: %w", err)
	}
	return parsePublicKey(b)
}

// JWKSet is a JSON Web Key Set: {"keys": [...]}.
type JWKSet struct {
	// Keys are the set's keys, in document order. A key of a type the SDK
	// does not know is kept as it came.
	Keys []JWK `json:"keys"`
}

// MarshalJSON writes the set as {"keys":[...]}, with [] when it has no
// keys: "keys" is an array (RFC 7517 section 5), and servers refuse null.
func (s JWKSet) MarshalJSON() ([]byte, error) {
	type plain JWKSet // without the method, so no recursion
	if s.Keys == nil {
		s.Keys = []JWK{}
	}
	return json.Marshal(plain(s))
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

// privateMembers are the JWK members that hold private or symmetric key
// material (RFC 7518 section 6, and "priv" of RFC 9964 AKP keys). None may
// be uploaded or published. The list lives in internal/jwkmember, shared
// with the fake server in apikeystest.
var privateMembers = jwkmember.Private()

// privateMembersIn returns the members of m that are private members in
// any letter case, in the order of privateMembers. go-jose itself reads
// member names exactly as spelled (its own JSON decoder, which also
// refuses a member named twice), so to it "P" is an unknown member. But
// Go's encoding/json matches member names case-insensitively, so to a
// consumer that decodes a JWK with it (a struct with a `json:"p"` field)
// "P" holds a prime as surely as "p" does: a key that spells a private
// member in any letter case is refused.
func privateMembersIn(m map[string]json.RawMessage) []string {
	return jwkmember.In(m)
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
//   - is RSA of 2048 to 4096 bits (go-jose, and so VerifyJWT, refuses
//     larger keys), EC on P-256, P-384 or P-521, or OKP on Ed25519, and its
//     public members parse as they are written (go-jose parses them);
//   - has an alg, if any, that fits the key (RS*/PS* for RSA, ES256 for
//     P-256, ES384 for P-384, ES512 for P-521, EdDSA for Ed25519; none and
//     HS* are refused);
//   - has a use, if any, of "sig".
//
// Problems quote text from the keys (kid, kty, crv, alg, use, member
// names) as at most 64 printable runes: other runes, such as controls,
// U+2028 or U+202E, become spaces. An empty set is valid.
func (s *JWKSet) Validate() error {
	if s == nil {
		return errors.New("apikeys: JWK set is nil")
	}
	var problems []string
	seen := make(map[string]int, len(s.Keys))
	for i, k := range s.Keys {
		h := k.header()
		where := fmt.Sprintf("keys[%d] (kid %s)", i, quoted(h.KeyID))
		m := k.members()
		if m == nil {
			problems = append(problems, where+": not a JSON object")
			continue
		}
		add := func(format string, args ...any) {
			problems = append(problems, where+": "+fmt.Sprintf(format, args...))
		}
		if !utf8.Valid(k.raw) {
			add("not valid UTF-8 (JSON text is UTF-8; invalid bytes would be read as U+FFFD)")
		}
		badMember := false
		for _, name := range stringMembers {
			if v, ok := m[name]; ok && !isJSONString(v) {
				add("%s is not a string", name)
				badMember = true
			}
		}
		// With a member named twice, which one counts depends on the
		// parser: go-jose refuses the key, encoding/json takes the last.
		for _, p := range repeatedMembers(k.raw) {
			add("%s", p)
			badMember = true
		}
		if h.KeyID == "" {
			add("missing kid")
		} else if j, dup := seen[h.KeyID]; dup {
			add("duplicate kid (also keys[%d])", j)
		} else {
			seen[h.KeyID] = i
		}
		private := privateMembersIn(m)
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
		if typeOK && !badMember && h.KeyType == "RSA" {
			// go-jose refuses to parse a modulus over maxRSABits: say so.
			if bits, ok := jwkModulusBits(m["n"]); ok && bits > maxRSABits {
				add("RSA modulus %s", rsaSizeProblem(bits))
				typeOK = false
			}
		}
		if typeOK && !badMember {
			// The key as it is written, unless it holds private members
			// (already a problem): then whether the others parse.
			var pub crypto.PublicKey
			var err error
			if len(private) == 0 {
				pub, err = parsePublicKey(k.raw)
			} else {
				pub, err = parsePublicMembers(m)
			}
			if err != nil {
				add("public key members do not parse")
			} else {
				checkParsedKey(pub, h, add)
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
	}
	if len(problems) > 0 {
		return &JWKSetError{Problems: problems}
	}
	return nil
}

// checkParsedKey checks the key go-jose parsed: an RSA key's size, and
// that it is the key h describes. h is read by encoding/json, which
// matches member names in any letter case (the last match wins), while
// go-jose reads the names exactly as spelled: with "kty" and "KTY" both
// present, the two would disagree on the key, and an alg checked against
// h would not fit the key a verifier uses. Validate refuses such a key
// for its repeated member before it gets here; this check stays as a
// second line.
func checkParsedKey(pub crypto.PublicKey, h jwkHeader, add func(format string, args ...any)) {
	kty, crv := "RSA", ""
	switch key := pub.(type) {
	case *rsa.PublicKey:
		if problem := rsaSizeProblem(key.N.BitLen()); problem != "" {
			add("RSA modulus %s", problem)
		}
	case *ecdsa.PublicKey:
		kty, crv = "EC", key.Curve.Params().Name
	case ed25519.PublicKey:
		kty, crv = "OKP", "Ed25519"
	}
	// crv means nothing for RSA: an RSA key may carry any.
	if kty != h.KeyType || (kty != "RSA" && crv != h.Curve) {
		add("members disagree: kty %s, crv %s read case-insensitively, kty %q, crv %q read as spelled", quoted(h.KeyType), quoted(h.Curve), kty, crv)
	}
}

func isJSONString(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && v[0] == '"'
}

// JWKSetError lists every problem JWKSet.Validate found.
type JWKSetError struct {
	// Problems has one entry per problem, each naming the key by index and
	// kid, e.g. `keys[1] (kid "k2"): RSA modulus is 1024 bits, under 2048`.
	Problems []string
}

// Error returns "apikeys: invalid JWK set: " and the problems joined with "; ".
func (e *JWKSetError) Error() string {
	return "apikeys: invalid JWK set: " + strings.Join(e.Problems, "; ")
}

// JWS signature algorithms this SDK signs and verifies with.
const (
	RS256 = "RS256"
	RS384 = "RS384"
	RS512 = "RS512"
	PS256 = "PS256"
	PS384 = "PS384"
	PS512 = "PS512"
	ES256 = "ES256"
	ES384 = "ES384"
	ES512 = "ES512"
	EdDSA = "EdDSA"
)

// minRSABits and maxRSABits bound the RSA keys accepted anywhere in the
// SDK: by NewJWK, SigningKey.JWK, ParseSigningKey and NewTokenSource (all
// through keyShape), by Validate and by VerifyJWT. The upper bound is
// go-jose's: it refuses to parse a JWK whose modulus has more than
// jose.MaxRSAModulusBits bits (4096 in v4.1.8, rsaPublicKey in jwk.go),
// so VerifyJWT, and a verifier built on go-jose, could never use a larger
// key that the SDK had let a caller publish or sign with.
const (
	minRSABits = 2048
	maxRSABits = 4096
)

// rsaSizeProblem says why an RSA modulus of bits bits is refused, e.g.
// "is 8192 bits, over 4096", or returns "" when it is accepted.
func rsaSizeProblem(bits int) string {
	switch {
	case bits < minRSABits:
		return fmt.Sprintf("is %d bits, under %d", bits, minRSABits)
	case bits > maxRSABits:
		return fmt.Sprintf("is %d bits, over %d", bits, maxRSABits)
	}
	return ""
}

// jwkModulusBits returns the size of the RSA modulus in a JWK's "n"
// member, decoded as go-jose decodes it, or false when n is not a
// base64url string. It lets Validate and ParseSigningKey name the size of
// a modulus go-jose refuses to parse for being too large.
func jwkModulusBits(n json.RawMessage) (int, bool) {
	var s string
	if json.Unmarshal(n, &s) != nil {
		return 0, false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, false
	}
	return new(big.Int).SetBytes(b).BitLen(), true
}

// generatedRSABits is the size of RSA keys made by GenerateSigningKey.
const generatedRSABits = 3072

// algKey says which key an algorithm needs: kty, and crv for EC and OKP.
type algKey struct {
	kty, crv string
}

var algKeys = map[string]algKey{
	RS256: {"RSA", ""}, RS384: {"RSA", ""}, RS512: {"RSA", ""},
	PS256: {"RSA", ""}, PS384: {"RSA", ""}, PS512: {"RSA", ""},
	ES256: {"EC", "P-256"}, ES384: {"EC", "P-384"}, ES512: {"EC", "P-521"},
	EdDSA: {"OKP", "Ed25519"},
}

// ecCurves maps JWK curve names to curves, and ecAlgs each curve to its alg.
var (
	ecCurves = map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}
	ecAlgs   = map[string]string{"P-256": ES256, "P-384": ES384, "P-521": ES512}
)

// algFitsJWK returns why alg does not fit a key of type kty and curve crv,
// or "" when it fits. alg, kty and crv may come from a JWK or a token, so
// the reason quotes them capped and filtered (quoted).
func algFitsJWK(alg, kty, crv string) string {
	want, ok := algKeys[alg]
	switch {
	case alg == "none":
		return `alg "none" is not allowed`
	case strings.HasPrefix(alg, "HS"):
		return fmt.Sprintf("alg %s is symmetric; only public-key signature algorithms are allowed", quoted(alg))
	case !ok:
		return fmt.Sprintf("alg %s is not a supported signature algorithm", quoted(alg))
	case want.kty != kty:
		return fmt.Sprintf("alg %s needs a %s key, not kty %s", quoted(alg), want.kty, quoted(kty))
	case want.crv != "" && want.crv != crv:
		return fmt.Sprintf("alg %s needs crv %s, not %s", quoted(alg), want.crv, quoted(crv))
	}
	return ""
}

// keyShape describes a public key as kty, crv and RSA size, and rejects
// key types, curves and sizes the SDK does not accept.
func keyShape(pub crypto.PublicKey) (kty, crv string, err error) {
	switch key := pub.(type) {
	case *rsa.PublicKey:
		if key == nil || key.N == nil {
			return "", "", errors.New("RSA public key is empty")
		}
		if problem := rsaSizeProblem(key.N.BitLen()); problem != "" {
			return "", "", errors.New("RSA key " + problem)
		}
		return "RSA", "", nil
	case *ecdsa.PublicKey:
		if key == nil || key.Curve == nil {
			return "", "", errors.New("EC public key is empty")
		}
		name := key.Curve.Params().Name
		if _, ok := ecCurves[name]; !ok {
			return "", "", fmt.Errorf("EC curve %s is not P-256, P-384 or P-521", name)
		}
		return "EC", name, nil
	case ed25519.PublicKey:
		if len(key) != ed25519.PublicKeySize {
			return "", "", errors.New("Ed25519 public key has the wrong size")
		}
		return "OKP", "Ed25519", nil
	}
	return "", "", fmt.Errorf("unsupported key type %T", pub)
}

// defaultAlg is the algorithm inferred for a key when none is given.
func defaultAlg(kty, crv string) string {
	switch kty {
	case "RSA":
		return RS384
	case "EC":
		return ecAlgs[crv]
	}
	return EdDSA
}

// checkAlg resolves alg for a key ("" infers it) and checks the fit. Its
// error is a *ValidationError for field keyField (an unusable key) or
// algField (an alg that does not fit it).
func checkAlg(key any, alg, keyField, algField string) (crypto.PublicKey, string, error) {
	pub, err := publicOf(key)
	if err != nil {
		return nil, "", invalid(keyField, "%v", err)
	}
	kty, crv, err := keyShape(pub)
	if err != nil {
		return nil, "", invalid(keyField, "%v", err)
	}
	if alg == "" {
		return pub, defaultAlg(kty, crv), nil
	}
	if reason := algFitsJWK(alg, kty, crv); reason != "" {
		return nil, "", invalid(algField, "%s", reason)
	}
	return pub, alg, nil
}

// publicOf returns the public half of a public key, private key or
// crypto.Signer, detected by Go type. Private values never leave it.
func publicOf(key any) (crypto.PublicKey, error) {
	switch k := key.(type) {
	case nil:
		return nil, errors.New("key is nil")
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return k, nil
	case rsa.PublicKey:
		return &k, nil
	case ecdsa.PublicKey:
		return &k, nil
	case *rsa.PrivateKey:
		if k == nil {
			return nil, errors.New("key is nil")
		}
		return &k.PublicKey, nil
	case *ecdsa.PrivateKey:
		if k == nil {
			return nil, errors.New("key is nil")
		}
		return &k.PublicKey, nil
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return nil, errors.New("Ed25519 private key has the wrong size")
		}
		return k.Public(), nil
	case crypto.Signer:
		pub := k.Public()
		if _, ok := pub.(crypto.Signer); ok {
			return nil, errors.New("signer's public key is itself a signer")
		}
		return publicOf(pub)
	}
	return nil, fmt.Errorf("unsupported key type %T", key)
}

// thumbprint returns the RFC 7638 SHA-256 thumbprint of a public key.
func thumbprint(pub crypto.PublicKey) (string, error) {
	jk := jose.JSONWebKey{Key: pub}
	sum, err := jk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("apikeys: JWK thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// NewJWK returns the public JWK of key for signatures with alg: kty, the
// public members, kid (the RFC 7638 SHA-256 thumbprint), use "sig" and alg.
// key may be an *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey, or a
// private key or crypto.Signer, of which only the public half is used.
// alg "" picks RS384 for RSA, ES256/ES384/ES512 for P-256/P-384/P-521 and
// EdDSA for Ed25519. RSA keys under 2048 or over 4096 bits (go-jose, and
// so VerifyJWT, cannot parse larger ones), other curves and key types
// (Field "key"), and an alg that does not fit the key (Field "alg") are
// refused with a *ValidationError.
func NewJWK(key crypto.PublicKey, alg string) (JWK, error) {
	return newJWK(key, alg, "")
}

func newJWK(key any, alg, kid string) (JWK, error) {
	pub, alg, err := checkAlg(key, alg, "key", "alg")
	if err != nil {
		return JWK{}, err
	}
	if kid == "" {
		if kid, err = thumbprint(pub); err != nil {
			return JWK{}, err
		}
	}
	// pub is a public key type here, so go-jose writes no private member.
	b, err := jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"}.MarshalJSON()
	if err != nil {
		return JWK{}, fmt.Errorf("apikeys: encoding JWK: %w", err)
	}
	return JWK{raw: b}, nil
}

// SigningKey is a private key that signs client assertions, with the kid
// and alg its public JWK is published under. Signer is usually an
// *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey, but any
// crypto.Signer (an HSM or KMS key) works. Printing, logging or
// JSON-encoding a SigningKey shows its kid and alg only.
type SigningKey struct {
	// Signer is the private key; its Public method gives the public key
	// that is published.
	Signer crypto.Signer
	// KeyID is the kid of the public JWK, sent in the assertion's header.
	// It must be valid UTF-8, without control characters.
	// GenerateSigningKey sets it to the RFC 7638 SHA-256 thumbprint;
	// ParseSigningKey keeps a JWK's own kid, else uses the thumbprint too.
	KeyID string
	// Algorithm is the JWS algorithm the key signs with, e.g. RS384 or ES384.
	Algorithm string
}

// String describes the key by kid and alg, never its material.
func (k SigningKey) String() string {
	signer := "<nil>"
	if k.Signer != nil {
		signer = "****"
	}
	return fmt.Sprintf("SigningKey{KeyID: %q, Algorithm: %q, Signer: %s}", k.KeyID, k.Algorithm, signer)
}

// GoString is like String, so %#v prints no key material either.
func (k SigningKey) GoString() string { return "apikeys." + k.String() }

// LogValue logs the key's kid and alg only.
func (k SigningKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kid", k.KeyID), slog.String("alg", k.Algorithm))
}

// MarshalJSON writes the kid and alg only, so a SigningKey inside a
// struct that is JSON-logged shows no key material. To publish the public
// key, use JWK.
func (k SigningKey) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		KeyID     string `json:"kid"`
		Algorithm string `json:"alg"`
	}{k.KeyID, k.Algorithm})
}

// Public returns the key's public half, or nil without a Signer. It is
// nil too for a Signer that cannot sign: a nil *rsa.PrivateKey or
// *ecdsa.PrivateKey, or an ed25519.PrivateKey of the wrong size.
func (k SigningKey) Public() crypto.PublicKey {
	switch s := k.Signer.(type) {
	case nil:
		return nil
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		// publicOf checks what their Public methods would panic on.
		pub, err := publicOf(s)
		if err != nil {
			return nil
		}
		return pub
	}
	return k.Signer.Public()
}

// JWK returns the key's public JWK under its KeyID and Algorithm, ready for
// a JWKSet (NewJWKSet) to upload or publish. The key must be one NewJWK
// accepts (an RSA key has 2048 to 4096 bits) and the KeyID valid UTF-8: a
// *ValidationError otherwise.
func (k SigningKey) JWK() (JWK, error) {
	if k.Signer == nil {
		return JWK{}, invalid("SigningKey.Signer", "is nil")
	}
	if !utf8.ValidString(k.KeyID) {
		return JWK{}, invalid("SigningKey.KeyID", "is not valid UTF-8")
	}
	if k.Algorithm == "" {
		return JWK{}, invalid("SigningKey.Algorithm", "is empty")
	}
	return newJWK(k.Signer, k.Algorithm, k.KeyID)
}

// validate checks the key before it signs anything.
func (k SigningKey) validate(field string) error {
	switch {
	case k.Signer == nil:
		return invalid(field+".Signer", "is nil")
	case k.KeyID == "":
		return invalid(field+".KeyID", "is empty")
	case hasControl(k.KeyID):
		return invalid(field+".KeyID", "contains control characters")
	case !utf8.ValidString(k.KeyID):
		// json.Marshal would send U+FFFD for the invalid bytes: a kid
		// that is in no JWK Set.
		return invalid(field+".KeyID", "is not valid UTF-8")
	case k.Algorithm == "":
		return invalid(field+".Algorithm", "is empty")
	}
	_, _, err := checkAlg(k.Signer, k.Algorithm, field+".Signer", field+".Algorithm")
	return err
}

// joseKey is the key go-jose signs with: the private key itself for the
// standard library types, else the crypto.Signer behind go-jose's opaque
// signer adapter.
func (k SigningKey) joseKey() any {
	switch s := k.Signer.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return s
	}
	return cryptosigner.Opaque(k.Signer)
}

// joseSigner returns the go-jose signer of a validated key: compact JWS
// with header alg, kid and typ JWT. It is built once per token source and
// signs every assertion. Its error (e.g. for a crypto.Signer whose Public
// returns an rsa.PublicKey value, which go-jose's adapter does not know)
// names no key material.
func (k SigningKey) joseSigner() (jose.Signer, error) {
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), k.KeyID)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Algorithm), Key: k.joseKey()}, opts)
	if err != nil {
		return nil, fmt.Errorf("go-jose cannot sign %s with it: %s", k.Algorithm, strings.TrimPrefix(err.Error(), "go-jose/go-jose: "))
	}
	return signer, nil
}

// GenerateSigningKey makes a new private key for alg: RSA-3072 for RS256,
// RS384, RS512, PS256, PS384 and PS512 (within the 2048 to 4096 bits every
// RSA key must have); P-256 for ES256, P-384 for ES384, P-521 for ES512;
// Ed25519 for EdDSA. Its KeyID is the RFC 7638 SHA-256 thumbprint of the
// public key. An unknown alg is a *ValidationError. The token endpoint
// documents RS384 and ES384.
func GenerateSigningKey(alg string) (SigningKey, error) {
	want, ok := algKeys[alg]
	if !ok {
		return SigningKey{}, invalid("alg", "%s is not one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA", quoted(alg))
	}
	var signer crypto.Signer
	var err error
	switch want.kty {
	case "RSA":
		signer, err = rsa.GenerateKey(rand.Reader, generatedRSABits)
	case "EC":
		signer, err = ecdsa.GenerateKey(ecCurves[want.crv], rand.Reader)
	default:
		_, signer, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		return SigningKey{}, fmt.Errorf("apikeys: generating %s key: %w", alg, err)
	}
	return newSigningKey(signer, alg, "")
}

// newSigningKey checks alg against the key ("" infers it) and sets the kid
// (the thumbprint when kid is "").
func newSigningKey(signer crypto.Signer, alg, kid string) (SigningKey, error) {
	pub, alg, err := checkAlg(signer, alg, "key", "alg")
	if err != nil {
		return SigningKey{}, err
	}
	if kid == "" {
		if kid, err = thumbprint(pub); err != nil {
			return SigningKey{}, err
		}
	}
	return SigningKey{Signer: signer, KeyID: kid, Algorithm: alg}, nil
}

// ParseSigningKey reads a private key from PEM (PKCS #8 "PRIVATE KEY",
// PKCS #1 "RSA PRIVATE KEY" or SEC 1 "EC PRIVATE KEY") or from a private
// JWK in JSON. alg "" infers the algorithm: RS384 for RSA, ES256, ES384 or
// ES512 for P-256, P-384 or P-521, EdDSA for Ed25519; a given alg must fit
// the key (and a JWK's own alg, if it has one). RSA keys must have 2048 to
// 4096 bits ("RSA key is 8192 bits, over 4096"). The KeyID is the JWK's
// kid when it has one, else the RFC 7638 SHA-256 thumbprint. A JWK must be
// valid UTF-8. Public keys, certificates, encrypted PEM and symmetric keys
// are refused. Errors are
// *ValidationErrors and never contain key bytes.
func ParseSigningKey(data []byte, alg string) (SigningKey, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return SigningKey{}, invalid("key", "is empty")
	}
	if data[0] == '{' {
		return parseJWKSigningKey(data, alg)
	}
	return parsePEMSigningKey(data, alg)
}

func parseJWKSigningKey(data []byte, alg string) (SigningKey, error) {
	if !json.Valid(data) {
		return SigningKey{}, invalid("key", "is not valid JSON")
	}
	if !utf8.Valid(data) {
		return SigningKey{}, invalid("key", "JWK is not valid UTF-8")
	}
	var h jwkHeader
	_ = json.Unmarshal(data, &h)
	if h.KeyType == "oct" {
		return SigningKey{}, invalid("key", "is a symmetric (oct) JWK; a private RSA, EC or Ed25519 key is needed")
	}
	if h.KeyType == "RSA" {
		// go-jose refuses a modulus over maxRSABits as "too large": name
		// its size, as keyShape does for the other encodings.
		var m map[string]json.RawMessage
		_ = json.Unmarshal(data, &m)
		if bits, ok := jwkModulusBits(m["n"]); ok && bits > maxRSABits {
			return SigningKey{}, invalid("key", "RSA key %s", rsaSizeProblem(bits))
		}
	}
	var jk jose.JSONWebKey
	if err := jk.UnmarshalJSON(data); err != nil {
		// go-jose's messages name members and types, never values, but
		// may quote a member name or kty from data: libraryError caps them.
		return SigningKey{}, invalid("key", "JWK does not parse: %s", libraryError(err))
	}
	var signer crypto.Signer
	switch key := jk.Key.(type) {
	case *rsa.PrivateKey:
		signer = key
	case *ecdsa.PrivateKey:
		signer = key
	case ed25519.PrivateKey:
		signer = key
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return SigningKey{}, invalid("key", "JWK is a public key; a private key is needed")
	default:
		return SigningKey{}, invalid("key", "JWK of kty %s is not supported", quoted(h.KeyType))
	}
	if jk.Algorithm != "" {
		if alg == "" {
			alg = jk.Algorithm
		} else if alg != jk.Algorithm {
			return SigningKey{}, invalid("alg", "%s differs from the JWK's alg %s", quoted(alg), quoted(jk.Algorithm))
		}
	}
	return newSigningKey(signer, alg, jk.KeyID)
}

func parsePEMSigningKey(data []byte, alg string) (SigningKey, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return SigningKey{}, invalid("key", "holds no PEM private key or JWK")
		}
		var key any
		var err error
		switch block.Type {
		case "EC PARAMETERS":
			continue // written by "openssl ecparam -genkey" before the key
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			if _, encrypted := block.Headers["DEK-Info"]; encrypted {
				return SigningKey{}, invalid("key", "PEM key is encrypted; decrypt it first")
			}
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			if _, encrypted := block.Headers["DEK-Info"]; encrypted {
				return SigningKey{}, invalid("key", "PEM key is encrypted; decrypt it first")
			}
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return SigningKey{}, invalid("key", "PEM key is encrypted; decrypt it first")
		case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
			return SigningKey{}, invalid("key", "PEM block %q holds a public key; a private key is needed", block.Type)
		default:
			return SigningKey{}, invalid("key", "PEM block %q is not a supported private key", excerpt([]byte(block.Type), 40))
		}
		if err != nil {
			// The x509 error text is dropped: only the block type is named.
			return SigningKey{}, invalid("key", "PEM block %q does not parse as a private key", block.Type)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return SigningKey{}, invalid("key", "PEM key of type %T cannot sign", key)
		}
		if _, ok := key.(*rsa.PrivateKey); !ok {
			if _, ok := key.(*ecdsa.PrivateKey); !ok {
				if _, ok := key.(ed25519.PrivateKey); !ok {
					return SigningKey{}, invalid("key", "PEM key of type %T is not RSA, EC or Ed25519", key)
				}
			}
		}
		return newSigningKey(signer, alg, "")
	}
}

// ErrUnknownKeyID is returned (wrapped) by VerifyJWT when no usable key in
// the set has the token's kid: a caller may fetch the JWKS again.
var ErrUnknownKeyID = errors.New("apikeys: no usable key with the token's kid")

// VerifyJWT checks the signature of a compact JWS/JWT with the key of the
// set named by the token's "kid" header, and returns its registered
// claims. allowedAlgs is the explicit list of accepted header algs (e.g.
// []string{RS384, ES384}); it must not be empty and may not hold "none" or
// HS* algorithms. The header alg must fit the key's type and curve, and
// equal the key's own "alg" member when it has one. A token whose
// protected header has a "b64" member (RFC 7797 unencoded payload: a JWT's
// payload is always base64url-encoded) or a "crit" member, with any value,
// is refused before any key is tried. Keys that do not parse or that
// Validate would refuse for their type or size (unknown types or curves,
// RSA under 2048 or over 4096 bits, private members, a member named twice)
// are skipped, not fatal; a token whose kid matches no usable key fails
// with ErrUnknownKeyID.
//
// VerifyJWT checks the signature only. Check the claims with
// claims.ValidateWithLeeway(jwt.Expected{Issuer, AnyAudience, Time}, leeway)
// (iss, sub, aud, exp, nbf, iat). Each extra destination (a map or a struct
// with JSON tags) receives the verified payload too, for private claims.
//
// Errors quote the token's kid and alg, and a key's alg, as at most 64
// printable runes (other runes, such as controls, U+2028 or U+202E,
// become spaces), and go-jose's messages cut to 128 runes the same way,
// so a hostile token cannot make a long or misleading error.
func (s *JWKSet) VerifyJWT(token string, allowedAlgs []string, extra ...any) (*jwt.Claims, error) {
	if s == nil {
		return nil, errors.New("apikeys: VerifyJWT: JWK set is nil")
	}
	if len(allowedAlgs) == 0 {
		return nil, invalid("allowedAlgs", "is empty; list the algorithms to accept")
	}
	algs := make([]jose.SignatureAlgorithm, 0, len(allowedAlgs))
	for _, a := range allowedAlgs {
		if _, ok := algKeys[a]; !ok {
			return nil, invalid("allowedAlgs", "%s is not an accepted signature algorithm", quoted(a))
		}
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	if err := checkJWTHeader(token); err != nil {
		return nil, err
	}
	tok, err := jwt.ParseSigned(token, algs)
	if err != nil {
		var unexpected *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &unexpected) {
			// go-jose's message quotes the token's alg whole.
			return nil, fmt.Errorf("apikeys: VerifyJWT: token alg %s is not in allowedAlgs", quoted(string(unexpected.Got)))
		}
		return nil, fmt.Errorf("apikeys: VerifyJWT: %s", libraryError(err))
	}
	if len(tok.Headers) != 1 {
		return nil, errors.New("apikeys: VerifyJWT: token must have exactly one signature")
	}
	hdr := tok.Headers[0]
	if hdr.KeyID == "" {
		return nil, errors.New("apikeys: VerifyJWT: token header has no kid")
	}
	var lastErr error
	for _, k := range s.Keys {
		h := k.header()
		if h.KeyID != hdr.KeyID {
			continue
		}
		pub, err := k.PublicKey()
		if err != nil {
			continue // unknown type or curve, private members: not usable
		}
		kty, crv, err := keyShape(pub)
		if err != nil {
			continue
		}
		if h.Use != "" && h.Use != "sig" {
			continue
		}
		if reason := algFitsJWK(hdr.Algorithm, kty, crv); reason != "" {
			lastErr = fmt.Errorf("apikeys: VerifyJWT: key %s: %s", quoted(hdr.KeyID), reason)
			continue
		}
		if h.Algorithm != "" && h.Algorithm != hdr.Algorithm {
			lastErr = fmt.Errorf("apikeys: VerifyJWT: token alg %s differs from key %s's alg %s", quoted(hdr.Algorithm), quoted(hdr.KeyID), quoted(h.Algorithm))
			continue
		}
		claims := new(jwt.Claims)
		dest := append([]any{claims}, extra...)
		if err := tok.Claims(pub, dest...); err != nil {
			lastErr = fmt.Errorf("apikeys: VerifyJWT: %s", libraryError(err))
			continue
		}
		return claims, nil
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return nil, fmt.Errorf("%w (kid %s)", ErrUnknownKeyID, quoted(hdr.KeyID))
}

// checkJWTHeader decodes the protected header of a compact JWS itself and
// refuses what a JWT must not have, before go-jose parses or verifies:
//   - "b64" (RFC 7797), with any value: a JWT's claims are always the
//     base64url-encoded payload (RFC 7519 section 7.2), but go-jose
//     honours "b64": false and then verifies a signature over the raw
//     payload bytes, so the same claims would verify under two different
//     signing inputs;
//   - "crit" (RFC 7515 section 4.1.11), with any value: VerifyJWT
//     understands no extension, and go-jose accepts an empty or null
//     "crit", or one that lists only "b64".
func checkJWTHeader(token string) error {
	protected, _, ok := strings.Cut(token, ".")
	if !ok {
		return errors.New("apikeys: VerifyJWT: token is not a compact JWS (header.payload.signature)")
	}
	raw, err := base64.RawURLEncoding.DecodeString(protected)
	if err != nil {
		return errors.New("apikeys: VerifyJWT: token header is not base64url")
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(raw, &hdr); err != nil || hdr == nil {
		return errors.New("apikeys: VerifyJWT: token header is not a JSON object")
	}
	if _, ok := hdr["b64"]; ok {
		return errors.New(`apikeys: VerifyJWT: token header has "b64" (RFC 7797 unencoded payload); a JWT's payload is always base64url-encoded`)
	}
	if _, ok := hdr["crit"]; ok {
		return errors.New(`apikeys: VerifyJWT: token header has "crit"; VerifyJWT supports no critical header parameter`)
	}
	return nil
}

// maxJWKSBytes caps a fetched JWKS document.
const maxJWKSBytes = 1 << 20

// FetchOption configures FetchJWKS. Options validate their arguments:
// FetchJWKS returns the first error, a *ValidationError, before any I/O.
type FetchOption func(*fetchOptions) error

// fetchOptions collects what the FetchOption functions set.
type fetchOptions struct {
	httpClient       *http.Client
	insecureLoopback bool
	timeout          time.Duration
}

// DefaultFetchTimeout bounds a FetchJWKS call, the reply's body included,
// unless FetchTimeout says otherwise.
const DefaultFetchTimeout = 30 * time.Second

// FetchTimeout bounds FetchJWKS (default DefaultFetchTimeout): when d
// passes, it fails with a retryable *TransportError saying the JWKS host
// timed out. The caller's context still ends the call sooner, with the
// context's error. d must be positive.
func FetchTimeout(d time.Duration) FetchOption {
	return func(o *fetchOptions) error {
		if d <= 0 {
			return invalid("FetchTimeout", "must be positive")
		}
		o.timeout = d
		return nil
	}
}

// FetchHTTPClient makes FetchJWKS send its request with a copy of hc (its
// Transport, Jar and Timeout; the SDK's redirect checks are added to the
// copy). hc itself is never modified; a nil hc is a *ValidationError.
// Without this option FetchJWKS uses http.DefaultTransport.
func FetchHTTPClient(hc *http.Client) FetchOption {
	return func(o *fetchOptions) error {
		if hc == nil {
			return invalid("FetchHTTPClient", "client is nil")
		}
		o.httpClient = hc
		return nil
	}
}

// FetchInsecureLoopbackHTTP lets FetchJWKS use a plain http:// URL whose
// host is a loopback address or "localhost", e.g. an httptest server in
// tests. Plain http to any other host is always refused, as a URL or as a
// redirect target.
func FetchInsecureLoopbackHTTP() FetchOption {
	return func(o *fetchOptions) error {
		o.insecureLoopback = true
		return nil
	}
}

// errPlainHTTPRedirect refuses a FetchJWKS redirect to plain http on a
// host that is not loopback. It reaches callers inside a *TransportError.
var errPlainHTTPRedirect = errors.New("refusing redirect to plain http on a non-loopback host")

// FetchJWKS downloads the JWK Set at rawURL, e.g. to check that a hosted
// JWKS holds the kid a SigningKey signs with. rawURL must be https; plain
// http is accepted only for a loopback host and only with
// FetchInsecureLoopbackHTTP (so tests can use httptest). Redirects from
// https to http, and to plain http on a non-loopback host, are refused.
// The reply must be 2xx with a JSON content type (application/json,
// application/jwk-set+json or any +json type) and at most 1 MiB. Keys of
// unknown types are kept as they are; the set is not validated (call
// Validate for that).
//
// The call is bounded by DefaultFetchTimeout (30 s) even when ctx has no
// deadline; FetchTimeout changes the bound.
//
// Errors: *ValidationError for a bad URL or option (nothing is sent),
// *TransportError (its URL without query or user info, which may hold
// secrets; a timeout when the bound passes), *APIError for a non-2xx
// reply, *DecodeError for a body that is not a JWK Set, and the context's
// error (errors.Is-able) when ctx ends.
func FetchJWKS(ctx context.Context, rawURL string, opts ...FetchOption) (*JWKSet, error) {
	const op = "FetchJWKS"
	if ctx == nil {
		return nil, invalid("ctx", "is nil")
	}
	o := fetchOptions{timeout: DefaultFetchTimeout}
	for _, opt := range opts {
		if opt == nil {
			return nil, invalid("FetchOption", "is nil")
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	u, err := checkURL("jwksURL", rawURL, true) // the scheme is checked below
	if err != nil {
		return nil, err
	}
	if u.Scheme == "http" {
		switch {
		case !isLoopback(u.Hostname()):
			return nil, invalid("jwksURL", "must use https (plain http only for loopback hosts, with FetchInsecureLoopbackHTTP)")
		case !o.insecureLoopback:
			return nil, invalid("jwksURL", "must use https (plain http to a loopback host needs FetchInsecureLoopbackHTTP)")
		}
	}
	if u.Fragment != "" {
		return nil, invalid("jwksURL", "must not have a fragment")
	}
	// copyHTTPClient would fill a nil Transport with a new clone of
	// http.DefaultTransport, right for a Client made once but not for a
	// call: each FetchJWKS would get its own connection pool. So a nil
	// Transport is http.DefaultTransport itself here, as documented and
	// as net/http does.
	hc := copyHTTPClient(copyWithDefaultTransport(o.httpClient))
	next := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := next(req, via); err != nil {
			return err
		}
		if req.URL.Scheme != "https" && !isLoopback(req.URL.Hostname()) {
			return errPlainHTTPRedirect
		}
		return nil
	}
	callerCtx := ctx
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	// ended says why the call's context ended: the caller's own context,
	// or FetchJWKS's bound, a retryable timeout.
	ended := func() error {
		if err := callerCtx.Err(); err != nil {
			return &contextError{op: op, err: err}
		}
		return &TransportError{Op: op, Err: &timeoutError{what: "the JWKS host", d: o.timeout}}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &opError{op: op, err: err}
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	req.Header.Set("User-Agent", "apikeys-go/"+Version)
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ended()
		}
		return nil, newTransportError(op, err)
	}
	if err := checkResponse(req, resp, nil); err != nil {
		return nil, err
	}
	body, tooBig, err := readBody(resp, maxJWKSBytes)
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return nil, ended()
		}
		return nil, newDecodeError(resp, body, fmt.Errorf("reading body: %w", err))
	case tooBig:
		return nil, newDecodeError(resp, nil, fmt.Errorf("body exceeds %d bytes", maxJWKSBytes))
	case !isJSONContentType(resp.Header.Get("Content-Type")):
		return nil, newDecodeError(resp, body, errors.New("content type is not JSON"))
	}
	var doc struct {
		Keys *[]JWK `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, newDecodeError(resp, body, err)
	}
	if doc.Keys == nil {
		return nil, newDecodeError(resp, nil, errors.New(`"keys" member is missing`))
	}
	return &JWKSet{Keys: *doc.Keys}, nil
}

// isJSONContentType accepts application/json, application/jwk-set+json and
// any other +json media type.
func isJSONContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// JWKSHandler returns a handler that serves set as
// application/jwk-set+json with "Cache-Control: public, max-age=300", for
// hosting a key's jwksURL. It answers GET and HEAD, and 405 to other
// methods. The set must pass Validate (so it holds no private key): the
// error is Validate's *JWKSetError otherwise. The set is encoded once:
// later changes to it are not served; make a new handler to rotate keys.
func JWKSHandler(set *JWKSet) (http.Handler, error) {
	if set == nil {
		return nil, invalid("set", "is nil")
	}
	if err := set.Validate(); err != nil {
		return nil, err
	}
	body, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("apikeys: encoding JWK set: %w", err)
	}
	return jwksHandler{body: body}, nil
}

type jwksHandler struct {
	body []byte
}

func (h jwksHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/jwk-set+json")
	hdr.Set("Cache-Control", "public, max-age=300")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Length", strconv.Itoa(len(h.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(h.body)
	}
}

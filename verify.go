package apikeys

import (
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// verifyError is an error of VerifyJWT.
func verifyError(format string, args ...any) error {
	return &opError{op: "VerifyJWT", err: fmt.Errorf(format, args...)}
}

// ErrUnknownKeyID is returned (wrapped) by VerifyJWT when no usable key in
// the set has the token's kid: a caller may fetch the JWKS again.
var ErrUnknownKeyID = errors.New("apikeys: no usable key with the token's kid")

// VerifyJWT checks the signature of a compact JWS/JWT with the key of the
// set named by the token's "kid" header, and returns its registered
// claims. allowedAlgs is the explicit list of accepted header algs (e.g.
// []string{RS384, ES384}); it must not be empty and may not hold "none" or
// HS* algorithms. Alg names are case-sensitive. A token with header alg
// Ed25519 (RFC 9864, as node jose 6 and WebCrypto sign) is accepted only
// when allowedAlgs names Ed25519 itself, and passes the same checks as an
// EdDSA one. The header alg must fit the key's type and curve, and equal
// the key's own "alg" member when it has one, except that EdDSA and
// Ed25519, one signature under two names, match each other: a key with
// alg EdDSA, Ed25519 or none verifies tokens of either name. The token
// must be a compact JWS of three segments in unpadded base64url, each
// spelled the one canonical way (no line breaks, no stray padding bits),
// whose protected header names no member twice (exactly or in two letter
// cases, as for a JWK). A token whose protected header has a "b64" member
// (RFC 7797 unencoded payload: a JWT's payload is always base64url-encoded)
// or a "crit" member, with any value, is refused before any key is tried.
// Keys that do not parse or that Validate would refuse for their type or
// size (unknown types or curves, RSA under 2048 or over 4096 bits, private
// members, a member named twice), and keys whose "use" is set to anything
// but "sig", are skipped, not fatal; a token whose kid matches no usable
// key fails with ErrUnknownKeyID. A key's kid is its "kid" member as
// spelled (as go-jose reads it): a key with "KID" only has none.
//
// VerifyJWT checks the signature only. Check the claims with
// claims.ValidateWithLeeway(jwt.Expected{Issuer, AnyAudience, Time}, leeway)
// (iss, sub, aud, exp, nbf, iat). Each extra destination (a map or a struct
// with JSON tags) receives the verified payload too, for private claims.
//
// VerifyJWT reads each key of the set once per process, not once per
// call: what it reads from a key (its kid, use and alg, its parsed public
// key) is kept in a process-wide cache keyed by the key's JSON text
// itself, so a set changed in any way (Keys appended to, resliced or
// replaced, an element replaced or decoded anew) is read as it is now,
// never as it was. The cache holds at most 1024 keys (4 MiB of JSON),
// and is safe for concurrent use, as VerifyJWT is on a set no one changes.
//
// Errors quote the token's kid and alg, and a key's alg, as at most 64
// printable runes (other runes, such as controls, U+2028 or U+202E,
// become spaces), and go-jose's messages cut to 128 runes the same way,
// so a hostile token cannot make a long or misleading error.
func (s *JWKSet) VerifyJWT(token string, allowedAlgs []string, extra ...any) (*jwt.Claims, error) {
	if s == nil {
		return nil, verifyError("JWK set is nil")
	}
	if len(allowedAlgs) == 0 {
		return nil, invalid("VerifyJWT", "allowedAlgs", "is empty; list the algorithms to accept")
	}
	algs := make([]jose.SignatureAlgorithm, 0, len(allowedAlgs))
	for _, a := range allowedAlgs {
		if _, ok := algKeys[a]; !ok {
			return nil, invalid("VerifyJWT", "allowedAlgs", "%s is not an accepted signature algorithm", quoted(a))
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
			return nil, verifyError("token alg %s is not in allowedAlgs", quoted(string(unexpected.Got)))
		}
		return nil, verifyError("%s", libraryError(err))
	}
	if len(tok.Headers) != 1 {
		return nil, verifyError("token must have exactly one signature")
	}
	hdr := tok.Headers[0]
	if hdr.KeyID == "" {
		return nil, verifyError("token header has no kid")
	}
	var lastErr error
	for _, k := range s.Keys {
		e := cachedKey(k.raw, false)
		h := e.hdr
		if h.KeyID != hdr.KeyID {
			continue
		}
		pub, kty, crv := e.public()
		if pub == nil {
			continue // unknown type, curve or size, private members: not usable
		}
		if h.Use != "" && h.Use != "sig" {
			continue
		}
		if reason := algFitsJWK(hdr.Algorithm, kty, crv); reason != "" {
			lastErr = verifyError("key %s: %s", quoted(hdr.KeyID), reason)
			continue
		}
		if h.Algorithm != "" && !sameSignature(h.Algorithm, hdr.Algorithm) {
			lastErr = verifyError("token alg %s differs from key %s's alg %s", quoted(hdr.Algorithm), quoted(hdr.KeyID), quoted(h.Algorithm))
			continue
		}
		claims := new(jwt.Claims)
		if err := verifiedClaims(tok, token, pub, claims, extra); err != nil {
			lastErr = verifyError("%s", libraryError(err))
			continue
		}
		return claims, nil
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return nil, &opError{op: "VerifyJWT", err: &sentinelError{ErrUnknownKeyID, "no usable key with the token's kid (kid " + quoted(hdr.KeyID) + ")"}}
}

// verifiedClaims checks the signature of tok, parsed from token, with pub
// and decodes its payload into claims and each of extra. go-jose v4
// verifies EdDSA only, but parses a token of alg Ed25519 as any other once
// allowedAlgs names it (it only looks the alg up in the list), so such a
// token has passed every check an EdDSA one has; only its signature is
// checked here, with crypto/ed25519 over the segments as sent
// (checkJWTHeader found them canonical, so they are the segments go-jose
// would sign). The payload is then decoded by go-jose as for any other
// alg.
func verifiedClaims(tok *jwt.JSONWebToken, token string, pub crypto.PublicKey, claims *jwt.Claims, extra []any) error {
	dest := []any{claims}
	if len(extra) > 0 {
		dest = append(dest, extra...)
	}
	if tok.Headers[0].Algorithm != Ed25519 {
		return tok.Claims(pub, dest...)
	}
	dot := strings.LastIndexByte(token, '.')
	sig, err := decodeSegment(token[dot+1:])
	key, ok := pub.(ed25519.PublicKey) // algFitsJWK let only OKP Ed25519 keys through
	if err != nil || !ok || len(sig) != ed25519.SignatureSize || !ed25519.Verify(key, []byte(token[:dot]), sig) {
		return jose.ErrCryptoFailure // go-jose's error for a bad signature
	}
	return tok.UnsafeClaimsWithoutVerification(dest...)
}

// checkJWTHeader checks the form of a compact JWS and decodes its
// protected header itself, to refuse what a JWT must not have before
// go-jose parses or verifies it:
//   - anything but three segments of canonical unpadded base64url (see
//     decodeSegment);
//   - a header member named twice, exactly or in two letter cases
//     (repeatedMembers): go-jose refuses exact repeats, but other
//     verifiers take the first or the last, or match names as
//     encoding/json does;
//   - "b64" (RFC 7797), with any value: a JWT's claims are always the
//     base64url-encoded payload (RFC 7519 section 7.2), but go-jose
//     honours "b64": false and then verifies a signature over the raw
//     payload bytes, so the same claims would verify under two different
//     signing inputs;
//   - "crit" (RFC 7515 section 4.1.11), with any value: VerifyJWT
//     understands no extension, and go-jose accepts an empty or null
//     "crit", or one that lists only "b64".
func checkJWTHeader(token string) error {
	if strings.Count(token, ".") != 2 {
		return verifyError("token is not a compact JWS (header.payload.signature)")
	}
	protected, rest, _ := strings.Cut(token, ".")
	payload, sig, _ := strings.Cut(rest, ".")
	raw, err := decodeSegment(protected)
	if err != nil {
		return verifyError("token header is not unpadded base64url")
	}
	// go-jose decodes the payload and signature again: here they are only
	// checked, without a copy.
	if !isBase64URL(payload) {
		return verifyError("token payload is not unpadded base64url")
	}
	if !isBase64URL(sig) {
		return verifyError("token signature is not unpadded base64url")
	}
	var buf [16]member
	members, ok := objectMembers(buf[:0], raw)
	if !ok {
		return verifyError("token header is not a JSON object")
	}
	if repeats := repeatedMembers(members); len(repeats) > 0 {
		return verifyError("token header: %s", repeats[0])
	}
	if _, ok := lastMember(members, "b64"); ok {
		return verifyError(`token header has "b64" (RFC 7797 unencoded payload); a JWT's payload is always base64url-encoded`)
	}
	if _, ok := lastMember(members, "crit"); ok {
		return verifyError(`token header has "crit"; VerifyJWT supports no critical header parameter`)
	}
	return nil
}

// errNotBase64URL is decodeSegment's error for a line break.
var errNotBase64URL = errors.New("not unpadded base64url")

// decodeSegment decodes one segment of a compact JWS strictly: unpadded
// base64url (RFC 7515 section 2) spelled the one canonical way, without
// the line breaks Go's decoder skips or non-zero bits after the last
// byte. Then a token's text and what it says match one to one, and the
// segments as sent are the signing input go-jose computes from their
// decoded bytes.
func decodeSegment(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errNotBase64URL
	}
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

// isBase64URL reports whether decodeSegment would decode s, without
// decoding it: every byte of the base64url alphabet, a length that is not
// 1 modulo 4 (a lone sixth of a byte) and, in the last character, zero
// bits after the last byte.
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		if base64URLValues[s[i]] < 0 {
			return false
		}
	}
	switch len(s) % 4 {
	case 1:
		return false
	case 2:
		return base64URLValues[s[len(s)-1]]&0x0f == 0 // 12 bits for one byte: 4 left over
	case 3:
		return base64URLValues[s[len(s)-1]]&0x03 == 0 // 18 bits for two bytes: 2 left over
	}
	return true
}

// base64URLValues maps each byte to its 6-bit value in base64url, or -1.
var base64URLValues = func() (t [256]int8) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range t {
		t[i] = -1
	}
	for i := range len(alphabet) {
		t[alphabet[i]] = int8(i)
	}
	return t
}()

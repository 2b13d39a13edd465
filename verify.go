package apikeys

import (
	"encoding/base64"
	"encoding/json"
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
			lastErr = verifyError("key %s: %s", quoted(hdr.KeyID), reason)
			continue
		}
		if h.Algorithm != "" && h.Algorithm != hdr.Algorithm {
			lastErr = verifyError("token alg %s differs from key %s's alg %s", quoted(hdr.Algorithm), quoted(hdr.KeyID), quoted(h.Algorithm))
			continue
		}
		claims := new(jwt.Claims)
		dest := append([]any{claims}, extra...)
		if err := tok.Claims(pub, dest...); err != nil {
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
		return verifyError("token is not a compact JWS (header.payload.signature)")
	}
	raw, err := base64.RawURLEncoding.DecodeString(protected)
	if err != nil {
		return verifyError("token header is not base64url")
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(raw, &hdr); err != nil || hdr == nil {
		return verifyError("token header is not a JSON object")
	}
	if _, ok := hdr["b64"]; ok {
		return verifyError(`token header has "b64" (RFC 7797 unencoded payload); a JWT's payload is always base64url-encoded`)
	}
	if _, ok := hdr["crit"]; ok {
		return verifyError(`token header has "crit"; VerifyJWT supports no critical header parameter`)
	}
	return nil
}

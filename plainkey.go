package apikeys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/base64"
	"math"
	"math/big"

	jose "github.com/go-jose/go-jose/v4"
)

// plainPublicKey parses a plain RSA or EC public JWK itself, step for step
// as go-jose v4 parses it (JSONWebKey.UnmarshalJSON with rsaPublicKey or
// ecPublicKey), but without go-jose's reflection-based JSON decoding: that
// decoding is most of what Validate and PublicKey spend on a key. A plain
// key has only the members kty ("RSA" or "EC"), kid, alg, use, crv, n, e,
// x and y, each once, each a string of printable ASCII without escapes,
// which any JSON decoder reads the same way.
//
// It returns ok only for a key go-jose accepts, with the key go-jose
// returns. For any other JWK, and for any step go-jose would fail, it
// returns false, and the caller hands the JWK to go-jose, which accepts or
// refuses it, and says why, as it always did.
func plainPublicKey(members []member) (pub crypto.PublicKey, ok bool) {
	var kty, crv string
	// The byte members n, e, x and y, decoded: go-jose decodes each one
	// present, whatever the key type, and fails on any it cannot decode.
	var n, e, x, y []byte
	var seen [9]bool // kty, crv, kid, alg, use, n, e, x, y
	for _, m := range members {
		v, plain := plainString(m.value)
		if !plain {
			return nil, false
		}
		var i int
		var b *[]byte
		switch m.name {
		case "kty":
			i, kty = 0, v
		case "crv":
			i, crv = 1, v
		case "kid":
			i = 2
		case "alg":
			i = 3
		case "use":
			i = 4
		case "n":
			i, b = 5, &n
		case "e":
			i, b = 6, &e
		case "x":
			i, b = 7, &x
		case "y":
			i, b = 8, &y
		default:
			return nil, false
		}
		if seen[i] {
			return nil, false // go-jose refuses a member named twice
		}
		seen[i] = true
		if b != nil {
			// go-jose's byteBuffer: "" is present but empty.
			var err error
			if *b, err = base64.RawURLEncoding.DecodeString(v); err != nil {
				return nil, false
			}
		}
	}
	switch {
	case kty == "RSA" && seen[5] && seen[6]:
		return plainRSAKey(n, e)
	case kty == "EC" && seen[7] && seen[8]:
		return plainECKey(crv, x, y)
	}
	return nil, false
}

// plainRSAKey is go-jose's rsaPublicKey for the decoded members n and e.
func plainRSAKey(n, e []byte) (crypto.PublicKey, bool) {
	key := &rsa.PublicKey{N: new(big.Int).SetBytes(n)}
	if key.N.BitLen() > jose.MaxRSAModulusBits {
		return nil, false
	}
	ei := new(big.Int).SetBytes(e)
	if !ei.IsInt64() || ei.Int64() < 2 || ei.Int64() > math.MaxInt {
		return nil, false
	}
	key.E = int(ei.Int64())
	return key, true
}

// plainECKey is go-jose's ecPublicKey for crv and the decoded members x
// and y.
func plainECKey(crv string, x, y []byte) (crypto.PublicKey, bool) {
	curve, ok := ecCurves[crv] // P-256, P-384 and P-521, as go-jose's
	if !ok {
		return nil, false
	}
	size := (curve.Params().BitSize + 7) / 8
	if len(x) != size || len(y) != size {
		return nil, false
	}
	key := &ecdsa.PublicKey{Curve: curve, X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
	// IsOnCurve is deprecated, but it is the check go-jose makes, and the
	// point is to accept exactly what go-jose accepts (FuzzPlainPublicKey).
	if !curve.IsOnCurve(key.X, key.Y) {
		return nil, false
	}
	return key, true
}

// plainString returns the content of the JSON string literal q when it is
// printable ASCII without escapes.
func plainString(q string) (string, bool) {
	if len(q) < 2 || q[0] != '"' {
		return "", false
	}
	s := q[1 : len(q)-1]
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e || s[i] == '\\' {
			return "", false
		}
	}
	return s, true
}

package apikeys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

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
	// Ed25519 is RFC 9864's fully specified name for EdDSA over Ed25519:
	// the same signature as EdDSA with an Ed25519 key, under the name that
	// node jose 6 and WebCrypto write. go-jose v4 signs and verifies
	// EdDSA only, so the SDK makes and checks Ed25519 signatures itself.
	Ed25519 = "Ed25519"
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
	EdDSA: {"OKP", "Ed25519"}, Ed25519: {"OKP", "Ed25519"},
}

// sameSignature reports whether algs a and b make the same signature: equal
// names, or EdDSA and Ed25519, which with the only curve the SDK supports
// (Ed25519) are one signature under two names (RFC 9864).
func sameSignature(a, b string) bool {
	return a == b || (isEd25519(a) && isEd25519(b))
}

// isEd25519 reports whether alg is either name of the Ed25519 signature.
func isEd25519(alg string) bool { return alg == EdDSA || alg == Ed25519 }

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
func checkAlg(op string, key any, alg, keyField, algField string) (crypto.PublicKey, string, error) {
	pub, err := publicOf(key)
	if err != nil {
		return nil, "", invalid(op, keyField, "%v", err)
	}
	kty, crv, err := keyShape(pub)
	if err != nil {
		return nil, "", invalid(op, keyField, "%v", err)
	}
	if alg == "" {
		return pub, defaultAlg(kty, crv), nil
	}
	if reason := algFitsJWK(alg, kty, crv); reason != "" {
		return nil, "", invalid(op, algField, "%s", reason)
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
		return "", &opError{op: "JWK.Thumbprint", err: err}
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// NewJWK returns the public JWK of key for signatures with alg: kty, the
// public members, kid (the RFC 7638 SHA-256 thumbprint), use "sig" and alg.
// key may be an *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey, or a
// private key or crypto.Signer, of which only the public half is used.
// alg "" picks RS384 for RSA, ES256/ES384/ES512 for P-256/P-384/P-521 and
// EdDSA for Ed25519; an Ed25519 key may also be published as Ed25519, RFC
// 9864's name for the same signature. RSA keys under 2048 or over 4096
// bits (go-jose, and so VerifyJWT, cannot parse larger ones), other curves
// and key types (Field "key"), and an alg that does not fit the key (Field
// "alg") are refused with a *ValidationError.
func NewJWK(key crypto.PublicKey, alg string) (JWK, error) {
	return newJWK("NewJWK", key, alg, "")
}

func newJWK(op string, key any, alg, kid string) (JWK, error) {
	pub, alg, err := checkAlg(op, key, alg, "key", "alg")
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
		return JWK{}, &opError{op: op, what: "encoding JWK", err: err}
	}
	return JWK{raw: b}, nil
}

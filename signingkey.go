package apikeys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
)

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
	// Algorithm is the JWS algorithm the key signs with, e.g. RS384 or
	// ES384. An Ed25519 key signs with header alg EdDSA, or Ed25519 (RFC
	// 9864's name for the same signature) when Algorithm says so.
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
// accepts (an RSA key has 2048 to 4096 bits) and the KeyID one the key
// can sign with (see SigningKey.KeyID; not empty: NewJWK makes a JWK whose
// kid is the thumbprint): a *ValidationError otherwise.
func (k SigningKey) JWK() (JWK, error) {
	const op = "SigningKey.JWK"
	kidProblem := keyIDProblem(k.KeyID)
	switch {
	case k.Signer == nil:
		return JWK{}, invalid(op, "SigningKey.Signer", "is nil")
	case kidProblem != "":
		return JWK{}, invalid(op, "SigningKey.KeyID", "%s", kidProblem)
	case k.Algorithm == "":
		return JWK{}, invalid(op, "SigningKey.Algorithm", "is empty")
	}
	return newJWK(op, k.Signer, k.Algorithm, k.KeyID)
}

// keyIDProblem says why kid cannot be a SigningKey's KeyID, or returns ""
// when it can. The one rule for signing (validate), publishing (JWK) and
// parsing (ParseSigningKey), so that no key is published under a kid no
// assertion can carry.
func keyIDProblem(kid string) string {
	switch {
	case kid == "":
		return "is empty"
	case hasControl(kid):
		return "contains control characters"
	case !utf8.ValidString(kid):
		// json.Marshal would send U+FFFD for the invalid bytes: a kid
		// that is in no JWK Set.
		return "is not valid UTF-8"
	}
	return ""
}

// validate checks the key before it signs anything.
func (k SigningKey) validate(op, field string) error {
	kidProblem := keyIDProblem(k.KeyID)
	switch {
	case k.Signer == nil:
		return invalid(op, field+".Signer", "is nil")
	case kidProblem != "":
		return invalid(op, field+".KeyID", "%s", kidProblem)
	case k.Algorithm == "":
		return invalid(op, field+".Algorithm", "is empty")
	}
	_, _, err := checkAlg(op, k.Signer, k.Algorithm, field+".Signer", field+".Algorithm")
	return err
}

// joseKey is the key go-jose signs with: the private key itself for the
// standard library types, else the crypto.Signer behind go-jose's opaque
// signer adapter, or behind ed25519Signer for alg Ed25519.
func (k SigningKey) joseKey() any {
	if k.Algorithm == Ed25519 {
		return ed25519Signer{k.Signer}
	}
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
		return nil, fmt.Errorf("go-jose cannot sign %s with it: %s", k.Algorithm, libraryError(err))
	}
	return signer, nil
}

// ed25519Signer signs for go-jose under RFC 9864's alg name Ed25519, which
// go-jose v4 does not know (it signs Ed25519 keys as EdDSA only). As a
// go-jose opaque signer it leaves the header (alg, kid, typ) and the
// compact serialization to go-jose, exactly as for every other alg, and
// makes the one signature both names stand for: pure Ed25519 over the
// signing input. signer holds an Ed25519 key (SigningKey.validate).
type ed25519Signer struct{ signer crypto.Signer }

// Public returns the public JWK, which go-jose reads only to embed it in
// the header (jose.SignerOptions.EmbedJWK, which the SDK does not set).
func (s ed25519Signer) Public() *jose.JSONWebKey {
	return &jose.JSONWebKey{Key: s.signer.Public(), Algorithm: Ed25519}
}

// Algs returns the one alg the signer makes.
func (s ed25519Signer) Algs() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{Ed25519}
}

// SignPayload signs payload, the JWS signing input, with pure Ed25519
// (crypto.Hash(0): the message itself, not a digest).
func (s ed25519Signer) SignPayload(payload []byte, _ jose.SignatureAlgorithm) ([]byte, error) {
	return s.signer.Sign(rand.Reader, payload, crypto.Hash(0))
}

// GenerateSigningKey makes a new private key for alg: RSA-3072 for RS256,
// RS384, RS512, PS256, PS384 and PS512 (within the 2048 to 4096 bits every
// RSA key must have); P-256 for ES256, P-384 for ES384, P-521 for ES512;
// Ed25519 for EdDSA and Ed25519. Its KeyID is the RFC 7638 SHA-256
// thumbprint of the public key. An unknown alg is a *ValidationError. The
// token endpoint documents RS384 and ES384.
func GenerateSigningKey(alg string) (SigningKey, error) {
	want, ok := algKeys[alg]
	if !ok {
		return SigningKey{}, invalid("GenerateSigningKey", "alg", "%s is not one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519", quoted(alg))
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
		return SigningKey{}, &opError{op: "GenerateSigningKey", what: "generating " + alg + " key", err: err}
	}
	return newSigningKey("GenerateSigningKey", signer, alg, "")
}

// newSigningKey checks alg against the key ("" infers it) and sets the kid
// (the thumbprint when kid is ""), which must be one the key can sign with.
func newSigningKey(op string, signer crypto.Signer, alg, kid string) (SigningKey, error) {
	pub, alg, err := checkAlg(op, signer, alg, "key", "alg")
	if err != nil {
		return SigningKey{}, err
	}
	if kid == "" {
		if kid, err = thumbprint(pub); err != nil {
			return SigningKey{}, err
		}
	}
	if problem := keyIDProblem(kid); problem != "" {
		return SigningKey{}, invalid(op, "key", "kid %s", problem)
	}
	return SigningKey{Signer: signer, KeyID: kid, Algorithm: alg}, nil
}

// parseOp is the Op of ParseSigningKey's errors.
const parseOp = "ParseSigningKey"

// ParseSigningKey reads a private key from PEM (PKCS #8 "PRIVATE KEY",
// PKCS #1 "RSA PRIVATE KEY" or SEC 1 "EC PRIVATE KEY") or from a private
// JWK in JSON. alg "" takes a JWK's own alg, if it has one (Ed25519 as node
// jose 6 writes it, say), else infers the algorithm: RS384 for RSA, ES256,
// ES384 or ES512 for P-256, P-384 or P-521, EdDSA for Ed25519. A given alg
// must fit the key, and name the same signature as a JWK's own alg: EdDSA
// and Ed25519 are one signature, so either fits a JWK of the other, and
// the given name is the one signed with. RSA keys must have 2048 to 4096
// bits ("RSA key is 8192 bits, over 4096"). The KeyID is the JWK's kid
// when it has one, else the RFC 7638 SHA-256 thumbprint; a kid with
// control characters is refused, as signing would refuse it. A JWK must be
// valid UTF-8. Public keys, certificates, encrypted PEM and symmetric keys
// are refused. Errors are *ValidationErrors and never contain key bytes.
func ParseSigningKey(data []byte, alg string) (SigningKey, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return SigningKey{}, invalid(parseOp, "key", "is empty")
	}
	if data[0] == '{' {
		return parseJWKSigningKey(data, alg)
	}
	return parsePEMSigningKey(data, alg)
}

func parseJWKSigningKey(data []byte, alg string) (SigningKey, error) {
	var buf [16]member
	members, ok := objectMembers(buf[:0], data) // data starts with '{'
	if !ok {
		return SigningKey{}, invalid(parseOp, "key", "is not valid JSON")
	}
	if !utf8.Valid(data) {
		return SigningKey{}, invalid(parseOp, "key", "JWK is not valid UTF-8")
	}
	h := readHeader(members)
	if h.KeyType == "oct" {
		return SigningKey{}, invalid(parseOp, "key", "is a symmetric (oct) JWK; a private RSA, EC or Ed25519 key is needed")
	}
	// go-jose refuses a modulus over maxRSABits as "too large": name its
	// size, as keyShape does for the other encodings.
	if bits := rsaModulusBits(h, members); bits > maxRSABits {
		return SigningKey{}, invalid(parseOp, "key", "RSA key %s", rsaSizeProblem(bits))
	}
	var jk jose.JSONWebKey
	if err := jk.UnmarshalJSON(data); err != nil {
		// go-jose's messages name members and types, never values, but
		// may quote a member name or kty from data: libraryError caps them.
		return SigningKey{}, invalid(parseOp, "key", "JWK does not parse: %s", libraryError(err))
	}
	signer, ok := standardSigner(jk.Key)
	switch jk.Key.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return SigningKey{}, invalid(parseOp, "key", "JWK is a public key; a private key is needed")
	}
	if !ok {
		return SigningKey{}, invalid(parseOp, "key", "JWK of kty %s is not supported", quoted(h.KeyType))
	}
	if jk.Algorithm != "" {
		if alg == "" {
			alg = jk.Algorithm
		} else if !sameSignature(alg, jk.Algorithm) {
			return SigningKey{}, invalid(parseOp, "alg", "%s differs from the JWK's alg %s", quoted(alg), quoted(jk.Algorithm))
		}
	}
	return newSigningKey(parseOp, signer, alg, jk.KeyID)
}

// standardSigner returns key as a crypto.Signer when it is a private key
// of a type the SDK signs with: RSA, EC or Ed25519.
func standardSigner(key any) (crypto.Signer, bool) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return k, true
	case *ecdsa.PrivateKey:
		return k, true
	case ed25519.PrivateKey:
		return k, true
	}
	return nil, false
}

func parsePEMSigningKey(data []byte, alg string) (SigningKey, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return SigningKey{}, invalid(parseOp, "key", "holds no PEM private key or JWK")
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
				return SigningKey{}, invalid(parseOp, "key", "PEM key is encrypted; decrypt it first")
			}
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			if _, encrypted := block.Headers["DEK-Info"]; encrypted {
				return SigningKey{}, invalid(parseOp, "key", "PEM key is encrypted; decrypt it first")
			}
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return SigningKey{}, invalid(parseOp, "key", "PEM key is encrypted; decrypt it first")
		case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
			return SigningKey{}, invalid(parseOp, "key", "PEM block %q holds a public key; a private key is needed", block.Type)
		default:
			return SigningKey{}, invalid(parseOp, "key", "PEM block %q is not a supported private key", excerpt([]byte(block.Type), 40))
		}
		if err != nil {
			// The x509 error text is dropped: only the block type is named.
			return SigningKey{}, invalid(parseOp, "key", "PEM block %q does not parse as a private key", block.Type)
		}
		signer, ok := standardSigner(key)
		if !ok {
			if _, isSigner := key.(crypto.Signer); isSigner {
				return SigningKey{}, invalid(parseOp, "key", "PEM key of type %T is not RSA, EC or Ed25519", key)
			}
			return SigningKey{}, invalid(parseOp, "key", "PEM key of type %T cannot sign", key) // an X25519 key (*ecdh.PrivateKey), say
		}
		return newSigningKey(parseOp, signer, alg, "")
	}
}

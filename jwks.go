package apikeys

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
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
}

// ParseJWK reads one JWK from its JSON object form.
func ParseJWK(data []byte) (JWK, error) {
	var k JWK
	err := k.UnmarshalJSON(data)
	return k, err
}

// UnmarshalJSON keeps data as given once it is known to be a JSON object.
func (k *JWK) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return errors.New("apikeys: a JWK must be a JSON object")
	}
	if !json.Valid(data) {
		return errors.New("apikeys: a JWK must be valid JSON")
	}
	k.raw = append(k.raw[:0], data...)
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

// JWKSet is a JSON Web Key Set: {"keys": [...]}.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

// privateMembers are the JWK members that hold private or symmetric key
// material (RFC 7518 section 6). None may be uploaded.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "k"}

// Validate checks that the set is fit to upload as a key's public keys and
// reports every problem found, each with the key's index and kid.
func (s *JWKSet) Validate() error {
	if s == nil {
		return errors.New("apikeys: JWK set is nil")
	}
	var problems []string
	seen := make(map[string]int, len(s.Keys))
	for i, k := range s.Keys {
		h := k.header()
		where := fmt.Sprintf("keys[%d] (kid %q)", i, h.KeyID)
		m := k.members()
		if m == nil {
			problems = append(problems, where+": not a JSON object")
			continue
		}
		if h.KeyID == "" {
			problems = append(problems, where+": missing kid")
		} else if j, dup := seen[h.KeyID]; dup {
			problems = append(problems, fmt.Sprintf("%s: duplicate kid (also keys[%d])", where, j))
		} else {
			seen[h.KeyID] = i
		}
		if h.KeyType == "" {
			problems = append(problems, where+": missing kty")
		}
		for _, name := range privateMembers {
			if _, ok := m[name]; ok {
				problems = append(problems, fmt.Sprintf("%s: holds private key member %q", where, name))
			}
		}
	}
	if len(problems) > 0 {
		return &JWKSetError{Problems: problems}
	}
	return nil
}

// JWKSetError lists every problem JWKSet.Validate found.
type JWKSetError struct {
	Problems []string
}

func (e *JWKSetError) Error() string {
	return "apikeys: invalid JWK set: " + strings.Join(e.Problems, "; ")
}

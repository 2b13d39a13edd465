// Package jwkmember tells which JSON Web Key members hold private or
// symmetric key material. The SDK (which refuses such keys and parses
// around those members) and the fake server in apikeystest (which refuses
// uploads of them and masks them in its request log) both use it, so the
// two cannot disagree on the list or on letter case.
package jwkmember

import (
	"slices"
	"strings"
)

// private lists the members of RFC 7518 section 6 that hold private or
// symmetric key material, and "priv" of RFC 9964 AKP keys, in lower case
// and in the order In reports them.
var private = [...]string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// public lists the other registered JWK members, those that hold no
// private key material: RFC 7517 section 4, RFC 7518 section 6, RFC 8037
// section 2, "pub" of RFC 9964, and the later entries of the IANA "JSON
// Web Key Parameters" registry. No two are equal under case folding.
var public = [...]string{
	"kty", "use", "key_ops", "alg", "kid", "x5u", "x5c", "x5t", "x5t#S256",
	"crv", "x", "y", "n", "e", "pub", "ext", "iat", "nbf", "exp", "revoked",
}

// Miscased returns the registered public member name that name spells in
// another letter case ("kid" for "KID", "Kid" or "\u212aid" with KELVIN
// SIGN), under the folding of strings.EqualFold, and true; else "" and
// false (name is such a member as spelled, a private member, see
// IsPrivate, or no registered member). Go's encoding/json reads "KID" as
// the kid, while go-jose and other strict parsers read member names as
// spelled, so to them such a key has no kid.
func Miscased(name string) (string, bool) {
	for _, p := range public {
		if strings.EqualFold(name, p) {
			return p, name != p
		}
	}
	return "", false
}

// Private returns the private member names in lower case, in the order In
// reports them. The slice is new on every call.
func Private() []string {
	return slices.Clone(private[:])
}

// IsPrivate reports whether name is a private member name in any letter
// case. go-jose reads member names exactly as spelled (with its own JSON
// decoder, which also refuses duplicate members), but Go's encoding/json
// matches them case-insensitively, with the folding strings.EqualFold
// uses, so to any consumer that decodes a JWK with it "D" holds a private
// exponent as surely as "d" does.
func IsPrivate(name string) bool {
	for _, p := range private {
		if strings.EqualFold(name, p) {
			return true
		}
	}
	return false
}

// In returns the names of the members of m that are private members in any
// letter case, in the order of Private: for each private member, its
// lower-case spelling first if present, then its other spellings sorted.
// It returns nil when there are none.
func In[V any](m map[string]V) []string {
	var names []string
	for _, p := range private {
		if _, ok := m[p]; ok {
			names = append(names, p)
		}
		var folded []string
		for name := range m {
			if name != p && strings.EqualFold(name, p) {
				folded = append(folded, name)
			}
		}
		slices.Sort(folded)
		names = append(names, folded...)
	}
	return names
}

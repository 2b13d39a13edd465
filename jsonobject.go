package apikeys

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// member is one member of a JSON object: its name decoded as encoding/json
// decodes it, and its value as written.
type member struct {
	name, value string
}

// objectMembers appends the members of the JSON object text to dst, in
// document order and repeats included, and reports whether text is one
// valid JSON object. It reads the object in one pass, without the
// per-member allocations of json.Unmarshal into a map or of a
// json.Decoder: names and values are substrings of text, except a name
// with escapes or non-ASCII bytes, which encoding/json decodes.
func objectMembers(dst []member, text []byte) ([]member, bool) {
	if !json.Valid(text) {
		return dst, false
	}
	s := string(text) // one copy; the members are its substrings
	i := skipSpace(s, 0)
	if s[i] != '{' {
		return dst, false
	}
	// From here on s is known to be valid JSON, so each step only has to
	// find where a token ends.
	i = skipSpace(s, i+1)
	if s[i] == '}' {
		return dst, true
	}
	for {
		end := stringEnd(s, i)
		name := jsonString(s[i:end])
		i = skipSpace(s, skipSpace(s, end)+1) // past the colon
		end = valueEnd(s, i)
		dst = append(dst, member{name: name, value: s[i:end]})
		i = skipSpace(s, end)
		if s[i] == '}' {
			return dst, true
		}
		i = skipSpace(s, i+1) // past the comma
	}
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string starting at s[i].
func stringEnd(s string, i int) int {
	for i++; s[i] != '"'; i++ {
		if s[i] == '\\' {
			i++ // the escaped byte; a \u escape's hex digits are plain bytes
		}
	}
	return i + 1
}

// valueEnd returns the index just past the JSON value starting at s[i].
func valueEnd(s string, i int) int {
	switch s[i] {
	case '"':
		return stringEnd(s, i)
	case '{', '[':
		depth := 0
		for {
			switch s[i] {
			case '"':
				i = stringEnd(s, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
	}
	// A number, true, false or null.
	for i < len(s) && !strings.ContainsRune(",}] \t\n\r", rune(s[i])) {
		i++
	}
	return i
}

// jsonString decodes the JSON string literal q as encoding/json does. One
// without escapes, in valid UTF-8, is its own content; others (escapes,
// invalid UTF-8 read as U+FFFD) go to encoding/json.
func jsonString(q string) string {
	content := q[1 : len(q)-1]
	if !strings.Contains(content, `\`) && utf8.ValidString(content) {
		return content
	}
	var out string
	_ = json.Unmarshal([]byte(q), &out)
	return out
}

// lastMember returns the value of the last member named exactly name, as
// a map decoded by encoding/json holds it.
func lastMember(members []member, name string) (string, bool) {
	for i := len(members) - 1; i >= 0; i-- {
		if members[i].name == name {
			return members[i].value, true
		}
	}
	return "", false
}

// readHeader reads the header of a JWK from its members as go-jose reads
// it: by the member names as spelled ("KID" is no kid), each from the last
// member of its name, as a decoded map holds it, when that is a string
// (go-jose refuses a member named twice or of another type; Validate
// reports both).
func readHeader(members []member) jwkHeader {
	str := func(name string) string {
		if v, ok := lastMember(members, name); ok && v[0] == '"' {
			return jsonString(v)
		}
		return ""
	}
	return jwkHeader{KeyID: str("kid"), KeyType: str("kty"), Algorithm: str("alg"), Use: str("use"), Curve: str("crv")}
}

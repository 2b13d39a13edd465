package apikeystest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/apikeys-go/apikeys/internal/jwkmember"
)

// Masking for the request log: no secret is ever stored in a Request.
//
// A body is masked by what it holds, whatever route the request matched (or failed to match),
// so a request the fake refuses for its path, method or content type logs no more than one it
// serves:
//
//   - a JSON body has the value of every credential member (credentialMember) and of every
//     private JWK member (jwkmember.IsPrivate) masked, at any depth, names matched in any letter
//     case as encoding/json matches them;
//   - otherwise a body with a JSON string naming such a member is replaced by a placeholder, as
//     the member's value cannot be found reliably in a body that does not parse;
//   - otherwise a form (one with the form content type, or whose fields name a credential) has
//     its credential fields masked in place, and a multipart form naming one is replaced by a
//     placeholder;
//   - and in any body that is not JSON, runs of 32 or more hex digits and JWS- or JWE-shaped
//     tokens are masked.
//
// A body with nothing to mask (a JSON body naming no such member, a form with no credential field,
// other text with no token) is logged as sent.

const masked = "****"

func maskHeader(h http.Header) http.Header {
	out := h.Clone()
	if out == nil {
		out = http.Header{}
	}
	for _, k := range []string{"X-Fh-Auth-User", "Cookie", "Proxy-Authorization"} {
		if _, ok := out[k]; ok {
			out[k] = []string{masked}
		}
	}
	for i, v := range out["Authorization"] {
		out["Authorization"][i] = maskAuthorization(v)
	}
	return out
}

// maskAuthorization keeps the scheme of an Authorization value "<scheme><whitespace><credentials>"
// whose scheme is a single token of ASCII letters, as "<scheme> ****"; any other value (no
// scheme, a scheme alone, a scheme with other characters) reads "****", since what looks like a
// scheme may be the credentials themselves.
func maskAuthorization(v string) string {
	i := strings.IndexAny(v, " \t")
	if i <= 0 || strings.TrimLeft(v[i:], " \t") == "" {
		return masked
	}
	for _, c := range []byte(v[:i]) {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return masked
		}
	}
	return v[:i] + " " + masked
}

// credentialMember reports whether a JSON member or form field named name holds a credential:
// always for the names in credentialNames, and for "key", "secret" and "apiKey" when the value is
// a string (keyIsString; a legacy reply's "apiKey" is an object whose members are looked at in
// turn). Names match in any letter case, with the folding encoding/json uses.
func credentialMember(name string, keyIsString bool) bool {
	for _, n := range credentialNames {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	if keyIsString {
		for _, n := range keyNames {
			if strings.EqualFold(name, n) {
				return true
			}
		}
	}
	return false
}

var (
	// credentialNames are the members and fields whose value is masked whatever its type.
	credentialNames = []string{
		"client_assertion", "client_secret", "assertion", "access_token", "refresh_token", "password",
	}
	// keyNames are the members and fields whose value is masked when it is a string. A legacy
	// "key" or "apiKey" is shortened to its first and last four characters (maskKey).
	keyNames = []string{"key", "apiKey", "secret"}
)

// secretName reports whether a JSON string could name a member whose value is masked.
func secretName(s string) bool {
	return jwkmember.IsPrivate(s) || credentialMember(s, true)
}

// maskKey shortens a legacy key value to its first and last four characters.
func maskKey(k string) string {
	if len(k) < 12 {
		return masked
	}
	return k[:4] + "…" + k[len(k)-4:]
}

func maskBody(h http.Header, body []byte) string {
	s := maskContent(h, body)
	if len(s) > maxLoggedBody {
		s = s[:maxLoggedBody] + "…(truncated)"
	}
	return s
}

func maskContent(h http.Header, body []byte) string {
	if len(body) == 0 {
		return ""
	}
	named := mentionsSecretName(body)
	if validJSON(body) {
		if !named {
			return string(body)
		}
		return maskJSON(body)
	}
	mt, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	switch {
	case named: // a form sent as such holds no quote, so this is broken JSON or some other text
		return fmt.Sprintf("<unparsable body naming a secret member: %d bytes>", len(body))
	case mt == "application/x-www-form-urlencoded" || formNamesCredential(body):
		return maskTokens(maskForm(string(body)))
	case mt == "multipart/form-data" && multipartNamesCredential(body, params["boundary"]):
		return fmt.Sprintf("<multipart form body with a credential field: %d bytes>", len(body))
	}
	return maskTokens(string(body))
}

// --- JSON ---

// maskJSON writes a valid JSON body back from its parsed form with the values of credential and
// private JWK members masked. The parsed form keeps the last of duplicate members, as
// encoding/json does, so an earlier duplicate holding a secret is dropped even when the last one
// holds nothing to mask; members come out sorted.
func maskJSON(body []byte) string {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil { // not reached: the body is valid JSON
		return fmt.Sprintf("<unparsable JSON body: %d bytes>", len(body))
	}
	maskValue(v)
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(v) // values decoded from JSON always encode
	return strings.TrimSuffix(b.String(), "\n")
}

// maskValue masks the secret members in v at any depth.
func maskValue(v any) {
	switch v := v.(type) {
	case map[string]any:
		for name, m := range v {
			s, isString := m.(string)
			switch {
			case isString && (strings.EqualFold(name, "key") || strings.EqualFold(name, "apiKey")):
				v[name] = maskKey(s)
			case jwkmember.IsPrivate(name) || credentialMember(name, isString):
				v[name] = masked
			default:
				maskValue(m)
			}
		}
	case []any:
		for _, m := range v {
			maskValue(m)
		}
	}
}

// maxSecretLiteral is the longest JSON string literal that can read as a secret member name:
// each character escaped as \uXXXX (a character that folds to an ASCII letter, as KELVIN SIGN
// folds to "k", is in the BMP), and the quotes.
var maxSecretLiteral = func() int {
	n := 0
	for _, s := range append(append(jwkmember.Private(), credentialNames...), keyNames...) {
		n = max(n, len(s))
	}
	return n*6 + 2
}()

// mentionsSecretName reports whether a JSON string literal in body, escapes decoded, is the name
// of a member whose value is masked (secretName). It looks at member names and values alike, and
// works on bodies that are not valid JSON. It runs in linear time, even on a 10 MB literal.
func mentionsSecretName(body []byte) bool {
	for {
		start := bytes.IndexByte(body, '"')
		if start < 0 {
			return false
		}
		body = body[start:]
		end := literalEnd(body)
		if end < 0 {
			return false
		}
		if lit := body[:end+1]; len(lit) <= maxSecretLiteral {
			if bytes.IndexByte(lit, '\\') < 0 {
				if secretName(string(lit[1:end])) {
					return true
				}
			} else if s := ""; json.Unmarshal(lit, &s) == nil && secretName(s) {
				return true
			}
		}
		body = body[end+1:]
	}
}

// literalEnd returns the index in b of the quote that ends the string literal opened by b[0] (a
// quote), skipping each backslash and the byte it escapes, or -1 when the literal does not end.
// It runs in linear time and leaves the scanning to bytes.IndexByte.
func literalEnd(b []byte) int {
	i, quote := 1, -1 // quote is the first quote at or after i, once found
	for {
		if quote < i {
			n := bytes.IndexByte(b[min(i, len(b)):], '"')
			if n < 0 {
				return -1
			}
			quote = i + n
		}
		n := bytes.IndexByte(b[i:quote], '\\')
		if n < 0 {
			return quote
		}
		i += n + 2
	}
}

// validJSON is json.Valid, made fast for a body made mostly of long string literals (under the
// race detector encoding/json takes about 300 ms over a 10 MB one): the content of each literal
// longer than 64 bytes is checked here with bytes.IndexByte and left out of what json.Valid
// sees. Literal content is the only thing that changes, and it is valid in both, so the answer
// is the same.
func validJSON(body []byte) bool {
	var skel []byte // body with long literals emptied; nil while there are none
	rest := body
	for {
		start := bytes.IndexByte(rest, '"')
		if start < 0 {
			break
		}
		end := literalEnd(rest[start:])
		if end < 0 {
			return false
		}
		end += start
		if content := rest[start+1 : end]; len(content) > 64 {
			if !validStringContent(content) {
				return false
			}
			if skel == nil {
				skel = make([]byte, 0, 1024)
				skel = append(skel, body[:len(body)-len(rest)]...)
			}
			skel = append(skel, rest[:start+1]...)
		} else if skel != nil {
			skel = append(skel, rest[:end]...)
		}
		if skel != nil {
			skel = append(skel, '"')
		}
		rest = rest[end+1:]
	}
	if skel == nil {
		return json.Valid(body)
	}
	return json.Valid(append(skel, rest...))
}

// validStringContent reports whether b, the content of a string literal that literalEnd found,
// is valid in JSON: no control character, and every escape one of \" \\ \/ \b \f \n \r \t
// \uXXXX. As in encoding/json, bytes that are not UTF-8 are allowed.
func validStringContent(b []byte) bool {
	for c := range byte(0x20) {
		if bytes.IndexByte(b, c) >= 0 {
			return false
		}
	}
	for {
		i := bytes.IndexByte(b, '\\')
		if i < 0 {
			return true
		}
		b = b[i+1:] // literalEnd ensures a byte follows the backslash
		switch b[0] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			b = b[1:]
		case 'u':
			if len(b) < 5 {
				return false
			}
			for _, c := range b[1:5] {
				if !isHex(c) {
					return false
				}
			}
			b = b[5:]
		default:
			return false
		}
	}
}

// --- forms ---

// formNamesCredential reports whether body, read as a form, has a credential field with a value.
func formNamesCredential(body []byte) bool {
	for field := range strings.SplitSeq(string(body), "&") {
		if name, v, ok := strings.Cut(field, "="); ok && v != "" && credentialMember(formName(name), true) {
			return true
		}
	}
	return false
}

// maskForm masks the credential field values of a form in place, keeping the rest as sent. It
// does not need the form to parse: a field is split at "&" and "=" as url.ParseQuery splits it.
func maskForm(body string) string {
	fields := strings.Split(body, "&")
	changed := false
	for i, field := range fields {
		if name, v, ok := strings.Cut(field, "="); ok && v != "" && credentialMember(formName(name), true) {
			fields[i] = name + "=" + masked
			changed = true
		}
	}
	if !changed {
		return body
	}
	return strings.Join(fields, "&")
}

// formName is a form field's name unescaped, or as sent when it does not unescape.
func formName(name string) string {
	if n, err := url.QueryUnescape(name); err == nil {
		return n
	}
	return name
}

// multipartNamesCredential reports whether a multipart/form-data body has a part whose form name
// is a credential field.
func multipartNamesCredential(body []byte, boundary string) bool {
	if boundary == "" {
		return false
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := r.NextRawPart()
		if err != nil {
			return false
		}
		if credentialMember(p.FormName(), true) {
			return true
		}
	}
}

// --- tokens in any text ---

// maskTokens replaces every JWS- or JWE-shaped token (three or more base64url parts joined by
// dots, the first decoding to a JSON object, as a JOSE header does) and every run of 32 or more
// hex digits in s with "****". It runs in linear time and returns s itself when nothing matches.
func maskTokens(s string) string {
	var b strings.Builder
	done := 0 // s[:done] is in b, or needs no change when b is empty
	for i := 0; i < len(s); {
		if !isTokenByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isTokenByte(s[j]) {
			j++
		}
		word := s[i:j]
		if isJOSE(word) {
			b.WriteString(s[done:i])
			b.WriteString(masked)
			done = j
		} else {
			for k := i; k < j; {
				if !isHex(s[k]) {
					k++
					continue
				}
				l := k
				for l < j && isHex(s[l]) {
					l++
				}
				if l-k >= 32 {
					b.WriteString(s[done:k])
					b.WriteString(masked)
					done = l
				}
				k = l
			}
		}
		i = j
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// isTokenByte reports whether c is a base64url character or a dot.
func isTokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// isJOSE reports whether word (base64url characters and dots) is a compact JWS or JWE: three or
// more dot-separated parts whose first decodes to a JSON object (opening with optional
// whitespace and "{"). A host name such as keys.example.com has the shape but no such header.
func isJOSE(word string) bool {
	header, _, ok := strings.Cut(word, ".")
	if !ok || strings.Count(word, ".") < 2 || len(header) < 4 {
		return false
	}
	header = header[:min(len(header), 64)&^3] // whole 4-character groups are enough
	dec, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		return false
	}
	return bytes.HasPrefix(bytes.TrimLeft(dec, " \t\r\n"), []byte("{"))
}

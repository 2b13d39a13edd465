package apikeystest

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/apikeys-go/apikeys/internal/jwkmember"
	"github.com/apikeys-go/apikeys/internal/mask"
)

// Masking for the request log: what [Request] documents. Secrets are masked by name (headers,
// JSON members, form fields) and the fake's own secrets by value, on every request whatever
// route it matched or failed to match, so a request the fake refuses logs no more than one it
// serves.

const hidden = "****"

// maxLoggedBody caps the body kept in one [Request] log entry.
const maxLoggedBody = 64 << 10

// secretNames are the JSON members and form fields, besides the private JWK members
// (jwkmember.IsPrivate), whose value is hidden whatever it is.
var secretNames = []string{
	"client_assertion", "client_secret", "assertion", "access_token", "refresh_token", "password", "secret",
}

// keyNames are the members and fields whose string value is a legacy key, shown as mask.Key.
var keyNames = []string{"key", "apiKey"}

type nameKind int

const (
	plainName nameKind = iota
	secretName
	keyName
)

// kindOf classifies a member or field name, in any letter case with the folding encoding/json
// uses to match member names (strings.EqualFold: "\u212a" is "k").
func kindOf(name string) nameKind {
	fold := func(n string) bool { return strings.EqualFold(name, n) }
	switch {
	case slices.ContainsFunc(keyNames, fold):
		return keyName
	case jwkmember.IsPrivate(name) || slices.ContainsFunc(secretNames, fold):
		return secretName
	}
	return plainName
}

// maskHeader hides the credential headers by name and the fake's secrets in any other.
func (ss *secretSet) maskHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for name, vs := range h {
		vs = slices.Clone(vs)
		for i, v := range vs {
			switch http.CanonicalHeaderKey(name) {
			case "Authorization":
				vs[i] = maskAuthorization(v)
			case "X-Fh-Auth-User", "Cookie", "Proxy-Authorization":
				vs[i] = hidden
			default:
				vs[i] = ss.replace(v)
			}
		}
		out[name] = vs
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
		return hidden
	}
	for _, c := range []byte(v[:i]) {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return hidden
		}
	}
	return v[:i] + " " + hidden
}

// --- bodies ---

// maskBody returns the logged form of a body: its first 64 KiB with secret members and fields
// hidden by name and the fake's secrets by value.
func (ss *secretSet) maskBody(h http.Header, body []byte) string {
	s := string(body[:min(len(body), maxLoggedBody)])
	s = ss.maskMembers(s)
	mt, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	switch {
	case strings.HasPrefix(mt, "multipart/") && params["boundary"] != "":
		s = maskMultipart(s, params["boundary"])
	case !jsonShaped(s):
		s = ss.maskForm(s) // whatever its content type: a form sent as anything else logs no secret either
	}
	s = ss.replace(s)
	if len(body) > maxLoggedBody {
		// A secret cut at the end is not found whole; it shows as a hex run there, so drop that.
		s = strings.TrimRight(s, hexDigits)
	}
	if len(body) > maxLoggedBody || len(s) > maxLoggedBody {
		s = s[:min(len(s), maxLoggedBody)] + "…(truncated)"
	}
	return s
}

// jsonShaped reports whether s opens like a JSON object or array, and so is not read as a form
// (a JSON string value holding "&" and "=" would otherwise be cut up).
func jsonShaped(s string) bool {
	s = strings.TrimLeft(s, " \t\r\n")
	return strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[")
}

// maskValue is the logged form of the value of a member or field of kind k.
func maskValue(k nameKind, v string) string {
	if k == keyName {
		return mask.Key(v)
	}
	return hidden
}

// maskMembers hides the values of secret members in s, which need not be valid JSON: a string
// literal (escapes decoded) followed by a colon names a member, and its value, whatever its
// type, is replaced by "****" (a key member's string by mask.Key; any other key value is looked
// into). A literal whose escapes spell one of the fake's secrets is written back masked too.
// The rest is kept as sent.
func (ss *secretSet) maskMembers(s string) string {
	var b strings.Builder
	done := 0 // s[:done] is in b
	put := func(from, to int, with string) {
		b.WriteString(s[done:from])
		b.WriteString(with)
		done = to
	}
	for i := 0; ; {
		q := strings.IndexByte(s[i:], '"')
		if q < 0 {
			break
		}
		start := i + q
		end := literalEnd(s, start)
		if end < 0 {
			break
		}
		text, escaped := unquote(s[start:end])
		if escaped {
			if r := ss.replace(text); r != text {
				put(start, end, quote(r))
			}
		}
		i = end
		colon := skipSpace(s, end)
		if colon == len(s) || s[colon] != ':' {
			continue
		}
		k := kindOf(text)
		v := skipSpace(s, colon+1)
		if k == plainName || v == len(s) || (k == keyName && s[v] != '"') {
			continue
		}
		vend := valueEnd(s, v)
		if vend == v { // no value: nothing to hide
			continue
		}
		val, _ := unquote(s[v:vend])
		put(v, vend, quote(maskValue(k, val)))
		i = vend
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// literalEnd returns the index just past the string literal opening at s[start] (a quote), or
// -1 when it does not end.
func literalEnd(s string, start int) int {
	for i := start + 1; i < len(s); i += 2 { // past a backslash and the byte it escapes
		j := strings.IndexAny(s[i:], `"\`)
		if j < 0 {
			return -1
		}
		if i += j; s[i] == '"' {
			return i + 1
		}
	}
	return -1
}

// valueEnd returns the index just past the JSON value starting at s[v]: a string, an object or
// array (brackets counted outside strings), or a scalar running to the next delimiter or line
// end. A value that does not end runs to the end of s.
func valueEnd(s string, v int) int {
	switch s[v] {
	case '"':
		if e := literalEnd(s, v); e >= 0 {
			return e
		}
		return len(s)
	case '{', '[':
		depth := 0
		for i := v; i < len(s); i++ {
			switch s[i] {
			case '"':
				e := literalEnd(s, i)
				if e < 0 {
					return len(s)
				}
				i = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(s)
	}
	e := strings.IndexAny(s[v:], ",}]\r\n")
	if e < 0 {
		e = len(s) - v
	}
	return v + len(strings.TrimRight(s[v:v+e], " \t"))
}

func skipSpace(s string, i int) int {
	for i < len(s) && strings.IndexByte(" \t\r\n", s[i]) >= 0 {
		i++
	}
	return i
}

// unquote decodes a string literal as encoding/json does, reporting whether it had escapes. A
// literal that does not decode (or is not one) is returned without its quotes, as sent.
func unquote(lit string) (string, bool) {
	if !strings.Contains(lit, `\`) || len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		return strings.TrimSuffix(strings.TrimPrefix(lit, `"`), `"`), false
	}
	var s string
	if json.Unmarshal([]byte(lit), &s) != nil {
		return lit[1 : len(lit)-1], false
	}
	return s, true
}

// quote encodes s as a JSON string literal, leaving <, > and & as they are.
func quote(s string) string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// maskForm reads s as a URL-encoded form, split at "&" and "=" as url.ParseQuery splits it but
// without needing it to parse: a secret field (name unescaped) has its value hidden, and a
// value whose escapes spell one of the fake's secrets is written back unescaped and masked.
func (ss *secretSet) maskForm(s string) string {
	fields := strings.Split(s, "&")
	changed := false
	for i, field := range fields {
		name, v, ok := strings.Cut(field, "=")
		if !ok || v == "" {
			continue
		}
		if k := kindOf(queryUnescape(name)); k != plainName {
			fields[i], changed = name+"="+maskValue(k, queryUnescape(v)), true
		} else if u := queryUnescape(v); u != v {
			if r := ss.replace(u); r != u {
				fields[i], changed = name+"="+r, true
			}
		}
	}
	if !changed {
		return s
	}
	return strings.Join(fields, "&")
}

// queryUnescape is s unescaped, or as sent when it does not unescape.
func queryUnescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// maskMultipart hides the content of the secret parts of a multipart form in place: a part's
// content runs from the blank line after its headers to the CRLF before the next boundary.
func maskMultipart(s, boundary string) string {
	delim := "--" + boundary
	parts := strings.Split(s, delim)
	for i, p := range parts[1:] {
		head, content, ok := strings.Cut(p, "\r\n\r\n")
		if !ok {
			continue
		}
		k := kindOf(partName(head))
		if k == plainName {
			continue
		}
		crlf := strings.HasSuffix(content, "\r\n")
		parts[i+1] = head + "\r\n\r\n" + maskValue(k, strings.TrimSuffix(content, "\r\n"))
		if crlf {
			parts[i+1] += "\r\n"
		}
	}
	return strings.Join(parts, delim)
}

// partName is the form name in a part's Content-Disposition header, or "".
func partName(head string) string {
	for line := range strings.Lines(head) {
		name, v, _ := strings.Cut(line, ":")
		if strings.EqualFold(strings.TrimSpace(name), "Content-Disposition") {
			if _, params, err := mime.ParseMediaType(strings.TrimSpace(v)); err == nil {
				return params["name"]
			}
		}
	}
	return ""
}

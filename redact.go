package apikeys

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// secrets lists the credentials a call sent (a bearer token, a legacy user
// key or session cookie, the legacy key value a call is about), each
// followed by what shows in its place: old, new pairs, as
// strings.NewReplacer takes them. Every body, message and excerpt an error
// keeps of a reply goes through it, for both APIs, so a server or proxy
// that echoes a credential does not put it in an error.
type secrets []string

// add appends secret, shown as mask; an empty or known secret is skipped.
func (s secrets) add(secret, mask string) secrets {
	if secret == "" {
		return s
	}
	for i := 0; i < len(s); i += 2 {
		if s[i] == secret {
			return s
		}
	}
	return append(s, secret, mask)
}

// longest returns the length in bytes of the longest secret.
func (s secrets) longest() int {
	n := 0
	for i := 0; i < len(s); i += 2 {
		n = max(n, len(s[i]))
	}
	return n
}

// text masks every secret in t. A caller with many strings builds the
// replacer once (replacer) instead: building it costs more than a
// replacement.
func (s secrets) text(t string) string {
	if len(s) == 0 || t == "" {
		return t
	}
	return s.replacer().Replace(t)
}

// replacer returns a replacer that masks every secret.
func (s secrets) replacer() *strings.Replacer { return strings.NewReplacer(s...) }

// credentialHeaders are the reply headers whose values an error never
// keeps: they set or carry credentials.
var credentialHeaders = []string{"Set-Cookie", "Authorization", "Proxy-Authorization", "Cookie", legacyAuthHeader}

// header returns a copy of a reply's header for an error: the values of
// credential headers masked, and every secret in the others, so that
// printing the error with %#v or encoding it as JSON shows neither.
func (s secrets) header(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	var r *strings.Replacer
	if len(s) > 0 {
		r = s.replacer()
	}
	out := make(http.Header, len(h))
	for name, vs := range h {
		credential := slices.ContainsFunc(credentialHeaders, func(c string) bool { return strings.EqualFold(c, name) })
		masked := make([]string, len(vs))
		for i, v := range vs {
			switch {
			case credential:
				masked[i] = "****"
			case r != nil:
				masked[i] = r.Replace(v)
			default:
				masked[i] = v
			}
		}
		out[name] = masked
	}
	return out
}

// body masks every secret in a reply body. A JSON body can also spell a
// secret with escapes (\u0061 for "a"), which its bytes do not show: such a
// body is decoded, masked and encoded again.
func (s secrets) body(b []byte) []byte {
	if len(s) == 0 || len(b) == 0 {
		return b
	}
	r := s.replacer()
	out := []byte(r.Replace(string(b)))
	if bytes.IndexByte(out, '\\') < 0 || !json.Valid(out) {
		return out
	}
	d := json.NewDecoder(bytes.NewReader(out))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil || !scrub(r, &v) {
		return out
	}
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if e.Encode(v) != nil {
		return nil // not reached: decoded JSON encodes
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// scrub masks the secrets in the strings of a decoded JSON value, member
// names included, with r (secrets.replacer), and reports whether it
// changed any.
func scrub(r *strings.Replacer, v *any) bool {
	changed := false
	switch x := (*v).(type) {
	case string:
		if m := r.Replace(x); m != x {
			*v, changed = m, true
		}
	case []any:
		for i := range x {
			changed = scrub(r, &x[i]) || changed
		}
	case map[string]any:
		for name, m := range x {
			c := scrub(r, &m)
			if masked := r.Replace(name); masked != name {
				delete(x, name)
				name, c = masked, true
			}
			if c {
				x[name], changed = m, true
			}
		}
	}
	return changed
}

// formatMasked is the Format method of every type that holds a secret: it
// writes what String (GoString for %#v) shows, whatever the verb, so that
// no verb (%d, %x, %q, ...) reaches a secret field. Only %p and %T of a
// value are handled by fmt itself, before any method (see SECURITY.md).
func formatMasked(f fmt.State, verb rune, str, goStr string) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, goStr)
		return
	}
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), str)
}

// Format writes the token as String does, whatever the verb.
func (t Token) Format(f fmt.State, verb rune) { formatMasked(f, verb, t.String(), t.GoString()) }

// Format writes the configuration as String does, whatever the verb.
func (c LegacyConfig) Format(f fmt.State, verb rune) {
	formatMasked(f, verb, c.String(), c.GoString())
}

// Format writes the key as String does, whatever the verb.
func (k LegacyKey) Format(f fmt.State, verb rune) { formatMasked(f, verb, k.String(), k.GoString()) }

// Format writes the key as String does, whatever the verb.
func (k SigningKey) Format(f fmt.State, verb rune) {
	formatMasked(f, verb, k.String(), k.GoString())
}

// Format writes the key as String does (kid, kty and alg), whatever the verb.
func (k JWK) Format(f fmt.State, verb rune) { formatMasked(f, verb, k.String(), k.GoString()) }

// Format writes the source as String does, whatever the verb.
func (ts AssertionTokenSource) Format(f fmt.State, verb rune) {
	formatMasked(f, verb, ts.String(), ts.GoString())
}

// Format writes the client as String does, whatever the verb.
func (c *Client) Format(f fmt.State, verb rune) { formatMasked(f, verb, c.String(), c.GoString()) }

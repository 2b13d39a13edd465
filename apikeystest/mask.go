package apikeystest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/apikeys-go/apikeys/internal/jwkmember"
)

// Masking for the request log: no secret is ever stored in a Request.

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
	if v, ok := out["Authorization"]; ok {
		scheme, _, _ := strings.Cut(strings.Join(v, ","), " ")
		out["Authorization"] = []string{scheme + " " + masked}
	}
	return out
}

var hex40 = regexp.MustCompile(`[0-9a-fA-F]{40}`)

func maskBody(route Route, body []byte) string {
	var s string
	switch {
	case route == RouteToken:
		s = maskForm(body)
	case strings.HasPrefix(string(route), "Legacy"):
		s = maskLegacyBody(body)
	default:
		s = maskJWKBody(body)
	}
	if len(s) > maxLoggedBody {
		s = s[:maxLoggedBody] + "…(truncated)"
	}
	return s
}

// maskForm writes the form back with secret values replaced, keeping "****" readable.
func maskForm(body []byte) string {
	if len(body) == 0 {
		return ""
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return fmt.Sprintf("<unparsable form body: %d bytes>", len(body))
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		for _, v := range vals[k] {
			if k == "client_assertion" || k == "client_secret" {
				parts = append(parts, url.QueryEscape(k)+"="+masked)
				continue
			}
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
		}
	}
	return strings.Join(parts, "&")
}

// maskKey shortens a legacy key value to its first and last four characters.
func maskKey(k string) string {
	if len(k) < 12 {
		return masked
	}
	return k[:4] + "…" + k[len(k)-4:]
}

func maskLegacyBody(body []byte) string {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return hex40.ReplaceAllStringFunc(string(body), maskKey)
	}
	if k, ok := m["key"].(string); ok {
		m["key"] = maskKey(k)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// maskJWKBody masks the private JWK members (in any letter case, as jwkmember.IsPrivate) of the
// keys in a Platform request body's jwkSet; encoding/json matches member names case-insensitively,
// so the jwkSet and keys members are found in any letter case too. A body with a JSON string that
// reads as a private member name is written back from its parsed form, which also drops an earlier
// duplicate of a masked member; if it does not parse as a JSON object it is replaced by a
// placeholder. Any other body is kept as sent.
func maskJWKBody(body []byte) string {
	if !mentionsPrivateMember(body) {
		return string(body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return fmt.Sprintf("<unparsable JSON body naming a private JWK member: %d bytes>", len(body))
	}
	for name, v := range m {
		set, _ := v.(map[string]any)
		if !strings.EqualFold(name, "jwkSet") {
			continue
		}
		for name, v := range set {
			keys, _ := v.([]any)
			if !strings.EqualFold(name, "keys") {
				continue
			}
			for _, k := range keys {
				jwk, _ := k.(map[string]any)
				for member := range jwk {
					if jwkmember.IsPrivate(member) {
						jwk[member] = masked
					}
				}
			}
		}
	}
	b, _ := json.Marshal(m) // values from json.Unmarshal always encode
	return string(b)
}

// maxPrivateLiteral is the longest JSON string literal that can read as a private member name:
// four characters, each escaped as \uXXXX, and the quotes.
const maxPrivateLiteral = 4*6 + 2

// mentionsPrivateMember reports whether a JSON string literal in body, escapes decoded, is a
// private JWK member name in any letter case. It looks at member names and values alike, and
// works on bodies that are not valid JSON. It runs in linear time, even on a 10 MB literal.
func mentionsPrivateMember(body []byte) bool {
	for {
		start := bytes.IndexByte(body, '"')
		if start < 0 {
			return false
		}
		end := start + 1
		for {
			n := bytes.IndexAny(body[end:], `"\`)
			if n < 0 {
				return false // an unterminated literal
			}
			end += n
			if body[end] == '"' {
				break
			}
			end += 2 // a backslash and the character it escapes
			if end >= len(body) {
				return false
			}
		}
		lit := body[start : end+1]
		var s string
		if len(lit) <= maxPrivateLiteral && json.Unmarshal(lit, &s) == nil && jwkmember.IsPrivate(s) {
			return true
		}
		body = body[end+1:]
	}
}

package apikeystest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
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

var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"}

// maskJWKBody masks private JWK members in a Platform request body's jwkSet, if any.
func maskJWKBody(body []byte) string {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return string(body)
	}
	set, _ := m["jwkSet"].(map[string]any)
	keys, _ := set["keys"].([]any)
	changed := false
	for _, k := range keys {
		jwk, _ := k.(map[string]any)
		for _, p := range privateMembers {
			if _, ok := jwk[p]; ok {
				jwk[p] = masked
				changed = true
			}
		}
	}
	if !changed {
		return string(body)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

package apikeys

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// parseURL checks a base URL (base true) or a token URL given as op's
// field: checkURL's rules, and no query or fragment, not even an empty
// one (a lone "?" would end every request URL made from it). A base URL
// loses its trailing slashes, for paths to be joined to it; a token URL
// is kept as given, as it is the assertions' aud.
func parseURL(op, field, raw string, insecureHTTP, base bool) (*url.URL, error) {
	u, err := checkURL(op, field, raw, insecureHTTP)
	if err != nil {
		return nil, err
	}
	// url.Parse cuts the fragment at the first "#" and the query at the
	// first "?" left: either one in raw is a query or a fragment.
	if strings.ContainsAny(raw, "?#") {
		return nil, invalid(op, field, "must not have a query or fragment")
	}
	if base {
		u.Path = strings.TrimRight(u.Path, "/")
		u.RawPath = ""
	}
	return u, nil
}

// checkURL accepts an absolute https URL without user info, or http for a
// loopback host (any host with insecureHTTP). Its errors are of op.
func checkURL(op, field, raw string, insecureHTTP bool) (*url.URL, error) {
	if len(raw) > 2048 {
		return nil, invalid(op, field, "URL is longer than 2048 bytes")
	}
	if hasControl(raw) {
		return nil, invalid(op, field, "URL has control characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, invalid(op, field, "is not a URL")
	}
	if !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return nil, invalid(op, field, "must be an absolute URL with a host")
	}
	if u.User != nil {
		return nil, invalid(op, field, "must not carry user info")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !insecureHTTP && !isLoopback(u.Hostname()) {
			return nil, invalid(op, field, "must use https (plain http only for loopback hosts, or with WithInsecureHTTP)")
		}
	default:
		return nil, invalid(op, field, "must use https")
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}

// accessTokenProblem says why tok cannot go in an Authorization header,
// or returns "" when it can.
func accessTokenProblem(tok string) string {
	switch {
	case strings.TrimSpace(tok) == "":
		return "is empty"
	case hasControl(tok) || strings.ContainsRune(tok, ' '):
		return "has spaces or control characters"
	}
	return ""
}

// validateID checks a path parameter. IDs are path-escaped as well; this
// catches mistakes (an empty ID would silently address the collection).
func validateID(op, field, id string) error {
	if problem := idProblem(id); problem != "" {
		return invalid(op, field, "%s", problem)
	}
	return nil
}

// idProblem says what is wrong with an ID, or returns "". Client IDs are
// checked by it too: a client ID is an API key's ID, a path parameter of
// APIKeys calls.
func idProblem(id string) string {
	switch {
	case id == "":
		return "is empty"
	case !utf8.ValidString(id):
		return "is not valid UTF-8"
	case len(id) > maxIDLength:
		return fmt.Sprintf("is longer than %d bytes", maxIDLength)
	case strings.Contains(id, "/") || strings.Contains(id, `\`):
		return "contains a slash"
	case strings.Contains(id, ".."):
		return `contains ".."`
	case id == ".":
		return `is "."`
	case hasControl(id):
		return "contains control characters"
	case strings.TrimSpace(id) != id:
		return "has leading or trailing spaces"
	}
	return ""
}

// joinPath returns base's path and escaped path, each followed by the
// segments ("/" + segment, path-escaped in raw). It allocates one string
// when no segment needs escaping, the usual case, as both are then equal.
func joinPath(base *url.URL, segments []string) (path, raw string) {
	baseRaw := base.EscapedPath()
	same := baseRaw == base.Path
	n, rawN := len(base.Path), len(baseRaw)
	for _, s := range segments {
		e := url.PathEscape(s) // s itself, without allocating, when nothing needs escaping
		same = same && e == s
		n += 1 + len(s)
		rawN += 1 + len(e)
	}
	var b strings.Builder
	b.Grow(rawN)
	b.WriteString(baseRaw)
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	raw = b.String()
	if same {
		return raw, raw
	}
	var p strings.Builder
	p.Grow(n)
	p.WriteString(base.Path)
	for _, s := range segments {
		p.WriteByte('/')
		p.WriteString(s)
	}
	return p.String(), raw
}

// redactURL drops user info, query and fragment, which may hold secrets.
func redactURL(u *url.URL) string {
	cp := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return cp.String()
}

// redactRawURL is redactURL for a URL not checked yet: "" stays "", and
// one that does not parse shows as "(invalid URL)", as it may hold
// anything.
func redactRawURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return redactURL(u)
}

// validateName checks a key name or label. Invalid UTF-8 is refused: JSON
// would carry U+FFFD in its place, and a caller reconciling an ambiguous
// create by name would then find nothing and create again.
func validateName(op, field, name string) error {
	switch {
	case !utf8.ValidString(name):
		return invalid(op, field, "is not valid UTF-8")
	case strings.TrimSpace(name) == "":
		return invalid(op, field, "is empty")
	case len(name) > 1024:
		return invalid(op, field, "is longer than 1024 bytes")
	case hasControl(name):
		return invalid(op, field, "contains control characters")
	}
	return nil
}

// validateKey checks a legacy key value sent in a body.
func validateKey(op, field, key string) error {
	switch {
	case key == "":
		return invalid(op, field, "is empty")
	case !utf8.ValidString(key):
		return invalid(op, field, "is not valid UTF-8")
	case hasControl(key) || strings.IndexFunc(key, unicode.IsSpace) >= 0:
		return invalid(op, field, "contains spaces or control characters")
	}
	return nil
}

package apikeys

import (
	"net/url"
	"strings"
)

// Region is a Redox region: the Platform API and the token endpoint an API
// key lives on. A key gets access tokens only from its own region's token
// endpoint, so the two URLs go together: use WithRegion (and
// TokenConfig.Region) rather than setting them one by one.
type Region string

// The regions. The zero Region means US.
const (
	US     Region = "us"
	Canada Region = "ca"
)

// regions lists each region's base URL and token URL.
var regions = map[Region]struct{ baseURL, tokenURL string }{
	US:     {DefaultBaseURL, DefaultTokenURL},
	Canada: {CanadaBaseURL, CanadaTokenURL},
}

// BaseURL returns the region's Platform API base URL ("" for an unknown region).
func (r Region) BaseURL() string { return regions[r.orUS()].baseURL }

// TokenURL returns the region's token endpoint ("" for an unknown region).
func (r Region) TokenURL() string { return regions[r.orUS()].tokenURL }

// String returns "us" or "ca" ("us" for the zero Region); a Region this
// SDK does not know is returned as it is.
func (r Region) String() string { return string(r.orUS()) }

func (r Region) orUS() Region {
	if r == "" {
		return US
	}
	return r
}

// check refuses a region this SDK does not know, as op's field.
func (r Region) check(op, field string) error {
	if _, ok := regions[r.orUS()]; !ok {
		return invalid(op, field, "%q is not a region (use apikeys.US or apikeys.Canada)", serverText(string(r), 32))
	}
	return nil
}

// regionOf returns the region whose base URL (tokenURL false) or token URL
// (tokenURL true) u is, if it is one of them: the same scheme, host (in
// any case, with or without the default port) and path (with or without
// a trailing slash).
func regionOf(u *url.URL, tokenURL bool) (Region, bool) {
	host := strings.ToLower(strings.TrimSuffix(u.Host, ":443"))
	path := strings.TrimSuffix(u.Path, "/")
	for r, urls := range regions {
		want := urls.baseURL
		if tokenURL {
			want = urls.tokenURL
		}
		if w, _ := url.Parse(want); u.Scheme == w.Scheme && host == w.Host && path == w.Path {
			return r, true
		}
	}
	return "", false
}

// checkTokenRegion refuses tokenURL, op's field, when it is the known
// token URL of another region than want (named by wantField); an empty
// want accepts any.
func checkTokenRegion(op, field string, tokenURL *url.URL, want Region, wantField string) error {
	if r, ok := regionOf(tokenURL, true); ok && want != "" && r != want {
		return invalid(op, field, "%s is the %s region's token URL, but %s is %s", redactURL(tokenURL), r, wantField, want)
	}
	return nil
}

// checkPairing refuses a known base URL paired with another region's known
// token URL: the key would get tokens that its API calls cannot use.
func checkPairing(option string, base, token *url.URL) error {
	br, ok1 := regionOf(base, false)
	tr, ok2 := regionOf(token, true)
	if ok1 && ok2 && br != tr {
		return optionError(option, "the base URL %s is the %s region's, but the token URL %s is the %s region's",
			redactURL(base), br, redactURL(token), tr)
	}
	return nil
}

package apikeystest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// TestRoutingRefusals: a request no route serves is logged (Route "", not counted) and answered
// with JSON: 405 with the path's methods in Allow for a known path, 404 otherwise (in the
// legacy shape under /box/). ServeMux's own habits do not show through: HEAD is not served by
// a GET route, and a path with an empty, "." or ".." segment is not redirected to its clean
// form.
func TestRoutingRefusals(t *testing.T) {
	notFound := map[string]any{"message": "not found"}
	legacyNotFound := map[string]any{"status": "error", "message": "unknown operation"}
	notAllowed := map[string]any{"message": "method not allowed"}
	tests := []struct {
		name, method, path string
		status             int
		allow              string
		body               map[string]any // nil: no body (HEAD)
	}{
		{name: "PUT on a key", method: http.MethodPut, path: "/platform/v1/apikeys/x", status: 405, allow: "GET, PATCH, DELETE", body: notAllowed},
		{name: "HEAD on a key", method: http.MethodHead, path: "/platform/v1/apikeys/x", status: 405, allow: "GET, PATCH, DELETE", body: nil},
		{name: "DELETE on the key collection", method: http.MethodDelete, path: "/platform/v1/environments/e/apikeys", status: 405, allow: "GET, POST", body: notAllowed},
		{name: "GET on the token endpoint", method: http.MethodGet, path: "/v2/auth/token", status: 405, allow: "POST", body: notAllowed},
		{name: "GET on a legacy operation", method: http.MethodGet, path: "/box/srv/1.1/ide/acme/api/list", status: 405, allow: "POST", body: notAllowed},
		{name: "OPTIONS on environments", method: http.MethodOptions, path: "/platform/v1/organizations/1/environments", status: 405, allow: "GET", body: notAllowed},
		{name: "unknown Platform path", method: http.MethodGet, path: "/platform/v1/nothing", status: 404, allow: "", body: notFound},
		{name: "root", method: http.MethodGet, path: "/", status: 404, allow: "", body: notFound},
		{name: "unknown legacy operation", method: http.MethodPost, path: "/box/srv/1.1/ide/acme/api/explode", status: 404, allow: "", body: legacyNotFound},
		{name: "legacy path one segment short", method: http.MethodPost, path: "/box/srv/1.1/ide/acme/list", status: 404, allow: "", body: legacyNotFound},
		{name: "empty wildcard segment", method: http.MethodGet, path: "/platform/v1/apikeys/", status: 404, allow: "", body: notFound},
		{name: "two segments for one wildcard", method: http.MethodGet, path: "/platform/v1/apikeys/a/b", status: 404, allow: "", body: notFound},
		{name: "doubled slash", method: http.MethodGet, path: "/platform/v1/environments//apikeys", status: 404, allow: "", body: notFound},
		{name: "dot-dot segment", method: http.MethodGet, path: "/platform/v1/apikeys/../apikeys/x", status: 404, allow: "", body: notFound},
		{name: "dot segment", method: http.MethodGet, path: "/platform/v1/./apikeys/x", status: 404, allow: "", body: notFound},
		{name: "trailing slash", method: http.MethodPost, path: "/v2/auth/token/", status: 404, allow: "", body: notFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t)
			f.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			r := f.send(tc.method, f.srv.URL+tc.path, "", "Authorization", "Bearer "+f.srv.BearerToken)
			assert.Equal(t, tc.status, r.status, "%s", r.body)
			assert.Equal(t, tc.allow, r.header.Get("Allow"))
			if tc.body != nil {
				assert.Equal(t, "application/json", r.header.Get("Content-Type"))
				assert.Equal(t, tc.body, r.object(t))
			}
			assert.Equal(t, strings.HasPrefix(tc.path, "/box/"), r.header.Get("X-FH-REQUEST-ID") != "",
				"every legacy reply, and only those, carries a request ID")

			reqs := f.srv.Requests()
			require.Len(t, reqs, 1)
			want := map[int]string{404: "no such route", 405: "method not allowed"}[tc.status]
			assert.Equal(t, apikeystest.Route(""), reqs[0].Route)
			assert.Equal(t, tc.method, reqs[0].Method)
			assert.Equal(t, tc.path, reqs[0].Path)
			assert.Equal(t, want, reqs[0].Reason)
			for _, rt := range []apikeystest.Route{apikeystest.RouteGetAPIKey, apikeystest.RouteToken, apikeystest.RouteLegacyList} {
				assert.Zero(t, f.srv.Count(rt))
			}
		})
	}
}

// escapeAll path-escapes every byte of s, so the fake sees a spelling of s no client would
// choose, which must still read as s.
func escapeAll(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// TestRoutingEscapedSegments: a wildcard matches one escaped path segment, whatever it holds
// once unescaped (a slash, a space, a percent sign), and handlers see it unescaped; the log
// keeps the path as sent.
func TestRoutingEscapedSegments(t *testing.T) {
	f := start(t)
	k, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Staging"), "x", nil, "")
	require.NoError(t, err)
	tests := []struct {
		name, path string
		status     int
		route      apikeystest.Route
	}{
		{name: "key ID escaped in full", path: "/platform/v1/apikeys/" + escapeAll(k.ID), status: 200, route: apikeystest.RouteGetAPIKey},
		{name: "organization escaped", path: "/platform/v1/organizations/%31/environments", status: 200, route: apikeystest.RouteListEnvironments},
		{name: "environment ID escaped", path: "/platform/v1/environments/" + escapeAll(f.srv.EnvironmentID("Staging")) + "/apikeys", status: 200, route: apikeystest.RouteListAPIKeys},
		{name: "escaped slash", path: "/platform/v1/apikeys/" + url.PathEscape(k.ID+"/x"), status: 404, route: apikeystest.RouteGetAPIKey},
		// ServeMux reads a segment that unescapes to "/" as a trailing slash, which no wildcard
		// matches; the SDK never sends one (it refuses IDs with a slash).
		{name: "escaped slash alone", path: "/platform/v1/apikeys/%2F", status: 404, route: ""},
		{name: "space and percent", path: "/platform/v1/apikeys/" + url.PathEscape("a b%c"), status: 404, route: apikeystest.RouteGetAPIKey},
		{name: "escaped dot-dot", path: "/platform/v1/apikeys/%2E%2E", status: 404, route: apikeystest.RouteGetAPIKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := f.platform(http.MethodGet, strings.TrimPrefix(tc.path, "/platform"), "")
			assert.Equal(t, tc.status, r.status, "%s", r.body)
			switch {
			case tc.route == "":
				assert.Equal(t, map[string]any{"message": "not found"}, r.object(t))
			case tc.status == http.StatusNotFound:
				assert.Equal(t, map[string]any{"message": "API key not found"}, r.object(t))
			}
			reqs := f.srv.Requests()
			last := reqs[len(reqs)-1]
			assert.Equal(t, tc.route, last.Route)
			assert.Equal(t, tc.path, last.Path)
		})
	}
}

// TestRoutingSDKEscapesLegacyDomain: the SDK path-escapes the legacy domain, and the fake reads
// the segment back unescaped, so a domain holding characters that need escaping works end to
// end.
func TestRoutingSDKEscapesLegacyDomain(t *testing.T) {
	for _, domain := range []string{"acme", "my tenant", "100%", "a?b#c", "été", "a+b;c=d", "a%2Fb", "x\u212ay"} {
		t.Run(domain, func(t *testing.T) {
			f := start(t, apikeystest.WithLegacyDomain(domain))
			c := f.srv.Client(t)
			_, err := c.Legacy.Create(t.Context(), apikeys.UserKeys(), "laptop")
			require.NoError(t, err, "reason %q", f.lastReason())
			keys, err := c.Legacy.List(t.Context(), apikeys.UserKeys())
			require.NoError(t, err)
			assert.Len(t, keys, 1)
			reqs := f.srv.Requests()
			require.Len(t, reqs, 2)
			assert.Equal(t, "/box/srv/1.1/ide/"+url.PathEscape(domain)+"/api/list", reqs[1].Path)

			// Another domain that folds to the same letters is another tenant.
			r := f.send(http.MethodPost, f.srv.URL+"/box/srv/1.1/ide/"+url.PathEscape(strings.ToUpper(domain)+"x")+"/api/list",
				`{"type":"user"}`, "X-FH-AUTH-USER", f.srv.LegacyUserKey, "Content-Type", "application/json")
			assert.Equal(t, http.StatusNotFound, r.status)
			assert.Equal(t, "domain not found", f.lastReason())
		})
	}
}

// TestRoutingSDKEscapesIDs: IDs that need escaping reach the key routes as one segment each
// (the lookup fails, as no such key exists), and the log keeps the SDK's escaped path.
func TestRoutingSDKEscapesIDs(t *testing.T) {
	f := start(t)
	c := f.srv.Client(t)
	for _, id := range []string{"a b", "100%", "a?b#c", "été", "x+y;z=1", "%2F"} {
		t.Run(id, func(t *testing.T) {
			_, err := c.APIKeys.Get(t.Context(), id)
			require.ErrorIs(t, err, apikeys.ErrNotFound)
			_, err = c.APIKeys.Delete(t.Context(), id)
			require.ErrorIs(t, err, apikeys.ErrNotFound)
			reqs := f.srv.Requests()
			for _, r := range reqs[len(reqs)-2:] {
				assert.Equal(t, "/platform/v1/apikeys/"+url.PathEscape(id), r.Path)
				assert.Equal(t, "API key not found", r.Reason)
			}
			assert.Equal(t, apikeystest.RouteGetAPIKey, reqs[len(reqs)-2].Route)
			assert.Equal(t, apikeystest.RouteDeleteAPIKey, reqs[len(reqs)-1].Route)
		})
	}
}

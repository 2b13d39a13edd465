package apikeystest_test

import (
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys/apikeystest"
)

// jwsShaped returns a compact-JWS-shaped client assertion, unique on every call.
func jwsShaped() string {
	b64 := base64.RawURLEncoding.EncodeToString
	sig := make([]byte, 64)
	_, _ = rand.Read(sig)
	return b64([]byte(`{"alg":"ES256","kid":"a","typ":"JWT"}`)) + "." +
		b64([]byte(`{"iss":"c","sub":"c","jti":"`+rand.Text()+`"}`)) + "." + b64(sig)
}

func hexKey() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func tokenFormBody(assertion string) string {
	return url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}.Encode()
}

// TestRequestLogMasksSecretsWhateverTheRoute: a secret is masked by what the request carries,
// not by the route it matched, so requests the fake routes nowhere, refuses for their method or
// content type, or decodes in an unusual shape log no secret either. "{bearer}" and "{user}" in
// a header value or body stand for the server's static bearer token and legacy user key.
func TestRequestLogMasksSecretsWhateverTheRoute(t *testing.T) {
	const form, js = "application/x-www-form-urlencoded", "application/json"
	type testCase struct {
		name         string
		method, path string
		header       []string // name, value pairs
		body         string
		secret       string // "{bearer}" for the static bearer token
		status       int
		check        func(t *testing.T, r apikeystest.Request)
	}
	assertionIn := func(name, method, path, contentType, body, assertion string, status int) testCase {
		return testCase{name: name, method: method, path: path, header: []string{"Content-Type", contentType}, body: body, secret: assertion, status: status, check: nil}
	}
	a1, a2, a3, a3b, a10 := jwsShaped(), jwsShaped(), jwsShaped(), jwsShaped(), jwsShaped()
	k4, k5 := hexKey(), hexKey()
	d8 := base64.RawURLEncoding.EncodeToString([]byte(rand.Text()))
	secret12 := "s3cr3t-" + rand.Text()
	legacyUser := func(h ...string) []string {
		return append([]string{"X-FH-AUTH-USER", "{user}", "Content-Type", js}, h...)
	}
	authIs := func(want string) func(*testing.T, apikeystest.Request) {
		return func(t *testing.T, r apikeystest.Request) {
			assert.Equal(t, []string{want}, r.Header.Values("Authorization"))
		}
	}
	tests := []testCase{
		// The eight cases of the review.
		assertionIn("1 form to the token path with a trailing slash", http.MethodPost, "/v2/auth/token/", form,
			tokenFormBody(a1), a1, http.StatusNotFound),
		assertionIn("2 PUT to the token path", http.MethodPut, "/v2/auth/token", form,
			tokenFormBody(a2), a2, http.StatusMethodNotAllowed),
		assertionIn("3 JSON body to the token endpoint", http.MethodPost, "/v2/auth/token", js,
			`{"grant_type":"client_credentials","client_assertion":"`+a3+`"}`, a3, http.StatusBadRequest),
		{name: "4 unknown legacy operation", method: http.MethodPost, path: "/box/srv/1.1/ide/acme/api/read", header: legacyUser(),
			body: `{"key":"` + k4 + `"}`, secret: k4, status: http.StatusNotFound, check: nil},
		{name: "5 legacy revoke naming Key", method: http.MethodPost, path: "/box/srv/1.1/ide/acme/api/revoke", header: legacyUser(),
			body: `{"Key":"` + k5 + `"}`, secret: k5, status: http.StatusOK, check: nil},
		{name: "6 Authorization without a scheme", method: http.MethodGet, path: "/platform/v1/organizations/1/environments",
			header: []string{"Authorization", "{bearer}"}, body: "", secret: "{bearer}", status: http.StatusUnauthorized, check: authIs("****")},
		{name: "7 Authorization with a tab after the scheme", method: http.MethodGet, path: "/platform/v1/organizations/1/environments",
			header: []string{"Authorization", "Bearer\t{bearer}"}, body: "", secret: "{bearer}", status: http.StatusUnauthorized, check: authIs("Bearer ****")},
		{name: "8 jwkSet as an array", method: http.MethodPost, path: "/platform/v1/environments/{env}/apikeys",
			header: []string{"Authorization", "Bearer {bearer}", "Content-Type", js},
			body:   `{"name":"x","jwkSet":[{"kid":"a","kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"` + d8 + `"}]}`,
			secret: d8, status: http.StatusBadRequest, check: nil},

		// Neighbours of those.
		assertionIn("3b form body sent as JSON to the token endpoint", http.MethodPost, "/v2/auth/token", js,
			tokenFormBody(a3b), a3b, http.StatusBadRequest),
		{name: "9 the fake's bearer token in a body that is neither JSON nor a form", method: http.MethodPost, path: "/v2/auth/token",
			header: []string{"Content-Type", "text/plain"}, body: "token: {bearer}\n", secret: "{bearer}", status: http.StatusBadRequest, check: nil},
		assertionIn("10 form without a content type", http.MethodPost, "/v2/auth/token/x", "",
			tokenFormBody(a10), a10, http.StatusNotFound),
		{name: "11 the fake's user key in a body that is not JSON", method: http.MethodPost, path: "/box/srv/1.1/ide/acme/api/list", header: legacyUser(),
			body: `{"type":"user",{user}`, secret: "{user}", status: http.StatusOK, check: nil},
		{name: "12 client_secret in a form", method: http.MethodPost, path: "/v2/auth/token", header: []string{"Content-Type", form},
			body: "grant_type=client_credentials&client_id=c&client_secret=" + url.QueryEscape(secret12), secret: secret12,
			status: http.StatusBadRequest, check: nil},
		{name: "13 Authorization with a scheme that is not a token of letters", method: http.MethodGet,
			path: "/platform/v1/organizations/1/environments", header: []string{"Authorization", "Bearer-{bearer} x"}, body: "",
			secret: "{bearer}", status: http.StatusUnauthorized, check: authIs("****")},
		{name: "14 Authorization scheme alone", method: http.MethodGet, path: "/platform/v1/organizations/1/environments",
			header: []string{"Authorization", "Bearer"}, body: "", secret: "", status: http.StatusUnauthorized, check: authIs("****")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := apikeystest.NewServer()
			t.Cleanup(srv.Close)
			hc := &http.Client{Transport: &http.Transport{}}
			t.Cleanup(hc.CloseIdleConnections)
			subst := strings.NewReplacer("{bearer}", srv.BearerToken, "{user}", srv.LegacyUserKey,
				"{env}", srv.EnvironmentID("Staging")).Replace

			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(subst(tc.body))
			}
			req, err := http.NewRequest(tc.method, srv.URL+subst(tc.path), body)
			require.NoError(t, err)
			for i := 0; i+1 < len(tc.header); i += 2 {
				if v := subst(tc.header[i+1]); v != "" {
					req.Header.Add(tc.header[i], v)
				}
			}
			resp, err := hc.Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			assert.Equal(t, tc.status, resp.StatusCode)

			reqs := srv.Requests()
			require.Len(t, reqs, 1)
			all := fmt.Sprintf("%+v", reqs)
			secrets := []string{srv.BearerToken, srv.LegacyUserKey}
			if s := subst(tc.secret); s != "" {
				secrets = append(secrets, s, url.QueryEscape(s))
				if parts := strings.Split(s, "."); len(parts) == 3 {
					secrets = append(secrets, parts[2]) // the signature alone
				}
			}
			for _, s := range secrets {
				assert.NotContains(t, all, s)
			}
			assert.Contains(t, all, "****")
			if tc.check != nil {
				tc.check(t, reqs[0])
			}
		})
	}
}

// Member and field names whose values the log must never show, taken from where they are
// defined rather than from the fake: the private and symmetric JWK members of RFC 7518 section 6
// and "priv" of AKP keys; the OAuth 2.0 credentials of RFC 6749 and the assertions of RFC 7521
// and RFC 7523; and the legacy API's key secret. keyMembers hold legacy key values, which the
// log shows by their first and last four characters only.
var (
	secretMembers = []string{
		"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv",
		"password", "client_secret", "access_token", "refresh_token", "assertion", "client_assertion", "secret",
	}
	keyMembers = []string{"key", "apiKey"}
)

// spellings returns name in many letter cases, all of which encoding/json matches to it: every
// case of every letter for names of up to four letters; otherwise lower, upper and title case,
// both alternations and each letter flipped alone. Each comes with every "k" and every "s"
// also spelled as the non-ASCII letter that folds to it (KELVIN SIGN, LATIN SMALL LETTER LONG S).
func spellings(name string) []string {
	lower := []rune(strings.ToLower(name))
	var letters []int
	for i, r := range lower {
		if unicode.IsLetter(r) {
			letters = append(letters, i)
		}
	}
	var masks []uint64
	if len(letters) <= 4 {
		for m := range uint64(1) << len(letters) {
			masks = append(masks, m)
		}
	} else {
		title := uint64(1)
		for j, i := range letters {
			if i > 0 && lower[i-1] == '_' {
				title |= 1 << j
			}
			masks = append(masks, 1<<j)
		}
		all := uint64(1)<<len(letters) - 1
		masks = append(masks, 0, all, title, all&0x5555555555555555, all&0xaaaaaaaaaaaaaaaa)
	}
	set := map[string]bool{}
	for _, m := range masks {
		rs := slices.Clone(lower)
		for j, i := range letters {
			if m&(1<<j) != 0 {
				rs[i] = unicode.ToUpper(rs[i])
			}
		}
		s := string(rs)
		set[s] = true
		set[strings.ReplaceAll(s, "k", "\u212a")] = true
		set[strings.ReplaceAll(s, "s", "\u017f")] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// escapeJSON spells every character of s (all in the BMP) as a JSON \uXXXX escape.
func escapeJSON(s string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, `\u%04x`, r)
	}
	return b.String()
}

// shape is a request body and its content type.
type shape struct{ name, contentType, body string }

// memberShapes are bodies carrying value under the member or field name sp.
func memberShapes(sp, value string, isKey bool) []shape {
	const js, form = "application/json", "application/x-www-form-urlencoded"
	q, v := url.QueryEscape(sp), url.QueryEscape(value)
	shapes := []shape{
		{name: "JSON", contentType: js, body: `{"name":"x","` + sp + `":"` + value + `"}`},
		{name: "JSON nested", contentType: js, body: `{"a":[{"b":{"` + sp + `":"` + value + `"}}]}`},
		{name: "JSON escaped name", contentType: js, body: `{"` + escapeJSON(sp) + `":"` + value + `"}`},
		{name: "JSON spaced", contentType: js, body: "{ \"" + sp + "\" :\n \"" + value + "\" }"},
		{name: "JSON duplicate", contentType: js, body: `{"` + sp + `":"` + value + `","` + sp + `":null}`},
		{name: "broken JSON", contentType: js, body: `{"a":1 "` + sp + `":"` + value + `"`},
		{name: "truncated JSON", contentType: js, body: `{"a":1,"` + sp + `":"` + value},
		{name: "JSON as text", contentType: "text/plain", body: `{"` + sp + `":"` + value + `"}`},
		{name: "form", contentType: form, body: "a=1&" + q + "=" + v},
		{name: "form escaped in full", contentType: form, body: escapeAll(sp) + "=" + v + "&a=1"},
		{name: "form as JSON", contentType: js, body: q + "=" + v},
		{name: "form without content type", contentType: "", body: q + "=" + v},
		{name: "multipart", contentType: "multipart/form-data; boundary=B",
			body: "--B\r\nContent-Disposition: form-data; name=\"" + sp + "\"\r\n\r\n" + value + "\r\n--B--\r\n"},
	}
	if !isKey { // a key member's value is masked as a string; other members whatever they hold
		shapes = append(shapes,
			shape{name: "JSON object value", contentType: js, body: `{"` + sp + `":{"x":"` + value + `"}}`},
			shape{name: "JSON array value", contentType: js, body: `{"` + sp + `":[1,{"c":"` + value + `"}]}`},
			shape{name: "JSON unterminated array value", contentType: js, body: `{"` + sp + `":["` + value + `",`},
			shape{name: "bare value", contentType: js, body: `{"` + sp + `": ` + value + ` }`},
		)
	}
	return shapes
}

// logTargets are requests of each kind the fake handles: served by a route (refused there or
// not), routed nowhere, refused for the method. Header values of "{bearer}" stand for the
// static bearer token.
var logTargets = []struct{ name, method, path, auth string }{
	{name: "Platform create", method: http.MethodPost, path: "/platform/v1/environments/{env}/apikeys", auth: "Bearer {bearer}"},
	{name: "token endpoint", method: http.MethodPost, path: "/v2/auth/token", auth: ""},
	{name: "legacy create, not logged in", method: http.MethodPost, path: "/box/srv/1.1/ide/acme/api/create", auth: ""},
	{name: "no such route", method: http.MethodPost, path: "/nowhere", auth: ""},
	{name: "method not allowed", method: http.MethodPut, path: "/v2/auth/token", auth: ""},
}

// sendShape sends a body to a target (picked by i, so a loop over cases meets every target).
func sendShape(t *testing.T, f *fixture, i int, sh shape, header ...string) {
	t.Helper()
	tg := logTargets[i%len(logTargets)]
	path := strings.ReplaceAll(tg.path, "{env}", f.srv.EnvironmentID("Staging"))
	req, err := http.NewRequest(tg.method, f.srv.URL+path, strings.NewReader(sh.body))
	require.NoError(t, err)
	if sh.contentType != "" {
		req.Header.Set("Content-Type", sh.contentType)
	}
	if tg.auth != "" {
		req.Header.Set("Authorization", strings.ReplaceAll(tg.auth, "{bearer}", f.srv.BearerToken))
	}
	for j := 0; j+1 < len(header); j += 2 {
		req.Header.Set(header[j], header[j+1])
	}
	resp, err := f.hc.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// sent is a case sent by sendShape, and what its log entry must not hold.
type sent struct {
	what, hidden string
}

// checkLog checks that the log entries from the from-th on are the cases, none holding what
// it must not.
func checkLog(t *testing.T, f *fixture, from int, cases []sent) {
	t.Helper()
	reqs := f.srv.Requests()
	require.Len(t, reqs, from+len(cases))
	reqs = reqs[from:]
	for i, c := range cases {
		assert.NotContains(t, fmt.Sprintf("%#v", reqs[i]), c.hidden, "%s to %s: %q", c.what, reqs[i].Path, reqs[i].Body)
	}
}

// TestRequestLogHidesSecretMembersInAnySpelling: the value of a secret member or field never
// reaches the log, whatever letter case or escapes spell its name, whatever the body's shape
// (JSON, broken JSON, form, multipart) and content type, and whatever the route did with it.
func TestRequestLogHidesSecretMembersInAnySpelling(t *testing.T) {
	for _, names := range [][]string{secretMembers, keyMembers} {
		for _, name := range names {
			isKey := slices.Contains(keyMembers, name)
			t.Run(name, func(t *testing.T) {
				f := start(t)
				var cases []sent
				for _, sp := range spellings(name) {
					for _, sh := range memberShapes(sp, "\x00", isKey) {
						value := "S3CR3T" + rand.Text()
						sh.body = strings.ReplaceAll(sh.body, "\x00", value)
						sendShape(t, f, len(cases), sh)
						// A key shows its first and last four characters; nothing between them.
						cases = append(cases, sent{what: fmt.Sprintf("%q in %s", sp, sh.name), hidden: value[4 : len(value)-4]})
					}
				}
				checkLog(t, f, 0, cases)
			})
		}
	}
}

// TestRequestLogHidesTheFakesSecretsAnywhere: the credentials the fake issued or holds (even a
// deleted legacy key's) are masked wherever a request carries them: in any body, however
// encoded, in any header, in the path.
func TestRequestLogHidesTheFakesSecretsAnywhere(t *testing.T) {
	f := start(t, apikeystest.WithLegacyAdmin(true))
	priv := ecKey(t, elliptic.P384())
	k, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Staging"), "svc", jwkSet(t, map[string]any{"a": priv.Public()}), "")
	require.NoError(t, err)
	access, _ := f.token(tokenForm(sign(t, priv, jose.ES384, "a", claims(f, k.ID)))).object(t)["access_token"].(string)
	require.NotEmpty(t, access)
	created := apiKey(t, f.legacy("create", `{"type":"user","label":"x"}`))
	deleted := apiKey(t, f.legacy("create", `{"type":"app","appId":"a","label":"y"}`))
	apiKey(t, f.legacy("delete", `{"key":"`+deleted["key"].(string)+`"}`))
	secrets := map[string]string{
		"bearer token": f.srv.BearerToken, "legacy user key": f.srv.LegacyUserKey, "session cookie": f.srv.SessionCookie,
		"access token": access, "legacy key": created["key"].(string), "legacy secret": created["secret"].(string),
		"deleted legacy key": deleted["key"].(string), "deleted legacy secret": deleted["secret"].(string),
	}

	const js, form, text = "application/json", "application/x-www-form-urlencoded", "text/plain"
	setup := len(f.srv.Requests())
	var cases []sent
	for what, s := range secrets {
		require.NotEmpty(t, s, what)
		for _, sh := range []shape{
			{name: "text", contentType: text, body: "token " + s + "\n"},
			{name: "in a longer hex run", contentType: text, body: "00" + s + "ff"},
			{name: "binary", contentType: "application/octet-stream", body: "\x00\xff" + s + "\x00"},
			{name: "JSON plain member", contentType: js, body: `{"note":"` + s + `"}`},
			{name: "JSON member name", contentType: js, body: `{"` + s + `":1}`},
			{name: "JSON escaped", contentType: js, body: `{"note":"` + escapeJSON(s) + `"}`},
			{name: "broken JSON", contentType: js, body: `{"type":` + s},
			{name: "form value", contentType: form, body: "note=" + s},
			{name: "form value escaped", contentType: form, body: "a=1&note=" + escapeAll(s)},
			{name: "form name", contentType: form, body: s + "=1"},
			{name: "multipart", contentType: "multipart/form-data; boundary=B",
				body: "--B\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n" + s + "\r\n--B--\r\n"},
		} {
			sendShape(t, f, len(cases), sh, "X-Debug", "was "+s, "Cookie", "other="+s)
			cases = append(cases, sent{what: what + " in " + sh.name, hidden: s})
		}
	}
	for what, s := range secrets {
		r := f.platform(http.MethodGet, "/v1/apikeys/"+s, "")
		assert.Equal(t, http.StatusNotFound, r.status)
		cases = append(cases, sent{what: what + " in the path", hidden: s})
	}
	all := fmt.Sprintf("%#v", f.srv.Requests()[:setup])
	for what, s := range secrets {
		assert.NotContains(t, all, s, "%s, in the calls that made them", what)
	}
	checkLog(t, f, setup, cases)
}

// TestRequestLogHidesPercentEncodedSecrets: one of the fake's secrets percent-encoded, in whole
// or in part, is masked wherever the log keeps it (the query is not logged at all).
func TestRequestLogHidesPercentEncodedSecrets(t *testing.T) {
	f := start(t)
	s := f.srv.BearerToken
	for _, tc := range []struct {
		name, path string
		header     []string // name, value pairs
		body       string
		encoded    string // the spelling of s sent, which the log must not hold either
		unlogged   bool   // the log leaves out where s was sent: no "****" either
	}{
		{name: "path", path: "/platform/v1/apikeys/" + escapeAll(s), encoded: escapeAll(s)},
		{name: "path, in part", path: "/platform/v1/apikeys/" + s[:9] + escapeAll(s[9:]), encoded: escapeAll(s[9:])},
		{name: "header", path: "/nowhere", header: []string{"X-Other", "t=" + escapeAll(s)}, encoded: escapeAll(s)},
		{name: "header URL query", path: "/nowhere", header: []string{"Referer", "http://x/?t=" + escapeAll(s) + "&b=1"}, encoded: escapeAll(s)},
		{name: "query", path: "/nowhere?t=" + escapeAll(s), encoded: escapeAll(s), unlogged: true},
		{name: "text body", path: "/nowhere", header: []string{"Content-Type", "text/plain"}, body: "t " + escapeAll(s), encoded: escapeAll(s)},
		{name: "JSON body", path: "/nowhere", header: []string{"Content-Type", "application/json"}, body: `{"u":"/x?t=` + escapeAll(s) + `"}`, encoded: escapeAll(s)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.send(http.MethodPost, f.srv.URL+tc.path, tc.body, tc.header...)
			reqs := f.srv.Requests()
			got := fmt.Sprintf("%#v", reqs[len(reqs)-1])
			assert.NotContains(t, got, tc.encoded)
			assert.NotContains(t, got, s)
			if !tc.unlogged {
				assert.Contains(t, got, "****")
			}
		})
	}
}

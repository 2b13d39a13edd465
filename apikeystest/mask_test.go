package apikeystest_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

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
// content type, or decodes in an unusual shape log no secret either. "{bearer}" in a header
// value stands for the server's static bearer token.
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
		return testCase{name, method, path, []string{"Content-Type", contentType}, body, assertion, status, nil}
	}
	a1, a2, a3, a3b, a9, a10 := jwsShaped(), jwsShaped(), jwsShaped(), jwsShaped(), jwsShaped(), jwsShaped()
	k4, k5, k11 := hexKey(), hexKey(), hexKey()
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
		{"4 unknown legacy operation", http.MethodPost, "/box/srv/1.1/ide/acme/api/read", legacyUser(),
			`{"key":"` + k4 + `"}`, k4, http.StatusNotFound, nil},
		{"5 legacy revoke naming Key", http.MethodPost, "/box/srv/1.1/ide/acme/api/revoke", legacyUser(),
			`{"Key":"` + k5 + `"}`, k5, http.StatusOK, nil},
		{"6 Authorization without a scheme", http.MethodGet, "/platform/v1/organizations/1/environments",
			[]string{"Authorization", "{bearer}"}, "", "{bearer}", http.StatusUnauthorized, authIs("****")},
		{"7 Authorization with a tab after the scheme", http.MethodGet, "/platform/v1/organizations/1/environments",
			[]string{"Authorization", "Bearer\t{bearer}"}, "", "{bearer}", http.StatusUnauthorized, authIs("Bearer ****")},
		{"8 jwkSet as an array", http.MethodPost, "/platform/v1/environments/{env}/apikeys",
			[]string{"Authorization", "Bearer {bearer}", "Content-Type", js},
			`{"name":"x","jwkSet":[{"kid":"a","kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"` + d8 + `"}]}`,
			d8, http.StatusBadRequest, nil},

		// Neighbours of those.
		assertionIn("3b form body sent as JSON to the token endpoint", http.MethodPost, "/v2/auth/token", js,
			tokenFormBody(a3b), a3b, http.StatusBadRequest),
		assertionIn("9 assertion in a body that is neither JSON nor a form", http.MethodPost, "/v2/auth/token", "text/plain",
			"assertion: "+a9+"\n", a9, http.StatusBadRequest),
		assertionIn("10 form without a content type", http.MethodPost, "/v2/auth/token/x", "",
			tokenFormBody(a10), a10, http.StatusNotFound),
		{"11 legacy key in a body that is not JSON", http.MethodPost, "/box/srv/1.1/ide/acme/api/list", legacyUser(),
			`{"type":"user",` + k11, k11, http.StatusOK, nil},
		{"12 client_secret in a form", http.MethodPost, "/v2/auth/token", []string{"Content-Type", form},
			"grant_type=client_credentials&client_id=c&client_secret=" + url.QueryEscape(secret12), secret12,
			http.StatusBadRequest, nil},
		{"13 Authorization with a scheme that is not a token of letters", http.MethodGet,
			"/platform/v1/organizations/1/environments", []string{"Authorization", "Bearer-{bearer} x"}, "",
			"{bearer}", http.StatusUnauthorized, authIs("****")},
		{"14 Authorization scheme alone", http.MethodGet, "/platform/v1/organizations/1/environments",
			[]string{"Authorization", "Bearer"}, "", "", http.StatusUnauthorized, authIs("****")},
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
				body = strings.NewReader(tc.body)
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

package apikeystest_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// startTLS starts a fake with WithTLS and swaps the fixture's client for one from HTTPClient.
func startTLS(t *testing.T, opts ...apikeystest.Option) *fixture {
	t.Helper()
	f := start(t, append([]apikeystest.Option{apikeystest.WithTLS()}, opts...)...)
	f.hc = f.srv.HTTPClient()
	return f
}

// TestTLSClientSpeaksHTTP2: with WithTLS, the client from Server.Client calls both APIs and
// gets its token over HTTPS with HTTP/2, and the log records the protocol.
func TestTLSClientSpeaksHTTP2(t *testing.T) {
	f := startTLS(t)
	for _, u := range []string{f.srv.URL, f.srv.PlatformURL, f.srv.TokenURL} {
		assert.True(t, strings.HasPrefix(u, "https://127.0.0.1:"), u)
	}
	c := f.srv.Client(t)
	ctx := t.Context()
	env := f.srv.EnvironmentID("Development")

	_, set := newSet(t)
	key, err := c.APIKeys.Create(ctx, env, apikeys.CreateAPIKeyRequest{Name: "svc", JWKSet: set})
	require.NoError(t, err)
	_, err = c.APIKeys.Get(ctx, key.ID)
	require.NoError(t, err)
	envs, err := c.Environments.List(ctx, f.srv.OrganizationID())
	require.NoError(t, err)
	assert.Len(t, envs, 3)
	lk, err := c.Legacy.Create(ctx, apikeys.UserKeys(), "laptop")
	require.NoError(t, err)
	ok, err := c.Legacy.Validate(ctx, apikeys.KeyTypeUser, lk.Key)
	require.NoError(t, err)
	assert.True(t, ok)

	assert.Equal(t, 1, f.srv.Count(apikeystest.RouteToken), "the token flow ran")
	seen := map[apikeystest.Route]string{}
	for _, r := range f.srv.Requests() {
		assert.Empty(t, r.Reason, "%s", r.Route)
		seen[r.Route] = r.Proto
	}
	assert.Equal(t, map[apikeystest.Route]string{
		apikeystest.RouteToken: "HTTP/2.0", apikeystest.RouteCreateAPIKey: "HTTP/2.0", apikeystest.RouteGetAPIKey: "HTTP/2.0",
		apikeystest.RouteListEnvironments: "HTTP/2.0", apikeystest.RouteLegacyCreate: "HTTP/2.0", apikeystest.RouteLegacyValidate: "HTTP/2.0",
	}, seen)
}

// TestHTTPClientProtocol: HTTPClient speaks HTTP/2 to a TLS fake and HTTP/1.1 to a plain one;
// Certificate is the TLS fake's certificate, and nil for a plain one.
func TestHTTPClientProtocol(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  []apikeystest.Option
		major int
		proto string
	}{
		{name: "plain", opts: nil, major: 1, proto: "HTTP/1.1"},
		{name: "TLS", opts: []apikeystest.Option{apikeystest.WithTLS()}, major: 2, proto: "HTTP/2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := apikeystest.NewServer(tc.opts...)
			t.Cleanup(srv.Close)
			req, err := http.NewRequest(http.MethodGet, srv.PlatformURL+"/v1/organizations/1/environments", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+srv.BearerToken)
			resp, err := srv.HTTPClient().Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, tc.major, resp.ProtoMajor)
			assert.Equal(t, tc.proto, srv.Requests()[0].Proto)
			assert.Equal(t, tc.major == 2, srv.Certificate() != nil)
		})
	}
}

// TestCertificateBuildsATrustingClient: a client of one's own trusts the fake with Certificate
// in its roots; one that trusts only the system roots is refused in the handshake.
func TestCertificateBuildsATrustingClient(t *testing.T) {
	f := startTLS(t)
	cert := f.srv.Certificate()
	require.NotNil(t, cert)
	pool := x509.NewCertPool()
	pool.AddCert(cert)

	own := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	t.Cleanup(own.CloseIdleConnections)
	f.hc = &http.Client{Transport: own}
	assert.Equal(t, http.StatusOK, listEnvs(f, f.srv.BearerToken).status)

	untrusting := &http.Transport{}
	t.Cleanup(untrusting.CloseIdleConnections)
	_, err := (&http.Client{Transport: untrusting}).Get(f.srv.URL + "/")
	var unknown x509.UnknownAuthorityError
	assert.ErrorAs(t, err, &unknown)
	require.Len(t, f.srv.Requests(), 1, "the refused handshake made no request")
}

// TestDropOverHTTP2: over HTTP/2 a drop resets the request's stream (a connection cannot be
// hijacked there); the client gets an error, the request is applied or not as the fault says,
// and the connection carries on: the next request on it succeeds. Unlike a dropped HTTP/1.1
// GET, a reset GET stream is not retried by the transport.
func TestDropOverHTTP2(t *testing.T) {
	env := func(f *fixture) string { return f.srv.EnvironmentID("Staging") }
	tests := []struct {
		name    string
		route   apikeystest.Route
		applied bool
		send    func(f *fixture) (int, error)
		count   func(f *fixture) int
	}{
		{name: "platform create dropped", route: apikeystest.RouteCreateAPIKey, applied: false, send: createKey, count: keyCount},
		{name: "platform create dropped after apply", route: apikeystest.RouteCreateAPIKey, applied: true, send: createKey, count: keyCount},
		{name: "legacy create dropped", route: apikeystest.RouteLegacyCreate, applied: false, send: createLegacy, count: legacyCount},
		{name: "legacy create dropped after apply", route: apikeystest.RouteLegacyCreate, applied: true, send: createLegacy, count: legacyCount},
		{name: "GET dropped", route: apikeystest.RouteListAPIKeys, applied: false,
			send: func(f *fixture) (int, error) {
				return f.try(http.MethodGet, f.srv.PlatformURL+"/v1/environments/"+env(f)+"/apikeys", "",
					"Authorization", "Bearer "+f.srv.BearerToken)
			},
			count: func(f *fixture) int { return f.srv.Count(apikeystest.RouteListAPIKeys) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startTLS(t)
			status, err := tc.send(f) // opens the connection
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, status)
			before := tc.count(f)

			reason := "injected fault: dropped"
			if tc.applied {
				f.srv.DropNextAfterApply(tc.route, 1)
				reason += " after apply"
			} else {
				f.srv.DropNext(tc.route, 1)
			}
			_, err = tc.send(f)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "INTERNAL_ERROR", "the stream was reset")
			assert.Equal(t, reason, f.lastReason())
			assert.Equal(t, 2, f.srv.Count(tc.route), "sent once, not retried")
			if tc.route != apikeystest.RouteListAPIKeys {
				want := before
				if tc.applied {
					want++
				}
				assert.Equal(t, want, tc.count(f))
			}

			status, err = tc.send(f)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, 1, f.srv.Connections(), "one connection throughout")
		})
	}
}

func createKey(f *fixture) (int, error) {
	return f.try(http.MethodPost, f.srv.PlatformURL+"/v1/environments/"+f.srv.EnvironmentID("Staging")+"/apikeys",
		`{"name":"x"}`, "Authorization", "Bearer "+f.srv.BearerToken, "Content-Type", "application/json")
}

func createLegacy(f *fixture) (int, error) {
	return f.try(http.MethodPost, f.legacyURL("create"), `{"type":"user","label":"x"}`,
		"X-FH-AUTH-USER", f.srv.LegacyUserKey, "Content-Type", "application/json")
}

func keyCount(f *fixture) int    { return len(f.srv.APIKeys()) }
func legacyCount(f *fixture) int { return len(f.srv.LegacyKeys()) }

// TestClientDropAfterApplyOverHTTP2IsAmbiguous: the SDK reads a reset stream after the server
// applied a create as it reads a cut connection: ambiguous, sent once.
func TestClientDropAfterApplyOverHTTP2IsAmbiguous(t *testing.T) {
	f := startTLS(t)
	c := f.srv.Client(t)
	f.srv.DropNextAfterApply(apikeystest.RouteLegacyCreate, 1)
	_, err := c.Legacy.Create(t.Context(), apikeys.AppKeys("app-1"), "ci")
	require.Error(t, err)
	assert.True(t, apikeys.IsAmbiguous(err), "%v", err)
	assert.Equal(t, 1, f.srv.Count(apikeystest.RouteLegacyCreate))
	assert.Len(t, f.srv.LegacyKeys(), 1)
}

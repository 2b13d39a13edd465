package apikeystest_test

import (
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// hostedKey is a signing key whose public JWK Set the SDK's JWKSHandler serves from an httptest
// TLS server, counting GETs.
type hostedKey struct {
	key     apikeys.SigningKey
	tls     *httptest.Server
	fetches atomic.Int32
}

func newHostedKey(t *testing.T) *hostedKey {
	t.Helper()
	key, err := apikeys.GenerateSigningKey(apikeys.ES256)
	require.NoError(t, err)
	jwk, err := key.JWK()
	require.NoError(t, err)
	h, err := apikeys.JWKSHandler(apikeys.NewJWKSet(jwk))
	require.NoError(t, err)
	hk := &hostedKey{key: key}
	hk.tls = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hk.fetches.Add(1)
		h.ServeHTTP(w, r)
	}))
	hk.tls.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	hk.tls.StartTLS()
	t.Cleanup(hk.tls.Close)
	return hk
}

// tokenSource returns an SDK token source for clientID signing with the hosted key, on the
// fake's clock and a transport closed at cleanup.
func (hk *hostedKey) tokenSource(t *testing.T, f *fixture, clientID string) *apikeys.AssertionTokenSource {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{
		ClientID: clientID, Key: hk.key, TokenURL: f.srv.TokenURL,
		HTTPClient: &http.Client{Transport: tr}, Clock: f.clock.Now,
	})
	require.NoError(t, err)
	return ts
}

// TestWithJWKSClientFetchesFromTLSServer: a key whose jwksURL is an https loopback server (the
// fake fetches https as well as http, from loopback hosts) gets tokens when the fake is given
// a client that trusts the server's certificate with WithJWKSClient; the SDK's token source
// gets a token and the token authorizes Platform calls.
func TestWithJWKSClientFetchesFromTLSServer(t *testing.T) {
	hk := newHostedKey(t)
	f := start(t, apikeystest.WithJWKSClient(hk.tls.Client()))
	k, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Staging"), "hosted", nil, hk.tls.URL+"/.well-known/jwks.json")
	require.NoError(t, err)

	tok, err := hk.tokenSource(t, f, k.ID).Token(t.Context())
	require.NoError(t, err, "reason %q", f.lastReason())
	assert.Equal(t, "", f.lastReason())
	assert.EqualValues(t, 1, hk.fetches.Load(), "the key came from the TLS server")
	assert.Equal(t, 1, f.srv.IssuedTokens())
	assert.Equal(t, http.StatusOK, listEnvs(f, tok.AccessToken).status)
}

// TestWithoutJWKSClientTLSFetchFails: with the default client the same https jwksURL fails
// certificate verification, which the token endpoint reports as the documented "jwksURL fetch
// fails" refusal: 400 invalid_request "Public key not found, ...", Reason "jwks fetch failed: ...".
func TestWithoutJWKSClientTLSFetchFails(t *testing.T) {
	hk := newHostedKey(t)
	f := start(t)
	k, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Staging"), "hosted", nil, hk.tls.URL+"/.well-known/jwks.json")
	require.NoError(t, err)

	_, err = hk.tokenSource(t, f, k.ID).Token(t.Context())
	var te *apikeys.TokenError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, http.StatusBadRequest, te.StatusCode)
	assert.Equal(t, "invalid_request", te.Code)
	assert.Equal(t, "Public key not found, check client_id, kid and Redox dashboard settings", te.Description)
	assert.Regexp(t, `^jwks fetch failed: .*certificate`, f.lastReason())
	assert.Zero(t, hk.fetches.Load(), "no request got past the TLS handshake")
	assert.Zero(t, f.srv.IssuedTokens())
}

// roundTripFunc is an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestWithJWKSClientStillLoopbackOnly: the client given with WithJWKSClient is never asked to
// fetch a jwksURL whose host is not loopback.
func TestWithJWKSClientStillLoopbackOnly(t *testing.T) {
	var calls atomic.Int32
	hc := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		calls.Add(1)
		return nil, errors.New("must not be called")
	})}
	hk := newHostedKey(t)
	f := start(t, apikeystest.WithJWKSClient(hc))
	k, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Staging"), "remote", nil, "https://keys.example.com/jwks.json")
	require.NoError(t, err)

	_, err = hk.tokenSource(t, f, k.ID).Token(t.Context())
	var te *apikeys.TokenError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, http.StatusBadRequest, te.StatusCode)
	assert.Equal(t, "jwks fetch failed: only loopback jwksURLs are fetched by the fake", f.lastReason())
	assert.Zero(t, calls.Load())
}

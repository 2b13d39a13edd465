package apikeystest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/apikeys-go/apikeys"
)

// ManagementKeyName is the name of the Platform key that [Server.NewClient] and [Server.Client]
// store (in the Development environment) for the client they return to sign its client
// assertions with. Each call stores a new one.
const ManagementKeyName = "apikeystest-management"

// NewClient returns an [apikeys.Client] wired to the fake, for programs (such as examples) that
// have no [testing.TB]; tests should use [Server.Client]. The client goes through the real
// Platform token flow:
//
//   - a new ES384 signing key is generated and its public JWK Set is stored as a key named
//     [ManagementKeyName] in the Development environment ([Server.NewManagementKey]);
//   - Platform calls (base URL [Server.PlatformURL]) are authenticated by an
//     [apikeys.NewTokenSource] that signs client assertions with that key and trades them at
//     [Server.TokenURL]; it uses the fake's clock ([WithClock]), so assertions and cached tokens
//     agree with the fake on the time;
//   - legacy calls go to [Server.URL] with [Server.LegacyDomain] and [Server.LegacyUserKey];
//   - the retry policy is apikeys.RetryPolicy{MaxRetries: 3} with zero waits (a Retry-After is
//     capped at MaxWait, 0), so fault tests never sleep.
//
// opts are applied after these, so a later option wins where the SDK lets one option replace
// another (WithRetry, WithHTTPClient, WithLegacy, WithBaseURL, WithLogger, ...). WithToken and
// WithTokenSource are refused by [apikeys.NewClient] because a token source is already set: for
// a static bearer token, build a client with apikeys.WithToken(srv.BearerToken) instead.
//
// The API client and the token source each get their own HTTP transport, which with [WithTLS]
// trusts the fake's certificate and speaks HTTP/2; [Server.Close] closes their idle connections.
func (s *Server) NewClient(opts ...apikeys.Option) (*apikeys.Client, error) {
	c, _, err := s.newClient(opts)
	return c, err
}

// Client is like [Server.NewClient] for a test: it fails the test (t.Fatal) when the client
// cannot be made, and closes the idle connections of the client's transports in t.Cleanup.
// Call it from the test's goroutine.
//
//	srv := apikeystest.NewServer()
//	t.Cleanup(srv.Close)
//	c := srv.Client(t)
//	key, err := c.APIKeys.Create(ctx, srv.EnvironmentID("Development"), apikeys.CreateAPIKeyRequest{Name: "svc"})
func (s *Server) Client(t testing.TB, opts ...apikeys.Option) *apikeys.Client {
	t.Helper()
	c, trs, err := s.newClient(opts)
	if err != nil {
		t.Fatalf("apikeystest: Server.Client: %v", err)
	}
	t.Cleanup(func() {
		for _, tr := range trs {
			tr.CloseIdleConnections()
		}
	})
	return c
}

// NewManagementKey stores a management key for a client of one's own, as [Server.NewClient]
// does for the client it makes: it generates an ES384 signing key, stores its public JWK Set as
// a Platform key named [ManagementKeyName] in the Development environment, and returns the
// stored key, whose ID is the client ID, and the signing key:
//
//	mk, key, err := srv.NewManagementKey()
//	ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: mk.ID, Key: key, TokenURL: srv.TokenURL})
//
// [Server.Reset] keeps the management keys, so the clients that use them keep working (deleting
// one through the API deletes it for good).
func (s *Server) NewManagementKey() (APIKey, apikeys.SigningKey, error) {
	key, err := apikeys.GenerateSigningKey(apikeys.ES384)
	if err != nil {
		return APIKey{}, apikeys.SigningKey{}, fmt.Errorf("generating the management signing key: %w", err)
	}
	jwk, err := key.JWK()
	if err != nil {
		return APIKey{}, apikeys.SigningKey{}, fmt.Errorf("building the management key's JWK: %w", err)
	}
	set, err := json.Marshal(apikeys.NewJWKSet(jwk))
	if err != nil {
		return APIKey{}, apikeys.SigningKey{}, fmt.Errorf("encoding the management key's JWK Set: %w", err)
	}
	mk, err := s.AddAPIKey(s.EnvironmentID("Development"), ManagementKeyName, set, "")
	if err != nil {
		return APIKey{}, apikeys.SigningKey{}, fmt.Errorf("storing the management key: %w", err)
	}
	s.mu.Lock()
	s.management[mk.ID] = true
	s.mu.Unlock()
	return mk, key, nil
}

// newClient makes the client and returns the transports it made for it.
func (s *Server) newClient(opts []apikeys.Option) (*apikeys.Client, []*http.Transport, error) {
	mk, key, err := s.NewManagementKey()
	if err != nil {
		return nil, nil, err
	}

	apiTr, tokenTr := s.newTransport(), s.newTransport()
	trs := []*http.Transport{apiTr, tokenTr}

	ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{
		ClientID:   mk.ID,
		Key:        key,
		TokenURL:   s.TokenURL,
		HTTPClient: &http.Client{Transport: tokenTr},
		Clock:      s.now,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("making the token source: %w", err)
	}
	all := append([]apikeys.Option{
		apikeys.WithBaseURL(s.PlatformURL),
		apikeys.WithTokenSource(ts),
		apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: s.URL, Domain: s.LegacyDomain, UserKey: s.LegacyUserKey}),
		apikeys.WithHTTPClient(&http.Client{Transport: apiTr}),
		apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 3}),
	}, opts...)
	c, err := apikeys.NewClient(all...)
	if err != nil {
		return nil, nil, err
	}
	return c, trs, nil
}

// Certificate returns the fake's TLS certificate with [WithTLS] (to build a client that trusts
// it, add it to the RootCAs of a tls.Config), or nil without.
func (s *Server) Certificate() *x509.Certificate { return s.ts.Certificate() }

// HTTPClient returns a new *http.Client for calling the fake by hand: with [WithTLS] its
// transport trusts the fake's certificate and speaks HTTP/2, otherwise it speaks plain
// HTTP/1.1. It uses no proxy, follows redirects as http.Client does and has no timeout.
// [Server.Close] closes its idle connections.
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{Transport: s.newTransport()}
}

// newTransport returns a pooled transport for loopback use, with no proxy, that trusts the
// fake's certificate and speaks HTTP/2 with WithTLS (a custom TLS config turns HTTP/2 off
// unless forced), HTTP/1.1 otherwise. Close closes its idle connections.
func (s *Server) newTransport() *http.Transport {
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	if cert := s.Certificate(); cert != nil {
		pool := x509.NewCertPool()
		pool.AddCert(cert)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
		tr.ForceAttemptHTTP2 = true
	}
	s.mu.Lock()
	s.clientTransports = append(s.clientTransports, tr)
	s.mu.Unlock()
	return tr
}

// Command jwks-endpoint hosts a JWK Set URL and uses it for a Platform OAuth API key:
//
//  1. generate a signing key and serve its public JWK Set with apikeys.JWKSHandler on a local
//     server, as a service would at https://<host>/.well-known/jwks.json;
//  2. check with apikeys.FetchJWKS that the hosted set holds the signing key's kid;
//  3. create a Platform key whose jwksURL points at it;
//  4. get an access token: the token endpoint fetches the hosted set to verify the assertion;
//  5. rotate with no API call at all, by serving a set with a new key.
//
// It runs against the in-process fake server of package apikeystest and needs no account or
// variable:
//
//	go run ./examples/jwks-endpoint
//
// The hosted set is served over plain http on a loopback address, which the SDK accepts for a
// jwksURL only with apikeys.WithInsecureHTTP(), and FetchJWKS only with
// apikeys.FetchInsecureLoopbackHTTP(); real jwksURLs are https.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"sync/atomic"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "jwks-endpoint:", err)
		os.Exit(1)
	}
}

// startFake starts the fake server; tests wrap it to see the fake's secrets.
var startFake = func() *apikeystest.Server { return apikeystest.NewServer() }

// jwksHost serves the current JWK Set handler and counts the fetches.
type jwksHost struct {
	handler atomic.Pointer[http.Handler]
	fetches atomic.Int64
}

func (h *jwksHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.fetches.Add(1)
	(*h.handler.Load()).ServeHTTP(w, r)
}

// serve makes a handler for set and serves it from now on.
func (h *jwksHost) serve(set *apikeys.JWKSet) error {
	handler, err := apikeys.JWKSHandler(set) // refuses a set that fails Validate
	if err != nil {
		return err
	}
	h.handler.Store(&handler)
	return nil
}

// run hosts a JWKS URL and uses it with a fake server, writing its story to w.
func run(ctx context.Context, w io.Writer) error {
	srv := startFake()
	defer srv.Close()
	// The jwksURL below is plain http on loopback: allowed by WithInsecureHTTP.
	admin, err := srv.NewClient(apikeys.WithInsecureHTTP())
	if err != nil {
		return err
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}

	// 1. The signing key and the hosted set of its public key.
	key, err := apikeys.GenerateSigningKey(apikeys.ES384)
	if err != nil {
		return err
	}
	jwk, err := key.JWK()
	if err != nil {
		return err
	}
	host := &jwksHost{}
	if err := host.serve(apikeys.NewJWKSet(jwk)); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/.well-known/jwks.json", host)
	jwksSrv := httptest.NewServer(mux)
	defer jwksSrv.Close()
	jwksURL := jwksSrv.URL + "/.well-known/jwks.json"
	fmt.Fprintf(w, "hosting the JWK Set of signing key %s (%s) at %s\n", key.KeyID, key.Algorithm, jwksURL)

	// 2. Check what is hosted before pointing a key at it.
	if err := checkHosted(ctx, w, hc, jwksURL, key.KeyID); err != nil {
		return err
	}

	// 3. A Platform key whose public keys are at the URL.
	apiKey, err := admin.APIKeys.Create(ctx, srv.EnvironmentID("Development"),
		apikeys.CreateAPIKeyRequest{Name: "jwks-hosted-svc", JWKSURL: jwksURL})
	if err != nil {
		return fmt.Errorf("creating the key: %w", err)
	}
	fmt.Fprintf(w, "created key %q (client id %s) with jwksURL %s\n", apiKey.Name, apiKey.ID, apiKey.JWKSURL)

	// 4. The token endpoint verifies the assertion with the set it fetches from the URL.
	before := host.fetches.Load()
	if err := getToken(ctx, srv, hc, apiKey.ID, key); err != nil {
		return err
	}
	fmt.Fprintf(w, "token obtained; the token endpoint fetched the hosted set %d time(s)\n", host.fetches.Load()-before)

	// 5. Rotate by serving both keys, then only the new one: the Platform key is not touched.
	newKey, err := apikeys.GenerateSigningKey(apikeys.ES384)
	if err != nil {
		return err
	}
	newJWK, err := newKey.JWK()
	if err != nil {
		return err
	}
	if err := host.serve(apikeys.NewJWKSet(jwk, newJWK)); err != nil {
		return err
	}
	fmt.Fprintf(w, "now hosting both keys: %s and %s\n", key.KeyID, newKey.KeyID)
	if err := checkHosted(ctx, w, hc, jwksURL, newKey.KeyID); err != nil {
		return err
	}
	if err := getToken(ctx, srv, hc, apiKey.ID, newKey); err != nil {
		return err
	}
	fmt.Fprintln(w, "token obtained with the new key, with no API call to the Platform key")
	if err := host.serve(apikeys.NewJWKSet(newJWK)); err != nil {
		return err
	}
	err = getToken(ctx, srv, hc, apiKey.ID, key)
	var terr *apikeys.TokenError
	if !errors.As(err, &terr) {
		return fmt.Errorf("old key after it left the hosted set: want a *TokenError, got %v", err)
	}
	fmt.Fprintf(w, "stopped hosting the old key: it can no longer get a token (%s, HTTP %d)\n", terr.Code, terr.StatusCode)

	if _, err := admin.APIKeys.Delete(ctx, apiKey.ID); err != nil {
		return fmt.Errorf("deleting the key: %w", err)
	}
	fmt.Fprintln(w, "deleted the demo key")
	return nil
}

// checkHosted fetches the set at jwksURL and checks that it is valid and holds kid.
func checkHosted(ctx context.Context, w io.Writer, hc *http.Client, jwksURL, kid string) error {
	set, err := apikeys.FetchJWKS(ctx, jwksURL, apikeys.FetchHTTPClient(hc), apikeys.FetchInsecureLoopbackHTTP())
	if err != nil {
		return fmt.Errorf("fetching the hosted set: %w", err)
	}
	if err := set.Validate(); err != nil {
		return fmt.Errorf("the hosted set: %w", err)
	}
	if _, ok := set.Key(kid); !ok {
		return fmt.Errorf("the hosted set does not hold kid %s", kid)
	}
	fmt.Fprintf(w, "FetchJWKS: the hosted set is valid, has %d key(s) and holds kid %s\n", len(set.Keys), kid)
	return nil
}

// getToken gets an access token with key from a new token source (so nothing is cached).
func getToken(ctx context.Context, srv *apikeystest.Server, hc *http.Client, clientID string, key apikeys.SigningKey) error {
	ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: clientID, Key: key, TokenURL: srv.TokenURL, HTTPClient: hc})
	if err != nil {
		return err
	}
	if _, err := ts.Token(ctx); err != nil {
		return fmt.Errorf("getting a token with key %s: %w", key.KeyID, err)
	}
	return nil
}

// Command jwks-endpoint hosts the JWK Set URL of a Platform OAuth API key with an
// apikeys.JWKSHost and rotates the signing key behind it with apikeys.Rotate, with no API call
// to the Platform key:
//
//  1. serve the public key of a signing key with a JWKSHost, as a service would at
//     https://<host>/.well-known/jwks.json, and check it with apikeys.FetchJWKS;
//  2. create a Platform key whose jwksURL points at it, and get a token: the token endpoint
//     fetches the hosted set to verify the assertion;
//  3. rotate: Rotate serves the new public key next to the old one, waits until the Platform
//     (whose cache of the hosted set the fake models) accepts it, switches the service's token
//     source, and stops serving the old key.
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
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"time"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "jwks-endpoint:", err)
		os.Exit(1)
	}
}

// startFake starts the fake server; tests wrap it to see the fake's secrets.
var startFake = func() *apikeystest.Server { return apikeystest.NewServer() }

// run hosts a JWKS URL and uses it with a fake server, writing its story to w.
func run(ctx context.Context, w io.Writer) error {
	srv := startFake()
	defer srv.Close()
	admin, err := srv.NewClient(apikeys.WithInsecureHTTP()) // the jwksURL below is plain http
	if err != nil {
		return err
	}

	// 1. Serve the signing key's public key.
	key, err := apikeys.GenerateSigningKey(apikeys.ES384)
	if err != nil {
		return err
	}
	jwk, err := key.JWK()
	if err != nil {
		return err
	}
	host, err := apikeys.NewJWKSHost(apikeys.NewJWKSet(jwk), time.Minute) // refuses a set that fails Validate
	if err != nil {
		return err
	}
	jwksSrv := httptest.NewServer(host)
	defer jwksSrv.Close()
	jwksURL := jwksSrv.URL + "/.well-known/jwks.json"
	set, err := apikeys.FetchJWKS(ctx, jwksURL, apikeys.FetchInsecureLoopbackHTTP())
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "hosting kids %v at %s\n", set.KeyIDs(), jwksURL)

	// 2. A Platform key whose public keys are at the URL, and the service's token source.
	apiKey, err := admin.APIKeys.Create(ctx, srv.EnvironmentID("Development"),
		apikeys.CreateAPIKeyRequest{Name: "jwks-hosted-svc", JWKSURL: jwksURL})
	if err != nil {
		return err
	}
	live, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: apiKey.ID, Key: key, TokenURL: srv.TokenURL, HTTPClient: srv.HTTPClient()})
	if err != nil {
		return err
	}
	if _, err := live.Token(ctx); err != nil {
		return err
	}
	fmt.Fprintf(w, "created key %q with its jwksURL; token obtained with kid %s\n", apiKey.Name, live.KeyID())

	// 3. Rotate. The host is the publisher: no API call. The fake caches the hosted set for a
	// second (apikeystest.DefaultJWKSCache), so Rotate tries the new key until it is accepted.
	newKey, err := apikeys.GenerateSigningKey(apikeys.ES384)
	if err != nil {
		return err
	}
	rep, err := apikeys.Rotate(ctx, apikeys.RotateConfig{
		Source:      live,
		NewKey:      newKey,
		Publisher:   host,
		RetireAfter: 100 * time.Millisecond, // by default, 5 minutes: the tokens' lifetime
		ProofPolicy: apikeys.RetryPolicy{MinWait: 100 * time.Millisecond, MaxWait: 500 * time.Millisecond},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "rotated to %s: accepted after the hosted set's cache expired (%d token requests); retired %v\n",
		rep.KeyID, rep.ProofAttempts, rep.Retired)
	set, err = apikeys.FetchJWKS(ctx, jwksURL, apikeys.FetchInsecureLoopbackHTTP())
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "now hosting kids %v; the Platform key was not changed\n", set.KeyIDs())
	_, err = admin.APIKeys.Delete(ctx, apiKey.ID)
	return err
}

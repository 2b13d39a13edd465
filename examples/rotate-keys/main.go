// Command rotate-keys shows a zero-downtime rotation of the signing key behind a Platform OAuth
// API key whose public keys are an inline JWK Set:
//
//  1. publish the new public key alongside the old one (Update with both), so tokens signed
//     either way keep working;
//  2. switch the service's token source to the new signing key;
//  3. retire the old public key (Update with only the new one);
//  4. check that the old signing key can no longer get a token.
//
// It runs against the in-process fake server of package apikeystest and needs no account or
// variable:
//
//	go run ./examples/rotate-keys
//
// (For a key whose public keys are hosted at a jwksURL, rotate by changing the hosted set in
// the same steps, with no API call: see examples/jwks-endpoint.)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "rotate-keys:", err)
		os.Exit(1)
	}
}

// startFake starts the fake server; tests wrap it to see the fake's secrets.
var startFake = func() *apikeystest.Server { return apikeystest.NewServer() }

// run runs the rotation against a fake server, writing its story to w.
func run(ctx context.Context, w io.Writer) error {
	srv := startFake()
	defer srv.Close()
	admin, err := srv.NewClient() // manages keys; its connections are closed by srv.Close
	if err != nil {
		return err
	}
	// The service's own HTTP client, for its token requests and API calls.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	env := srv.EnvironmentID("Development")

	// The service's key as it runs today: one signing key, published in the key's JWK Set.
	oldKey, oldJWK, err := newSigningKey()
	if err != nil {
		return err
	}
	key, err := admin.APIKeys.Create(ctx, env, apikeys.CreateAPIKeyRequest{
		Name: "billing-svc", JWKSet: apikeys.NewJWKSet(oldJWK),
	})
	if err != nil {
		return fmt.Errorf("creating the key: %w", err)
	}
	fmt.Fprintf(w, "created key %q (client id %s) with the old public key %s\n", key.Name, key.ID, oldKey.KeyID)
	tsOld, err := tokenSource(srv, hc, key.ID, oldKey)
	if err != nil {
		return err
	}
	if _, err := tsOld.Token(ctx); err != nil {
		return fmt.Errorf("token with the old key: %w", err)
	}
	fmt.Fprintln(w, "token obtained with the old key")

	// Step 1: publish the new public key next to the old one.
	newKey, newJWK, err := newSigningKey()
	if err != nil {
		return err
	}
	both := apikeys.NewJWKSet(oldJWK, newJWK) // Update validates it before sending
	key, err = admin.APIKeys.Update(ctx, key.ID, apikeys.UpdateAPIKeyRequest{JWKSet: both})
	if err != nil {
		return fmt.Errorf("adding the new public key: %w", err)
	}
	fmt.Fprintf(w, "step 1: published the new public key alongside the old: kids %s\n", kids(key.JWKSet))
	if err := freshToken(ctx, srv, hc, key.ID, oldKey); err != nil {
		return fmt.Errorf("old key during the overlap: %w", err)
	}
	fmt.Fprintln(w, "        the old key still gets tokens during the overlap")

	// Step 2: the service switches its token source (and so its clients) to the new key.
	tsNew, err := tokenSource(srv, hc, key.ID, newKey)
	if err != nil {
		return err
	}
	svc, err := apikeys.NewClient(
		apikeys.WithBaseURL(srv.PlatformURL),
		apikeys.WithTokenSource(tsNew),
		apikeys.WithHTTPClient(hc),
	)
	if err != nil {
		return err
	}
	if _, err := tsNew.Token(ctx); err != nil {
		return fmt.Errorf("token with the new key: %w", err)
	}
	fmt.Fprintln(w, "step 2: switched the token source to the new key: token obtained with the new key")
	if _, err := svc.APIKeys.Get(ctx, key.ID); err != nil {
		return fmt.Errorf("call with the new key's token: %w", err)
	}
	fmt.Fprintln(w, "        an API call authenticated with it succeeded")

	// Step 3: retire the old public key.
	key, err = admin.APIKeys.Update(ctx, key.ID, apikeys.UpdateAPIKeyRequest{JWKSet: apikeys.NewJWKSet(newJWK)})
	if err != nil {
		return fmt.Errorf("removing the old public key: %w", err)
	}
	fmt.Fprintf(w, "step 3: removed the old public key: kids %s\n", kids(key.JWKSet))

	// Step 4: the old signing key is refused; the new one keeps working.
	err = freshToken(ctx, srv, hc, key.ID, oldKey)
	var terr *apikeys.TokenError
	if !errors.As(err, &terr) {
		return fmt.Errorf("old key after removal: want a *TokenError, got %v", err)
	}
	fmt.Fprintf(w, "step 4: the old key can no longer get a token: %s (HTTP %d)\n", terr.Code, terr.StatusCode)
	if err := freshToken(ctx, srv, hc, key.ID, newKey); err != nil {
		return fmt.Errorf("new key after removal: %w", err)
	}
	fmt.Fprintln(w, "        the new key still gets tokens")

	if _, err := admin.APIKeys.Delete(ctx, key.ID); err != nil {
		return fmt.Errorf("deleting the key: %w", err)
	}
	fmt.Fprintln(w, "rotation complete; deleted the demo key")
	return nil
}

// newSigningKey makes an ES384 signing key and its public JWK.
func newSigningKey() (apikeys.SigningKey, apikeys.JWK, error) {
	k, err := apikeys.GenerateSigningKey(apikeys.ES384)
	if err != nil {
		return apikeys.SigningKey{}, apikeys.JWK{}, err
	}
	jwk, err := k.JWK()
	return k, jwk, err
}

func tokenSource(srv *apikeystest.Server, hc *http.Client, clientID string, key apikeys.SigningKey) (*apikeys.AssertionTokenSource, error) {
	return apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: clientID, Key: key, TokenURL: srv.TokenURL, HTTPClient: hc})
}

// freshToken gets a token with key from a new token source, so nothing cached hides a refusal.
func freshToken(ctx context.Context, srv *apikeystest.Server, hc *http.Client, clientID string, key apikeys.SigningKey) error {
	ts, err := tokenSource(srv, hc, clientID, key)
	if err != nil {
		return err
	}
	_, err = ts.Token(ctx)
	return err
}

func kids(set *apikeys.JWKSet) string {
	var out []string
	if set != nil {
		for _, k := range set.Keys {
			out = append(out, k.KeyID())
		}
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// Command rotate-keys rotates, with no downtime, the signing key behind a Platform OAuth API
// key whose public keys are an inline JWK Set: one apikeys.Rotate call publishes the new public
// key next to the old one, proves the Platform accepts it, switches the service's live token
// source to it and retires the old public key. The service's API calls go on throughout.
//
// It runs against the in-process fake server of package apikeystest and needs no account or
// variable:
//
//	go run ./examples/rotate-keys
//
// (For a key whose public keys are hosted at a jwksURL, pass the apikeys.JWKSHost serving them
// as the publisher: see examples/jwks-endpoint.)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
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

	// The service as it runs today: one signing key, published in its API key's JWK Set, and a
	// client whose token source signs with it.
	oldKey, err := apikeys.GenerateSigningKey(apikeys.ES384)
	if err != nil {
		return err
	}
	oldJWK, err := oldKey.JWK()
	if err != nil {
		return err
	}
	key, err := admin.APIKeys.Create(ctx, srv.EnvironmentID("Development"), apikeys.CreateAPIKeyRequest{
		Name: "billing-svc", JWKSet: apikeys.NewJWKSet(oldJWK),
	})
	if err != nil {
		return err
	}
	live, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: key.ID, Key: oldKey, TokenURL: srv.TokenURL, HTTPClient: srv.HTTPClient()})
	if err != nil {
		return err
	}
	svc, err := apikeys.NewClient(apikeys.WithBaseURL(srv.PlatformURL), apikeys.WithTokenSource(live), apikeys.WithHTTPClient(srv.HTTPClient()))
	if err != nil {
		return err
	}
	if _, err := svc.APIKeys.Get(ctx, key.ID); err != nil {
		return err
	}
	fmt.Fprintf(w, "service %q runs on signing key %s\n", key.Name, oldKey.KeyID)

	// The rotation, in one call. RetireAfter is short for the demo: by default Rotate waits for
	// the tokens got with the old key to expire (5 minutes).
	newKey, err := apikeys.GenerateSigningKey(apikeys.ES384)
	if err != nil {
		return err
	}
	rep, err := apikeys.Rotate(ctx, apikeys.RotateConfig{
		Source:      live,
		NewKey:      newKey,
		Publisher:   apikeys.InlineKeys(admin.APIKeys, key.ID),
		RetireAfter: 100 * time.Millisecond,
	})
	if err != nil {
		return err // Rotate is resumable: run it again with the same configuration
	}
	fmt.Fprintf(w, "rotated to %s: published %t, accepted after %d token request(s), switched %t, retired %d old key(s)\n",
		rep.KeyID, rep.Published, rep.ProofAttempts, rep.Switched, len(rep.Retired))

	// The service's next token is signed with the new key; the old key gets none any more.
	if tok, err := live.Token(ctx); err == nil {
		live.Invalidate(tok) // drop the token got with the old key, to show the new one at work
	}
	if _, err := svc.APIKeys.Get(ctx, key.ID); err != nil {
		return err
	}
	fmt.Fprintf(w, "the service's calls now use tokens signed with %s\n", live.KeyID())
	old, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: key.ID, Key: oldKey, TokenURL: srv.TokenURL, HTTPClient: srv.HTTPClient()})
	if err != nil {
		return err
	}
	var terr *apikeys.TokenError
	if _, err := old.Token(ctx); !errors.As(err, &terr) {
		return fmt.Errorf("the old key after the rotation: want a *TokenError, got %v", err)
	}
	fmt.Fprintf(w, "the old key is refused: %s (HTTP %d)\n", terr.Code, terr.StatusCode)
	_, err = admin.APIKeys.Delete(ctx, key.ID)
	return err
}

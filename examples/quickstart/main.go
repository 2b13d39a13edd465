// Command quickstart shows the main job of the apikeys SDK: create a Platform API key for a
// new signing key, get an access token with it, list the environment's keys, delete the key;
// then create and delete a legacy user key. It runs against the in-process fake server of
// package apikeystest, or against real servers when the APIKEYS_* variables are set (see
// examples/real-servers for them). No secret is ever printed.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
	"github.com/apikeys-go/apikeys/internal/exampleenv"
)

// startFake starts the fake server; tests wrap it to see the fake's secrets.
var startFake = func() *apikeystest.Server { return apikeystest.NewServer() }

func main() {
	if err := run(context.Background(), os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, getenv func(string) string) error {
	s, err := exampleenv.Connect(getenv, startFake)
	if err != nil {
		return err
	}
	defer s.Close()
	if c := s.Platform; c != nil {
		// A signing key; its public half goes in the new API key's JWK Set.
		signer, err := apikeys.GenerateSigningKey(apikeys.ES384)
		if err != nil {
			return err
		}
		jwk, err := signer.JWK()
		if err != nil {
			return err
		}
		key, err := c.APIKeys.Create(ctx, s.EnvironmentID, apikeys.CreateAPIKeyRequest{Name: "quickstart", JWKSet: apikeys.NewJWKSet(jwk)})
		if err != nil {
			return err // if apikeys.IsAmbiguous(err), ask c.APIKeys.FindCreated before creating again
		}
		fmt.Fprintf(w, "created key %q (id %s) with kid %s\n", key.Name, key.ID, signer.KeyID)

		// The key's holder signs client assertions with the private key for access tokens.
		ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: key.ID, Key: signer, TokenURL: s.TokenURL, HTTPClient: s.HTTPClient})
		if err != nil {
			return err
		}
		tok, err := ts.Token(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "got a %s token with it, expiring %s\n", tok.TokenType, tok.Expiry.Format("15:04:05"))

		keys, err := c.APIKeys.List(ctx, s.EnvironmentID)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "the environment has %d keys\n", len(keys))
		if _, err := c.APIKeys.Delete(ctx, key.ID); err != nil {
			return err
		}
		fmt.Fprintf(w, "deleted key %s\n", key.ID)
	}
	if c := s.Legacy; c != nil {
		k, err := c.Legacy.Create(ctx, apikeys.UserKeys(), "quickstart")
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "created legacy %s key %q\n", k.KeyType, k.Label)
		if _, err := c.Legacy.Delete(ctx, k.Key); err != nil {
			return err
		}
		fmt.Fprintln(w, "deleted the legacy key")
	}
	return nil
}

// Command real-servers runs the whole lifecycle of both kinds of API keys against real
// servers, printing one line per step:
//
//   - Platform OAuth API keys: list the organization's environments, generate a signing key,
//     create a key with its JWK Set, get an access token with the new key, list the
//     environment's keys, rotate the key's JWK Set to a new signing key, delete the key.
//   - Legacy user and app API keys: create a user key, create two app keys (the second
//     revokes the first), validate both, update a label, revoke, delete.
//
// It creates keys named "apikeys-quickstart..." and deletes them at the end, also after a
// failed step. Secrets are never printed; legacy key values appear only masked.
//
// # Configuration
//
// Set these variables; each part runs only when its required variables are set, and is
// skipped with a note otherwise. With none set it runs against the in-process fake server of
// package apikeystest, so that you can see what it does first.
//
//	APIKEYS_REGION            Platform region: us (default) or ca; sets both URLs below
//	APIKEYS_BASE_URL          Platform API base URL, for one that is no region's
//	                          (default: the region's)
//	APIKEYS_TOKEN_URL         token endpoint, for one that is no region's (default: the
//	                          region's, or that of the region whose base URL is given)
//	APIKEYS_CLIENT_ID         required for Platform: the ID of a management API key
//	                          (it needs the engineer role in the environment)
//	APIKEYS_PRIVATE_KEY_FILE  required for Platform: PEM file with that key's private key
//	                          (read with apikeys.ParseSigningKey)
//	APIKEYS_ENVIRONMENT_ID    required for Platform: the environment to create the demo key in
//	APIKEYS_ORGANIZATION_ID   optional: also list the organization's environments
//	APIKEYS_LEGACY_URL        required for legacy: the host, e.g. https://acme.feedhenry.com
//	APIKEYS_LEGACY_DOMAIN     required for legacy: the tenant domain, e.g. acme
//	APIKEYS_LEGACY_USER_KEY   required for legacy: a user API key (sent as X-FH-AUTH-USER)
//	APIKEYS_LEGACY_APP_ID     required for legacy: an app whose keys the demo creates;
//	                          note that creating an app key revokes the app's active key
//
//	APIKEYS_CLIENT_ID=… APIKEYS_PRIVATE_KEY_FILE=mgmt.pem APIKEYS_ENVIRONMENT_ID=… go run ./examples/real-servers
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
	"github.com/apikeys-go/apikeys/internal/exampleenv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Stdout, os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "real-servers:", err)
		os.Exit(1)
	}
}

// startFake starts the fake server used when no variable is set; tests wrap it to see the
// fake's secrets.
var startFake = func() *apikeystest.Server { return apikeystest.NewServer() }

// run runs the lifecycle, writing its story to w. getenv reads the configuration.
func run(ctx context.Context, w io.Writer, getenv func(string) string) error {
	s, err := exampleenv.Connect(getenv, startFake)
	if err != nil {
		return err
	}
	defer s.Close()
	if s.Real {
		fmt.Fprintln(w, "Running against real servers (configured by APIKEYS_* variables).")
	} else {
		fmt.Fprintln(w, "Running against an in-process fake server (set APIKEYS_* variables to use real servers).")
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "== Platform OAuth API keys")
	if s.Platform == nil {
		fmt.Fprintln(w, "skipped: set APIKEYS_CLIENT_ID, APIKEYS_PRIVATE_KEY_FILE and APIKEYS_ENVIRONMENT_ID to run it")
	} else if err := platformLifecycle(ctx, w, s); err != nil {
		return fmt.Errorf("platform: %w", err)
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "== Legacy user and app API keys")
	if s.Legacy == nil || s.AppID == "" {
		fmt.Fprintln(w, "skipped: set APIKEYS_LEGACY_URL, APIKEYS_LEGACY_DOMAIN, APIKEYS_LEGACY_USER_KEY and APIKEYS_LEGACY_APP_ID to run it")
	} else if err := legacyLifecycle(ctx, w, s.Legacy, s.AppID); err != nil {
		return fmt.Errorf("legacy: %w", err)
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "Done.")
	return nil
}

// platformLifecycle creates, uses, lists, rotates and deletes a Platform key.
func platformLifecycle(ctx context.Context, w io.Writer, s *exampleenv.Setup) error {
	c := s.Platform
	if s.OrganizationID != 0 {
		envs, err := c.Environments.List(ctx, s.OrganizationID)
		if err != nil {
			return fmt.Errorf("listing environments: %w", err)
		}
		var flags []string
		for _, e := range envs {
			flags = append(flags, fmt.Sprintf("%s (%s)", e.Name, e.Flag))
		}
		fmt.Fprintf(w, "environments of organization %d: %s\n", s.OrganizationID, strings.Join(flags, ", "))
	}

	// A signing key and the JWK Set that publishes its public half.
	signer, set, err := newSigningKey()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "generated signing key: kid %s, alg %s\n", signer.KeyID, signer.Algorithm)
	fmt.Fprintf(w, "built JWK Set: %d public key, valid\n", len(set.Keys))

	key, err := c.APIKeys.Create(ctx, s.EnvironmentID, apikeys.CreateAPIKeyRequest{Name: "apikeys-quickstart", JWKSet: set})
	if err != nil {
		if apikeys.IsAmbiguous(err) {
			return fmt.Errorf("create may or may not have happened; list the keys before retrying: %w", err)
		}
		return fmt.Errorf("creating the key: %w", err)
	}
	fmt.Fprintf(w, "created key %q: id %s, environment %s, %d public key\n", key.Name, key.ID, key.Environment.Flag, len(key.JWKSet.Keys))
	deleted := false
	defer func() {
		if !deleted { // clean up after a failed step
			_, _ = c.APIKeys.Delete(context.WithoutCancel(ctx), key.ID)
		}
	}()

	// The key's holder signs a client assertion with the private key and trades it for an
	// access token. The token itself is a secret: only its type and expiry are printed.
	if err := showToken(ctx, w, s, key.ID, signer, "the new key"); err != nil {
		return err
	}

	keys, err := c.APIKeys.List(ctx, s.EnvironmentID)
	if err != nil {
		return fmt.Errorf("listing keys: %w", err)
	}
	fmt.Fprintf(w, "listed %d keys in the environment:\n", len(keys))
	for _, k := range keys {
		fmt.Fprintf(w, "  - %s (id %s)\n", k.Name, k.ID)
	}

	// Rotate: replace the key's JWK Set with one holding a new public key.
	signer2, set2, err := newSigningKey()
	if err != nil {
		return err
	}
	name := "apikeys-quickstart-rotated"
	key, err = c.APIKeys.Update(ctx, key.ID, apikeys.UpdateAPIKeyRequest{Name: &name, JWKSet: set2})
	if err != nil {
		return fmt.Errorf("rotating the key: %w", err)
	}
	fmt.Fprintf(w, "rotated key %q: its JWK Set now holds kid %s (was %s)\n", key.Name, kids(key.JWKSet), signer.KeyID)
	if err := showToken(ctx, w, s, key.ID, signer2, "the rotated key"); err != nil {
		return err
	}

	msg, err := c.APIKeys.Delete(ctx, key.ID)
	if err != nil {
		return fmt.Errorf("deleting the key: %w", err)
	}
	deleted = true
	fmt.Fprintf(w, "deleted key %s: %s\n", key.ID, msg)
	if _, err := c.APIKeys.Get(ctx, key.ID); errors.Is(err, apikeys.ErrNotFound) {
		fmt.Fprintln(w, "get after delete: not found, as expected")
	} else {
		return fmt.Errorf("get after delete: want not found, got %v", err)
	}
	return nil
}

// newSigningKey makes an ES384 signing key and a validated JWK Set with its public key.
func newSigningKey() (apikeys.SigningKey, *apikeys.JWKSet, error) {
	signer, err := apikeys.GenerateSigningKey(apikeys.ES384)
	if err != nil {
		return apikeys.SigningKey{}, nil, err
	}
	jwk, err := signer.JWK()
	if err != nil {
		return apikeys.SigningKey{}, nil, err
	}
	set := apikeys.NewJWKSet(jwk)
	if err := set.Validate(); err != nil {
		return apikeys.SigningKey{}, nil, err
	}
	return signer, set, nil
}

// showToken gets an access token as the key's holder would, and prints that it did.
func showToken(ctx context.Context, w io.Writer, s *exampleenv.Setup, clientID string, signer apikeys.SigningKey, which string) error {
	ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: clientID, Key: signer, TokenURL: s.TokenURL, HTTPClient: s.HTTPClient})
	if err != nil {
		return err
	}
	tok, err := ts.Token(ctx)
	if err != nil {
		return fmt.Errorf("getting a token with %s: %w", which, err)
	}
	fmt.Fprintf(w, "token obtained with %s: type %s, valid for %s\n", which, tok.TokenType, time.Until(tok.Expiry).Round(time.Minute))
	return nil
}

func kids(set *apikeys.JWKSet) string {
	if set == nil {
		return "(none)"
	}
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID())
	}
	return strings.Join(out, ", ")
}

// legacyLifecycle walks through user and app keys.
func legacyLifecycle(ctx context.Context, w io.Writer, c *apikeys.Client, appID string) error {
	var made []*apikeys.LegacyKey
	defer func() { // delete what this run made, also after a failed step
		for _, k := range made {
			_, _ = c.Legacy.Delete(context.WithoutCancel(ctx), k.Key)
		}
	}()

	user, err := c.Legacy.Create(ctx, apikeys.UserKeys(), "apikeys-quickstart-user")
	if err != nil {
		return fmt.Errorf("creating a user key: %w", err)
	}
	made = append(made, user)
	fmt.Fprintf(w, "created user key: %s\n", describe(user))

	app1, err := c.Legacy.Create(ctx, apikeys.AppKeys(appID), "apikeys-quickstart-app-1")
	if err != nil {
		return fmt.Errorf("creating an app key: %w", err)
	}
	made = append(made, app1)
	fmt.Fprintf(w, "created app key #1 for app %s: %s\n", appID, describe(app1))

	// An app has one active key: creating another revokes the earlier ones.
	app2, err := c.Legacy.Create(ctx, apikeys.AppKeys(appID), "apikeys-quickstart-app-2")
	if err != nil {
		return fmt.Errorf("creating a second app key: %w", err)
	}
	made = append(made, app2)
	fmt.Fprintf(w, "created app key #2 for app %s: %s\n", appID, describe(app2))
	appKeys, err := c.Legacy.List(ctx, apikeys.AppKeys(appID))
	if err != nil {
		return fmt.Errorf("listing app keys: %w", err)
	}
	for _, k := range appKeys {
		if k.Key == app1.Key {
			fmt.Fprintf(w, "app key #1 after creating #2: %s\n", describe(k))
		}
	}

	for i, k := range []*apikeys.LegacyKey{app1, app2} {
		ok, err := c.Legacy.Validate(ctx, apikeys.KeyTypeApp, k.Key)
		if err != nil && !errors.Is(err, apikeys.ErrNotFound) {
			return fmt.Errorf("validating app key #%d: %w", i+1, err)
		}
		fmt.Fprintf(w, "validate app key #%d: valid=%t\n", i+1, ok)
	}

	upd, err := c.Legacy.Update(ctx, app2.Key, "apikeys-quickstart-app-renamed")
	if err != nil {
		return fmt.Errorf("updating a label: %w", err)
	}
	fmt.Fprintf(w, "updated label of app key #2: %q -> %q\n", app2.Label, upd.Label)
	made[2] = upd

	rev, err := c.Legacy.Revoke(ctx, app2.Key)
	if err != nil {
		return fmt.Errorf("revoking: %w", err)
	}
	fmt.Fprintf(w, "revoked app key #2: %s\n", describe(rev))
	ok, err := c.Legacy.Validate(ctx, apikeys.KeyTypeApp, app2.Key)
	if err != nil && !errors.Is(err, apikeys.ErrNotFound) {
		return fmt.Errorf("validating app key #2: %w", err)
	}
	fmt.Fprintf(w, "validate app key #2 after revoking: valid=%t\n", ok)

	for _, k := range made {
		if _, err := c.Legacy.Delete(ctx, k.Key); err != nil {
			return fmt.Errorf("deleting %q: %w", k.Label, err)
		}
		fmt.Fprintf(w, "deleted %s key %q\n", k.KeyType, k.Label)
	}
	made = nil
	return nil
}

// describe shows a legacy key by label, type, owner and state, without its value.
func describe(k *apikeys.LegacyKey) string {
	state := "active"
	if k.IsRevoked() {
		state = "revoked"
		if !k.Revoked.IsZero() {
			state += " at " + k.Revoked.UTC().Format(time.RFC3339)
		}
		if k.RevokedBy != "" {
			state += " by " + k.RevokedBy
		}
	}
	return fmt.Sprintf("label %q, type %s, owner %s, %s", k.Label, k.KeyType, k.KeyReference, state)
}

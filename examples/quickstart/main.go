// Command quickstart walks through the whole lifecycle of both kinds of API keys the apikeys
// SDK manages, printing one line per step:
//
//   - Platform OAuth API keys: generate a signing key, build its JWK Set, create a key with it,
//     get an access token with that new key, list the environment's keys, rotate the key's JWK
//     Set to a new signing key, delete the key.
//   - Legacy user and app API keys: create a user key, create an app key, create a second app
//     key (which revokes the first), validate both, update a label, revoke, delete.
//
// Secrets are never printed: not the user key, not access tokens, not private keys. Legacy key
// values appear only masked (LegacyKey.String).
//
// # Running it
//
// With none of the variables below set, it starts the in-process fake server of package
// apikeystest and runs everything against it:
//
//	go run ./examples/quickstart
//
// Setting any of them runs against real servers instead. Each part runs only when its
// required variables are set, and is skipped with a note otherwise:
//
//	APIKEYS_BASE_URL          Platform API base URL (default apikeys.DefaultBaseURL)
//	APIKEYS_TOKEN_URL         token endpoint (default apikeys.DefaultTokenURL, or
//	                          apikeys.CanadaTokenURL when the base URL is CanadaBaseURL)
//	APIKEYS_CLIENT_ID         required for Platform: the ID of a management API key
//	APIKEYS_PRIVATE_KEY_FILE  required for Platform: PEM file with that key's private key
//	                          (read with apikeys.ParseSigningKey)
//	APIKEYS_ENVIRONMENT_ID    required for Platform: the environment to create the demo key in
//	APIKEYS_ORGANIZATION_ID   optional: also list the organization's environments
//	APIKEYS_LEGACY_URL        required for legacy: the host, e.g. https://acme.feedhenry.com
//	APIKEYS_LEGACY_DOMAIN     required for legacy: the tenant domain, e.g. acme
//	APIKEYS_LEGACY_USER_KEY   required for legacy: a user API key (sent as X-FH-AUTH-USER)
//	APIKEYS_LEGACY_APP_ID     required for legacy: an app whose keys the demo may create;
//	                          note that creating an app key revokes the app's active key
//
// Against real servers the demo creates keys named "apikeys-quickstart..." and deletes them
// again at the end.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Stdout, os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// envVars are the variables that switch the quickstart to real servers.
var envVars = []string{
	"APIKEYS_BASE_URL", "APIKEYS_TOKEN_URL", "APIKEYS_CLIENT_ID", "APIKEYS_PRIVATE_KEY_FILE",
	"APIKEYS_ENVIRONMENT_ID", "APIKEYS_ORGANIZATION_ID",
	"APIKEYS_LEGACY_URL", "APIKEYS_LEGACY_DOMAIN", "APIKEYS_LEGACY_USER_KEY", "APIKEYS_LEGACY_APP_ID",
}

// startFake starts the fake server used when no variable is set; tests wrap it to see the
// fake's secrets.
var startFake = func() *apikeystest.Server { return apikeystest.NewServer() }

// setup is what the two parts run against.
type setup struct {
	// platform manages Platform keys; nil skips the Platform part.
	platform *apikeys.Client
	// legacy manages legacy keys; nil skips the legacy part.
	legacy         *apikeys.Client
	tokenURL       string
	environmentID  string
	organizationID int // 0: environments are not listed
	appID          string
	// hc sends the requests the example makes itself (token requests with the new key).
	hc *http.Client
}

// run runs the quickstart, writing its story to w. getenv reads the configuration.
func run(ctx context.Context, w io.Writer, getenv func(string) string) error {
	// One transport for every request the quickstart makes itself; its idle connections are
	// closed at the end so nothing is left running.
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: time.Minute}

	useReal := false
	for _, v := range envVars {
		if getenv(v) != "" {
			useReal = true
		}
	}
	var s *setup
	if useReal {
		var err error
		if s, err = realSetup(getenv, hc, w); err != nil {
			return err
		}
	} else {
		srv := startFake()
		defer srv.Close() // also closes the connections of srv.NewClient's client
		c, err := srv.NewClient()
		if err != nil {
			return err
		}
		fmt.Fprintln(w, "Running against an in-process fake server (set APIKEYS_* variables to use real servers).")
		s = &setup{
			platform: c, legacy: c, tokenURL: srv.TokenURL,
			environmentID: srv.EnvironmentID("Development"), organizationID: srv.OrganizationID(),
			appID: "quickstart-app", hc: hc,
		}
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "== Platform OAuth API keys")
	if s.platform == nil {
		fmt.Fprintln(w, "skipped: set APIKEYS_CLIENT_ID, APIKEYS_PRIVATE_KEY_FILE and APIKEYS_ENVIRONMENT_ID to run it")
	} else if err := platformLifecycle(ctx, w, s); err != nil {
		return fmt.Errorf("platform: %w", err)
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "== Legacy user and app API keys")
	if s.legacy == nil {
		fmt.Fprintln(w, "skipped: set APIKEYS_LEGACY_URL, APIKEYS_LEGACY_DOMAIN, APIKEYS_LEGACY_USER_KEY and APIKEYS_LEGACY_APP_ID to run it")
	} else if err := legacyLifecycle(ctx, w, s.legacy, s.appID); err != nil {
		return fmt.Errorf("legacy: %w", err)
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "Done.")
	return nil
}

// tokenURL is APIKEYS_TOKEN_URL, or else the token endpoint of the region
// APIKEYS_BASE_URL is in: a key only gets tokens in its own region.
func tokenURL(getenv func(string) string) string {
	if u := getenv("APIKEYS_TOKEN_URL"); u != "" {
		return u
	}
	if strings.TrimSuffix(getenv("APIKEYS_BASE_URL"), "/") == apikeys.CanadaBaseURL {
		return apikeys.CanadaTokenURL
	}
	return apikeys.DefaultTokenURL
}

// realSetup builds the clients for real servers from the environment.
func realSetup(getenv func(string) string, hc *http.Client, w io.Writer) (*setup, error) {
	fmt.Fprintln(w, "Running against real servers (configured by APIKEYS_* variables).")
	s := &setup{hc: hc, tokenURL: tokenURL(getenv)}

	clientID, keyFile, envID := getenv("APIKEYS_CLIENT_ID"), getenv("APIKEYS_PRIVATE_KEY_FILE"), getenv("APIKEYS_ENVIRONMENT_ID")
	if clientID != "" && keyFile != "" && envID != "" {
		pem, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, fmt.Errorf("APIKEYS_PRIVATE_KEY_FILE: %w", err)
		}
		key, err := apikeys.ParseSigningKey(pem, "")
		if err != nil {
			return nil, fmt.Errorf("APIKEYS_PRIVATE_KEY_FILE: %w", err)
		}
		ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{
			ClientID: clientID, Key: key, TokenURL: s.tokenURL, HTTPClient: hc,
		})
		if err != nil {
			return nil, err
		}
		s.platform, err = apikeys.NewClient(
			apikeys.WithBaseURL(cmp.Or(getenv("APIKEYS_BASE_URL"), apikeys.DefaultBaseURL)),
			apikeys.WithTokenSource(ts),
			apikeys.WithHTTPClient(hc),
			apikeys.WithUserAgent("apikeys-quickstart"),
		)
		if err != nil {
			return nil, err
		}
		s.environmentID = envID
		if org := getenv("APIKEYS_ORGANIZATION_ID"); org != "" {
			if s.organizationID, err = strconv.Atoi(org); err != nil {
				return nil, fmt.Errorf("APIKEYS_ORGANIZATION_ID is not a number")
			}
		}
	}

	lurl, domain, userKey, appID := getenv("APIKEYS_LEGACY_URL"), getenv("APIKEYS_LEGACY_DOMAIN"),
		getenv("APIKEYS_LEGACY_USER_KEY"), getenv("APIKEYS_LEGACY_APP_ID")
	if lurl != "" && domain != "" && userKey != "" && appID != "" {
		var err error
		s.legacy, err = apikeys.NewClient(
			apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: lurl, Domain: domain, UserKey: userKey}),
			apikeys.WithHTTPClient(hc),
			apikeys.WithUserAgent("apikeys-quickstart"),
		)
		if err != nil {
			return nil, err
		}
		s.appID = appID
	}
	return s, nil
}

// platformLifecycle creates, uses, lists, rotates and deletes a Platform key.
func platformLifecycle(ctx context.Context, w io.Writer, s *setup) error {
	c := s.platform
	if s.organizationID != 0 {
		envs, err := c.Environments.List(ctx, s.organizationID)
		if err != nil {
			return fmt.Errorf("listing environments: %w", err)
		}
		var flags []string
		for _, e := range envs {
			flags = append(flags, fmt.Sprintf("%s (%s)", e.Name, e.Flag))
		}
		fmt.Fprintf(w, "environments of organization %d: %s\n", s.organizationID, strings.Join(flags, ", "))
	}

	// A signing key and the JWK Set that publishes its public half.
	signer, set, err := newSigningKey()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "generated signing key: kid %s, alg %s\n", signer.KeyID, signer.Algorithm)
	fmt.Fprintf(w, "built JWK Set: %d public key, valid\n", len(set.Keys))

	key, err := c.APIKeys.Create(ctx, s.environmentID, apikeys.CreateAPIKeyRequest{Name: "apikeys-quickstart", JWKSet: set})
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

	keys, err := c.APIKeys.List(ctx, s.environmentID)
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
func showToken(ctx context.Context, w io.Writer, s *setup, clientID string, signer apikeys.SigningKey, which string) error {
	ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: clientID, Key: signer, TokenURL: s.tokenURL, HTTPClient: s.hc})
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
	fmt.Fprintf(w, "created user key: %s\n", user) // String masks the key value and secret

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

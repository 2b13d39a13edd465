package apikeys_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// These examples run against the in-process fake of package apikeystest.
// Against a real server, configure the client with WithLegacy:
//
//	apikeys.NewClient(apikeys.WithLegacy(apikeys.LegacyConfig{
//		BaseURL: "https://acme.feedhenry.com", Domain: "acme", UserKey: userKey,
//	}))

// legacyExampleClient starts the fake and returns a client for its legacy
// API, configured as it would be for a real host.
func legacyExampleClient() (*apikeystest.Server, *apikeys.Client) {
	srv := apikeystest.NewServer()
	c, err := apikeys.NewClient(
		apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: srv.URL, Domain: srv.LegacyDomain, UserKey: srv.LegacyUserKey}),
		apikeys.WithHTTPClient(srv.HTTPClient()),
	)
	if err != nil {
		log.Fatal(err)
	}
	return srv, c
}

func ExampleLegacyService_Create() {
	srv, c := legacyExampleClient()
	defer srv.Close()

	key, err := c.Legacy.Create(context.Background(), apikeys.UserKeys(), "ci-deploy")
	if apikeys.IsAmbiguous(err) {
		log.Fatal("the key may have been made: ask Legacy.FindCreated before creating again: ", err)
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Println(key.Label, key.KeyType, "revoked:", key.IsRevoked()) // fmt.Println(key) masks Key and Secret
	// Output:
	// ci-deploy user revoked: false
}

func ExampleLegacyService_Update() {
	srv, c := legacyExampleClient()
	defer srv.Close()
	ctx := context.Background()

	key, err := c.Legacy.Create(ctx, apikeys.UserKeys(), "ci")
	if err != nil {
		log.Fatal(err)
	}
	key, err = c.Legacy.Update(ctx, key.Key, "ci-2026") // sets the label
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(key.Label)
	// Output:
	// ci-2026
}

func ExampleLegacyService_Delete() {
	srv, c := legacyExampleClient()
	defer srv.Close()
	ctx := context.Background()

	key, err := c.Legacy.Create(ctx, apikeys.UserKeys(), "temporary")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Legacy.Delete(ctx, key.Key); err != nil {
		log.Fatal(err)
	}
	keys, err := c.Legacy.List(ctx, apikeys.UserKeys())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("keys left:", len(keys))

	_, err = c.Legacy.Delete(ctx, key.Key)
	var apiErr *apikeys.APIError
	fmt.Println("deleted again:", errors.Is(err, apikeys.ErrNotFound), errors.As(err, &apiErr) && apiErr.API == apikeys.LegacyAPI)
	// Output:
	// keys left: 0
	// deleted again: true true
}

// A create cut after the server made the key: the SDK does not send it
// again (an app key create revokes the app's other keys), and FindCreated
// tells whether it was made.
func ExampleLegacyService_FindCreated() {
	srv, c := legacyExampleClient()
	defer srv.Close()
	ctx := context.Background()
	app := apikeys.AppKeys("billing-app")

	srv.DropNextAfterApply(apikeystest.RouteLegacyCreate, 1)
	key, err := c.Legacy.Create(ctx, app, "deploy-2026-11-29") // a label of its own
	if apikeys.IsAmbiguous(err) {
		key, err = c.Legacy.FindCreated(ctx, app, "deploy-2026-11-29")
		if errors.Is(err, apikeys.ErrNotFound) {
			key, err = c.Legacy.Create(ctx, app, "deploy-2026-11-29") // it was not made
		}
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(key.Label, "creates sent:", srv.Count(apikeystest.RouteLegacyCreate))
	// Output:
	// deploy-2026-11-29 creates sent: 1
}

// The user-key flow: create a key, rename it, revoke it, list, delete.
func ExampleUserKeys() {
	srv, c := legacyExampleClient()
	defer srv.Close()
	ctx := context.Background()

	key, err := c.Legacy.Create(ctx, apikeys.UserKeys(), "ci-deploy")
	if err != nil {
		log.Fatal(err)
	}
	if key, err = c.Legacy.Update(ctx, key.Key, "ci-deploy-2026"); err != nil {
		log.Fatal(err)
	}
	if key, err = c.Legacy.Revoke(ctx, key.Key); err != nil {
		log.Fatal(err)
	}
	fmt.Println("revoked:", key.IsRevoked())

	keys, err := c.Legacy.List(ctx, apikeys.UserKeys()) // revoked keys stay listed
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range keys {
		fmt.Printf("listed %q revoked=%t\n", k.Label, k.IsRevoked())
	}
	if _, err := c.Legacy.Delete(ctx, key.Key); err != nil {
		log.Fatal(err)
	}
	// Output:
	// revoked: true
	// listed "ci-deploy-2026" revoked=true
}

// The app-key flow: an app has one active key, so creating a new one
// revokes the old one.
func ExampleAppKeys() {
	srv, c := legacyExampleClient()
	defer srv.Close()
	ctx := context.Background()
	app := apikeys.AppKeys("app-7")

	old, err := c.Legacy.Create(ctx, app, "v1")
	if err != nil {
		log.Fatal(err)
	}
	current, err := c.Legacy.Create(ctx, app, "v2")
	if err != nil {
		log.Fatal(err)
	}
	keys, err := c.Legacy.List(ctx, app)
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range keys {
		fmt.Printf("%s owner=%s revoked=%t\n", k.Label, k.KeyReference, k.IsRevoked())
	}
	for _, k := range []*apikeys.LegacyKey{old, current} {
		valid, err := c.Legacy.Validate(ctx, apikeys.KeyTypeApp, k.Key)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s valid=%t\n", k.Label, valid)
	}
	// Output:
	// v1 owner=app-7 revoked=true
	// v2 owner=app-7 revoked=false
	// v1 valid=false
	// v2 valid=true
}

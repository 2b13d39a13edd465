package apikeystest_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// A fake server and a client wired to it: Platform calls go through the
// real token flow, legacy calls carry the seeded user key. In a test, use
// srv.Client(t), which fails the test instead of returning an error.
func ExampleNewServer() {
	srv := apikeystest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	key, err := c.APIKeys.Create(ctx, srv.EnvironmentID("Staging"), apikeys.CreateAPIKeyRequest{
		Name:    "billing-svc",
		JWKSURL: "https://billing.example.com/.well-known/jwks.json",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created", key.Name, "in", key.Environment.Flag)

	legacy, err := c.Legacy.Create(ctx, apikeys.UserKeys(), "ci")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created legacy", legacy.KeyType, "key", legacy.Label)

	// The fake's state and request log are there to check.
	fmt.Println("stored Platform keys:", len(srv.APIKeys())) // with the client's management key
	fmt.Println("token requests:", srv.Count(apikeystest.RouteToken))
	// Output:
	// created billing-svc in Staging
	// created legacy user key ci
	// stored Platform keys: 2
	// token requests: 1
}

// Faults are injected per route. A 503 on a Get is retried; a create cut
// after the server applied it is ambiguous, never repeated, and
// FindCreated tells whether it happened.
func ExampleServer_FailNext() {
	srv := apikeystest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	env := srv.EnvironmentID("Development")

	srv.FailNext(apikeystest.RouteListAPIKeys, 1, http.StatusServiceUnavailable, "")
	if _, err := c.APIKeys.List(ctx, env); err != nil {
		log.Fatal(err)
	}
	fmt.Println("list requests:", srv.Count(apikeystest.RouteListAPIKeys))

	srv.DropNextAfterApply(apikeystest.RouteCreateAPIKey, 1)
	req := apikeys.CreateAPIKeyRequest{Name: "svc", JWKSURL: "https://svc.example.com/jwks.json"}
	_, err = c.APIKeys.Create(ctx, env, req)
	fmt.Println("ambiguous:", apikeys.IsAmbiguous(err))
	key, err := c.APIKeys.FindCreated(ctx, env, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("found", key.Name, "; create requests:", srv.Count(apikeystest.RouteCreateAPIKey))
	// Output:
	// list requests: 2
	// ambiguous: true
	// found svc ; create requests: 1
}

package apikeys_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strconv"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// These examples run against the in-process fake of package apikeystest. Against the real API,
// build the client with the Platform base URL and a token source instead of srv.NewClient (see
// ExampleNewClient and ExampleNewTokenSource).

// newPublicKeySet returns a new signing key and the JWK Set of its public key, ready to upload.
func newPublicKeySet() (apikeys.SigningKey, *apikeys.JWKSet) {
	key, err := apikeys.GenerateSigningKey(apikeys.ES384)
	if err != nil {
		log.Fatal(err)
	}
	jwk, err := key.JWK()
	if err != nil {
		log.Fatal(err)
	}
	return key, apikeys.NewJWKSet(jwk)
}

func ExampleNewClient() {
	srv := apikeystest.NewServer()
	defer srv.Close()

	c, err := apikeys.NewClient(
		apikeys.WithBaseURL(srv.PlatformURL),     // apikeys.DefaultBaseURL in production
		apikeys.WithToken(srv.BearerToken),       // or apikeys.WithTokenSource(ts)
		apikeys.WithUserAgent("billing-svc/2.1"), // appended to "apikeys-go/<version>"
	)
	if err != nil {
		log.Fatal(err)
	}
	envs, err := c.Environments.List(context.Background(), srv.OrganizationID())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("environments:", len(envs))

	// Options are checked before any I/O.
	_, err = apikeys.NewClient(apikeys.WithBaseURL("http://api.example.com/platform"))
	var verr *apikeys.ValidationError
	fmt.Println("plain http refused:", errors.As(err, &verr), verr.Field)
	// Output:
	// environments: 3
	// plain http refused: true WithBaseURL
}

func ExampleAPIKeysService_Create() {
	srv := apikeystest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}

	// The key's holder keeps the private key; the key stores only the public JWK Set.
	signer, set := newPublicKeySet()
	key, err := c.APIKeys.Create(context.Background(), srv.EnvironmentID("Development"), apikeys.CreateAPIKeyRequest{
		Name:   "billing-svc",
		JWKSet: set,
	})
	if err != nil {
		log.Fatal(err)
	}
	_, found := key.JWKSet.Key(signer.KeyID)
	fmt.Println(key.Name, key.Environment.Flag, len(key.JWKSet.Keys), found)
	// Output:
	// billing-svc Development 1 true
}

func ExampleAPIKeysService_List() {
	srv := apikeystest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	env := srv.EnvironmentID("Development")
	for _, name := range []string{"billing-svc", "reports-job"} {
		if _, err := c.APIKeys.Create(ctx, env, apikeys.CreateAPIKeyRequest{Name: name}); err != nil {
			log.Fatal(err)
		}
	}

	keys, err := c.APIKeys.List(ctx, env)
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range keys {
		fmt.Println(k.Name, k.Environment.Flag)
	}
	// Output:
	// apikeystest-management Development
	// billing-svc Development
	// reports-job Development
}

func ExampleAPIKeysService_Update() {
	srv := apikeystest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	_, oldSet := newPublicKeySet()
	key, err := c.APIKeys.Create(ctx, srv.EnvironmentID("Staging"), apikeys.CreateAPIKeyRequest{Name: "billing-svc", JWKSet: oldSet})
	if err != nil {
		log.Fatal(err)
	}

	// Only the fields that are set are sent. A JWKSet replaces the key's whole set: here the
	// key is rotated to a new signing key.
	newSigner, newSet := newPublicKeySet()
	name := "billing-svc-v2"
	key, err = c.APIKeys.Update(ctx, key.ID, apikeys.UpdateAPIKeyRequest{Name: &name, JWKSet: newSet})
	if err != nil {
		log.Fatal(err)
	}
	_, hasNew := key.JWKSet.Key(newSigner.KeyID)
	fmt.Println(key.Name, len(key.JWKSet.Keys), hasNew)
	// Output:
	// billing-svc-v2 1 true
}

func ExampleEnvironmentsService_List() {
	srv := apikeystest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}

	envs, err := c.Environments.List(context.Background(), srv.OrganizationID())
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range envs {
		fmt.Printf("%s: %s (known flag: %t)\n", e.Name, e.Flag, e.Flag.Known())
	}
	// Output:
	// Acme Production: Production (known flag: true)
	// Acme Staging: Staging (known flag: true)
	// Acme Development: Development (known flag: true)
}

func ExampleIsAmbiguous() {
	srv := apikeystest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	env := srv.EnvironmentID("Development")

	// The server creates the key, then the connection breaks before the reply.
	srv.DropNextAfterApply(apikeystest.RouteCreateAPIKey, 1)

	_, set := newPublicKeySet()
	req := apikeys.CreateAPIKeyRequest{Name: "billing-svc", JWKSet: set}
	key, err := c.APIKeys.Create(ctx, env, req)
	if apikeys.IsAmbiguous(err) {
		// The create was not retried, so there is no duplicate: ask whether
		// it was made before creating it again.
		fmt.Println("outcome unknown; reconciling")
		key, err = c.APIKeys.FindCreated(ctx, env, req)
		if errors.Is(err, apikeys.ErrNotFound) {
			key, err = c.APIKeys.Create(ctx, env, req) // it was not made
		}
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("have", key.Name, "; create requests sent:", srv.Count(apikeystest.RouteCreateAPIKey))
	// Output:
	// outcome unknown; reconciling
	// have billing-svc ; create requests sent: 1
}

// Authenticate with a key's private key in one option: the client signs
// client assertions and gets access tokens on its own HTTP client.
func ExampleWithClientAssertion() {
	srv := apikeystest.NewServer()
	defer srv.Close()

	// A management API key whose public key the Platform holds.
	signer, set := newPublicKeySet()
	setJSON, err := json.Marshal(set)
	if err != nil {
		log.Fatal(err)
	}
	mgmt, err := srv.AddAPIKey(srv.EnvironmentID("Development"), "management", setJSON, "")
	if err != nil {
		log.Fatal(err)
	}

	c, err := apikeys.NewClient(
		apikeys.WithBaseURL(srv.PlatformURL), // in production: WithRegion(apikeys.US) for both URLs
		apikeys.WithTokenURL(srv.TokenURL),   // (the fake is no region's)
		apikeys.WithClientAssertion(mgmt.ID, signer),
		apikeys.WithHTTPClient(srv.HTTPClient()),
	)
	if err != nil {
		log.Fatal(err)
	}
	keys, err := c.APIKeys.List(context.Background(), srv.EnvironmentID("Development"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("keys:", len(keys), "; token requests:", srv.Count(apikeystest.RouteToken))
	fmt.Println("signs with:", c.AssertionTokenSource().KeyID() == signer.KeyID) // SetKey switches keys
	// Output:
	// keys: 1 ; token requests: 1
	// signs with: true
}

// Call another API that takes the same access token (Redox's FHIR and Data
// Model APIs do) with an http.Client on a Transport.
func ExampleTransport() {
	srv := apikeystest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	hc := &http.Client{Transport: &apikeys.Transport{
		Source: c.AssertionTokenSource(),   // or any TokenSource
		Base:   srv.HTTPClient().Transport, // default http.DefaultTransport
	}}
	resp, err := hc.Get(srv.PlatformURL + "/v1/organizations/" + strconv.Itoa(srv.OrganizationID()) + "/environments")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output:
	// 200 OK
}

// CaptureResponse reports what a call saw: the last reply's status and
// headers, the Platform's meta.version and the number of attempts.
func ExampleCaptureResponse() {
	srv := apikeystest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNext(apikeystest.RouteListEnvironments, 1, http.StatusServiceUnavailable, "")

	var resp apikeys.Response
	ctx := apikeys.CaptureResponse(context.Background(), &resp)
	if _, err := c.Environments.List(ctx, srv.OrganizationID()); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, "after", resp.Attempts, "attempts; version", resp.Version)
	// Output:
	// 200 after 2 attempts; version 1.0.0
}

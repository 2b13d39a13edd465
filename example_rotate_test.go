package apikeys_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// Rotate a service's signing key with no downtime. Its API key's public
// keys are an inline JWK Set here; for a key with a jwksURL, pass the
// JWKSHost serving it as the Publisher.
func ExampleRotate() {
	ctx := context.Background()
	srv := apikeystest.NewServer()
	defer srv.Close()
	admin, err := srv.NewClient() // manages keys
	if err != nil {
		log.Fatal(err)
	}

	// The service today: an API key whose set holds its signing key, and a
	// token source signing with it (the one its Client uses).
	oldKey, _ := apikeys.GenerateSigningKey(apikeys.ES384)
	oldJWK, _ := oldKey.JWK()
	key, err := admin.APIKeys.Create(ctx, srv.EnvironmentID("Production"),
		apikeys.CreateAPIKeyRequest{Name: "billing-svc", JWKSet: apikeys.NewJWKSet(oldJWK)})
	if err != nil {
		log.Fatal(err)
	}
	live, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: key.ID, Key: oldKey, TokenURL: srv.TokenURL, HTTPClient: srv.HTTPClient()})
	if err != nil {
		log.Fatal(err)
	}

	newKey, _ := apikeys.GenerateSigningKey(apikeys.ES384)
	rep, err := apikeys.Rotate(ctx, apikeys.RotateConfig{
		Source:      live,
		NewKey:      newKey,
		Publisher:   apikeys.InlineKeys(admin.APIKeys, key.ID),
		RetireAfter: time.Millisecond, // default: 5 minutes, the lifetime of the tokens got with the old key
	})
	if err != nil {
		log.Fatal(err) // Rotate is resumable: call it again with the same configuration
	}
	key, err = admin.APIKeys.Get(ctx, key.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("published:", rep.Published, "switched:", rep.Switched, "retired:", len(rep.Retired))
	fmt.Println("the set holds only the new key:", len(key.JWKSet.Keys) == 1 && key.JWKSet.Keys[0].KeyID() == newKey.KeyID)
	fmt.Println("the source signs with it:", live.KeyID() == newKey.KeyID)
	// Output:
	// published: true switched: true retired: 1
	// the set holds only the new key: true
	// the source signs with it: true
}

// SetKey moves a live token source to another signing key, whose public
// half the Platform must already accept (Rotate does the whole job).
func ExampleAssertionTokenSource_SetKey() {
	ctx := context.Background()
	srv := apikeystest.NewServer()
	defer srv.Close()
	oldKey, _ := apikeys.GenerateSigningKey(apikeys.ES256)
	newKey, _ := apikeys.GenerateSigningKey(apikeys.ES256)
	oldJWK, _ := oldKey.JWK()
	newJWK, _ := newKey.JWK()
	set, _ := json.Marshal(apikeys.NewJWKSet(oldJWK, newJWK)) // both published
	key, err := srv.AddAPIKey(srv.EnvironmentID("Staging"), "svc", set, "")
	if err != nil {
		log.Fatal(err)
	}
	ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: key.ID, Key: oldKey, TokenURL: srv.TokenURL, HTTPClient: srv.HTTPClient()})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := ts.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if err := ts.SetKey(newKey); err != nil {
		log.Fatal(err)
	}
	ts.Invalidate(tok) // optional: drop the token got with the old key now, not at its expiry
	if _, err := ts.Token(ctx); err != nil {
		log.Fatal(err)
	}
	issued := srv.Tokens()
	fmt.Println("first token signed with the old key:", issued[0].KeyID == oldKey.KeyID)
	fmt.Println("next token signed with the new key:", issued[1].KeyID == newKey.KeyID)
	// Output:
	// first token signed with the old key: true
	// next token signed with the new key: true
}

// Host a key's jwksURL with a JWKSHost, and change the set it serves.
func ExampleJWKSHost() {
	key, _ := apikeys.GenerateSigningKey(apikeys.ES384)
	jwk, _ := key.JWK()
	host, err := apikeys.NewJWKSHost(apikeys.NewJWKSet(jwk), 10*time.Minute) // refuses private keys
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(host) // in a service: mux.Handle("/.well-known/jwks.json", host)
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))

	// A client that has the set asks again with its ETag: not modified.
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	again, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	again.Body.Close()
	fmt.Println(again.StatusCode)

	// Publish a second key next to the first (what Rotate does through it).
	next, _ := apikeys.GenerateSigningKey(apikeys.ES384)
	nextJWK, _ := next.JWK()
	if err := host.AddPublicKeys(context.Background(), nextJWK); err != nil {
		log.Fatal(err)
	}
	set, err := apikeys.FetchJWKS(context.Background(), srv.URL, apikeys.FetchInsecureLoopbackHTTP())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(set.Keys), "keys served")
	// Output:
	// 200 application/jwk-set+json public, max-age=600
	// 304
	// 2 keys served
}

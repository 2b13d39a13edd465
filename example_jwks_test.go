package apikeys_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"time"

	"github.com/apikeys-go/apikeys"
)

// Generate a signing key and build the JWK Set to upload with
// APIKeys.Create (or to serve at the key's jwksURL with JWKSHandler).
func ExampleGenerateSigningKey() {
	key, err := apikeys.GenerateSigningKey(apikeys.ES384)
	if err != nil {
		log.Fatal(err)
	}
	jwk, err := key.JWK() // the public half only
	if err != nil {
		log.Fatal(err)
	}
	set := apikeys.NewJWKSet(jwk)
	if err := set.Validate(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(jwk.KeyType(), jwk.Algorithm(), jwk.Use(), jwk.Curve())
	fmt.Println("kid is the key's thumbprint:", jwk.KeyID() == key.KeyID)
	// Output:
	// EC ES384 sig P-384
	// kid is the key's thumbprint: true
}

// Validate refuses a set that holds private key material, naming each
// problem with the key's index and kid.
func ExampleJWKSet_Validate() {
	var set apikeys.JWKSet
	err := json.Unmarshal([]byte(`{"keys":[
		{"kty":"RSA","kid":"2011-04-29","alg":"RS256","e":"AQAB","d":"X4cTteJY_gn4FYPsXB8rdXix5vwsg1FLN5E3EaG6RJo",
		 "n":"`+rfc7638N+`"},
		{"kty":"oct","kid":"hmac","k":"c2VjcmV0"}
	]}`), &set)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(set.Validate())
	// Output:
	// apikeys: JWKSet.Validate: invalid JWK set: keys[0] (kid "2011-04-29"): holds private key member "d"; keys[1] (kid "hmac"): holds private key member "k"; keys[1] (kid "hmac"): kty "oct" is a symmetric key; only public keys are allowed
}

// Get an access token with a signed client assertion. Here the token
// endpoint is a local test server; in production leave TokenURL empty
// (DefaultTokenURL) and pass the source to WithTokenSource.
func ExampleNewTokenSource() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("client_assertion") == "" {
			http.Error(w, `{"error":"invalid_request","error_description":"Missing client assertion"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"eyJ-example","token_type":"Bearer","expires_in":300,"scope":"keys.read"}`)
	}))
	defer srv.Close()

	key, err := apikeys.GenerateSigningKey(apikeys.ES384)
	if err != nil {
		log.Fatal(err)
	}
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{
		ClientID: "my-api-key-id",
		Key:      key,
		TokenURL: srv.URL + "/v2/auth/token",
		Clock:    func() time.Time { return now },
	})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := ts.Token(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok) // the access token itself is never printed
	// Output:
	// Token{AccessToken: ****, TokenType: Bearer, Scope: keys.read, Expiry: 2025-01-02T03:09:05Z}
}

// Serve a fixed public JWK Set at a key's jwksURL with JWKSHandler, and
// check with FetchJWKS that the hosted set holds the signing key's kid.
func ExampleJWKSHandler() {
	key, err := apikeys.GenerateSigningKey(apikeys.ES384)
	if err != nil {
		log.Fatal(err)
	}
	jwk, err := key.JWK()
	if err != nil {
		log.Fatal(err)
	}
	handler, err := apikeys.JWKSHandler(apikeys.NewJWKSet(jwk)) // refuses private keys
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", handler)
	srv := httptest.NewServer(mux) // in production: your https service at the jwksURL
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/.well-known/jwks.json")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"))
	// Output:
	// 200 application/jwk-set+json
}

// Download a hosted JWK Set, e.g. to check before a rotation that it holds
// the kid the new key signs with. FetchJWKS takes https URLs only; plain
// http to a loopback host is for tests.
func ExampleFetchJWKS() {
	key, err := apikeys.GenerateSigningKey(apikeys.EdDSA)
	if err != nil {
		log.Fatal(err)
	}
	jwk, err := key.JWK()
	if err != nil {
		log.Fatal(err)
	}
	handler, err := apikeys.JWKSHandler(apikeys.NewJWKSet(jwk))
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	defer srv.Close()

	set, err := apikeys.FetchJWKS(context.Background(), srv.URL, apikeys.FetchInsecureLoopbackHTTP(), apikeys.FetchTimeout(10*time.Second))
	if err != nil {
		log.Fatal(err) // an *APIError (API JWKSHostAPI) for a non-2xx reply, a *DecodeError for one that is no set
	}
	fmt.Println("holds the key's kid:", slices.Contains(set.KeyIDs(), key.KeyID))
	// Output:
	// holds the key's kid: true
}

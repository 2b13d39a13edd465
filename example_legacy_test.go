package apikeys_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"path"
	"sync"
	"time"

	"github.com/apikeys-go/apikeys"
)

const exampleUserKey = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"

// exampleKey is a key as the fake legacy API stores and sends it.
type exampleKey struct {
	Label        string `json:"label"`
	KeyType      string `json:"keyType"`
	Key          string `json:"key"`
	KeyReference string `json:"keyReference"`
	Secret       string `json:"secret"`
	Revoked      any    `json:"revoked"` // null, or a millisecond epoch
	RevokedBy    any    `json:"revokedBy"`
}

// newExampleLegacyAPI starts a small in-memory fake of the legacy key API
// (the apikeystest package has a complete one). An app keeps one active
// key: creating one revokes the others.
func newExampleLegacyAPI() *httptest.Server {
	var (
		mu   sync.Mutex
		keys []*exampleKey
		made int
	)
	const revokedAt = 1425990896789 // 2015-03-10T12:34:56.789Z
	reply := func(w http.ResponseWriter, v map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	find := func(key string) (int, *exampleKey) {
		for i, k := range keys {
			if k.Key == key {
				return i, k
			}
		}
		return -1, nil
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-FH-AUTH-USER") != exampleUserKey {
			w.WriteHeader(http.StatusUnauthorized)
			reply(w, map[string]any{"status": "error", "message": "not logged in"})
			return
		}
		var req struct {
			Type, AppID, Label, Key string
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		owner := "user-1"
		if req.Type == apikeys.KeyTypeApp {
			owner = req.AppID
		}
		mu.Lock()
		defer mu.Unlock()
		i, k := find(req.Key)
		op := path.Base(r.URL.Path)
		if k == nil && (op == "revoke" || op == "delete" || op == "update") {
			reply(w, map[string]any{"status": "error", "message": "API key not found"})
			return
		}
		switch op {
		case "list":
			list := []*exampleKey{}
			for _, k := range keys {
				if k.KeyType == req.Type && k.KeyReference == owner {
					list = append(list, k)
				}
			}
			reply(w, map[string]any{"status": "ok", "list": list})
		case "create":
			for _, k := range keys {
				if req.Type == apikeys.KeyTypeApp && k.KeyReference == owner && k.Revoked == nil {
					k.Revoked, k.RevokedBy = revokedAt, "user-1"
				}
			}
			made++
			sum := sha1.Sum([]byte(fmt.Sprint("key-", made)))
			k := &exampleKey{Label: req.Label, KeyType: req.Type, Key: hex.EncodeToString(sum[:]),
				KeyReference: owner, Secret: fmt.Sprint("secret-", made)}
			keys = append(keys, k)
			reply(w, map[string]any{"status": "ok", "apiKey": k})
		case "update":
			k.Label = req.Label
			reply(w, map[string]any{"status": "ok", "apiKey": k})
		case "revoke":
			k.Revoked, k.RevokedBy = revokedAt, "user-1"
			reply(w, map[string]any{"status": "ok", "apiKey": k})
		case "delete":
			keys = append(keys[:i], keys[i+1:]...)
			reply(w, map[string]any{"status": "ok", "apiKey": k})
		case "validate":
			reply(w, map[string]any{"status": "ok", "valid": k != nil && k.KeyType == req.Type && k.Revoked == nil})
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
}

// The user-key flow: create a key, rename it, revoke it, list, delete.
func ExampleUserKeys() {
	srv := newExampleLegacyAPI()
	defer srv.Close()

	client, err := apikeys.NewClient(apikeys.WithLegacy(apikeys.LegacyConfig{
		BaseURL: srv.URL, // e.g. https://acme.feedhenry.com
		Domain:  "acme",
		UserKey: exampleUserKey,
	}))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	key, err := client.Legacy.Create(ctx, apikeys.UserKeys(), "ci-deploy")
	if err != nil {
		log.Fatal(err) // if apikeys.IsAmbiguous(err): List before creating again
	}
	fmt.Println(key) // the secret and most of the key value are masked

	if key, err = client.Legacy.Update(ctx, key.Key, "ci-deploy-2015"); err != nil {
		log.Fatal(err)
	}
	if key, err = client.Legacy.Revoke(ctx, key.Key); err != nil {
		log.Fatal(err)
	}
	fmt.Println("revoked at", key.Revoked.Format(time.RFC3339Nano))

	keys, err := client.Legacy.List(ctx, apikeys.UserKeys())
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range keys {
		fmt.Printf("listed %q revoked=%t\n", k.Label, k.IsRevoked())
	}

	if _, err := client.Legacy.Delete(ctx, key.Key); err != nil {
		log.Fatal(err)
	}
	_, err = client.Legacy.Delete(ctx, key.Key)
	fmt.Println("deleted twice, not found:", errors.Is(err, apikeys.ErrNotFound))
	// Output:
	// LegacyKey{Label: "ci-deploy", KeyType: "user", Key: "9e52…826b", KeyReference: "user-1", Secret: "****", Revoked: nil, RevokedBy: "", RevokedEmail: ""}
	// revoked at 2015-03-10T12:34:56.789Z
	// listed "ci-deploy-2015" revoked=true
	// deleted twice, not found: true
}

// The app-key flow: an app has one active key, so creating a new one
// revokes the old one.
func ExampleAppKeys() {
	srv := newExampleLegacyAPI()
	defer srv.Close()

	client, err := apikeys.NewClient(apikeys.WithLegacy(apikeys.LegacyConfig{
		BaseURL: srv.URL, Domain: "acme", UserKey: exampleUserKey,
	}))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	app := apikeys.AppKeys("app-7")

	old, err := client.Legacy.Create(ctx, app, "v1")
	if err != nil {
		log.Fatal(err)
	}
	// Create is never retried once it may have reached the server: a
	// second app-key create would revoke the first. On an ambiguous
	// outcome, List the app's keys before creating again.
	current, err := client.Legacy.Create(ctx, app, "v2")
	if apikeys.IsAmbiguous(err) {
		log.Fatal("reconcile with List before creating again: ", err)
	} else if err != nil {
		log.Fatal(err)
	}

	keys, err := client.Legacy.List(ctx, app)
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range keys {
		fmt.Printf("%s owner=%s revoked=%t\n", k.Label, k.KeyReference, k.IsRevoked())
	}
	for _, k := range []*apikeys.LegacyKey{old, current} {
		valid, err := client.Legacy.Validate(ctx, apikeys.KeyTypeApp, k.Key)
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

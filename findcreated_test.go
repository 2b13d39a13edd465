package apikeys_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// jwkSetOf returns the public JWK Set of keys, and its JSON.
func jwkSetOf(t *testing.T, keys ...apikeys.SigningKey) (*apikeys.JWKSet, []byte) {
	t.Helper()
	var jwks []apikeys.JWK
	for _, k := range keys {
		jwk, err := k.JWK()
		require.NoError(t, err)
		jwks = append(jwks, jwk)
	}
	set := apikeys.NewJWKSet(jwks...)
	b, err := json.Marshal(set)
	require.NoError(t, err)
	return set, b
}

// TestAPIKeysFindCreated: after a create whose outcome is unknown,
// FindCreated finds the key it made among decoys (same name, other
// jwksURL or kids; same kids, other name), or says it was not made.
func TestAPIKeysFindCreated(t *testing.T) {
	k1 := generatedKey(t, apikeys.ES256)
	other := generatedKey(t, apikeys.RS256)
	fresh1, fresh2 := freshKey(t), freshKey(t)
	freshSet, _ := jwkSetOf(t, fresh1, fresh2)
	tests := []struct {
		name    string
		req     apikeys.CreateAPIKeyRequest
		applied bool
	}{
		{name: "by kids, applied", req: apikeys.CreateAPIKeyRequest{Name: "svc", JWKSet: freshSet}, applied: true},
		{name: "by kids, not applied", req: apikeys.CreateAPIKeyRequest{Name: "svc", JWKSet: freshSet}, applied: false},
		{name: "by jwksURL, applied", req: apikeys.CreateAPIKeyRequest{Name: "svc", JWKSURL: "https://keys.example.com/svc-2026-11.json"}, applied: true},
		{name: "by jwksURL, not applied", req: apikeys.CreateAPIKeyRequest{Name: "svc", JWKSURL: "https://keys.example.com/svc-2026-11.json"}, applied: false},
		{name: "no keys, applied", req: apikeys.CreateAPIKeyRequest{Name: "svc-empty"}, applied: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := apikeystest.NewServer()
			t.Cleanup(srv.Close)
			env := srv.EnvironmentID("Staging")
			_, oldSet := jwkSetOf(t, k1)
			_, mixedSet := jwkSetOf(t, fresh1, other)
			_, sameKids := jwkSetOf(t, fresh2, fresh1)
			decoys := []struct {
				name    string
				set     []byte
				jwksURL string
			}{
				{name: "svc", set: oldSet, jwksURL: ""},                                       // same name, other kids
				{name: "svc", set: mixedSet, jwksURL: ""},                                     // same name, one kid in common
				{name: "svc", set: nil, jwksURL: "https://keys.example.com/svc-2026-10.json"}, // same name, other URL
				{name: "svc-old", set: sameKids, jwksURL: ""},                                 // same kids, other name
				{name: "svc-old", set: nil, jwksURL: "https://keys.example.com/svc-2026-11.json"},
				{name: "svc-empty", set: nil, jwksURL: "https://keys.example.com/e.json"},
			}
			addDecoys := func() {
				for _, d := range decoys {
					_, err := srv.AddAPIKey(env, d.name, d.set, d.jwksURL)
					require.NoError(t, err)
				}
			}
			addDecoys()
			_, err := srv.AddAPIKey(srv.EnvironmentID("Production"), tt.req.Name, sameKids, tt.req.JWKSURL) // other environment
			require.NoError(t, err)
			c := srv.Client(t)
			ctx := context.Background()

			if tt.applied {
				srv.DropNextAfterApply(apikeystest.RouteCreateAPIKey, 1)
			} else {
				srv.DropNext(apikeystest.RouteCreateAPIKey, 1)
			}
			_, err = c.APIKeys.Create(ctx, env, tt.req)
			require.True(t, apikeys.IsAmbiguous(err), "%v", err)
			var made apikeystest.APIKey
			if tt.applied {
				stored := srv.APIKeys()
				made = stored[len(stored)-1] // the create came last
			}
			addDecoys() // listed after the key made: the last match must still be the right one

			found, err := c.APIKeys.FindCreated(ctx, env, tt.req)
			if !tt.applied {
				assert.ErrorIs(t, err, apikeys.ErrNotFound)
				assert.Nil(t, found)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, made.ID, found.ID)
			assert.Equal(t, tt.req.Name, found.Name)
		})
	}
}

// TestAPIKeysFindCreatedMatchRule: a key created with a jwksURL matches
// on name and jwksURL, whatever jwkSet the server echoes for it (the keys
// it fetched from the URL, say); one created with an inline set matches
// on name and kids; one created with neither on a name with neither.
func TestAPIKeysFindCreatedMatchRule(t *testing.T) {
	const url, otherURL = "https://keys.example.com/svc.json", "https://keys.example.com/old.json"
	a, b, c := freshKey(t), freshKey(t), freshKey(t)
	set, setJSON := jwkSetOf(t, a, b)
	_, sameKidsJSON := jwkSetOf(t, b, a)
	_, subsetJSON := jwkSetOf(t, a)
	_, otherJSON := jwkSetOf(t, c)
	key := func(id, name, jwksURL string, set []byte) string {
		k := map[string]any{"id": id, "name": name, "environment": map[string]string{"id": "env", "environmentFlag": "Staging"}}
		if jwksURL != "" {
			k["jwksURL"] = jwksURL
		}
		if set != nil {
			k["jwkSet"] = json.RawMessage(set)
		}
		out, err := json.Marshal(k)
		require.NoError(t, err)
		return string(out)
	}
	tests := []struct {
		name string
		req  apikeys.CreateAPIKeyRequest
		keys []string // the List reply; the key made has ID "made"
	}{
		{"jwksURL, server echoes the fetched set", apikeys.CreateAPIKeyRequest{Name: "svc", JWKSURL: url}, []string{
			key("made", "svc", url, otherJSON),
			key("d1", "svc", otherURL, otherJSON), // same name, other URL
			key("d2", "svc-old", url, nil),        // same URL, other name
			key("d3", "svc", "", nil),             // same name, no URL
		}},
		{"jwksURL, no set echoed", apikeys.CreateAPIKeyRequest{Name: "svc", JWKSURL: url}, []string{
			key("made", "svc", url, nil),
			key("d1", "svc", otherURL, nil),
		}},
		{"inline set", apikeys.CreateAPIKeyRequest{Name: "svc", JWKSet: set}, []string{
			key("made", "svc", "", sameKidsJSON),
			key("d1", "svc", "", subsetJSON),      // same name, one kid of the two
			key("d2", "svc-old", "", setJSON),     // same kids, other name
			key("d3", "svc", otherURL, otherJSON), // same name, other keys
		}},
		{"neither", apikeys.CreateAPIKeyRequest{Name: "svc"}, []string{
			key("made", "svc", "", nil),
			key("d1", "svc", otherURL, nil),  // same name, a URL
			key("d2", "svc", "", subsetJSON), // same name, a set
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				reply(w, http.StatusOK, envelope(`{"apikeys":[`+strings.Join(tt.keys, ",")+`]}`))
			})
			c, _ := newClient(t, s)
			found, err := c.APIKeys.FindCreated(context.Background(), "env", tt.req)
			require.NoError(t, err)
			assert.Equal(t, "made", found.ID)
		})
	}
}

// freshKey generates a key of its own (not generatedKey's shared one), as
// a caller creating an API key does.
func freshKey(t *testing.T) apikeys.SigningKey {
	t.Helper()
	k, err := apikeys.GenerateSigningKey(apikeys.ES256)
	require.NoError(t, err)
	return k
}

func TestAPIKeysFindCreatedErrors(t *testing.T) {
	srv := apikeystest.NewServer()
	t.Cleanup(srv.Close)
	c := srv.Client(t)
	ctx := context.Background()
	env := srv.EnvironmentID("Staging")

	var ve *apikeys.ValidationError
	_, err := c.APIKeys.FindCreated(ctx, "", apikeys.CreateAPIKeyRequest{Name: "svc"})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "environmentID", ve.Field)
	_, err = c.APIKeys.FindCreated(ctx, env, apikeys.CreateAPIKeyRequest{Name: " "})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "Name", ve.Field)
	assert.Zero(t, srv.Count(apikeystest.RouteListAPIKeys), "nothing sent for bad input")

	srv.FailNext(apikeystest.RouteListAPIKeys, 4, http.StatusBadGateway, "")
	_, err = c.APIKeys.FindCreated(ctx, env, apikeys.CreateAPIKeyRequest{Name: "svc"})
	var ae *apikeys.APIError
	require.ErrorAs(t, err, &ae, "a failed list is no answer: not ErrNotFound")
	assert.Equal(t, http.StatusBadGateway, ae.StatusCode)
	assert.NotErrorIs(t, err, apikeys.ErrNotFound)
}

// TestLegacyFindCreated: the newest active key with the label, among
// decoys (the same label revoked, other labels), or ErrNotFound.
func TestLegacyFindCreated(t *testing.T) {
	tests := []struct {
		name    string
		owner   apikeys.KeyOwner
		applied bool
	}{
		{name: "app key, applied", owner: apikeys.AppKeys("app-1"), applied: true},
		{name: "app key, not applied", owner: apikeys.AppKeys("app-1"), applied: false},
		{name: "user key, applied", owner: apikeys.UserKeys(), applied: true},
		{name: "user key, not applied", owner: apikeys.UserKeys(), applied: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := apikeystest.NewServer()
			t.Cleanup(srv.Close)
			c := srv.Client(t)
			ctx := context.Background()
			const label = "deploy-2026-11-29"
			// Decoys: the label on a revoked key and on another owner's key;
			// another label, made last.
			old, err := c.Legacy.Create(ctx, tt.owner, label)
			require.NoError(t, err)
			_, err = c.Legacy.Revoke(ctx, old.Key)
			require.NoError(t, err)
			otherOwner := apikeys.AppKeys("app-2")
			_, err = c.Legacy.Create(ctx, otherOwner, label)
			require.NoError(t, err)
			_, err = c.Legacy.Create(ctx, tt.owner, "deploy-2026-11-28")
			require.NoError(t, err)

			if tt.applied {
				srv.DropNextAfterApply(apikeystest.RouteLegacyCreate, 1)
			} else {
				srv.DropNext(apikeystest.RouteLegacyCreate, 1)
			}
			_, err = c.Legacy.Create(ctx, tt.owner, label)
			require.True(t, apikeys.IsAmbiguous(err), "%v", err)

			found, err := c.Legacy.FindCreated(ctx, tt.owner, label)
			if !tt.applied {
				assert.ErrorIs(t, err, apikeys.ErrNotFound)
				assert.Nil(t, found)
				return
			}
			require.NoError(t, err)
			stored := srv.LegacyKeys()
			made := stored[len(stored)-1]
			assert.Equal(t, made.Key, found.Key)
			assert.Equal(t, label, found.Label)
			assert.False(t, found.IsRevoked())
		})
	}
}

func TestLegacyFindCreatedValidates(t *testing.T) {
	srv := apikeystest.NewServer()
	t.Cleanup(srv.Close)
	c := srv.Client(t)
	var ve *apikeys.ValidationError
	_, err := c.Legacy.FindCreated(context.Background(), apikeys.KeyOwner{}, "x")
	require.ErrorAs(t, err, &ve)
	_, err = c.Legacy.FindCreated(context.Background(), apikeys.UserKeys(), "")
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "label", ve.Field)
	assert.Zero(t, srv.Count(apikeystest.RouteLegacyList))
}

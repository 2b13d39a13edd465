package apikeystest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// legacyAs calls a legacy op authenticated by userKey.
func (f *fixture) legacyAs(userKey, op, body string) reply {
	f.t.Helper()
	return f.send(http.MethodPost, f.legacyURL(op), body,
		"X-FH-AUTH-USER", userKey, "Content-Type", "application/json")
}

// TestAddLegacyUser: an added user authenticates with its key, owns the user keys it creates
// (and only sees those), is named on the keys it revokes, and its key is masked in the log.
func TestAddLegacyUser(t *testing.T) {
	f := start(t)
	u, err := f.srv.AddLegacyUser(apikeystest.LegacyUser{})
	require.NoError(t, err)
	assert.Equal(t, "user-2", u.ID)
	assert.Equal(t, "user-2@example.com", u.Email)
	assert.Regexp(t, hex40RE, u.Key)
	ann, err := f.srv.AddLegacyUser(apikeystest.LegacyUser{ID: "ann", Email: "ann@corp.test", Key: strings.Repeat("ab", 20)})
	require.NoError(t, err)
	assert.Equal(t, apikeystest.LegacyUser{ID: "ann", Email: "ann@corp.test", Key: strings.Repeat("ab", 20)}, ann)
	assert.Equal(t, []apikeystest.LegacyUser{
		{ID: apikeystest.LegacyUserID, Email: apikeystest.LegacyUserEmail, Key: f.srv.LegacyUserKey}, u, ann,
	}, f.srv.LegacyUsers())
	third, err := f.srv.AddLegacyUser(apikeystest.LegacyUser{})
	require.NoError(t, err)
	assert.Equal(t, "user-4", third.ID, "the first free user-N")

	k := apiKey(t, f.legacyAs(ann.Key, "create", `{"type":"user","label":"ann's"}`))
	assert.Equal(t, "ann", k["keyReference"])
	annKey := k["key"].(string)
	assert.Len(t, list(t, f, `{"type":"user"}`), 0, "the seeded user does not see ann's keys")
	l, _ := ok(t, f.legacyAs(annKey, "list", `{"type":"user"}`))["list"].([]any)
	assert.Equal(t, []any{k}, l, "ann's own user key authenticates as ann")

	revoked := apiKey(t, f.legacyAs(ann.Key, "revoke", `{"key":"`+annKey+`"}`))
	assert.Equal(t, "ann", revoked["revokedBy"])
	assert.Equal(t, "ann@corp.test", revoked["revokedEmail"])
	assert.Equal(t, http.StatusUnauthorized, f.legacyAs(annKey, "list", `{"type":"user"}`).status, "a revoked key no longer authenticates")

	// An app key created by ann revokes the earlier one in ann's name.
	apiKey(t, f.legacy("create", `{"type":"app","appId":"a1","label":"first"}`))
	apiKey(t, f.legacyAs(ann.Key, "create", `{"type":"app","appId":"a1","label":"second"}`))
	assert.Equal(t, "ann", f.srv.LegacyKeys()[1].RevokedBy)

	// The user's key is one of the fake's secrets.
	f.platform(http.MethodGet, "/v1/apikeys/"+u.Key, "")
	reqs := f.srv.Requests()
	assert.Equal(t, "/platform/v1/apikeys/****", reqs[len(reqs)-1].Path)
}

func TestAddLegacyUserRefusals(t *testing.T) {
	f := start(t)
	_, err := f.srv.AddLegacyUser(apikeystest.LegacyUser{ID: "ann"})
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		user apikeystest.LegacyUser
		want string
	}{
		{name: "taken ID", user: apikeystest.LegacyUser{ID: "ann"}, want: `legacy user "ann" already exists`},
		{name: "seeded ID", user: apikeystest.LegacyUser{ID: apikeystest.LegacyUserID}, want: "already exists"},
		{name: "blank ID", user: apikeystest.LegacyUser{ID: " "}, want: "id must not be blank"},
		{name: "short key", user: apikeystest.LegacyUser{Key: "abc"}, want: "key must be 40 lower-case hex characters"},
		{name: "upper-case key", user: apikeystest.LegacyUser{Key: strings.Repeat("AB", 20)}, want: "key must be 40 lower-case hex characters"},
		{name: "seeded user's key", user: apikeystest.LegacyUser{Key: f.srv.LegacyUserKey}, want: "key is already in use"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.srv.AddLegacyUser(tc.user)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.Len(t, f.srv.LegacyUsers(), 2)
}

// TestAddLegacyKey: keys stored directly are served by the API as created ones are, with the
// create call's rules.
func TestAddLegacyKey(t *testing.T) {
	f := start(t, apikeystest.WithLegacyAdmin(true))
	uk, err := f.srv.AddLegacyKey(apikeystest.LegacyKey{Label: "laptop", KeyType: "user"})
	require.NoError(t, err)
	assert.Equal(t, apikeystest.LegacyUserID, uk.KeyReference)
	assert.Regexp(t, hex40RE, uk.Key)
	assert.Regexp(t, hex40RE, uk.Secret)
	assert.Nil(t, uk.Revoked)
	assert.Equal(t, []any{map[string]any{
		"label": "laptop", "keyType": "user", "key": uk.Key, "keyReference": apikeystest.LegacyUserID,
		"secret": uk.Secret, "revoked": nil, "revokedBy": nil, "revokedEmail": nil,
	}}, list(t, f, `{"type":"user"}`))
	assert.Equal(t, http.StatusOK, f.legacyAs(uk.Key, "list", `{"type":"user"}`).status, "it authenticates")

	// Given values are kept; a revoked key is kept to the millisecond with the seeded revoker.
	at := time.Date(2025, 1, 2, 3, 4, 5, 6789012, time.UTC)
	given := apikeystest.LegacyKey{
		Label: "old", KeyType: "app", KeyReference: "app-1",
		Key: strings.Repeat("1a", 20), Secret: strings.Repeat("2b", 20), Revoked: &at,
	}
	old, err := f.srv.AddLegacyKey(given)
	require.NoError(t, err)
	ms := time.UnixMilli(at.UnixMilli())
	want := given
	want.Revoked, want.RevokedBy, want.RevokedEmail = &ms, apikeystest.LegacyUserID, apikeystest.LegacyUserEmail
	assert.Equal(t, want, old)
	assert.Equal(t, &at, given.Revoked, "the caller's time is not changed")

	// An active app key revokes the app's active keys, as create does.
	a1, err := f.srv.AddLegacyKey(apikeystest.LegacyKey{Label: "a1", KeyType: "app", KeyReference: "app-1"})
	require.NoError(t, err)
	a2, err := f.srv.AddLegacyKey(apikeystest.LegacyKey{Label: "a2", KeyType: "app", KeyReference: "app-1"})
	require.NoError(t, err)
	keys := f.srv.LegacyKeys()
	require.Len(t, keys, 4)
	assert.Equal(t, a1.Key, keys[2].Key)
	assert.NotNil(t, keys[2].Revoked, "a2 revoked a1")
	assert.Nil(t, keys[3].Revoked)
	assert.Equal(t, ms, *keys[1].Revoked, "an already revoked key keeps its revocation")
	assert.Equal(t, true, ok(t, f.legacy("validate", `{"type":"app","key":"`+a2.Key+`"}`))["valid"])
	assert.Equal(t, false, ok(t, f.legacy("validate", `{"type":"app","key":"`+a1.Key+`"}`))["valid"])

	// Another user's key.
	ann, err := f.srv.AddLegacyUser(apikeystest.LegacyUser{ID: "ann"})
	require.NoError(t, err)
	ak, err := f.srv.AddLegacyKey(apikeystest.LegacyKey{Label: "ann's", KeyType: "user", KeyReference: "ann"})
	require.NoError(t, err)
	l, _ := ok(t, f.legacyAs(ann.Key, "list", `{"type":"user"}`))["list"].([]any)
	require.Len(t, l, 1)
	assert.Equal(t, ak.Key, l[0].(map[string]any)["key"])

	// Secrets are masked by value in the log.
	f.platform(http.MethodGet, "/v1/apikeys/"+old.Secret, "")
	reqs := f.srv.Requests()
	assert.Equal(t, "/platform/v1/apikeys/****", reqs[len(reqs)-1].Path)
}

func TestAddLegacyKeyRefusals(t *testing.T) {
	f := start(t)
	now := time.Now()
	for _, tc := range []struct {
		name string
		key  apikeystest.LegacyKey
		want string
	}{
		{name: "no label", key: apikeystest.LegacyKey{KeyType: "user"}, want: "label is required"},
		{name: "blank label", key: apikeystest.LegacyKey{Label: " ", KeyType: "user"}, want: "label is required"},
		{name: "no type", key: apikeystest.LegacyKey{Label: "x"}, want: `keyType must be "user" or "app"`},
		{name: "other type", key: apikeystest.LegacyKey{Label: "x", KeyType: "git_repo", KeyReference: "r"}, want: `keyType must be "user" or "app"`},
		{name: "app without app", key: apikeystest.LegacyKey{Label: "x", KeyType: "app"}, want: "keyReference (the app ID) is required"},
		{name: "unknown user", key: apikeystest.LegacyKey{Label: "x", KeyType: "user", KeyReference: "bob"}, want: `no legacy user "bob"`},
		{name: "bad key", key: apikeystest.LegacyKey{Label: "x", KeyType: "user", Key: "nope"}, want: "key must be 40 lower-case hex characters"},
		{name: "bad secret", key: apikeystest.LegacyKey{Label: "x", KeyType: "user", Secret: strings.Repeat("g", 40)}, want: "secret must be 40 lower-case hex characters"},
		{name: "user key in use", key: apikeystest.LegacyKey{Label: "x", KeyType: "user", Key: f.srv.LegacyUserKey}, want: "key is already in use"},
		{name: "revoker without revoked", key: apikeystest.LegacyKey{Label: "x", KeyType: "user", RevokedBy: "me"}, want: "only for a revoked key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.srv.AddLegacyKey(tc.key)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	k, err := f.srv.AddLegacyKey(apikeystest.LegacyKey{Label: "x", KeyType: "user", Revoked: &now, RevokedBy: "someone", RevokedEmail: "s@x.test"})
	require.NoError(t, err)
	assert.Equal(t, "someone", k.RevokedBy, "a given revoker is kept")
	_, err = f.srv.AddLegacyKey(apikeystest.LegacyKey{Label: "y", KeyType: "user", Key: k.Key})
	assert.ErrorContains(t, err, "key is already in use")
	assert.Len(t, f.srv.LegacyKeys(), 1)
}

// TestNewManagementKey: the key it stores and returns gets tokens through the token flow.
func TestNewManagementKey(t *testing.T) {
	f := start(t)
	mk, key, err := f.srv.NewManagementKey()
	require.NoError(t, err)
	assert.Equal(t, apikeystest.ManagementKeyName, mk.Name)
	assert.Equal(t, f.srv.EnvironmentID("Development"), mk.EnvironmentID)
	assert.Equal(t, apikeys.ES384, key.Algorithm)
	assert.Equal(t, []apikeystest.APIKey{mk}, f.srv.APIKeys())

	ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{
		ClientID: mk.ID, Key: key, TokenURL: f.srv.TokenURL, HTTPClient: f.hc, Clock: f.clock.Now,
	})
	require.NoError(t, err)
	tok, err := ts.Token(t.Context())
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, listEnvs(f, tok.AccessToken).status)
	require.Len(t, f.srv.Tokens(), 1)
	assert.Equal(t, apikeystest.IssuedToken{
		ClientID: mk.ID, KeyID: key.KeyID, IssuedAt: f.clock.Now(), ExpiresAt: f.clock.Now().Add(5 * time.Minute),
	}, f.srv.Tokens()[0])
}

// TestReset: Reset forgets what tests did and keeps what the fake was started with; a client
// made before it keeps working.
func TestReset(t *testing.T) {
	f := start(t)
	envs := f.srv.Environments()
	c := f.srv.Client(t)
	ctx := t.Context()
	_, set := newSet(t)
	_, err := c.APIKeys.Create(ctx, f.srv.EnvironmentID("Staging"), apikeys.CreateAPIKeyRequest{Name: "svc", JWKSet: set})
	require.NoError(t, err)
	_, err = c.Legacy.Create(ctx, apikeys.UserKeys(), "laptop")
	require.NoError(t, err)
	_, err = f.srv.AddLegacyUser(apikeystest.LegacyUser{ID: "ann"})
	require.NoError(t, err)
	f.srv.FailNext(apikeystest.RouteCreateAPIKey, 5, http.StatusServiceUnavailable, "")
	f.srv.SetLatency(apikeystest.RouteListEnvironments, time.Hour)
	require.Len(t, f.srv.APIKeys(), 2)
	require.Equal(t, 1, f.srv.IssuedTokens())

	f.srv.Reset()
	keys := f.srv.APIKeys()
	require.Len(t, keys, 1)
	assert.Equal(t, apikeystest.ManagementKeyName, keys[0].Name)
	assert.Empty(t, f.srv.LegacyKeys())
	assert.Len(t, f.srv.LegacyUsers(), 1)
	assert.Zero(t, f.srv.IssuedTokens())
	assert.Empty(t, f.srv.Tokens())
	assert.Empty(t, f.srv.Requests())
	assert.Zero(t, f.srv.Count(apikeystest.RouteCreateAPIKey))
	assert.Equal(t, envs, f.srv.Environments())

	// No fault or latency is left; the old client's token is refused once and replaced.
	_, err = c.APIKeys.Create(ctx, f.srv.EnvironmentID("Staging"), apikeys.CreateAPIKeyRequest{Name: "svc-2", JWKSet: set})
	require.NoError(t, err)
	got, err := c.Environments.List(ctx, f.srv.OrganizationID())
	require.NoError(t, err)
	assert.Len(t, got, 3)
	assert.Equal(t, 1, f.srv.IssuedTokens(), "a new token after the reset")
	assert.Equal(t, http.StatusOK, listEnvs(f, f.srv.BearerToken).status, "the static token still works")
	_, err = c.Legacy.List(ctx, apikeys.UserKeys())
	require.NoError(t, err, "the seeded user key still works")
}

// TestResetWhileRequestInFlight: a request logged before a Reset and refused after it changes
// nothing in the new log.
func TestResetWhileRequestInFlight(t *testing.T) {
	f := start(t)
	f.srv.SetLatency(apikeystest.RouteGetAPIKey, 100*time.Millisecond)
	done := make(chan reply, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, f.srv.PlatformURL+"/v1/apikeys/nope", nil)
		req.Header.Set("Authorization", "Bearer "+f.srv.BearerToken)
		resp, err := f.hc.Do(req)
		if !assert.NoError(t, err) {
			done <- reply{}
			return
		}
		resp.Body.Close()
		done <- reply{status: resp.StatusCode}
	}()
	select {
	case <-f.srv.Await(apikeystest.RouteGetAPIKey, 1):
	case <-time.After(guard):
		t.Fatal("the request never reached the fake")
	}
	f.srv.Reset()
	assert.Equal(t, http.StatusNotFound, (<-done).status)
	assert.Empty(t, f.srv.Requests())
	assert.Zero(t, f.srv.Count(apikeystest.RouteGetAPIKey))
}

package apikeystest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// These tests drive the SDK end to end against the fake, through Server.Client.

// newSet returns a new ES256 signing key and the public JWK Set holding it.
func newSet(t *testing.T) (apikeys.SigningKey, *apikeys.JWKSet) {
	t.Helper()
	k, err := apikeys.GenerateSigningKey(apikeys.ES256)
	require.NoError(t, err)
	jwk, err := k.JWK()
	require.NoError(t, err)
	return k, apikeys.NewJWKSet(jwk)
}

func kids(set *apikeys.JWKSet) []string {
	if set == nil {
		return nil
	}
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID())
	}
	return out
}

func TestClientPlatformLifecycle(t *testing.T) {
	f := start(t)
	c := f.srv.Client(t)
	ctx := t.Context()
	env := f.srv.EnvironmentID("Development")

	// The management key Client stored is the only key so far.
	stored := f.srv.APIKeys()
	require.Len(t, stored, 1)
	assert.Equal(t, apikeystest.ManagementKeyName, stored[0].Name)

	k1, set1 := newSet(t)
	key, err := c.APIKeys.Create(ctx, env, apikeys.CreateAPIKeyRequest{Name: "billing-svc", JWKSet: set1})
	require.NoError(t, err)
	assert.Equal(t, "billing-svc", key.Name)
	assert.NotEmpty(t, key.ID)
	assert.Equal(t, env, key.Environment.ID)
	assert.Equal(t, apikeys.Development, key.Environment.Flag)
	assert.Equal(t, []string{k1.KeyID}, kids(key.JWKSet))

	got, err := c.APIKeys.Get(ctx, key.ID)
	require.NoError(t, err)
	assert.Equal(t, key.Name, got.Name)
	assert.Equal(t, []string{k1.KeyID}, kids(got.JWKSet))

	list, err := c.APIKeys.List(ctx, env)
	require.NoError(t, err)
	var names []string
	for _, k := range list {
		names = append(names, k.Name)
	}
	assert.Equal(t, []string{apikeystest.ManagementKeyName, "billing-svc"}, names)

	// Rename and rotate: the new set replaces the old one.
	k2, set2 := newSet(t)
	name := "billing-svc-2"
	upd, err := c.APIKeys.Update(ctx, key.ID, apikeys.UpdateAPIKeyRequest{Name: &name, JWKSet: set2})
	require.NoError(t, err)
	assert.Equal(t, name, upd.Name)
	assert.Equal(t, []string{k2.KeyID}, kids(upd.JWKSet))
	assert.Equal(t, name, f.srv.APIKeys()[1].Name)

	msg, err := c.APIKeys.Delete(ctx, key.ID)
	require.NoError(t, err)
	assert.Equal(t, "API key deleted", msg)
	_, err = c.APIKeys.Get(ctx, key.ID)
	require.ErrorIs(t, err, apikeys.ErrNotFound)
	var apiErr *apikeys.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)

	// Every call was authenticated by one access token from the token endpoint.
	assert.Equal(t, 1, f.srv.IssuedTokens())
	assert.Equal(t, 1, f.srv.Count(apikeystest.RouteToken))
	for _, r := range f.srv.Requests() {
		if r.Route != apikeystest.RouteToken {
			assert.Equal(t, "Bearer ****", r.Header.Get("Authorization"), "%s", r.Route)
		}
	}
}

func TestClientEnvironments(t *testing.T) {
	f := start(t)
	c := f.srv.Client(t)
	envs, err := c.Environments.List(t.Context(), f.srv.OrganizationID())
	require.NoError(t, err)
	var flags []apikeys.EnvironmentFlag
	for _, e := range envs {
		assert.True(t, e.Flag.Known(), "%q", e.Flag)
		assert.Equal(t, f.srv.EnvironmentID(string(e.Flag)), e.ID)
		require.NotNil(t, e.Organization)
		assert.Equal(t, f.srv.OrganizationID(), e.Organization.ID)
		flags = append(flags, e.Flag)
	}
	assert.Equal(t, []apikeys.EnvironmentFlag{apikeys.Production, apikeys.Staging, apikeys.Development}, flags)
}

// TestClientTokenRefreshSharedClock: Client's token source shares the fake's clock, so when the
// clock passes the token's expiry it fetches a new token before calling, with no 401.
func TestClientTokenRefreshSharedClock(t *testing.T) {
	f := start(t)
	c := f.srv.Client(t)
	env := f.srv.EnvironmentID("Development")

	_, err := c.APIKeys.List(t.Context(), env)
	require.NoError(t, err)
	require.Equal(t, 1, f.srv.IssuedTokens())

	f.clock.Advance(301 * time.Second)
	var resp apikeys.Response
	_, err = c.APIKeys.List(apikeys.CaptureResponse(t.Context(), &resp), env)
	require.NoError(t, err)
	assert.Equal(t, 2, f.srv.IssuedTokens())
	assert.Equal(t, 1, resp.Attempts)
	assert.Equal(t, 2, f.srv.Count(apikeystest.RouteListAPIKeys))
}

// TestClientTokenExpiredOnServer401: the fake's clock runs ahead of the client's, so the fake
// expires the access token while the client's token source still thinks it fresh. The next call
// gets a 401, the client drops the token, fetches exactly one new one and retries once.
func TestClientTokenExpiredOnServer401(t *testing.T) {
	f := start(t)
	clientClock := newClock()

	key, err := apikeys.GenerateSigningKey(apikeys.ES384)
	require.NoError(t, err)
	jwk, err := key.JWK()
	require.NoError(t, err)
	set, err := json.Marshal(apikeys.NewJWKSet(jwk))
	require.NoError(t, err)
	mk, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Development"), "skewed", set, "")
	require.NoError(t, err)

	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{
		ClientID: mk.ID, Key: key, TokenURL: f.srv.TokenURL,
		HTTPClient: &http.Client{Transport: tr}, Clock: clientClock.Now,
	})
	require.NoError(t, err)
	c, err := apikeys.NewClient(
		apikeys.WithBaseURL(f.srv.PlatformURL),
		apikeys.WithTokenSource(ts),
		apikeys.WithHTTPClient(&http.Client{Transport: tr}),
		apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 3}),
	)
	require.NoError(t, err)
	env := f.srv.EnvironmentID("Development")

	_, err = c.APIKeys.List(t.Context(), env)
	require.NoError(t, err)
	require.Equal(t, 1, f.srv.IssuedTokens())

	// The fake is now at the token's expiry; the client is 60 s on, well before it would
	// refresh (30 s before expiry), and its new assertion is still within the fake's windows.
	f.clock.Advance(300 * time.Second)
	clientClock.Advance(60 * time.Second)

	var resp apikeys.Response
	keys, err := c.APIKeys.List(apikeys.CaptureResponse(t.Context(), &resp), env)
	require.NoError(t, err)
	assert.Len(t, keys, 1)
	assert.Equal(t, 2, resp.Attempts)
	assert.Equal(t, 2, f.srv.IssuedTokens(), "exactly one refresh")
	assert.Equal(t, 3, f.srv.Count(apikeystest.RouteListAPIKeys))

	var reasons []string
	for _, r := range f.srv.Requests() {
		if r.Route == apikeystest.RouteListAPIKeys {
			reasons = append(reasons, r.Reason)
		}
	}
	assert.Equal(t, []string{"", "expired bearer token", ""}, reasons)
}

func TestClientLegacyLifecycle(t *testing.T) {
	f := start(t)
	c := f.srv.Client(t)
	ctx := t.Context()

	user, err := c.Legacy.Create(ctx, apikeys.UserKeys(), "laptop")
	require.NoError(t, err)
	assert.Equal(t, apikeys.KeyTypeUser, user.KeyType)
	assert.Equal(t, apikeystest.LegacyUserID, user.KeyReference)
	assert.False(t, user.IsRevoked())
	assert.NotContains(t, user.String(), user.Key, "String shortens the key value")
	users, err := c.Legacy.List(ctx, apikeys.UserKeys())
	require.NoError(t, err)
	require.Len(t, users, 1)
	assert.Equal(t, user.Key, users[0].Key)

	// An app has one active key: the second create revokes the first.
	first, err := c.Legacy.Create(ctx, apikeys.AppKeys("app-1"), "ci")
	require.NoError(t, err)
	second, err := c.Legacy.Create(ctx, apikeys.AppKeys("app-1"), "ci-2")
	require.NoError(t, err)
	apps, err := c.Legacy.List(ctx, apikeys.AppKeys("app-1"))
	require.NoError(t, err)
	require.Len(t, apps, 2)
	assert.Equal(t, first.Key, apps[0].Key)
	require.NotNil(t, apps[0].Revoked, "the first app key is revoked")
	assert.Equal(t, t0, apps[0].Revoked.UTC())
	assert.Equal(t, apikeystest.LegacyUserID, apps[0].RevokedBy)
	assert.False(t, apps[1].IsRevoked())

	ok, err := c.Legacy.Validate(ctx, apikeys.KeyTypeApp, first.Key)
	require.NoError(t, err)
	assert.False(t, ok, "revoked key")
	ok, err = c.Legacy.Validate(ctx, apikeys.KeyTypeApp, second.Key)
	require.NoError(t, err)
	assert.True(t, ok)

	upd, err := c.Legacy.Update(ctx, second.Key, "deploy")
	require.NoError(t, err)
	assert.Equal(t, "deploy", upd.Label)

	rev, err := c.Legacy.Revoke(ctx, second.Key)
	require.NoError(t, err)
	assert.True(t, rev.IsRevoked())
	ok, err = c.Legacy.Validate(ctx, apikeys.KeyTypeApp, second.Key)
	require.NoError(t, err)
	assert.False(t, ok)

	for _, k := range []*apikeys.LegacyKey{first, second, user} {
		_, err = c.Legacy.Delete(ctx, k.Key)
		require.NoError(t, err)
	}
	assert.Empty(t, f.srv.LegacyKeys())
	_, err = c.Legacy.Update(ctx, first.Key, "gone")
	var lerr *apikeys.APIError
	require.ErrorAs(t, err, &lerr)
	assert.Equal(t, http.StatusOK, lerr.StatusCode, "legacy errors come with 200")
	assert.ErrorIs(t, err, apikeys.ErrNotFound)
}

func TestClientFaultRetryAfter(t *testing.T) {
	f := start(t)
	var logs bytes.Buffer // the client logs each retry with the wait it chose
	c := f.srv.Client(t, apikeys.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	env := f.srv.EnvironmentID("Development")

	// Retry-After is capped at the client's MaxWait of 0: the retry does not wait 30 s.
	f.srv.FailNext(apikeystest.RouteListAPIKeys, 1, http.StatusServiceUnavailable, "30")
	var resp apikeys.Response
	_, err := c.APIKeys.List(apikeys.CaptureResponse(t.Context(), &resp), env)
	require.NoError(t, err)
	var waits []float64
	for line := range strings.Lines(logs.String()) {
		var rec struct {
			Msg  string  `json:"msg"`
			Wait float64 `json:"wait"` // nanoseconds
		}
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		if rec.Msg == "apikeys: retrying" {
			waits = append(waits, rec.Wait)
		}
	}
	assert.Equal(t, []float64{0}, waits, "one retry, without waiting")
	assert.Equal(t, 2, resp.Attempts)
	assert.Equal(t, 2, f.srv.Count(apikeystest.RouteListAPIKeys))

	// A caller's WithRetry replaces Client's policy.
	c0 := f.srv.Client(t, apikeys.WithRetry(apikeys.RetryPolicy{}))
	f.srv.FailNext(apikeystest.RouteListAPIKeys, 1, http.StatusServiceUnavailable, "")
	_, err = c0.APIKeys.List(t.Context(), env)
	require.ErrorIs(t, err, apikeys.ErrServer)
	assert.Equal(t, 3, f.srv.Count(apikeystest.RouteListAPIKeys))
}

func TestClientFaultDropAfterApplyIsAmbiguous(t *testing.T) {
	f := start(t)
	c := f.srv.Client(t)
	ctx := t.Context()

	f.srv.DropNextAfterApply(apikeystest.RouteLegacyCreate, 1)
	_, err := c.Legacy.Create(ctx, apikeys.AppKeys("app-1"), "ci")
	require.Error(t, err)
	assert.True(t, apikeys.IsAmbiguous(err), "%v", err)
	assert.Equal(t, 1, f.srv.Count(apikeystest.RouteLegacyCreate), "a create is never sent twice")
	require.Len(t, f.srv.LegacyKeys(), 1, "exactly one key was made")

	// Reconcile by label.
	keys, err := c.Legacy.List(ctx, apikeys.AppKeys("app-1"))
	require.NoError(t, err)
	require.Len(t, keys, 1)
	assert.Equal(t, "ci", keys[0].Label)
	assert.False(t, keys[0].IsRevoked())
}

func TestClientFaultHTMLBody(t *testing.T) {
	f := start(t)
	c := f.srv.Client(t)

	f.srv.FailNextBody(apikeystest.RouteListEnvironments, 1, http.StatusOK, "text/html",
		[]byte("<html><body>Gateway login</body></html>"))
	_, err := c.Environments.List(t.Context(), f.srv.OrganizationID())
	var derr *apikeys.DecodeError
	require.ErrorAs(t, err, &derr)
	assert.Equal(t, http.StatusOK, derr.StatusCode)
	assert.Equal(t, "text/html", derr.ContentType)
	assert.Equal(t, 1, f.srv.Count(apikeystest.RouteListEnvironments), "a 2xx that cannot be read is not retried")
}

func TestNewClientOptions(t *testing.T) {
	srv := apikeystest.NewServer()
	t.Cleanup(srv.Close)

	_, err := srv.NewClient(apikeys.WithToken(srv.BearerToken))
	var verr *apikeys.ValidationError
	require.ErrorAs(t, err, &verr, "a second token option is refused")
	assert.Equal(t, "WithToken", verr.Field)

	// A program's client needs no cleanup of its own: srv.Close closes its connections.
	c, err := srv.NewClient(apikeys.WithUserAgent("apikeystest-test/1"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, err = c.Environments.List(ctx, srv.OrganizationID())
	require.NoError(t, err)
	reqs := srv.Requests()
	assert.Contains(t, reqs[len(reqs)-1].Header.Get("User-Agent"), "apikeystest-test/1")
}

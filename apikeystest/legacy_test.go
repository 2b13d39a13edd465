package apikeystest_test

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys/apikeystest"
)

var hex40RE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// ok checks a {"status":"ok"} reply and returns its body.
func ok(t *testing.T, r reply) map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	m := r.object(t)
	require.Equal(t, "ok", m["status"], "%s", r.body)
	return m
}

func apiKey(t *testing.T, r reply) map[string]any {
	t.Helper()
	k, isObj := ok(t, r)["apiKey"].(map[string]any)
	require.True(t, isObj, "%s", r.body)
	return k
}

func list(t *testing.T, f *fixture, body string) []any {
	t.Helper()
	l, isArr := ok(t, f.legacy("list", body))["list"].([]any)
	require.True(t, isArr)
	return l
}

func TestLegacyUserKeyLifecycle(t *testing.T) {
	f := start(t)
	assert.Empty(t, list(t, f, `{"type":"user"}`))

	k := apiKey(t, f.legacy("create", `{"type":"user","label":"laptop"}`))
	key, _ := k["key"].(string)
	assert.Regexp(t, hex40RE, key)
	assert.Equal(t, map[string]any{
		"label": "laptop", "keyType": "user", "key": key, "keyReference": apikeystest.LegacyUserID,
		"revoked": nil, "revokedBy": nil, "revokedEmail": nil,
	}, k, "active keys carry null revoked fields and no secret for non-admins")

	assert.Equal(t, []any{k}, list(t, f, `{"type":"user"}`))
	assert.Empty(t, list(t, f, `{"type":"app","appId":"app-1"}`))

	// Update accepts fields.label (documented) and a top-level label (seen in real clients).
	assert.Equal(t, "desk", apiKey(t, f.legacy("update", `{"key":"`+key+`","fields":{"label":"desk"}}`))["label"])
	assert.Equal(t, "desk-2", apiKey(t, f.legacy("update", `{"key":"`+key+`","label":"desk-2"}`))["label"])

	assert.Equal(t, true, ok(t, f.legacy("validate", `{"type":"user","key":"`+key+`"}`))["valid"])
	assert.Equal(t, false, ok(t, f.legacy("validate", `{"type":"app","key":"`+key+`"}`))["valid"], "wrong type")

	// Revoke: the key stays listed with a millisecond epoch and the revoker.
	f.clock.Advance(1500 * time.Millisecond)
	revoked := apiKey(t, f.legacy("revoke", `{"key":"`+key+`"}`))
	wantMS := float64(t0.Add(1500 * time.Millisecond).UnixMilli())
	assert.Equal(t, wantMS, revoked["revoked"])
	assert.Equal(t, apikeystest.LegacyUserID, revoked["revokedBy"])
	assert.Equal(t, apikeystest.LegacyUserEmail, revoked["revokedEmail"])
	assert.Equal(t, []any{revoked}, list(t, f, `{"type":"user"}`))
	assert.Equal(t, false, ok(t, f.legacy("validate", `{"type":"user","key":"`+key+`"}`))["valid"])

	// Revoking again is fine and keeps the first timestamp.
	f.clock.Advance(time.Hour)
	assert.Equal(t, wantMS, apiKey(t, f.legacy("revoke", `{"key":"`+key+`"}`))["revoked"])
	stored := f.srv.LegacyKeys()
	require.Len(t, stored, 1)
	require.NotNil(t, stored[0].Revoked)
	assert.True(t, stored[0].Revoked.Equal(t0.Add(1500*time.Millisecond)))

	// Delete removes it.
	assert.Equal(t, key, apiKey(t, f.legacy("delete", `{"key":"`+key+`"}`))["key"])
	assert.Empty(t, list(t, f, `{"type":"user"}`))
	assert.Empty(t, f.srv.LegacyKeys())
}

func TestLegacyCreateAcceptsFieldsLabel(t *testing.T) {
	f := start(t)
	k := apiKey(t, f.legacy("create", `{"type":"user","fields":{"label":"from-fields"}}`))
	assert.Equal(t, "from-fields", k["label"])
}

func TestLegacyAppCreateRevokesEarlierKeys(t *testing.T) {
	f := start(t)
	a := apiKey(t, f.legacy("create", `{"type":"app","appId":"app-1","label":"a"}`))
	other := apiKey(t, f.legacy("create", `{"type":"app","appId":"app-2","label":"other"}`))
	f.clock.Advance(time.Second)
	b := apiKey(t, f.legacy("create", `{"type":"app","appId":"app-1","label":"b"}`))
	assert.Equal(t, "app-1", b["keyReference"])
	assert.Equal(t, "app", b["keyType"])
	assert.Nil(t, b["revoked"])

	l := list(t, f, `{"type":"app","appId":"app-1"}`)
	require.Len(t, l, 2)
	first, second := l[0].(map[string]any), l[1].(map[string]any)
	assert.Equal(t, a["key"], first["key"])
	assert.Equal(t, float64(t0.Add(time.Second).UnixMilli()), first["revoked"])
	assert.Equal(t, apikeystest.LegacyUserID, first["revokedBy"])
	assert.Equal(t, b, second)

	assert.Equal(t, []any{other}, list(t, f, `{"type":"app","appId":"app-2"}`), "other apps keep their key")
	assert.Equal(t, false, ok(t, f.legacy("validate", `{"type":"app","key":"`+a["key"].(string)+`"}`))["valid"])
	assert.Equal(t, true, ok(t, f.legacy("validate", `{"type":"app","key":"`+b["key"].(string)+`"}`))["valid"])

	// User keys are not limited to one.
	apiKey(t, f.legacy("create", `{"type":"user","label":"1"}`))
	apiKey(t, f.legacy("create", `{"type":"user","label":"2"}`))
	for _, k := range list(t, f, `{"type":"user"}`) {
		assert.Nil(t, k.(map[string]any)["revoked"])
	}
}

func TestLegacySecretOnlyForAdmin(t *testing.T) {
	for _, admin := range []bool{false, true} {
		t.Run(map[bool]string{false: "user", true: "admin"}[admin], func(t *testing.T) {
			f := start(t, apikeystest.WithLegacyAdmin(admin))
			k := apiKey(t, f.legacy("create", `{"type":"user","label":"x"}`))
			stored := f.srv.LegacyKeys()
			require.Len(t, stored, 1)
			assert.Regexp(t, hex40RE, stored[0].Secret)
			if admin {
				assert.Equal(t, stored[0].Secret, k["secret"])
			} else {
				assert.NotContains(t, k, "secret")
			}
			l := list(t, f, `{"type":"user"}`)
			_, has := l[0].(map[string]any)["secret"]
			assert.Equal(t, admin, has)
		})
	}
}

func TestLegacyErrors(t *testing.T) {
	f := start(t)
	apiKey(t, f.legacy("create", `{"type":"user","label":"x"}`))
	tests := []struct{ name, op, body, message string }{
		{name: "revoke unknown key", op: "revoke", body: `{"key":"0000000000000000000000000000000000000000"}`, message: "API key not found"},
		{name: "delete unknown key", op: "delete", body: `{"key":"nope"}`, message: "API key not found"},
		{name: "update unknown key", op: "update", body: `{"key":"nope","fields":{"label":"y"}}`, message: "API key not found"},
		{name: "revoke without key", op: "revoke", body: `{}`, message: "key is required"},
		{name: "update without label", op: "update", body: `{"key":"nope"}`, message: "label is required"},
		{name: "create without label", op: "create", body: `{"type":"user"}`, message: "label is required"},
		{name: "create app without appId", op: "create", body: `{"type":"app","label":"x"}`, message: "appId is required for app keys"},
		{name: "create without type", op: "create", body: `{"label":"x"}`, message: "type is required"},
		{name: "list unknown type", op: "list", body: `{"type":"robot"}`, message: "invalid key type"},
		{name: "validate without type", op: "validate", body: `{"key":"nope"}`, message: "type is required"},
		{name: "validate without key", op: "validate", body: `{"type":"user"}`, message: "key is required"},
		{name: "malformed JSON", op: "list", body: `{"type":`, message: "invalid JSON body"},
		{name: "not an object", op: "list", body: `["user"]`, message: "invalid JSON body"},
		{name: "empty body", op: "list", body: ``, message: "invalid JSON body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := f.legacy(tc.op, tc.body)
			assert.Equal(t, http.StatusOK, r.status, "legacy errors come with HTTP 200")
			assert.Equal(t, map[string]any{"status": "error", "message": tc.message}, r.object(t))
			assert.NotEmpty(t, r.header.Get("X-FH-REQUEST-ID"))
			assert.Equal(t, tc.message, f.lastReason())
		})
	}
	assert.Len(t, f.srv.LegacyKeys(), 1)

	r := f.send(http.MethodPost, f.legacyURL("list"), `{"type":"user"}`, "X-FH-AUTH-USER", f.srv.LegacyUserKey, "Content-Type", "text/plain")
	assert.Equal(t, "error", r.object(t)["status"], "a body that is not declared JSON")
	r = f.send(http.MethodPost, f.srv.URL+"/box/srv/1.1/ide/other/api/list", `{"type":"user"}`, "X-FH-AUTH-USER", f.srv.LegacyUserKey, "Content-Type", "application/json")
	assert.Equal(t, http.StatusNotFound, r.status, "unknown domain")
	assert.Equal(t, "error", r.object(t)["status"])
	r = f.send(http.MethodPost, f.legacyURL("explode"), `{}`, "X-FH-AUTH-USER", f.srv.LegacyUserKey, "Content-Type", "application/json")
	assert.Equal(t, http.StatusNotFound, r.status, "unknown op")
	assert.Equal(t, map[string]any{"status": "error", "message": "unknown operation"}, r.object(t))
	assert.NotEmpty(t, r.header.Get("X-FH-REQUEST-ID"))
}

func TestLegacyAuthentication(t *testing.T) {
	f := start(t, apikeystest.WithLegacyDomain("tenant"))
	require.Equal(t, "tenant", f.srv.LegacyDomain)
	userKey := apiKey(t, f.legacy("create", `{"type":"user","label":"u"}`))["key"].(string)
	revokedKey := apiKey(t, f.legacy("create", `{"type":"user","label":"r"}`))["key"].(string)
	apiKey(t, f.legacy("revoke", `{"key":"`+revokedKey+`"}`))
	appKey := apiKey(t, f.legacy("create", `{"type":"app","appId":"a","label":"a"}`))["key"].(string)

	tests := []struct {
		name   string
		header []string
		status int
	}{
		{name: "seeded user key", header: []string{"X-FH-AUTH-USER", f.srv.LegacyUserKey}, status: http.StatusOK},
		{name: "user key created via the API", header: []string{"X-FH-AUTH-USER", userKey}, status: http.StatusOK},
		{name: "session cookie", header: []string{"Cookie", "feedhenry=" + f.srv.SessionCookie}, status: http.StatusOK},
		{name: "no credentials", header: nil, status: http.StatusUnauthorized},
		{name: "unknown key", header: []string{"X-FH-AUTH-USER", "0123456789012345678901234567890123456789"}, status: http.StatusUnauthorized},
		{name: "revoked user key", header: []string{"X-FH-AUTH-USER", revokedKey}, status: http.StatusUnauthorized},
		{name: "app key", header: []string{"X-FH-AUTH-USER", appKey}, status: http.StatusUnauthorized},
		{name: "wrong cookie", header: []string{"Cookie", "feedhenry=nope"}, status: http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := append([]string{"Content-Type", "application/json"}, tc.header...)
			r := f.send(http.MethodPost, f.legacyURL("list"), `{"type":"user"}`, h...)
			assert.Equal(t, tc.status, r.status, "%s", r.body)
			assert.Regexp(t, `^[0-9a-f]{24}$`, r.header.Get("X-FH-REQUEST-ID"))
			if tc.status == http.StatusUnauthorized {
				assert.Equal(t, map[string]any{"status": "error", "message": "not logged in"}, r.object(t))
				assert.Equal(t, "not logged in", f.lastReason())
			}
		})
	}
}

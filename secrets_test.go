package apikeys_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// TestSecLegacyConfigJSONHidesCredentials: a LegacyConfig that ends up in
// JSON (a service's config dumped by json.Marshal, or a struct logged with
// slog's JSON handler) shows its host and domain, never its credentials.
func TestSecLegacyConfigJSONHidesCredentials(t *testing.T) {
	const userKey, cookie = "4a23bd0e3c1f9a8b7c6d5e4f3a2b1c0d9e8fec9e", "s3ss10n-c00kie-SECRET"
	cfg := apikeys.LegacyConfig{BaseURL: "https://acme.feedhenry.com", Domain: "acme", UserKey: userKey, SessionCookie: cookie}
	type serviceConfig struct {
		Name   string
		Legacy apikeys.LegacyConfig
		Ptr    *apikeys.LegacyConfig
	}
	b, err := json.Marshal(serviceConfig{Name: "billing", Legacy: cfg, Ptr: &cfg})
	require.NoError(t, err)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "svc", serviceConfig{Legacy: cfg}, "legacy", cfg)
	for _, out := range []string{string(b), logs.String()} {
		assert.Contains(t, out, "acme.feedhenry.com")
		assert.NotContains(t, out, userKey)
		assert.NotContains(t, out, cookie)
	}
	assert.JSONEq(t, `{"BaseURL":"https://acme.feedhenry.com","Domain":"acme","UserKey":"****","SessionCookie":""}`,
		secMarshal(t, apikeys.LegacyConfig{BaseURL: "https://acme.feedhenry.com", Domain: "acme", UserKey: userKey}))
}

func secMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

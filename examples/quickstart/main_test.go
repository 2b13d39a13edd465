package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
	"github.com/apikeys-go/apikeys/internal/exampletest"
)

func noEnv(string) string { return "" }

func TestRunAgainstFake(t *testing.T) {
	runFake := func(ctx context.Context, w io.Writer) error { return run(ctx, w, noEnv) }
	_, srv := exampletest.Run(t, &startFake, runFake,
		"Running against an in-process fake server",
		"environments of organization 1: Acme Production (Production), Acme Staging (Staging), Acme Development (Development)",
		"generated signing key: kid ",
		"built JWK Set: 1 public key, valid",
		`created key "apikeys-quickstart": id `,
		"token obtained with the new key: type bearer",
		"listed 2 keys in the environment:",
		`rotated key "apikeys-quickstart-rotated": its JWK Set now holds kid `,
		"token obtained with the rotated key",
		"deleted key ",
		"get after delete: not found, as expected",
		`created user key: LegacyKey{Label: "apikeys-quickstart-user"`,
		`created app key #2 for app quickstart-app: label "apikeys-quickstart-app-2", type app, owner quickstart-app, active`,
		`app key #1 after creating #2: label "apikeys-quickstart-app-1", type app, owner quickstart-app, revoked at `,
		"validate app key #1: valid=false",
		"validate app key #2: valid=true",
		`updated label of app key #2: "apikeys-quickstart-app-2" -> "apikeys-quickstart-app-renamed"`,
		`revoked app key #2: label "apikeys-quickstart-app-renamed"`,
		"validate app key #2 after revoking: valid=false",
		`deleted app key "apikeys-quickstart-app-renamed"`,
		"Done.",
	)
	assert.Equal(t, 3, srv.IssuedTokens(), "the management client's token and one per signing key")
	assert.Empty(t, srv.LegacyKeys(), "the legacy keys were deleted")
	require.Len(t, srv.APIKeys(), 1, "only the management key is left")
}

// TestRunRealMode points the variables at a fake started here, as if it were the real servers.
func TestRunRealMode(t *testing.T) {
	srv := apikeystest.NewServer()
	t.Cleanup(srv.Close) // after a failure; closed explicitly before the leak check below

	// A management key whose private key is in a PEM file.
	priv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "management.pem")
	require.NoError(t, os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	signer, err := apikeys.ParseSigningKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), "")
	require.NoError(t, err)
	jwk, err := signer.JWK()
	require.NoError(t, err)
	set, err := json.Marshal(apikeys.NewJWKSet(jwk))
	require.NoError(t, err)
	mk, err := srv.AddAPIKey(srv.EnvironmentID("Staging"), "management", set, "")
	require.NoError(t, err)

	platformEnv := map[string]string{
		"APIKEYS_BASE_URL":         srv.PlatformURL,
		"APIKEYS_TOKEN_URL":        srv.TokenURL,
		"APIKEYS_CLIENT_ID":        mk.ID,
		"APIKEYS_PRIVATE_KEY_FILE": file,
		"APIKEYS_ENVIRONMENT_ID":   srv.EnvironmentID("Staging"),
		"APIKEYS_ORGANIZATION_ID":  strconv.Itoa(srv.OrganizationID()),
	}
	legacyEnv := map[string]string{
		"APIKEYS_LEGACY_URL":      srv.URL,
		"APIKEYS_LEGACY_DOMAIN":   srv.LegacyDomain,
		"APIKEYS_LEGACY_USER_KEY": srv.LegacyUserKey,
		"APIKEYS_LEGACY_APP_ID":   "billing",
	}

	t.Run("platform only", func(t *testing.T) {
		var out bytes.Buffer
		require.NoError(t, run(t.Context(), &out, getenv(platformEnv)))
		text := out.String()
		assert.Contains(t, text, "Running against real servers")
		assert.Contains(t, text, `created key "apikeys-quickstart"`)
		assert.Contains(t, text, "environment Staging")
		assert.Contains(t, text, "token obtained with the rotated key")
		assert.Contains(t, text, "get after delete: not found, as expected")
		assert.Contains(t, text, "== Legacy user and app API keys\nskipped: set APIKEYS_LEGACY_URL")
		exampletest.AssertNoSecret(t, text, srv)
		assert.Len(t, srv.APIKeys(), 1, "the demo key was deleted")
	})

	t.Run("legacy only", func(t *testing.T) {
		var out bytes.Buffer
		require.NoError(t, run(t.Context(), &out, getenv(legacyEnv)))
		text := out.String()
		assert.Contains(t, text, "== Platform OAuth API keys\nskipped: set APIKEYS_CLIENT_ID")
		assert.Contains(t, text, "created app key #1 for app billing")
		assert.Contains(t, text, "validate app key #2 after revoking: valid=false")
		assert.NotContains(t, text, srv.LegacyUserKey)
		exampletest.AssertNoSecret(t, text, srv)
		assert.Empty(t, srv.LegacyKeys())
	})

	t.Run("bad key file", func(t *testing.T) {
		env := map[string]string{}
		for k, v := range platformEnv {
			env[k] = v
		}
		env["APIKEYS_PRIVATE_KEY_FILE"] = filepath.Join(t.TempDir(), "missing.pem")
		err := run(t.Context(), &bytes.Buffer{}, getenv(env))
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), "APIKEYS_PRIVATE_KEY_FILE"), "%v", err)
	})

	srv.Close()
	goleak.VerifyNone(t)
}

func TestTokenURL(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"default", nil, apikeys.DefaultTokenURL},
		{"US base URL", map[string]string{"APIKEYS_BASE_URL": apikeys.DefaultBaseURL}, apikeys.DefaultTokenURL},
		{"Canada base URL", map[string]string{"APIKEYS_BASE_URL": apikeys.CanadaBaseURL + "/"}, apikeys.CanadaTokenURL},
		{"explicit wins", map[string]string{"APIKEYS_BASE_URL": apikeys.CanadaBaseURL, "APIKEYS_TOKEN_URL": "https://t.example/token"}, "https://t.example/token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tokenURL(getenv(tt.env)))
		})
	}
}

func getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

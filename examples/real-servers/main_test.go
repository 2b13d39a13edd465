package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

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
		`created user key: label "apikeys-quickstart-user", type user, owner user-1, active`,
		`created app key #2 for app example-app: label "apikeys-quickstart-app-2", type app, owner example-app, active`,
		`app key #1 after creating #2: label "apikeys-quickstart-app-1", type app, owner example-app, revoked at `,
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
	all := exampletest.RealServerEnv(t, srv)
	platformEnv, legacyEnv := map[string]string{}, map[string]string{}
	for k, v := range all {
		if strings.HasPrefix(k, "APIKEYS_LEGACY_") {
			legacyEnv[k] = v
		} else {
			platformEnv[k] = v
		}
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

func getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

package main

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys/apikeystest"
	"github.com/apikeys-go/apikeys/internal/exampletest"
)

func noEnv(string) string { return "" }

func TestRunAgainstFake(t *testing.T) {
	runFake := func(ctx context.Context, w io.Writer) error { return run(ctx, w, noEnv) }
	_, srv := exampletest.Run(t, &startFake, runFake,
		`created key "quickstart" (id `,
		"got a bearer token with it, expiring ",
		"the environment has 2 keys",
		"deleted key ",
		`created legacy user key "quickstart"`,
		"deleted the legacy key",
	)
	assert.Equal(t, 2, srv.IssuedTokens(), "the management client's token and the new key's")
	assert.Empty(t, srv.LegacyKeys(), "the legacy key was deleted")
	assert.Len(t, srv.APIKeys(), 1, "only the management key is left")
}

// TestRunAgainstRealServers points the APIKEYS_* variables at a fake started
// here, as if it were the real servers.
func TestRunAgainstRealServers(t *testing.T) {
	srv := apikeystest.NewServer()
	t.Cleanup(srv.Close)
	env := exampletest.RealServerEnv(t, srv)
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, func(k string) string { return env[k] }))
	text := out.String()
	assert.Contains(t, text, `created key "quickstart"`)
	assert.Contains(t, text, "deleted the legacy key")
	exampletest.AssertNoSecret(t, text, srv)
	assert.Len(t, srv.APIKeys(), 1, "the demo key was deleted: only the management key is left")
	assert.Empty(t, srv.LegacyKeys())
}

package main

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/apikeys-go/apikeys/apikeystest"
)

// longHex matches the fake's secrets (bearer and access tokens, legacy keys): long hex strings.
var longHex = regexp.MustCompile(`[0-9a-fA-F]{20,}`)

func TestRun(t *testing.T) {
	var srv *apikeystest.Server
	orig := startFake
	startFake = func() *apikeystest.Server { srv = orig(); return srv }
	t.Cleanup(func() { startFake = orig })

	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out))
	text := out.String()
	t.Log(text)
	for _, want := range []string{
		`created key "billing-svc"`,
		"token obtained with the old key",
		"step 1: published the new public key alongside the old: kids [",
		"the old key still gets tokens during the overlap",
		"step 2: switched the token source to the new key: token obtained with the new key",
		"an API call authenticated with it succeeded",
		"step 3: removed the old public key: kids [",
		"step 4: the old key can no longer get a token: invalid_request (HTTP 400)",
		"the new key still gets tokens",
		"rotation complete; deleted the demo key",
	} {
		assert.Contains(t, text, want)
	}
	require.NotNil(t, srv)
	assert.NotContains(t, text, srv.BearerToken)
	assert.Empty(t, longHex.FindAllString(text, -1), "no token or other secret is printed")

	// The fake refused the old key because its kid was no longer in the key's set.
	var reasons []string
	for _, r := range srv.Requests() {
		if r.Route == apikeystest.RouteToken && r.Reason != "" {
			reasons = append(reasons, r.Reason)
		}
	}
	assert.Equal(t, []string{"unknown kid"}, reasons)
	assert.Len(t, srv.APIKeys(), 1, "only the management key is left")

	goleak.VerifyNone(t)
}

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

// longHex matches the fake's secrets (bearer and access tokens): long hex strings.
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
		"hosting the JWK Set of signing key ",
		"/.well-known/jwks.json",
		"FetchJWKS: the hosted set is valid, has 1 key(s) and holds kid ",
		`created key "jwks-hosted-svc"`,
		"token obtained; the token endpoint fetched the hosted set 1 time(s)",
		"FetchJWKS: the hosted set is valid, has 2 key(s) and holds kid ",
		"token obtained with the new key, with no API call to the Platform key",
		"stopped hosting the old key: it can no longer get a token (invalid_request, HTTP 400)",
		"deleted the demo key",
	} {
		assert.Contains(t, text, want)
	}
	require.NotNil(t, srv)
	assert.NotContains(t, text, srv.BearerToken)
	assert.Empty(t, longHex.FindAllString(text, -1), "no token or other secret is printed")
	assert.Equal(t, 2, srv.IssuedTokens()-1, "two tokens with the hosted keys, plus the management client's")
	assert.Equal(t, 0, srv.Count(apikeystest.RouteUpdateAPIKey), "rotation made no API call")

	goleak.VerifyNone(t)
}

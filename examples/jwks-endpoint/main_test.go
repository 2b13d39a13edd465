package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/apikeys-go/apikeys/apikeystest"
	"github.com/apikeys-go/apikeys/internal/exampletest"
)

func TestRun(t *testing.T) {
	_, srv := exampletest.Run(t, &startFake, run,
		"hosting the JWK Set of signing key ",
		"/.well-known/jwks.json",
		"FetchJWKS: the hosted set is valid, has 1 key(s) and holds kid ",
		`created key "jwks-hosted-svc"`,
		"token obtained; the token endpoint fetched the hosted set 1 time(s)",
		"FetchJWKS: the hosted set is valid, has 2 key(s) and holds kid ",
		"token obtained with the new key, with no API call to the Platform key",
		"stopped hosting the old key: it can no longer get a token (invalid_request, HTTP 400)",
		"deleted the demo key",
	)
	assert.Equal(t, 2, srv.IssuedTokens()-1, "two tokens with the hosted keys, plus the management client's")
	assert.Equal(t, 0, srv.Count(apikeystest.RouteUpdateAPIKey), "rotation made no API call")
}

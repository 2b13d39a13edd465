package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/apikeys-go/apikeys/apikeystest"
	"github.com/apikeys-go/apikeys/internal/exampletest"
)

func TestRun(t *testing.T) {
	_, srv := exampletest.Run(t, &startFake, run,
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
	)

	// The fake refused the old key because its kid was no longer in the key's set.
	var reasons []string
	for _, r := range srv.Requests() {
		if r.Route == apikeystest.RouteToken && r.Reason != "" {
			reasons = append(reasons, r.Reason)
		}
	}
	assert.Equal(t, []string{"unknown kid"}, reasons)
	assert.Len(t, srv.APIKeys(), 1, "only the management key is left")
}

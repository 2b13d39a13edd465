package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/apikeys-go/apikeys/apikeystest"
	"github.com/apikeys-go/apikeys/internal/exampletest"
)

func TestRun(t *testing.T) {
	_, srv := exampletest.Run(t, &startFake, run,
		`service "billing-svc" runs on signing key `,
		"published true, accepted after 1 token request(s), switched true, retired 1 old key(s)",
		"the service's calls now use tokens signed with ",
		"the old key is refused: invalid_request (HTTP 400)",
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

	// The service's tokens were signed with the old key, then the new one.
	var kids []string
	for _, tok := range srv.Tokens()[1:] { // [0] is the management client's
		if len(kids) == 0 || kids[len(kids)-1] != tok.KeyID {
			kids = append(kids, tok.KeyID)
		}
	}
	assert.Len(t, kids, 2, "old kid, then new kid: %v", kids)
}

package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/apikeys-go/apikeys/apikeystest"
	"github.com/apikeys-go/apikeys/internal/exampletest"
)

func TestRun(t *testing.T) {
	_, srv := exampletest.Run(t, &startFake, run,
		`created user key: "laptop" (user key, active)`,
		"listed 2 user keys",
		`validate user key "laptop": valid=true`,
		`a key prints masked: LegacyKey{Label: "laptop"`,
		`created app key: "deploy-2" (app key, active)`,
		`  - "deploy-1" (app key, revoked at `,
		`  - "deploy-2" (app key, active)`,
		`create "deploy-3": outcome unknown (`,
		`reconciled: the create happened, found "deploy-3"`,
		`create "deploy-4": outcome unknown (`,
		`reconciled: the create did not happen, creating "deploy-4" again`,
		"app billing-app has 4 keys:",
		"  (1 active)",
		`updated label: "deploy-4" -> "deploy-4-prod"`,
		`revoked: "deploy-4-prod" (app key, revoked at `,
		"deleted 6 keys",
		`update of a deleted key: *APIError from the legacy API (HTTP 200) "API key not found", not found=true`,
	)

	// deploy-1, deploy-2, deploy-3 (once: reconciled), deploy-4 (dropped, then created again).
	assert.Equal(t, 2+5, srv.Count(apikeystest.RouteLegacyCreate))
	assert.Empty(t, srv.LegacyKeys())
}

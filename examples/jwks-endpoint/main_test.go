package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/apikeys-go/apikeys/apikeystest"
	"github.com/apikeys-go/apikeys/internal/exampletest"
)

func TestRun(t *testing.T) {
	_, srv := exampletest.Run(t, &startFake, run,
		"hosting kids [",
		"/.well-known/jwks.json",
		`created key "jwks-hosted-svc" with its jwksURL; token obtained with kid `,
		"accepted after the hosted set's cache expired (",
		"now hosting kids [",
		"the Platform key was not changed",
	)
	assert.Zero(t, srv.Count(apikeystest.RouteUpdateAPIKey), "rotation made no API call")
	var refused int
	for _, r := range srv.Requests() {
		if r.Route == apikeystest.RouteToken && r.Reason == "unknown kid" {
			refused++
		}
	}
	assert.Positive(t, refused, "the new kid was refused while the fake's cache of the hosted set was fresh")
}

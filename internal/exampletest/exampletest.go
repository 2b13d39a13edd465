// Package exampletest runs the example programs in their tests and checks
// what every example promises: it succeeds against the in-process fake,
// prints the lines its story is made of, prints no secret, and leaves no
// goroutine running.
package exampletest

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/apikeys-go/apikeys/apikeystest"
)

// longHex matches what the fake's secrets look like: bearer and access
// tokens, legacy key values and secrets are long hex strings. IDs are UUIDs
// (at most 12 hex digits in a row) and kids are base64url.
var longHex = regexp.MustCompile(`[0-9a-fA-F]{20,}`)

// Run runs an example's run function with *startFake swapped for one that
// records the server it starts, and returns the output and that server.
// It fails the test unless run succeeds and prints every line of want and
// no secret; at the end of the test it checks that no goroutine is left.
func Run(t *testing.T, startFake *func() *apikeystest.Server, run func(context.Context, io.Writer) error, want ...string) (string, *apikeystest.Server) {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs last: after the restore below
	var srv *apikeystest.Server
	orig := *startFake
	*startFake = func() *apikeystest.Server { srv = orig(); return srv }
	t.Cleanup(func() { *startFake = orig })

	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out))
	text := out.String()
	t.Log(text)
	for _, w := range want {
		assert.Contains(t, text, w)
	}
	require.NotNil(t, srv, "run did not start the fake")
	AssertNoSecret(t, text, srv)
	return text, srv
}

// AssertNoSecret checks that text holds none of srv's credentials and
// nothing that looks like one of its secrets.
func AssertNoSecret(t *testing.T, text string, srv *apikeystest.Server) {
	t.Helper()
	assert.NotContains(t, text, srv.BearerToken)
	assert.NotContains(t, text, srv.LegacyUserKey)
	assert.NotContains(t, text, srv.SessionCookie)
	assert.Empty(t, longHex.FindAllString(text, -1), "no key value, secret or token is printed")
}

// RealServerEnv stores in srv a management key (Server.NewManagementKey)
// whose private key it writes to a PEM file, and returns the APIKEYS_*
// variables (see package exampleenv) that point an example at srv as if it
// were the real servers.
func RealServerEnv(t *testing.T, srv *apikeystest.Server) map[string]string {
	t.Helper()
	mk, key, err := srv.NewManagementKey()
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key.Signer)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "management.pem")
	require.NoError(t, os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	return map[string]string{
		"APIKEYS_BASE_URL":         srv.PlatformURL,
		"APIKEYS_TOKEN_URL":        srv.TokenURL,
		"APIKEYS_CLIENT_ID":        mk.ID,
		"APIKEYS_PRIVATE_KEY_FILE": file,
		"APIKEYS_ENVIRONMENT_ID":   srv.EnvironmentID("Staging"),
		"APIKEYS_ORGANIZATION_ID":  strconv.Itoa(srv.OrganizationID()),
		"APIKEYS_LEGACY_URL":       srv.URL,
		"APIKEYS_LEGACY_DOMAIN":    srv.LegacyDomain,
		"APIKEYS_LEGACY_USER_KEY":  srv.LegacyUserKey,
		"APIKEYS_LEGACY_APP_ID":    "billing",
	}
}

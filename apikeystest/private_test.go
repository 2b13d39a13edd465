package apikeystest_test

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/internal/jwkmember"
)

// ecPublicMembers are an EC key's public members (the fake checks only kid and kty, and the
// private members).
const ecPublicMembers = `"kid":"a","kty":"EC","crv":"P-256","x":"AA","y":"AA"`

// TestPlatformRefusesPrivateMembersInAnyCase: encoding/json matches member names
// case-insensitively, so "D" is as private as "d". A raw create or update whose key holds a
// private member in any letter case is refused with the usual 400, stores nothing, and the
// member's value never reaches the request log.
func TestPlatformRefusesPrivateMembersInAnyCase(t *testing.T) {
	for _, member := range []string{"d", "D", "Qi", "priv", "OTH", "k", "dP", "\u212a"} {
		for _, op := range []string{"create", "update"} {
			t.Run(op+" "+member, func(t *testing.T) {
				f := start(t)
				env := f.srv.EnvironmentID("Staging")
				target, err := f.srv.AddAPIKey(env, "target", nil, "")
				require.NoError(t, err)

				secret := "SECRET" + rand.Text()
				value := `"` + secret + `"`
				if strings.EqualFold(member, "oth") {
					value = `[{"r":"` + secret + `","d":"` + secret + `","t":"` + secret + `"}]`
				}
				set := `{"keys":[{` + ecPublicMembers + `,"` + member + `":` + value + `}]}`

				var r reply
				if op == "create" {
					r = f.platform(http.MethodPost, "/v1/environments/"+env+"/apikeys", `{"name":"x","jwkSet":`+set+`}`)
				} else {
					r = f.platform(http.MethodPatch, "/v1/apikeys/"+target.ID, `{"name":"renamed","jwkSet":`+set+`}`)
				}
				want := fmt.Sprintf("jwkSet.keys[0] (kid %q): private member %q is not allowed", "a", member)
				assert.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
				assert.Equal(t, map[string]any{"message": want}, r.object(t))
				assert.Equal(t, want, f.lastReason())

				stored := f.srv.APIKeys()
				require.Len(t, stored, 1, "nothing stored")
				assert.Equal(t, "target", stored[0].Name, "the refused update changed nothing")
				assert.Nil(t, stored[0].JWKSet)

				// AddAPIKey runs the same checks.
				_, err = f.srv.AddAPIKey(env, "direct", []byte(set), "")
				require.EqualError(t, err, want)
				assert.Len(t, f.srv.APIKeys(), 1)

				reqs := f.srv.Requests()
				require.Len(t, reqs, 1)
				assert.NotContains(t, fmt.Sprintf("%#v", reqs), secret)
				assert.Contains(t, reqs[0].Body, `"`+member+`":"****"`)
				assert.NotContains(t, fmt.Sprintf("%#v", f.srv.APIKeys()), secret)
			})
		}
	}
}

// TestRequestLogMasksPrivateMembersInAnyForm: whatever shape carries a private member (the jwkSet
// or keys member in another letter case, an escaped member name, a duplicate member, a body that
// is not valid JSON), its value is in neither the request log nor the stored keys.
func TestRequestLogMasksPrivateMembersInAnyForm(t *testing.T) {
	const s = "SECRET" // replaced by a fresh secret in each case
	key := `{` + ecPublicMembers + `,"d":"` + s + `"}`
	tests := []struct {
		name   string
		body   string
		status int
	}{
		{name: "jwkSet in upper case", body: `{"name":"x","JWKSET":{"keys":[` + key + `]}}`, status: http.StatusBadRequest},
		{name: "keys in title case", body: `{"name":"x","jwkSet":{"Keys":[` + key + `]}}`, status: http.StatusBadRequest},
		{name: "keys twice, in two cases", body: `{"name":"x","jwkSet":{"keys":[],"KEYS":[` + key + `]}}`, status: http.StatusOK},
		{name: "escaped member name", body: `{"name":"x","jwkSet":{"keys":[{` + ecPublicMembers + `,"\u0044":"` + s + `"}]}}`, status: http.StatusBadRequest},
		{name: "member twice", body: `{"name":"x","jwkSet":{"keys":[{` + ecPublicMembers + `,"d":"` + s + `","d":"AA"}]}}`, status: http.StatusBadRequest},
		{name: "jwkSet twice, the last null", body: `{"name":"x","jwkSet":{"keys":[` + key + `]},"jwkSet":null}`, status: http.StatusOK},
		{name: "trailing data", body: `{"name":"x","jwkSet":{"keys":[` + key + `]}} x`, status: http.StatusBadRequest},
		{name: "missing comma", body: `{"name":"x" "jwkSet":{"keys":[` + key + `]}}`, status: http.StatusBadRequest},
		{name: "array body", body: `[{"jwkSet":{"keys":[` + key + `]}}]`, status: http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t)
			secret := "SECRET" + rand.Text()
			body := strings.ReplaceAll(tc.body, s, secret)
			r := f.platform(http.MethodPost, "/v1/environments/"+f.srv.EnvironmentID("Staging")+"/apikeys", body)
			assert.Equal(t, tc.status, r.status, "%s", r.body)
			reqs := f.srv.Requests()
			require.Len(t, reqs, 1)
			assert.NotContains(t, fmt.Sprintf("%#v", reqs), secret)
			assert.NotContains(t, fmt.Sprintf("%#v", f.srv.APIKeys()), secret)
		})
	}
}

// TestRequestLogKeepsOtherBodies: a body with no string that reads as a private member name is
// logged as sent, spacing and member order included, valid JSON or not.
func TestRequestLogKeepsOtherBodies(t *testing.T) {
	f := start(t)
	path := "/v1/environments/" + f.srv.EnvironmentID("Staging") + "/apikeys"
	for _, body := range []string{
		`{"name":"x",  "jwkSet":{"keys":[{` + ecPublicMembers + `,"kid2":"dd"}]}}`,
		`{"name":"k8s-svc", "jwksURL":""}`,
		`{"name":`,
	} {
		f.platform(http.MethodPost, path, body)
		reqs := f.srv.Requests()
		assert.Equal(t, body, reqs[len(reqs)-1].Body)
	}
}

// TestPrivateMemberListMatchesSDK: the SDK and the fake refuse the same members, in any letter
// case, with the name as spelled in the key.
func TestPrivateMemberListMatchesSDK(t *testing.T) {
	f := start(t)
	env := f.srv.EnvironmentID("Staging")
	names := jwkmember.Private()
	require.Contains(t, names, "priv")
	for _, lower := range names {
		for _, member := range []string{lower, strings.ToUpper(lower)} {
			raw := `{` + ecPublicMembers + `,"` + member + `":"AA"}`
			k, err := apikeys.ParseJWK([]byte(raw))
			require.NoError(t, err)
			_, err = k.PublicKey()
			assert.ErrorContains(t, err, fmt.Sprintf("holds private key member %q", member))
			err = apikeys.NewJWKSet(k).Validate()
			assert.ErrorContains(t, err, fmt.Sprintf("holds private key member %q", member))

			_, err = f.srv.AddAPIKey(env, "x", []byte(`{"keys":[`+raw+`]}`), "")
			assert.EqualError(t, err, fmt.Sprintf("jwkSet.keys[0] (kid %q): private member %q is not allowed", "a", member))
		}
	}
	assert.Empty(t, f.srv.APIKeys())
}

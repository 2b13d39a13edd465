package apikeys_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// environmentFields is e without the JSON it was decoded from (Raw), for
// comparing what was decoded; tests check Raw on its own.
func environmentFields(e apikeys.Environment) apikeys.Environment {
	return apikeys.Environment{ID: e.ID, Name: e.Name, Flag: e.Flag, Organization: e.Organization}
}

func TestAPIKeysCallsSendDocumentedRequests(t *testing.T) {
	const envID = "497f6eca-6276-4993-bfeb-53cbbbba6f08"
	name := "renamed"
	jwksURL := "https://keys.example.com/v2.json"
	signingKey, err := apikeys.GenerateSigningKey(apikeys.ES384)
	require.NoError(t, err)
	jwk, err := signingKey.JWK()
	require.NoError(t, err)
	set := apikeys.NewJWKSet(jwk)
	setJSON, err := json.Marshal(set)
	require.NoError(t, err)

	tests := []struct {
		name       string
		call       func(context.Context, *apikeys.Client) (any, error)
		method     string
		path       string
		body       string // JSON; "" for no body
		reply      string
		wantResult any
	}{
		{
			name: "create with jwksURL",
			call: func(ctx context.Context, c *apikeys.Client) (any, error) {
				return c.APIKeys.Create(ctx, envID, apikeys.CreateAPIKeyRequest{Name: "billing", JWKSURL: "https://keys.example.com/jwks.json"})
			},
			method: http.MethodPost, path: basePath + "/v1/environments/" + envID + "/apikeys",
			body:  `{"name":"billing","jwksURL":"https://keys.example.com/jwks.json"}`,
			reply: envelope(`{"apikey":` + keyJSON + `}`),
		},
		{
			name: "create with jwkSet",
			call: func(ctx context.Context, c *apikeys.Client) (any, error) {
				return c.APIKeys.Create(ctx, envID, apikeys.CreateAPIKeyRequest{Name: "billing", JWKSet: set})
			},
			method: http.MethodPost, path: basePath + "/v1/environments/" + envID + "/apikeys",
			body:  `{"name":"billing","jwkSet":` + string(setJSON) + `}`,
			reply: envelope(`{"apikey":` + keyJSON + `}`),
		},
		{
			name: "create with an empty jwkSet sends keys as an array",
			call: func(ctx context.Context, c *apikeys.Client) (any, error) {
				return c.APIKeys.Create(ctx, envID, apikeys.CreateAPIKeyRequest{Name: "billing", JWKSet: apikeys.NewJWKSet()})
			},
			method: http.MethodPost, path: basePath + "/v1/environments/" + envID + "/apikeys",
			body:  `{"name":"billing","jwkSet":{"keys":[]}}`,
			reply: envelope(`{"apikey":` + keyJSON + `}`),
		},
		{
			name: "get",
			call: func(ctx context.Context, c *apikeys.Client) (any, error) {
				return c.APIKeys.Get(ctx, "client-1")
			},
			method: http.MethodGet, path: basePath + "/v1/apikeys/client-1",
			reply: envelope(`{"apikey":` + keyJSON + `}`),
		},
		{
			name: "get escapes the ID",
			call: func(ctx context.Context, c *apikeys.Client) (any, error) {
				return c.APIKeys.Get(ctx, "a b?c#d%e")
			},
			method: http.MethodGet, path: basePath + "/v1/apikeys/a%20b%3Fc%23d%25e",
			reply: envelope(`{"apikey":` + keyJSON + `}`),
		},
		{
			name: "list",
			call: func(ctx context.Context, c *apikeys.Client) (any, error) {
				keys, err := c.APIKeys.List(ctx, envID)
				return len(keys), err
			},
			method: http.MethodGet, path: basePath + "/v1/environments/" + envID + "/apikeys",
			reply:      envelope(`{"apikeys":[` + keyJSON + `,` + keyJSON + `]}`),
			wantResult: 2,
		},
		{
			name: "update sends only the fields set",
			call: func(ctx context.Context, c *apikeys.Client) (any, error) {
				return c.APIKeys.Update(ctx, "client-1", apikeys.UpdateAPIKeyRequest{Name: &name})
			},
			method: http.MethodPatch, path: basePath + "/v1/apikeys/client-1",
			body:  `{"name":"renamed"}`,
			reply: envelope(`{"apikey":` + keyJSON + `}`),
		},
		{
			name: "update jwksURL and set",
			call: func(ctx context.Context, c *apikeys.Client) (any, error) {
				return c.APIKeys.Update(ctx, "client-1", apikeys.UpdateAPIKeyRequest{JWKSURL: &jwksURL, JWKSet: set})
			},
			method: http.MethodPatch, path: basePath + "/v1/apikeys/client-1",
			body:  `{"jwksURL":"https://keys.example.com/v2.json","jwkSet":` + string(setJSON) + `}`,
			reply: envelope(`{"apikey":` + keyJSON + `}`),
		},
		{
			name: "delete",
			call: func(ctx context.Context, c *apikeys.Client) (any, error) {
				return c.APIKeys.Delete(ctx, "client-1")
			},
			method: http.MethodDelete, path: basePath + "/v1/apikeys/client-1",
			reply:      envelope(`{"message":"API key deleted"}`),
			wantResult: "API key deleted",
		},
		{
			name: "list environments",
			call: func(ctx context.Context, c *apikeys.Client) (any, error) {
				envs, err := c.Environments.List(ctx, 42)
				if err != nil {
					return nil, err
				}
				assert.JSONEq(t, `{"id":"e1","name":"Prod","environmentFlag":"Production","organization":{"id":42}}`, string(envs[0].Raw()))
				return environmentFields(*envs[0]), nil
			},
			method: http.MethodGet, path: basePath + "/v1/organizations/42/environments",
			reply: envelope(`{"environments":[{"id":"e1","name":"Prod","environmentFlag":"Production","organization":{"id":42}}]}`),
			wantResult: apikeys.Environment{ID: "e1", Name: "Prod", Flag: apikeys.Production,
				Organization: &apikeys.Organization{ID: 42}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, http.StatusOK, tt.reply) })
			c, _ := newClient(t, s, apikeys.WithUserAgent("billing-svc/2.1"))

			got, err := tt.call(context.Background(), c)
			require.NoError(t, err)

			reqs := s.requests()
			require.Len(t, reqs, 1)
			r := reqs[0]
			assert.Equal(t, tt.method, r.Method)
			assert.Equal(t, tt.path, r.Path)
			assert.Equal(t, "Bearer "+testToken, r.Header.Get("Authorization"))
			assert.Equal(t, "application/json", r.Header.Get("Accept"))
			assert.Equal(t, "apikeys-go/"+apikeys.Version+" billing-svc/2.1", r.Header.Get("User-Agent"))
			if tt.body == "" {
				assert.Empty(t, r.Body)
				assert.Empty(t, r.Header.Get("Content-Type"))
			} else {
				assert.JSONEq(t, tt.body, string(r.Body))
				assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			}
			switch {
			case tt.wantResult != nil:
				assert.Equal(t, tt.wantResult, got)
			default:
				key, ok := got.(*apikeys.APIKey)
				require.True(t, ok, "result is %T", got)
				assert.Equal(t, "client-1", key.ID)
				assert.Equal(t, "billing", key.Name)
				assert.Equal(t, apikeys.Staging, key.Environment.Flag)
				assert.Equal(t, "497f6eca-6276-4993-bfeb-53cbbbba6f08", key.Environment.ID)
			}
		})
	}
}

func TestAPIKeyDecodesLeniently(t *testing.T) {
	payload := envelope(`{"apikey":{"id":"c1","name":"n","futureField":{"x":1},
		"jwkSet":{"keys":[{"kty":"RSA","kid":"r1","n":"sXch","e":"AQAB","alg":"RS384","x5c":["MIIB"]},
		                  {"kty":"PQC-ML-DSA","kid":"future","pub":"AAAA"}]},
		"environment":{"id":"e","environmentFlag":"Sandbox"}}}`)
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, http.StatusOK, payload) })
	c, _ := newClient(t, s)

	key, err := c.APIKeys.Get(context.Background(), "c1")
	require.NoError(t, err)
	require.NotNil(t, key.JWKSet)
	require.Len(t, key.JWKSet.Keys, 2)
	assert.Equal(t, "r1", key.JWKSet.Keys[0].KeyID())
	assert.Equal(t, "RS384", key.JWKSet.Keys[0].Algorithm())
	assert.Equal(t, "PQC-ML-DSA", key.JWKSet.Keys[1].KeyType())
	assert.Equal(t, apikeys.EnvironmentFlag("Sandbox"), key.Environment.Flag, "unknown flag keeps its text")
	assert.False(t, key.Environment.Flag.Known())

	// Every member given is kept when the key is sent back.
	out, err := json.Marshal(key.JWKSet)
	require.NoError(t, err)
	assert.Contains(t, string(out), `"x5c":["MIIB"]`)
	assert.Contains(t, string(out), `"pub":"AAAA"`)
}

// TestListsDropNullElements: a null in a list never reaches the caller as
// a nil element.
func TestListsDropNullElements(t *testing.T) {
	tests := []struct {
		name  string
		reply string
		call  func(context.Context, *apikeys.Client) ([]string, error)
		want  []string
	}{
		{
			name:  "keys",
			reply: `{"apikeys":[null,{"id":"k1","name":"a"},null,{"id":"k2","name":"b"}]}`,
			call: func(ctx context.Context, c *apikeys.Client) ([]string, error) {
				keys, err := c.APIKeys.List(ctx, "env")
				var ids []string
				for _, k := range keys {
					ids = append(ids, k.ID)
				}
				return ids, err
			},
			want: []string{"k1", "k2"},
		},
		{
			name:  "environments",
			reply: `{"environments":[null,{"id":"e1","name":"Prod","environmentFlag":"Production"}]}`,
			call: func(ctx context.Context, c *apikeys.Client) ([]string, error) {
				envs, err := c.Environments.List(ctx, 7)
				var ids []string
				for _, e := range envs {
					ids = append(ids, e.ID)
				}
				return ids, err
			},
			want: []string{"e1"},
		},
		{
			name:  "only nulls",
			reply: `{"apikeys":[null,null]}`,
			call: func(ctx context.Context, c *apikeys.Client) ([]string, error) {
				keys, err := c.APIKeys.List(ctx, "env")
				return []string{fmt.Sprint(len(keys))}, err
			},
			want: []string{"0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, http.StatusOK, envelope(tt.reply)) })
			c, _ := newClient(t, s)
			got, err := tt.call(context.Background(), c)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestEnvironmentFlags(t *testing.T) {
	for _, f := range []apikeys.EnvironmentFlag{apikeys.Production, apikeys.Staging, apikeys.Development} {
		assert.True(t, f.Known(), f)
	}
	assert.False(t, apikeys.EnvironmentFlag("production").Known(), "flags are case sensitive")
}

// TestPlatformBadInputIsRefusedBeforeIO checks each bad argument of a
// Platform call gets a *ValidationError naming the field and sends
// nothing, each against a server of its own. The table of every entry
// point is TestEveryBadInputIsRefusedBeforeIO (badinput_test.go).
func TestPlatformBadInputIsRefusedBeforeIO(t *testing.T) {
	empty := ""
	private := &apikeys.JWKSet{Keys: []apikeys.JWK{mustJWK(t, `{"kty":"EC","kid":"k","crv":"P-256","x":"A","y":"B","d":"SECRETD"}`)}}
	noKid := &apikeys.JWKSet{Keys: []apikeys.JWK{mustJWK(t, `{"kty":"EC","crv":"P-256","x":"A","y":"B"}`)}}
	noKty := &apikeys.JWKSet{Keys: []apikeys.JWK{mustJWK(t, `{"kid":"k","crv":"P-256","x":"A","y":"B"}`)}}
	ok := apikeys.CreateAPIKeyRequest{Name: "n"}

	tests := []struct {
		name  string
		field string
		call  func(context.Context, *apikeys.Client) error
	}{
		{name: "empty env ID", field: "environmentID", call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Create(ctx, "", ok)
			return err
		}},
		{name: "env ID with slash", field: "environmentID", call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.List(ctx, "a/b")
			return err
		}},
		{name: "env ID with dot-dot", field: "environmentID", call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.List(ctx, "..")
			return err
		}},
		{name: "key ID with newline", field: "apiKeyID", call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Get(ctx, "a\nb")
			return err
		}},
		{name: "key ID too long", field: "apiKeyID", call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Delete(ctx, strings.Repeat("a", 257))
			return err
		}},
		{name: "key ID with spaces around", field: "apiKeyID", call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Get(ctx, " id ")
			return err
		}},
		{name: "empty name", field: "Name", call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Create(ctx, "env", apikeys.CreateAPIKeyRequest{Name: "  "})
			return err
		}},
		{name: "name with control char", field: "Name", call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Create(ctx, "env", apikeys.CreateAPIKeyRequest{Name: "a\x00b"})
			return err
		}},
		{name: "jwksURL http to remote host", field: "JWKSURL", call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Create(ctx, "env", apikeys.CreateAPIKeyRequest{Name: "n", JWKSURL: "http://keys.example.com/jwks"})
			return err
		}},
		{name: "jwksURL relative", field: "JWKSURL", call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Create(ctx, "env", apikeys.CreateAPIKeyRequest{Name: "n", JWKSURL: "/jwks.json"})
			return err
		}},
		{name: "jwksURL with userinfo", field: "JWKSURL", call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Create(ctx, "env", apikeys.CreateAPIKeyRequest{Name: "n", JWKSURL: "https://u:p@keys.example.com/jwks"})
			return err
		}},
		{name: "jwksURL ftp", field: "JWKSURL", call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Create(ctx, "env", apikeys.CreateAPIKeyRequest{Name: "n", JWKSURL: "ftp://keys.example.com/jwks"})
			return err
		}},
		{name: "jwkSet with private member", field: "JWKSet", call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Create(ctx, "env", apikeys.CreateAPIKeyRequest{Name: "n", JWKSet: private})
			return err
		}},
		{name: "jwkSet key without kid", field: "JWKSet", call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Create(ctx, "env", apikeys.CreateAPIKeyRequest{Name: "n", JWKSet: noKid})
			return err
		}},
		{name: "jwkSet key without kty", field: "JWKSet", call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Update(ctx, "id", apikeys.UpdateAPIKeyRequest{JWKSet: noKty})
			return err
		}},
		{name: "empty update", field: "UpdateAPIKeyRequest", call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Update(ctx, "id", apikeys.UpdateAPIKeyRequest{})
			return err
		}},
		{name: "update to empty name", field: "Name", call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Update(ctx, "id", apikeys.UpdateAPIKeyRequest{Name: &empty})
			return err
		}},
		{name: "organization ID zero", field: "organizationID", call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.Environments.List(ctx, 0)
			return err
		}},
		{name: "nil context", field: "ctx", call: func(_ context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Get(nil, "id") //nolint:staticcheck // the nil context is the bad input
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, http.StatusOK, "{}") })
			c, _ := newClient(t, s)

			err := tt.call(context.Background(), c)
			var ve *apikeys.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
			assert.Zero(t, s.count(), "no request may be sent")
			assert.NotContains(t, err.Error(), "SECRETD")
		})
	}
}

func TestCallWithoutTokenIsNotConfigured(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, http.StatusOK, "{}") })
	c, err := apikeys.NewClient(apikeys.WithBaseURL(s.URL + basePath))
	require.NoError(t, err)

	_, err = c.APIKeys.Get(context.Background(), "id")
	assert.True(t, errors.Is(err, apikeys.ErrNotConfigured), "got %v", err)
	assert.Zero(t, s.count())
}

// TestPlatformCallsOnAZeroClient: the Platform services of a Client not
// made by NewClient (a zero Client's nil services, or zero services) fail
// with ErrNotConfigured, as Legacy's do, instead of panicking.
func TestPlatformCallsOnAZeroClient(t *testing.T) {
	ctx := context.Background()
	name := "renamed"
	jwk := publicJWK(t, generatedKey(t, apikeys.ES256))
	calls := []struct {
		name string
		call func(*apikeys.APIKeysService, *apikeys.EnvironmentsService) error
	}{
		{"APIKeys.Create", func(s *apikeys.APIKeysService, _ *apikeys.EnvironmentsService) error {
			_, err := s.Create(ctx, "env", apikeys.CreateAPIKeyRequest{Name: "k", JWKSURL: "https://h/jwks"})
			return err
		}},
		{"APIKeys.Get", func(s *apikeys.APIKeysService, _ *apikeys.EnvironmentsService) error {
			_, err := s.Get(ctx, "k")
			return err
		}},
		{"APIKeys.List", func(s *apikeys.APIKeysService, _ *apikeys.EnvironmentsService) error {
			_, err := s.List(ctx, "env")
			return err
		}},
		{"APIKeys.FindCreated", func(s *apikeys.APIKeysService, _ *apikeys.EnvironmentsService) error {
			_, err := s.FindCreated(ctx, "env", apikeys.CreateAPIKeyRequest{Name: "k"})
			return err
		}},
		{"APIKeys.Update", func(s *apikeys.APIKeysService, _ *apikeys.EnvironmentsService) error {
			_, err := s.Update(ctx, "k", apikeys.UpdateAPIKeyRequest{Name: &name})
			return err
		}},
		{"APIKeys.Delete", func(s *apikeys.APIKeysService, _ *apikeys.EnvironmentsService) error {
			_, err := s.Delete(ctx, "k")
			return err
		}},
		{"APIKeys.AddPublicKeys", func(s *apikeys.APIKeysService, _ *apikeys.EnvironmentsService) error {
			_, err := s.AddPublicKeys(ctx, "k", jwk)
			return err
		}},
		{"APIKeys.RemovePublicKeys", func(s *apikeys.APIKeysService, _ *apikeys.EnvironmentsService) error {
			_, err := s.RemovePublicKeys(ctx, "k", "kid")
			return err
		}},
		{"Environments.List", func(_ *apikeys.APIKeysService, e *apikeys.EnvironmentsService) error {
			_, err := e.List(ctx, 1)
			return err
		}},
	}
	var zero apikeys.Client
	services := []struct {
		name string
		keys *apikeys.APIKeysService
		envs *apikeys.EnvironmentsService
	}{
		{"zero Client", zero.APIKeys, zero.Environments},
		{"zero services", &apikeys.APIKeysService{}, &apikeys.EnvironmentsService{}},
	}
	for _, svc := range services {
		for _, tc := range calls {
			t.Run(svc.name+"/"+tc.name, func(t *testing.T) {
				var err error
				require.NotPanics(t, func() { err = tc.call(svc.keys, svc.envs) })
				if assert.ErrorIs(t, err, apikeys.ErrNotConfigured) && tc.name != "APIKeys.FindCreated" { // its errors are List's
					assert.Contains(t, err.Error(), tc.name)
				}
			})
		}
	}
}

func mustJWK(t *testing.T, s string) apikeys.JWK {
	t.Helper()
	k, err := apikeys.ParseJWK([]byte(s))
	require.NoError(t, err)
	return k
}

// TestListRepliesMustCarryTheirList: a list reply without its list (an
// empty payload, a null payload or list, a bare null, an error object) is
// a *DecodeError naming the member. Read as [], it would tell a caller
// reconciling an ambiguous create that the create did not happen. An
// empty array is a real empty list.
func TestListRepliesMustCarryTheirList(t *testing.T) {
	lists := []struct {
		name   string
		member string
		call   func(context.Context, *apikeys.Client) (int, error)
	}{
		{name: "APIKeys.List", member: "payload.apikeys", call: func(ctx context.Context, c *apikeys.Client) (int, error) {
			keys, err := c.APIKeys.List(ctx, "env-1")
			return len(keys), err
		}},
		{name: "Environments.List", member: "payload.environments", call: func(ctx context.Context, c *apikeys.Client) (int, error) {
			envs, err := c.Environments.List(ctx, 1)
			return len(envs), err
		}},
	}
	replies := []struct {
		name string
		body string
		ok   bool
	}{
		{name: "empty payload", body: `{"meta":{"version":"1.0.0"},"payload":{}}`},
		{name: "null payload", body: `{"meta":{"version":"1.0.0"},"payload":null}`},
		{name: "no payload", body: `{"meta":{"version":"1.0.0"}}`},
		{name: "bare null", body: `null`},
		{name: "error object", body: `{"error":"internal"}`},
		{name: "null lists", body: `{"meta":{"version":"1.0.0"},"payload":{"apikeys":null,"environments":null}}`},
		{name: "empty lists", body: `{"meta":{"version":"1.0.0"},"payload":{"apikeys":[],"environments":[]}}`, ok: true},
	}
	for _, list := range lists {
		for _, r := range replies {
			t.Run(list.name+"/"+r.name, func(t *testing.T) {
				s := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { reply(w, http.StatusOK, r.body) })
				c, _ := newClient(t, s)
				n, err := list.call(t.Context(), c)
				if r.ok {
					require.NoError(t, err)
					assert.Zero(t, n)
					return
				}
				var de *apikeys.DecodeError
				require.ErrorAs(t, err, &de)
				assert.Contains(t, err.Error(), list.member)
			})
		}
	}
}

// TestMetaIsReadForItsVersionOnly: of "meta" only "version" is read. The
// informational members (totalRecords, pageSize, links) decode whatever
// their type, and a create with odd ones is not ambiguous.
func TestMetaIsReadForItsVersionOnly(t *testing.T) {
	for _, meta := range []string{
		`{"version":"1.0.0","totalRecords":"7","pageSize":1.5}`,
		`{"version":"1.0.0","totalRecords":null,"pageSize":{"n":1},"links":"self"}`,
		`{"version":"1.0.0","totalRecords":1e400,"pageSize":-1,"links":[1,2]}`,
		`{"version":1}`,
		`"1.0.0"`,
		`null`,
		`[]`,
	} {
		t.Run(meta, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				reply(w, http.StatusOK, `{"meta":`+meta+`,"payload":{"apikey":`+keyJSON+`}}`)
			})
			c, _ := newClient(t, s)
			k, err := c.APIKeys.Create(t.Context(), "env-1", apikeys.CreateAPIKeyRequest{Name: "billing"})
			require.NoError(t, err)
			assert.Equal(t, "client-1", k.ID)
		})
	}
	t.Run("an unknown major version is still refused", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			reply(w, http.StatusOK, `{"meta":{"version":2,"pageSize":"x"},"payload":{"apikey":`+keyJSON+`}}`)
		})
		c, _ := newClient(t, s)
		_, err := c.APIKeys.Get(t.Context(), "client-1")
		assert.ErrorIs(t, err, apikeys.ErrUnsupportedVersion)
	})
}

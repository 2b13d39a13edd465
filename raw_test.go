package apikeys_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// TestRawJSONKept: APIKey, Environment and LegacyKey keep the object they
// were decoded from, so members the SDK does not model stay usable.
func TestRawJSONKept(t *testing.T) {
	const (
		platformKey = `{"id":"client-1","name":"billing","createdAt":"2024-05-01T10:00:00Z","scopes":["fhir"],` +
			`"environment":{"id":"env-1","environmentFlag":"Staging","region":"us-east"}}`
		environment = `{"id":"env-1","name":"Stage","environmentFlag":"Staging","organization":{"id":42},"createdAt":"2023-01-02T03:04:05Z"}`
		legacyKey   = `{"label":"ci","keyType":"user","key":"` + legacyKeyValue + `","keyReference":"u1","secret":"` + legacySecret + `",` +
			`"revoked":null,"sysCreated":1425990896789,"createdBy":{"email":"ops@example.com"}}`
	)
	tests := []struct {
		name   string
		reply  string // the reply body
		call   func(ctx context.Context, c *apikeys.Client) (json.RawMessage, error)
		want   string // the object Raw must hold
		member string // a member the SDK does not model
		value  string // its JSON value
	}{
		{name: "APIKeys.Get", reply: envelope(`{"apikey":` + platformKey + `}`), call: func(ctx context.Context, c *apikeys.Client) (json.RawMessage, error) {
			k, err := c.APIKeys.Get(ctx, "client-1")
			if err != nil {
				return nil, err
			}
			return k.Raw(), nil
		}, want: platformKey, member: "createdAt", value: `"2024-05-01T10:00:00Z"`},
		{name: "APIKeys.List", reply: envelope(`{"apikeys":[` + platformKey + `]}`), call: func(ctx context.Context, c *apikeys.Client) (json.RawMessage, error) {
			keys, err := c.APIKeys.List(ctx, "env-1")
			if err != nil || len(keys) != 1 {
				return nil, fmt.Errorf("%d keys: %w", len(keys), err)
			}
			return keys[0].Raw(), nil
		}, want: platformKey, member: "scopes", value: `["fhir"]`},
		{name: "APIKey.Environment", reply: envelope(`{"apikey":` + platformKey + `}`), call: func(ctx context.Context, c *apikeys.Client) (json.RawMessage, error) {
			k, err := c.APIKeys.Get(ctx, "client-1")
			if err != nil {
				return nil, err
			}
			return k.Environment.Raw(), nil
		}, want: `{"id":"env-1","environmentFlag":"Staging","region":"us-east"}`, member: "region", value: `"us-east"`},
		{name: "Environments.List", reply: envelope(`{"environments":[` + environment + `]}`), call: func(ctx context.Context, c *apikeys.Client) (json.RawMessage, error) {
			envs, err := c.Environments.List(ctx, 42)
			if err != nil || len(envs) != 1 {
				return nil, fmt.Errorf("%d environments: %w", len(envs), err)
			}
			return envs[0].Raw(), nil
		}, want: environment, member: "createdAt", value: `"2023-01-02T03:04:05Z"`},
		{name: "Legacy.List", reply: `{"status":"ok","list":[` + legacyKey + `]}`, call: func(ctx context.Context, c *apikeys.Client) (json.RawMessage, error) {
			keys, err := c.Legacy.List(ctx, apikeys.UserKeys())
			if err != nil || len(keys) != 1 {
				return nil, fmt.Errorf("%d keys: %w", len(keys), err)
			}
			return keys[0].Raw(), nil
		}, want: legacyKey, member: "sysCreated", value: `1425990896789`},
		{name: "Legacy.Create", reply: `{"status":"ok","apiKey":` + legacyKey + `}`, call: func(ctx context.Context, c *apikeys.Client) (json.RawMessage, error) {
			k, err := c.Legacy.Create(ctx, apikeys.UserKeys(), "ci")
			if err != nil {
				return nil, err
			}
			return k.Raw(), nil
		}, want: legacyKey, member: "createdBy", value: `{"email":"ops@example.com"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, http.StatusOK, tt.reply) })
			c, err := apikeys.NewClient(apikeys.WithBaseURL(s.URL+basePath), apikeys.WithToken(testToken),
				apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: s.URL, Domain: legacyDomain, UserKey: legacyUserKey}))
			require.NoError(t, err)
			raw, err := tt.call(context.Background(), c)
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, string(raw))
			var members map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(raw, &members))
			assert.JSONEq(t, tt.value, string(members[tt.member]))
		})
	}
}

// TestRawJSONIsACopy: a model decoded by the caller's json.Unmarshal keeps
// its own copy of the object, not the caller's buffer.
func TestRawJSONIsACopy(t *testing.T) {
	buf := []byte(`{"id":"client-1","name":"billing","extra":"x"}`)
	var k apikeys.APIKey
	require.NoError(t, json.Unmarshal(buf, &k))
	copy(buf, strings.Repeat("#", len(buf)))
	assert.JSONEq(t, `{"id":"client-1","name":"billing","extra":"x"}`, string(k.Raw()))

	var zero apikeys.APIKey
	assert.Nil(t, zero.Raw(), "a key not decoded from JSON has no Raw")
	require.NoError(t, json.Unmarshal([]byte(`null`), &zero))
	assert.Nil(t, zero.Raw())
}

// TestDecodedLegacyKeyStillMasked: a LegacyKey decoded from a reply, its
// Raw holding the secret, prints and logs masked, whatever the verb (but
// %p of a value, which fmt handles before any method: see SECURITY.md;
// the full verb list runs in the secrets scan).
func TestDecodedLegacyKeyStillMasked(t *testing.T) {
	var k apikeys.LegacyKey
	require.NoError(t, json.Unmarshal([]byte(legacyKeyJSON), &k))
	require.Contains(t, string(k.Raw()), legacySecret, "Raw is the object as sent")
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("key", "k", k, "p", &k)
	outputs := []string{logs.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
		outputs = append(outputs, fmt.Sprintf(verb, k), fmt.Sprintf(verb, &k), fmt.Sprintf(verb, []apikeys.LegacyKey{k}))
	}
	for _, out := range outputs {
		assert.NotContains(t, out, legacySecret)
		assert.NotContains(t, out, legacyKeyValue)
		assert.NotContains(t, out, fmt.Sprintf("%x", legacySecret))
	}
}

// TestRawJSONOfOddReplies: the object each model keeps is the one it was
// decoded from, also when a reply names a member twice or in another
// letter case (encoding/json takes the last of them), has null elements,
// or escapes its text.
func TestRawJSONOfOddReplies(t *testing.T) {
	key := func(id, env string) string {
		return `{"id":"` + id + `","name":"n-` + id + `","environment":{"id":"` + env + `","environmentFlag":"Staging"}}`
	}
	tests := []struct {
		name  string
		reply string
		ids   []string // the keys List returns, in order
	}{
		{name: "plain", reply: envelope(`{"apikeys":[` + key("k1", "e1") + `,` + key("k2", "e2") + `]}`), ids: []string{"k1", "k2"}},
		{name: "null elements", reply: envelope(`{"apikeys":[null,` + key("k1", "e1") + `,null,` + key("k2", "e2") + `]}`), ids: []string{"k1", "k2"}},
		{name: "the list twice", reply: envelope(`{"apikeys":[` + key("old", "e0") + `],"apikeys":[` + key("k1", "e1") + `]}`), ids: []string{"k1"}},
		{name: "the list twice, in another case", reply: envelope(`{"apikeys":[` + key("old", "e0") + `],"APIKeys":[` + key("k1", "e1") + `]}`), ids: []string{"k1"}},
		{name: "payload twice", reply: `{"meta":{"version":"1.0.0"},"payload":{"apikeys":[` + key("old", "e0") + `]},"Payload":{"apikeys":[` + key("k1", "e1") + `]}}`, ids: []string{"k1"}},
		{name: "environment twice", reply: envelope(`{"apikeys":[{"id":"k1","environment":{"id":"e0"},"ENVIRONMENT":{"id":"e1"}}]}`), ids: []string{"k1"}},
		{name: "escapes", reply: envelope(`{"apikeys":[{"id":"k\u0031","name":"\"quoted\" \\ name","environment":{"id":"e\u0031"}}]}`), ids: []string{"k1"}},
		{name: "meta of another type", reply: `{"meta":"v1","payload":{"apikeys":[` + key("k1", "e1") + `]}}`, ids: []string{"k1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, http.StatusOK, tt.reply) })
			c, err := apikeys.NewClient(apikeys.WithBaseURL(s.URL+basePath), apikeys.WithToken(testToken))
			require.NoError(t, err)
			keys, err := c.APIKeys.List(context.Background(), "env-1")
			require.NoError(t, err)
			require.Len(t, keys, len(tt.ids))
			for i, k := range keys {
				assert.Equal(t, tt.ids[i], k.ID)
				var back apikeys.APIKey
				require.NoError(t, json.Unmarshal(k.Raw(), &back), "Raw is the key's object")
				assert.Equal(t, k.ID, back.ID)
				assert.Equal(t, k.Name, back.Name)
				assert.Equal(t, k.Environment.ID, back.Environment.ID)
				var env apikeys.Environment
				require.NoError(t, json.Unmarshal(k.Environment.Raw(), &env), "the environment's Raw is its object")
				assert.Equal(t, k.Environment.ID, env.ID)
			}
		})
	}
}

// TestRawJSONConcurrently: the keys of one reply find their objects once,
// together, whichever asks first; under -race, from many goroutines.
func TestRawJSONConcurrently(t *testing.T) {
	var list strings.Builder
	for i := range 50 {
		if i > 0 {
			list.WriteString(",")
		}
		fmt.Fprintf(&list, `{"id":"k%d","name":"n%d","environment":{"id":"e%d"},"extra":%d}`, i, i, i, i)
	}
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, http.StatusOK, envelope(`{"apikeys":[`+list.String()+`]}`))
	})
	c, err := apikeys.NewClient(apikeys.WithBaseURL(s.URL+basePath), apikeys.WithToken(testToken))
	require.NoError(t, err)
	keys, err := c.APIKeys.List(context.Background(), "env-1")
	require.NoError(t, err)
	require.Len(t, keys, 50)

	var wg sync.WaitGroup
	for _, k := range keys {
		for range 2 {
			wg.Go(func() {
				var got struct {
					ID    string `json:"id"`
					Extra int    `json:"extra"`
				}
				if assert.NoError(t, json.Unmarshal(k.Raw(), &got)) {
					assert.Equal(t, k.ID, got.ID)
					assert.Equal(t, k.ID, fmt.Sprintf("k%d", got.Extra))
				}
				assert.Contains(t, string(k.Environment.Raw()), `"id":"`+k.Environment.ID+`"`)
			})
		}
	}
	wg.Wait()
}

// TestUnmarshalJSONMerges: decoding into a model that holds values keeps
// those of the members the JSON lacks, as encoding/json does for any
// struct.
func TestUnmarshalJSONMerges(t *testing.T) {
	k := apikeys.APIKey{ID: "client-1", Name: "old", Environment: apikeys.Environment{ID: "env-1", Flag: apikeys.Staging}}
	require.NoError(t, json.Unmarshal([]byte(`{"name":"new","environment":{"name":"Stage"}}`), &k))
	assert.Equal(t, "client-1", k.ID)
	assert.Equal(t, "new", k.Name)
	assert.Equal(t, "env-1", k.Environment.ID)
	assert.Equal(t, apikeys.Staging, k.Environment.Flag)
	assert.Equal(t, "Stage", k.Environment.Name)
	assert.JSONEq(t, `{"name":"new","environment":{"name":"Stage"}}`, string(k.Raw()))

	e := apikeys.Environment{ID: "env-2", Flag: apikeys.Production}
	require.NoError(t, json.Unmarshal([]byte(`{"name":"Prod"}`), &e))
	assert.Equal(t, "env-2", e.ID)
	assert.Equal(t, "Prod", e.Name)
}

// TestUnmarshalJSONKeepsWhatTheInputLacks: APIKey, Environment and
// LegacyKey decode alike: null leaves the model as it is, and the members
// the input lacks leave their fields as they were, as encoding/json does
// for any struct.
func TestUnmarshalJSONKeepsWhatTheInputLacks(t *testing.T) {
	revoked := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	key := func() *apikeys.APIKey { return &apikeys.APIKey{ID: "k1", Name: "old", JWKSURL: "https://h/jwks"} }
	env := func() *apikeys.Environment { return &apikeys.Environment{ID: "e1", Name: "old", Flag: apikeys.Staging} }
	legacy := func() *apikeys.LegacyKey {
		return &apikeys.LegacyKey{Label: "old", KeyType: "app", Key: "k1", Secret: "s1", Revoked: &revoked, RevokedBy: "u1"}
	}
	renamedKey, renamedEnv, relabelled := key(), env(), legacy()
	renamedKey.Name, renamedEnv.Name, relabelled.Label = "new", "new", "new"
	unrevoked := legacy()
	unrevoked.Revoked = nil // a null pointer member sets the pointer to nil
	tests := []struct {
		name  string
		input string
		into  any // a model holding values
		want  any
	}{
		{"APIKey, null", `null`, key(), key()},
		{"APIKey, one member", `{"name":"new"}`, key(), renamedKey},
		{"APIKey, a null member", `{"name":"new","id":null}`, key(), renamedKey},
		{"Environment, null", `null`, env(), env()},
		{"Environment, one member", `{"name":"new"}`, env(), renamedEnv},
		{"Environment, a null member", `{"name":"new","id":null}`, env(), renamedEnv},
		{"LegacyKey, null", `null`, legacy(), legacy()},
		{"LegacyKey, one member", `{"label":"new"}`, legacy(), relabelled},
		{"LegacyKey, a null member", `{"label":"new","key":null}`, legacy(), relabelled},
		{"LegacyKey, revoked null", `{"revoked":null}`, legacy(), unrevoked},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, json.Unmarshal([]byte(tc.input), tc.into))
			got, err := json.Marshal(tc.into) // every modelled field; Raw is not one
			require.NoError(t, err)
			want, err := json.Marshal(tc.want)
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(got))
		})
	}
}

// TestRawJSONOfARepeatedObject: when a reply names an object twice, the
// model merges both (as encoding/json does) and Raw is the last, as
// documented.
func TestRawJSONOfARepeatedObject(t *testing.T) {
	const last = `{"id":"k1","environment":{"id":"e1"}}`
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, http.StatusOK, envelope(`{"apikey":{"id":"k0","name":"first","environment":{"id":"e0","environmentFlag":"Staging"}},"APIKEY":`+last+`}`))
	})
	c, err := apikeys.NewClient(apikeys.WithBaseURL(s.URL+basePath), apikeys.WithToken(testToken))
	require.NoError(t, err)
	k, err := c.APIKeys.Get(context.Background(), "k1")
	require.NoError(t, err)
	assert.Equal(t, "k1", k.ID)
	assert.Equal(t, "first", k.Name, "merged from the first copy")
	assert.Equal(t, apikeys.Staging, k.Environment.Flag, "merged from the first copy")
	assert.JSONEq(t, last, string(k.Raw()))
	assert.JSONEq(t, `{"id":"e1"}`, string(k.Environment.Raw()))
}

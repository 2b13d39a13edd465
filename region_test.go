package apikeys_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

func TestRegionURLs(t *testing.T) {
	tests := []struct {
		region          apikeys.Region
		base, token, st string
	}{
		{region: "", base: apikeys.DefaultBaseURL, token: apikeys.DefaultTokenURL, st: "us"},
		{region: apikeys.US, base: apikeys.DefaultBaseURL, token: apikeys.DefaultTokenURL, st: "us"},
		{region: apikeys.Canada, base: apikeys.CanadaBaseURL, token: apikeys.CanadaTokenURL, st: "ca"},
		{region: "eu", base: "", token: "", st: "eu"},
	}
	for _, tt := range tests {
		t.Run(string(tt.region), func(t *testing.T) {
			assert.Equal(t, tt.base, tt.region.BaseURL())
			assert.Equal(t, tt.token, tt.region.TokenURL())
			assert.Equal(t, tt.st, tt.region.String())
		})
	}
}

// TestRegionMismatchRefused: one region's base URL with another region's
// token URL is refused before any I/O, by an error that names both; so are
// a client assertion whose token URL cannot be told, and two ways to
// authenticate.
func TestRegionMismatchRefused(t *testing.T) {
	key := generatedKey(t, apikeys.ES256)
	usSource := tokenSourceFor(t, apikeys.TokenConfig{ClientID: "c", Key: key})
	caSource := tokenSourceFor(t, apikeys.TokenConfig{ClientID: "c", Key: key, Region: apikeys.Canada})
	assertion := apikeys.WithClientAssertion("client-1", key)
	tests := []struct {
		name     string
		opts     []apikeys.Option
		field    string
		mentions []string
	}{
		{name: "Canada region, US base URL", opts: []apikeys.Option{apikeys.WithRegion(apikeys.Canada), apikeys.WithBaseURL(apikeys.DefaultBaseURL)},
			field: "WithRegion", mentions: []string{"ca", apikeys.DefaultBaseURL}},
		{name: "US region, Canada base URL", opts: []apikeys.Option{apikeys.WithRegion(apikeys.US), apikeys.WithBaseURL(apikeys.CanadaBaseURL)},
			field: "WithRegion", mentions: []string{"us", apikeys.CanadaBaseURL}},
		{name: "Canada base URL, US token source", opts: []apikeys.Option{apikeys.WithBaseURL(apikeys.CanadaBaseURL), apikeys.WithTokenSource(usSource)},
			field: "WithTokenSource", mentions: []string{apikeys.CanadaBaseURL, apikeys.DefaultTokenURL}},
		{name: "default base URL, Canada token source", opts: []apikeys.Option{apikeys.WithTokenSource(caSource)},
			field: "WithTokenSource", mentions: []string{apikeys.DefaultBaseURL, apikeys.CanadaTokenURL}},
		{name: "base URL in other letter case and with a slash", opts: []apikeys.Option{apikeys.WithBaseURL("https://API.CA.RedoxEngine.com:443/platform/"), apikeys.WithTokenSource(usSource)},
			field: "WithTokenSource", mentions: []string{apikeys.DefaultTokenURL}},
		{name: "Canada base URL, US token URL", opts: []apikeys.Option{apikeys.WithBaseURL(apikeys.CanadaBaseURL), apikeys.WithTokenURL(apikeys.DefaultTokenURL), assertion},
			field: "WithTokenURL", mentions: []string{apikeys.CanadaBaseURL, apikeys.DefaultTokenURL}},
		{name: "Canada region, US token URL", opts: []apikeys.Option{apikeys.WithRegion(apikeys.Canada), apikeys.WithTokenURL(apikeys.DefaultTokenURL), assertion},
			field: "WithTokenURL", mentions: []string{"ca", apikeys.DefaultTokenURL}},
		{name: "Canada region, a proxy's base URL, US token source", opts: []apikeys.Option{apikeys.WithRegion(apikeys.Canada), apikeys.WithBaseURL("https://proxy.example.com/platform"), apikeys.WithTokenSource(usSource)},
			field: "WithTokenSource", mentions: []string{"ca", apikeys.DefaultTokenURL}},
		{name: "unknown region", opts: []apikeys.Option{apikeys.WithRegion("eu")}, field: "WithRegion", mentions: []string{`"eu"`}},
		{name: "token URL without a client assertion", opts: []apikeys.Option{apikeys.WithTokenURL(apikeys.DefaultTokenURL)}, field: "WithTokenURL", mentions: nil},
		{name: "empty token URL", opts: []apikeys.Option{apikeys.WithTokenURL(""), assertion}, field: "WithTokenURL", mentions: nil},
		{name: "token URL with a query", opts: []apikeys.Option{apikeys.WithTokenURL("https://auth.example.com/token?x=1"), assertion}, field: "WithTokenURL", mentions: nil},
		{name: "client assertion, base URL of no region, no token URL", opts: []apikeys.Option{apikeys.WithBaseURL("https://proxy.example.com/platform"), assertion},
			field: "WithClientAssertion", mentions: []string{"https://proxy.example.com/platform"}},
		{name: "client assertion, then a token", opts: []apikeys.Option{assertion, apikeys.WithToken("t")}, field: "WithToken", mentions: nil},
		{name: "token, then a client assertion", opts: []apikeys.Option{apikeys.WithToken("t"), assertion}, field: "WithClientAssertion", mentions: nil},
		{name: "token source, then a client assertion", opts: []apikeys.Option{apikeys.WithTokenSource(usSource), assertion}, field: "WithClientAssertion", mentions: nil},
		{name: "two client assertions", opts: []apikeys.Option{assertion, assertion}, field: "WithClientAssertion", mentions: nil},
		{name: "client assertion without a client ID", opts: []apikeys.Option{apikeys.WithClientAssertion(" ", key)}, field: "WithClientAssertion", mentions: nil},
		{name: "client assertion without a key", opts: []apikeys.Option{apikeys.WithClientAssertion("client-1", apikeys.SigningKey{})}, field: "WithClientAssertion key.Signer", mentions: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := apikeys.NewClient(tt.opts...)
			assert.Nil(t, c)
			var ve *apikeys.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "NewClient", ve.Op)
			assert.Equal(t, tt.field, ve.Field)
			for _, m := range tt.mentions {
				assert.Contains(t, err.Error(), m)
			}
		})
	}
}

func TestTokenConfigRegion(t *testing.T) {
	key := generatedKey(t, apikeys.ES256)
	tests := []struct {
		name    string
		cfg     apikeys.TokenConfig
		wantURL string // "" when refused
		field   string
	}{
		{name: "no region: US", cfg: apikeys.TokenConfig{}, wantURL: apikeys.DefaultTokenURL, field: ""},
		{name: "Canada", cfg: apikeys.TokenConfig{Region: apikeys.Canada}, wantURL: apikeys.CanadaTokenURL, field: ""},
		{name: "Canada, its own token URL", cfg: apikeys.TokenConfig{Region: apikeys.Canada, TokenURL: apikeys.CanadaTokenURL}, wantURL: apikeys.CanadaTokenURL, field: ""},
		{name: "Canada, a proxy's token URL", cfg: apikeys.TokenConfig{Region: apikeys.Canada, TokenURL: "https://auth.example.com/token"}, wantURL: "https://auth.example.com/token", field: ""},
		{name: "Canada, the US token URL", cfg: apikeys.TokenConfig{Region: apikeys.Canada, TokenURL: apikeys.DefaultTokenURL}, wantURL: "", field: "TokenConfig.TokenURL"},
		{name: "US, the Canada token URL", cfg: apikeys.TokenConfig{Region: apikeys.US, TokenURL: apikeys.CanadaTokenURL}, wantURL: "", field: "TokenConfig.TokenURL"},
		{name: "unknown region", cfg: apikeys.TokenConfig{Region: "CA"}, wantURL: "", field: "TokenConfig.Region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.ClientID, tt.cfg.Key = "client-1", key
			ts, err := apikeys.NewTokenSource(tt.cfg)
			if tt.field != "" {
				var ve *apikeys.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, tt.field, ve.Field)
				return
			}
			require.NoError(t, err)
			assert.Contains(t, ts.String(), `TokenURL: "`+tt.wantURL+`"`)
		})
	}
}

// TestClientRegionDefaults: the region gives the base URL and the token
// URL; a known base URL gives its region's token URL.
func TestClientRegionDefaults(t *testing.T) {
	key := generatedKey(t, apikeys.ES256)
	tests := []struct {
		name           string
		opts           []apikeys.Option
		base, tokenURL string
	}{
		{name: "defaults", opts: nil, base: apikeys.DefaultBaseURL, tokenURL: apikeys.DefaultTokenURL},
		{name: "Canada region", opts: []apikeys.Option{apikeys.WithRegion(apikeys.Canada)}, base: apikeys.CanadaBaseURL, tokenURL: apikeys.CanadaTokenURL},
		{name: "Canada base URL", opts: []apikeys.Option{apikeys.WithBaseURL(apikeys.CanadaBaseURL)}, base: apikeys.CanadaBaseURL, tokenURL: apikeys.CanadaTokenURL},
		{name: "Canada region, a proxy's base URL", opts: []apikeys.Option{apikeys.WithRegion(apikeys.Canada), apikeys.WithBaseURL("https://proxy.example.com/platform")},
			base: "https://proxy.example.com/platform", tokenURL: apikeys.CanadaTokenURL},
		{name: "Canada region, a proxy's token URL", opts: []apikeys.Option{apikeys.WithRegion(apikeys.Canada), apikeys.WithTokenURL("https://auth.example.com/token")},
			base: apikeys.CanadaBaseURL, tokenURL: "https://auth.example.com/token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := apikeys.NewClient(append(tt.opts, apikeys.WithClientAssertion("client-1", key))...)
			require.NoError(t, err)
			assert.Contains(t, c.String(), "baseURL: "+tt.base+",")
			ts := c.AssertionTokenSource()
			require.NotNil(t, ts)
			assert.Contains(t, ts.String(), `TokenURL: "`+tt.tokenURL+`"`)
			assert.Equal(t, key.KeyID, ts.KeyID())
		})
	}
}

func TestClientAssertionTokenSourceAccessor(t *testing.T) {
	ts := tokenSourceFor(t, apikeys.TokenConfig{ClientID: "c", Key: generatedKey(t, apikeys.ES256)})
	tests := []struct {
		name string
		opt  apikeys.Option
		want *apikeys.AssertionTokenSource
	}{
		{name: "static token", opt: apikeys.WithToken("t"), want: nil},
		{name: "other token source", opt: apikeys.WithTokenSource(apikeys.TokenSourceFunc(func(context.Context) (*apikeys.Token, error) { return nil, nil })), want: nil},
		{name: "assertion token source", opt: apikeys.WithTokenSource(ts), want: ts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := apikeys.NewClient(tt.opt)
			require.NoError(t, err)
			assert.Same(t, tt.want, c.AssertionTokenSource())
		})
	}
}

// TestClientAssertionSharesTheClient: WithClientAssertion gets tokens on
// the Client's own HTTP client (one connection for the token and the API
// calls, over HTTP/1.1 and HTTP/2), with its retry policy and its logger.
func TestClientAssertionSharesTheClient(t *testing.T) {
	for _, proto := range []struct {
		name string
		opts []apikeystest.Option
	}{{name: "HTTP/1.1", opts: nil}, {name: "HTTP/2.0", opts: []apikeystest.Option{apikeystest.WithTLS()}}} {
		t.Run(proto.name, func(t *testing.T) {
			srv := apikeystest.NewServer(proto.opts...)
			t.Cleanup(srv.Close)
			key := generatedKey(t, apikeys.ES256)
			jwk, err := key.JWK()
			require.NoError(t, err)
			set, err := json.Marshal(apikeys.NewJWKSet(jwk))
			require.NoError(t, err)
			stored, err := srv.AddAPIKey(srv.EnvironmentID("Development"), "svc", set, "")
			require.NoError(t, err)
			var logs logBuffer
			hc := srv.HTTPClient()
			c, err := apikeys.NewClient(apikeys.WithBaseURL(srv.PlatformURL), apikeys.WithTokenURL(srv.TokenURL),
				apikeys.WithClientAssertion(stored.ID, key), apikeys.WithHTTPClient(hc),
				apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 1}), apikeys.WithLogger(debugLogger(&logs)))
			require.NoError(t, err)
			t.Cleanup(hc.CloseIdleConnections)
			ctx := context.Background()

			srv.FailNext(apikeystest.RouteToken, 1, http.StatusServiceUnavailable, "")
			for range 3 {
				_, err := c.APIKeys.Get(ctx, stored.ID)
				require.NoError(t, err)
			}
			assert.Equal(t, 1, srv.IssuedTokens(), "one token for the three calls")
			assert.Equal(t, 2, srv.Count(apikeystest.RouteToken), "the 503 retried by the client's policy")
			assert.Equal(t, 1, srv.Connections(), "the token requests and the API calls share one connection")
			assert.Contains(t, logs.String(), `"op":"token request"`, "token requests log to the client's logger")
			for _, r := range srv.Requests() {
				assert.Equal(t, proto.name, r.Proto, r.Route)
			}

			// The client's policy, not the token source default of 3 retries:
			// with MaxRetries 1, two 503s fail the fetch.
			tok, err := c.AssertionTokenSource().Token(ctx)
			require.NoError(t, err)
			c.AssertionTokenSource().Invalidate(tok)
			srv.FailNext(apikeystest.RouteToken, 2, http.StatusServiceUnavailable, "")
			_, err = c.APIKeys.Get(ctx, stored.ID)
			var te *apikeys.TokenError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, http.StatusServiceUnavailable, te.StatusCode)
			assert.Equal(t, 2, te.Attempts)
		})
	}
}

func tokenSourceFor(t *testing.T, cfg apikeys.TokenConfig) *apikeys.AssertionTokenSource {
	t.Helper()
	ts, err := apikeys.NewTokenSource(cfg)
	require.NoError(t, err)
	return ts
}

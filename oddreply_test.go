package apikeys_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// oddTransport is a RoundTripper such as mocking and recording libraries
// pass through WithHTTPClient: it answers every request with reply(req),
// a *http.Response that a real transport would never build.
type oddTransport struct {
	reply func(req *http.Request) *http.Response
}

func (o oddTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	return o.reply(req), nil
}

// oddReply is one odd *http.Response.
type oddReply struct {
	name string
	resp func(req *http.Request, body string) *http.Response
	// ok says the reply is usable: a 2xx with the call's body.
	ok bool
	// typed says the reply has a JSON Content-Type.
	typed bool
	// refusal says the status is a definite refusal: nothing was applied.
	refusal bool
}

func oddReplies() []oddReply {
	plain := func(status int) func(*http.Request, string) *http.Response {
		return func(_ *http.Request, body string) *http.Response {
			return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(body)), ContentLength: -1}
		}
	}
	return []oddReply{
		{name: "500 without Request", resp: func(_ *http.Request, _ string) *http.Response {
			return &http.Response{StatusCode: 500, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"message":"down"}`))}
		}},
		{name: "404 without Request", resp: func(_ *http.Request, _ string) *http.Response {
			return &http.Response{StatusCode: 404, Body: io.NopCloser(strings.NewReader(`{"message":"API key not found"}`))}
		}, refusal: true},
		{name: "503 without Body or Header", resp: func(*http.Request, string) *http.Response {
			return &http.Response{StatusCode: 503}
		}},
		{name: "401 with a nil Header", resp: func(req *http.Request, _ string) *http.Response {
			return &http.Response{StatusCode: 401, Request: req, Body: io.NopCloser(strings.NewReader("no"))}
		}, refusal: true},
		{name: "200 with negative ContentLength", resp: plain(200), ok: true, typed: true},
		{name: "200 without Header or Request", resp: func(_ *http.Request, body string) *http.Response {
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}
		}, ok: true},
		{name: "200 without Body", resp: func(req *http.Request, _ string) *http.Response {
			return &http.Response{StatusCode: 200, Request: req}
		}},
		{name: "status 0", resp: plain(0)},
		{name: "status 99", resp: plain(99)},
		{name: "status 101", resp: plain(101)},
		{name: "status 199", resp: plain(199)},
		{name: "status 600", resp: plain(600)},
		{name: "status 1000", resp: plain(1000)},
		{name: "status -1", resp: plain(-1)},
	}
}

// TestOddRepliesNeverPanic: whatever *http.Response a caller's
// RoundTripper returns, no call panics; each ends with a typed error (or
// succeeds on a usable 2xx), and a create answered with a status that is
// no definite refusal is ambiguous, never retried.
func TestOddRepliesNeverPanic(t *testing.T) {
	const legacyKey = "0123456789abcdef0123456789abcdef01234567"
	key := envelope(`{"apikey":` + keyJSON + `}`)
	legacyOK := `{"status":"ok","apiKey":{"label":"ci","keyType":"app","key":"` + legacyKey + `"},"list":[]}`
	calls := []struct {
		name   string
		create bool
		body   string // the 2xx reply's body
		// needsType says a 2xx reply must have a JSON Content-Type.
		needsType bool
		call      func(ctx context.Context, hc *http.Client) error
	}{
		{name: "APIKeys.Get", body: key, call: func(ctx context.Context, hc *http.Client) error {
			_, err := oddClient(t, hc).APIKeys.Get(ctx, "client-1")
			return err
		}},
		{name: "APIKeys.Create", create: true, body: key, call: func(ctx context.Context, hc *http.Client) error {
			_, err := oddClient(t, hc).APIKeys.Create(ctx, "env-1", apikeys.CreateAPIKeyRequest{Name: "n"})
			return err
		}},
		{name: "APIKeys.List", body: envelope(`{"apikeys":[]}`), call: func(ctx context.Context, hc *http.Client) error {
			_, err := oddClient(t, hc).APIKeys.List(ctx, "env-1")
			return err
		}},
		{name: "APIKeys.Delete", body: envelope(`{"message":"deleted"}`), call: func(ctx context.Context, hc *http.Client) error {
			_, err := oddClient(t, hc).APIKeys.Delete(ctx, "client-1")
			return err
		}},
		{name: "Legacy.Create", create: true, body: legacyOK, call: func(ctx context.Context, hc *http.Client) error {
			_, err := oddClient(t, hc).Legacy.Create(ctx, apikeys.AppKeys("app-1"), "ci")
			return err
		}},
		{name: "Legacy.Delete", body: legacyOK, call: func(ctx context.Context, hc *http.Client) error {
			_, err := oddClient(t, hc).Legacy.Delete(ctx, legacyKey)
			return err
		}},
		{name: "FetchJWKS", body: `{"keys":[]}`, needsType: true, call: func(ctx context.Context, hc *http.Client) error {
			_, err := apikeys.FetchJWKS(ctx, "https://keys.example.com/jwks.json", apikeys.FetchHTTPClient(hc))
			return err
		}},
		{name: "token request", body: `{"access_token":"at-1","token_type":"Bearer","expires_in":300}`, call: func(ctx context.Context, hc *http.Client) error {
			ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: "client-1", Key: generatedKey(t, apikeys.ES256),
				TokenURL: "https://auth.example.com/token", HTTPClient: hc})
			require.NoError(t, err)
			apikeys.SetTokenSourceWait(ts, func(ctx context.Context, _ time.Duration) error { return ctx.Err() })
			_, err = ts.Token(ctx)
			return err
		}},
	}
	for _, call := range calls {
		for _, odd := range oddReplies() {
			t.Run(call.name+"/"+odd.name, func(t *testing.T) {
				sent := 0
				hc := &http.Client{Transport: oddTransport{reply: func(req *http.Request) *http.Response {
					sent++
					return odd.resp(req, call.body)
				}}}
				var err error
				require.NotPanics(t, func() { err = call.call(t.Context(), hc) })
				if odd.ok && (odd.typed || !call.needsType) {
					assert.NoError(t, err)
					return
				}
				require.Error(t, err)
				assert.True(t, typedError(err), "%T %v", err, err)
				if call.create && !odd.refusal {
					assert.Equal(t, 1, sent, "a create is sent once")
					assert.True(t, apikeys.IsAmbiguous(err), "no definite refusal: %v", err)
				}
			})
		}
	}
}

// typedError reports whether err is one of the SDK's error types.
func typedError(err error) bool {
	var (
		ae  *apikeys.APIError
		le  *apikeys.APIError
		de  *apikeys.DecodeError
		te  *apikeys.TransportError
		tke *apikeys.TokenError
	)
	return errors.As(err, &ae) || errors.As(err, &le) || errors.As(err, &de) || errors.As(err, &te) || errors.As(err, &tke)
}

// oddClient is a Platform and legacy client sending through hc.
func oddClient(t *testing.T, hc *http.Client) *apikeys.Client {
	t.Helper()
	c, err := apikeys.NewClient(
		apikeys.WithBaseURL("https://api.example.com/platform"),
		apikeys.WithToken(testToken),
		apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: "https://acme.example.com", Domain: "acme", UserKey: "4a23bd0e3c1f9a8b7c6d5e4f3a2b1c0d9e8fec9e"}),
		apikeys.WithHTTPClient(hc),
		apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 2}),
	)
	require.NoError(t, err)
	return c
}

package apikeys_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// getReused sends a GET to url with hc, reads the reply whole (which puts
// its connection back in the idle pool) and says whether the connection
// was a reused one.
func getReused(t *testing.T, hc *http.Client, url string) bool {
	t.Helper()
	var reused bool
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused },
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := hc.Do(req)
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return reused
}

// TestFailedCallKeepsIdleConnections: a failed call leaves the idle
// connections of the transport it was given alone, be it
// http.DefaultTransport (FetchJWKS without FetchHTTPClient) or the
// caller's (WithHTTPClient, TokenConfig.HTTPClient, FetchHTTPClient):
// go-retryablehttp closes its client's idle connections after a failure,
// and those connections are not the SDK's to close.
func TestFailedCallKeepsIdleConnections(t *testing.T) {
	dead := "http://" + closedAddr(t)
	tests := []struct {
		name string
		own  bool // the caller's own client and transport, else http.DefaultClient
		fail func(hc *http.Client) error
	}{
		{"FetchJWKS on http.DefaultTransport", false, func(*http.Client) error {
			_, err := apikeys.FetchJWKS(context.Background(), dead+"/jwks", apikeys.FetchInsecureLoopbackHTTP())
			return err
		}},
		{"FetchJWKS with FetchHTTPClient", true, func(hc *http.Client) error {
			_, err := apikeys.FetchJWKS(context.Background(), dead+"/jwks", apikeys.FetchInsecureLoopbackHTTP(), apikeys.FetchHTTPClient(hc))
			return err
		}},
		{"Client with WithHTTPClient", true, func(hc *http.Client) error {
			c, err := apikeys.NewClient(apikeys.WithBaseURL(dead+"/platform"), apikeys.WithToken(testToken),
				apikeys.WithHTTPClient(hc), apikeys.WithRetry(apikeys.RetryPolicy{}))
			require.NoError(t, err)
			_, err = c.APIKeys.Get(context.Background(), "k")
			return err
		}},
		{"token source with TokenConfig.HTTPClient", true, func(hc *http.Client) error {
			ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: "client", Key: generatedKey(t, "ES256"),
				TokenURL: dead + "/token", HTTPClient: hc})
			require.NoError(t, err)
			apikeys.SetTokenSourceWait(ts, (&waits{}).sleep)
			_, err = ts.Token(context.Background())
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, "ok")
			}))
			t.Cleanup(srv.Close)
			hc := http.DefaultClient
			if tc.own {
				tr := &http.Transport{}
				t.Cleanup(tr.CloseIdleConnections)
				hc = &http.Client{Transport: tr}
			}
			getReused(t, hc, srv.URL) // leaves a keep-alive connection idle
			require.True(t, getReused(t, hc, srv.URL), "precondition: the idle connection is reused")

			require.Error(t, tc.fail(hc), "the call to a closed port fails")
			assert.True(t, getReused(t, hc, srv.URL), "the idle connection survived the failed call")
		})
	}
}

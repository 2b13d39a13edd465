package apikeystest_test

import (
	"context"
	"crypto/elliptic"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys/apikeystest"
)

// guard bounds a wait that must end; it is a failure guard, not a timing assumption.
const guard = 10 * time.Second

// try sends a request and returns the transport error, if any, closing the response.
func (f *fixture) try(method, url, body string, header ...string) (int, error) {
	f.t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(f.t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func TestFailNextThenRecovers(t *testing.T) {
	tests := []struct {
		name  string
		route apikeystest.Route
		call  func(t *testing.T, f *fixture) reply
		check func(t *testing.T, body map[string]any)
	}{
		{name: "platform", route: apikeystest.RouteListEnvironments,
			call:  func(_ *testing.T, f *fixture) reply { return listEnvs(f, f.srv.BearerToken) },
			check: func(t *testing.T, body map[string]any) { assert.Contains(t, body["message"], "injected fault") }},
		{name: "legacy", route: apikeystest.RouteLegacyList,
			call:  func(_ *testing.T, f *fixture) reply { return f.legacy("list", `{"type":"user"}`) },
			check: func(t *testing.T, body map[string]any) { assert.Equal(t, "error", body["status"]) }},
		{name: "token", route: apikeystest.RouteToken,
			call: func(t *testing.T, f *fixture) reply {
				priv := ecKey(t, elliptic.P384())
				k, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Staging"), "svc", jwkSet(t, map[string]any{"a": priv.Public()}), "")
				require.NoError(t, err)
				return f.token(tokenForm(sign(t, priv, jose.ES384, "a", claims(f, k.ID))))
			},
			check: func(t *testing.T, body map[string]any) { assert.Equal(t, "server_error", body["error"]) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t)
			f.srv.FailNext(tc.route, 2, http.StatusServiceUnavailable, "7")
			f.srv.FailNext(tc.route, 1, http.StatusTooManyRequests, "")
			for i, want := range []int{503, 503, 429} {
				r := tc.call(t, f)
				assert.Equal(t, want, r.status, "attempt %d", i+1)
				if want == 503 {
					assert.Equal(t, "7", r.header.Get("Retry-After"))
				} else {
					assert.Empty(t, r.header.Get("Retry-After"))
				}
				tc.check(t, r.object(t))
				assert.Equal(t, "injected fault", f.lastReason())
			}
			assert.Equal(t, http.StatusOK, tc.call(t, f).status, "recovered")
			assert.Equal(t, 4, f.srv.Count(tc.route))
		})
	}
}

func TestFailNextDoesNotApply(t *testing.T) {
	f := start(t)
	f.srv.FailNext(apikeystest.RouteCreateAPIKey, 1, http.StatusBadGateway, "")
	f.srv.FailNext(apikeystest.RouteLegacyCreate, 1, http.StatusInternalServerError, "")
	r := f.platform(http.MethodPost, "/v1/environments/"+f.srv.EnvironmentID("Staging")+"/apikeys", `{"name":"x"}`)
	assert.Equal(t, http.StatusBadGateway, r.status)
	r = f.legacy("create", `{"type":"user","label":"x"}`)
	assert.Equal(t, http.StatusInternalServerError, r.status)
	assert.NotEmpty(t, r.header.Get("X-FH-REQUEST-ID"))
	assert.Empty(t, f.srv.APIKeys())
	assert.Empty(t, f.srv.LegacyKeys())
}

func TestFailNextBody(t *testing.T) {
	f := start(t)
	k, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Staging"), "x", nil, "")
	require.NoError(t, err)
	f.srv.FailNextBody(apikeystest.RouteGetAPIKey, 1, http.StatusOK, "text/html", []byte("<html>proxy</html>"))
	f.srv.FailNextBody(apikeystest.RouteGetAPIKey, 1, http.StatusOK, "application/json", []byte(`{"meta":{"version":"1.0.0"},"payl`))

	r := f.platform(http.MethodGet, "/v1/apikeys/"+k.ID, "")
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "text/html", r.header.Get("Content-Type"))
	assert.Equal(t, "<html>proxy</html>", string(r.body))
	r = f.platform(http.MethodGet, "/v1/apikeys/"+k.ID, "")
	assert.Equal(t, `{"meta":{"version":"1.0.0"},"payl`, string(r.body))
	r = f.platform(http.MethodGet, "/v1/apikeys/"+k.ID, "")
	assert.Equal(t, k.ID, r.payload(t)["apikey"].(map[string]any)["id"])
}

func TestDropNext(t *testing.T) {
	tests := []struct {
		name  string
		route apikeystest.Route
		send  func(f *fixture) (int, error)
		count func(f *fixture) int
	}{
		{name: "platform create", route: apikeystest.RouteCreateAPIKey,
			send: func(f *fixture) (int, error) {
				return f.try(http.MethodPost, f.srv.PlatformURL+"/v1/environments/"+f.srv.EnvironmentID("Staging")+"/apikeys",
					`{"name":"x"}`, "Authorization", "Bearer "+f.srv.BearerToken, "Content-Type", "application/json")
			},
			count: func(f *fixture) int { return len(f.srv.APIKeys()) }},
		{name: "legacy create", route: apikeystest.RouteLegacyCreate,
			send: func(f *fixture) (int, error) {
				return f.try(http.MethodPost, f.legacyURL("create"), `{"type":"user","label":"x"}`,
					"X-FH-AUTH-USER", f.srv.LegacyUserKey, "Content-Type", "application/json")
			},
			count: func(f *fixture) int { return len(f.srv.LegacyKeys()) }},
	}
	for _, tc := range tests {
		t.Run(tc.name+" not applied", func(t *testing.T) {
			f := start(t)
			f.srv.DropNext(tc.route, 1)
			_, err := tc.send(f)
			assert.Error(t, err, "the connection is closed without a response")
			assert.Zero(t, tc.count(f), "state unchanged")
			assert.Equal(t, "injected fault: dropped", f.lastReason())

			status, err := tc.send(f)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, 1, tc.count(f))
			assert.Equal(t, 2, f.srv.Count(tc.route))
		})
		t.Run(tc.name+" applied", func(t *testing.T) {
			f := start(t)
			f.srv.DropNextAfterApply(tc.route, 1)
			_, err := tc.send(f)
			assert.Error(t, err, "the connection is closed without a response")
			assert.Equal(t, 1, tc.count(f), "the server did the work")
			assert.Equal(t, "injected fault: dropped after apply", f.lastReason())
		})
	}
}

func TestDropNextAfterApplyRevoke(t *testing.T) {
	f := start(t)
	key := apiKey(t, f.legacy("create", `{"type":"user","label":"x"}`))["key"].(string)
	f.srv.DropNextAfterApply(apikeystest.RouteLegacyRevoke, 1)
	_, err := f.try(http.MethodPost, f.legacyURL("revoke"), `{"key":"`+key+`"}`,
		"X-FH-AUTH-USER", f.srv.LegacyUserKey, "Content-Type", "application/json")
	assert.Error(t, err)
	require.Len(t, f.srv.LegacyKeys(), 1)
	assert.NotNil(t, f.srv.LegacyKeys()[0].Revoked)
	assert.NotNil(t, apiKey(t, f.legacy("revoke", `{"key":"`+key+`"}`))["revoked"], "a retry still succeeds")
}

func TestLatencyHonoursCancellation(t *testing.T) {
	f := start(t)
	f.srv.SetLatency(apikeystest.RouteListEnvironments, time.Hour)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.PlatformURL+"/v1/organizations/1/environments", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+f.srv.BearerToken)
	done := make(chan error, 1)
	go func() {
		resp, err := f.hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()

	select {
	case <-f.srv.Await(apikeystest.RouteListEnvironments, 1):
	case <-time.After(guard):
		t.Fatal("the request never reached the server")
	}
	cancel()
	select {
	case err := <-done:
		assert.True(t, errors.Is(err, context.Canceled), "got %v", err)
	case <-time.After(guard):
		t.Fatal("the client did not return after cancel")
	}

	// Close waits for in-flight handlers; it returns only if the delayed one honoured the
	// cancellation (the latency is an hour).
	closed := make(chan struct{})
	go func() {
		f.hc.CloseIdleConnections()
		f.srv.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(guard):
		t.Fatal("Close blocked: the delayed handler ignored its cancelled context")
	}
	assert.Equal(t, "cancelled during latency", f.srv.Requests()[0].Reason)
}

func TestLatencyZeroRemovesDelay(t *testing.T) {
	f := start(t)
	f.srv.SetLatency(apikeystest.RouteListEnvironments, time.Hour)
	f.srv.SetLatency(apikeystest.RouteListEnvironments, 0)
	assert.Equal(t, http.StatusOK, listEnvs(f, f.srv.BearerToken).status)
}

func TestConnections(t *testing.T) {
	f := start(t)
	for range 3 {
		require.Equal(t, http.StatusOK, listEnvs(f, f.srv.BearerToken).status)
	}
	assert.Equal(t, 1, f.srv.Connections(), "keep-alive reuses one connection")

	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	f.hc = &http.Client{Transport: tr}
	for range 2 {
		require.Equal(t, http.StatusOK, listEnvs(f, f.srv.BearerToken).status)
	}
	assert.Equal(t, 3, f.srv.Connections())
}

func TestConcurrentUse(t *testing.T) {
	f := start(t)
	url := f.srv.PlatformURL + "/v1/environments/" + f.srv.EnvironmentID("Staging") + "/apikeys"
	f.srv.FailNext(apikeystest.RouteCreateAPIKey, 5, http.StatusServiceUnavailable, "")
	var wg sync.WaitGroup
	statuses := make(chan int, 20)
	for range 20 {
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"name":"x"}`))
			if !assert.NoError(t, err) {
				return
			}
			req.Header.Set("Authorization", "Bearer "+f.srv.BearerToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := f.hc.Do(req)
			if !assert.NoError(t, err) {
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
			_ = f.srv.APIKeys()
			_ = f.srv.Requests()
		})
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	assert.Equal(t, map[int]int{200: 15, 503: 5}, counts)
	assert.Len(t, f.srv.APIKeys(), 15)
	assert.Equal(t, 20, f.srv.Count(apikeystest.RouteCreateAPIKey))
}

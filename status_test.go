package apikeys_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// What HTTP (RFC 9110) says a status means for a request that may have
// changed state, independently of the SDK's own tables.
func definiteRefusal(code int) bool {
	return code >= 400 && code <= 499 && code != http.StatusRequestTimeout
}

func worthRepeating(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || (code >= 500 && code <= 599)
}

// statusOp is a call whose ID (or app ID) carries the status the test
// server must answer with, "s-<status>".
type statusOp struct {
	name   string
	create bool
	legacy bool
	call   func(ctx context.Context, c *apikeys.Client, id string) error
}

func statusOps() []statusOp {
	return []statusOp{
		{name: "APIKeys.Create", create: true, call: func(ctx context.Context, c *apikeys.Client, id string) error {
			_, err := c.APIKeys.Create(ctx, id, apikeys.CreateAPIKeyRequest{Name: "billing"})
			return err
		}},
		{name: "APIKeys.Get", call: func(ctx context.Context, c *apikeys.Client, id string) error {
			_, err := c.APIKeys.Get(ctx, id)
			return err
		}},
		{name: "APIKeys.Delete", call: func(ctx context.Context, c *apikeys.Client, id string) error {
			_, err := c.APIKeys.Delete(ctx, id)
			return err
		}},
		{name: "Legacy.Create", create: true, legacy: true, call: func(ctx context.Context, c *apikeys.Client, id string) error {
			_, err := c.Legacy.Create(ctx, apikeys.AppKeys(id), "ci")
			return err
		}},
		{name: "Legacy.Delete", legacy: true, call: func(ctx context.Context, c *apikeys.Client, id string) error {
			_, err := c.Legacy.Delete(ctx, id)
			return err
		}},
	}
}

// statusServer answers every request with the status its ID names, and
// counts the requests per ID.
type statusServer struct {
	mu   sync.Mutex
	seen map[string]int
}

func (s *statusServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var id string
	if strings.HasPrefix(r.URL.Path, "/box/") {
		var b struct {
			AppID string `json:"appId"`
			Key   string `json:"key"`
		}
		_ = json.Unmarshal(body, &b)
		id = b.AppID + b.Key
	} else if i := strings.LastIndex(r.URL.Path, "s-"); i >= 0 {
		id, _, _ = strings.Cut(r.URL.Path[i:], "/")
	}
	s.mu.Lock()
	s.seen[id]++
	s.mu.Unlock()
	code, _ := strconv.Atoi(strings.TrimPrefix(id, "s-"))
	w.Header().Set("X-Test-Proto", r.Proto)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = fmt.Fprintf(w, `{"status":"error","message":"status %d"}`, code)
}

func (s *statusServer) count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[id]
}

// TestEveryStatus drives creates, reads and deletes of both APIs through
// every status from 300 to 599, over HTTP/1.1 and over HTTP/2 on TLS. A
// create is never sent twice unless the reply was 429, and its outcome is
// unknown (IsAmbiguous, never IsRetryable) for every status that is not a
// definite refusal: any 5xx (CDN statuses 520-527 and 599 included), 408,
// and the 3xx statuses a create cannot end with. Calls that are safe to
// repeat are retried exactly on 408, 429 and 5xx.
func TestEveryStatus(t *testing.T) {
	for _, proto := range []string{"HTTP/1.1", "HTTP/2.0"} {
		t.Run(proto, func(t *testing.T) {
			srv := &statusServer{seen: map[string]int{}}
			ts := httptest.NewUnstartedServer(srv)
			ts.EnableHTTP2 = proto == "HTTP/2.0"
			if ts.EnableHTTP2 {
				ts.StartTLS()
			} else {
				ts.Start()
			}
			t.Cleanup(ts.Close)
			c, err := apikeys.NewClient(
				apikeys.WithBaseURL(ts.URL+basePath),
				apikeys.WithToken(testToken),
				apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: ts.URL, Domain: "acme", UserKey: "4a23bd0e3c1f9a8b7c6d5e4f3a2b1c0d9e8fec9e"}),
				apikeys.WithHTTPClient(ts.Client()),
				apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 3}),
			)
			require.NoError(t, err)
			for _, op := range statusOps() {
				for code := 300; code <= 599; code++ {
					id := "s-" + strconv.Itoa(code)
					t.Run(op.name+"/"+strconv.Itoa(code), func(t *testing.T) {
						before := srv.count(id)
						var info apikeys.Response
						err := op.call(apikeys.CaptureResponse(t.Context(), &info), c, id)
						require.Error(t, err)
						attempts := srv.count(id) - before
						assert.Equal(t, proto, protoOf(info), "the reply came over %s", proto)
						switch {
						case op.create && code == http.StatusTooManyRequests:
							assert.Equal(t, 4, attempts, "a rate limit refuses before processing: retried")
							assert.False(t, apikeys.IsAmbiguous(err))
							assert.True(t, apikeys.IsRetryable(err))
						case op.create && definiteRefusal(code):
							assert.Equal(t, 1, attempts)
							assert.False(t, apikeys.IsAmbiguous(err), "a definite refusal: nothing was applied")
							assert.False(t, apikeys.IsRetryable(err))
						case op.create:
							assert.Equal(t, 1, attempts, "never sent twice")
							assert.True(t, apikeys.IsAmbiguous(err), "status %d leaves the outcome unknown", code)
							assert.False(t, apikeys.IsRetryable(err), "an ambiguous create is reconciled, not retried")
						case worthRepeating(code):
							assert.Equal(t, 4, attempts)
							assert.False(t, apikeys.IsAmbiguous(err))
							assert.True(t, apikeys.IsRetryable(err))
						default:
							assert.Equal(t, 1, attempts)
							assert.False(t, apikeys.IsAmbiguous(err))
							assert.False(t, apikeys.IsRetryable(err))
						}
						assert.Equal(t, attempts, info.Attempts)
						assert.Equal(t, code, statusOf(err), "the error is the last reply's")
						if code >= 500 {
							assert.ErrorIs(t, err, apikeys.ErrServer)
						}
					})
				}
			}
		})
	}
}

// protoOf returns the protocol the test server saw, which it echoes.
func protoOf(info apikeys.Response) string {
	if info.Header == nil {
		return ""
	}
	return info.Header.Get("X-Test-Proto")
}

// statusOf returns the status of the *APIError (either API) in err.
func statusOf(err error) int {
	var ae *apikeys.APIError
	if errors.As(err, &ae) {
		return ae.StatusCode
	}
	var le *apikeys.APIError
	if errors.As(err, &le) {
		return le.StatusCode
	}
	return -1
}

package apikeys_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// testToken is the bearer token the test clients send; tests check it never leaks.
const testToken = "tok-9f8e7d6c5b4a39281706-SECRET"

// basePath is where the test servers mount the Platform API, so URL joins
// that drop the base path fail the tests.
const basePath = "/platform"

// seen is one request as a test server received it.
type seen struct {
	Method  string
	Path    string // escaped path
	Header  http.Header
	Body    []byte
	Attempt int // 0-based index among all requests to the server
}

// server is an httptest server that records requests and answers with the
// test's handler, which gets the request's index.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newServer(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.reqs)
		s.reqs = append(s.reqs, seen{Method: r.Method, Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: body, Attempt: n})
		s.mu.Unlock()
		h(w, r, n)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

func (s *server) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.reqs...)
}

// waits records the waits a client or token source asked for instead of
// sleeping, advancing clock (if set) by each.
type waits struct {
	mu    sync.Mutex
	d     []time.Duration
	clock *fakeClock
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	if w.clock != nil {
		w.clock.Advance(d)
	}
	return ctx.Err()
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

// fixedNow is the clock of the retry tests.
var fixedNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// newClient returns a client for s's Platform API with a static token,
// 3 retries and a recorded, non-sleeping wait with jitter 0.5.
func newClient(t *testing.T, s *server, opts ...apikeys.Option) (*apikeys.Client, *waits) {
	t.Helper()
	base := []apikeys.Option{
		apikeys.WithBaseURL(s.URL + basePath),
		apikeys.WithToken(testToken),
		apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 3, MinWait: 100 * time.Millisecond, MaxWait: 2 * time.Second}),
	}
	c, err := apikeys.NewClient(append(base, opts...)...)
	require.NoError(t, err)
	w := &waits{}
	apikeys.SetRetryClock(c, w.sleep, func() float64 { return 0.5 }, func() time.Time { return fixedNow })
	return c, w
}

// reply writes a JSON reply.
func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// hangUp closes the connection without a reply, after the request was read.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// logBuffer is a goroutine-safe buffer for a capturing slog handler.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func debugLogger(buf *logBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

const keyJSON = `{"id":"client-1","name":"billing","jwksURL":"https://keys.example.com/jwks.json","environment":{"id":"497f6eca-6276-4993-bfeb-53cbbbba6f08","environmentFlag":"Staging"}}`

// captureStderr returns what f wrote to os.Stderr.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	old := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	f()
	os.Stderr = old
	require.NoError(t, w.Close())
	return <-done
}

func envelope(payload string) string {
	return `{"meta":{"version":"1.0.0"},"payload":` + payload + `}`
}

// addServiceKey registers an ES256 signing key with srv as the JWK set
// of a Platform key named "svc" in environment envID, and returns both:
// the key and client ID of a token source srv accepts.
func addServiceKey(t *testing.T, srv *apikeystest.Server, envID string) (apikeys.SigningKey, apikeystest.APIKey) {
	t.Helper()
	key := generatedKey(t, apikeys.ES256)
	jwk, err := key.JWK()
	require.NoError(t, err)
	set, err := json.Marshal(apikeys.NewJWKSet(jwk))
	require.NoError(t, err)
	svc, err := srv.AddAPIKey(envID, "svc", set, "")
	require.NoError(t, err)
	return key, svc
}

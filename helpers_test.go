package apikeys_test

// Helpers shared by the root package's tests (package apikeys_test): a
// helper used by two or more test files lives here, one used by a single
// file stays in that file.
//
//   - Platform API test server and client: server, newServer, newClient,
//     reply, envelope, keyJSON, hangUp, getKey, waits, roundTripFunc,
//     closedAddr.
//   - Legacy API test server: legacyConfig, newLegacyClient, writeLegacy,
//     legacySecret, legacyKeyJSON.
//   - Clocks and goroutines: fakeClock, leakCheck, await.
//   - Keys: generatedKey, cachedSigningKey, wrappedSigner, signWithJose,
//     fixture, rfc7638N, addServiceKey (apikeystest).
//   - Token endpoint replies: writeJSON, tokenReply.
//   - Logs: logBuffer, debugLogger.
//   - Benchmarks: benchClientID, floorTransport.

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// Platform API test server and client.

// testToken is the bearer token the test clients send; tests check it never leaks.
const testToken = "tok-9f8e7d6c5b4a39281706-SECRET"

// testClientID is the client ID of the test token sources.
const testClientID = "client-5f1c"

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

const keyJSON = `{"id":"client-1","name":"billing","jwksURL":"https://keys.example.com/jwks.json","environment":{"id":"497f6eca-6276-4993-bfeb-53cbbbba6f08","environmentFlag":"Staging"}}`

func envelope(payload string) string {
	return `{"meta":{"version":"1.0.0"},"payload":` + payload + `}`
}

// getKey gets key client-1: a call for tests that care about its error only.
func getKey(ctx context.Context, c *apikeys.Client) error {
	_, err := c.APIKeys.Get(ctx, "client-1")
	return err
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// Legacy API test server: the Platform test server (newServer) with
// the legacy client's configuration, and the legacy API's replies.

const (
	legacyPrefix   = "/tenant-proxy"
	legacyDomain   = "acme dev" // escaped as acme%20dev
	legacyUserKey  = "f00dfeed0123456789abcdef0123456789f00d42"
	legacyCookie   = "sess-C00KIE-5ecret-value"
	legacyKeyValue = "4a23c0ffee0123456789abcdef0123456789ec9e"
	legacyReqID    = "req-7f3a"
)

// legacySecret is the secret of the key in legacyKeyJSON.
const legacySecret = "api-SECRET-0987654321-shh"

// legacyKeyJSON is a key as a real server sends it: null revoked* members
// and fields the SDK does not know.
const legacyKeyJSON = `{"label":"ci","keyType":"app","key":"` + legacyKeyValue + `","keyReference":"app-1",` +
	`"secret":"` + legacySecret + `","revoked":null,"revokedBy":null,"revokedEmail":null,"_id":"x1","createdBy":{"id":"u1"},"tags":[1,2]}`

// legacyConfig points a LegacyConfig at s, mounted under a path prefix.
func legacyConfig(s *server) apikeys.LegacyConfig {
	return apikeys.LegacyConfig{BaseURL: s.URL + legacyPrefix, Domain: legacyDomain, UserKey: legacyUserKey, SessionCookie: legacyCookie}
}

// newLegacyClient returns a client for s with zero-wait retries.
func newLegacyClient(t *testing.T, s *server, opts ...apikeys.Option) *apikeys.Client {
	t.Helper()
	opts = append([]apikeys.Option{apikeys.WithLegacy(legacyConfig(s)), apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 3})}, opts...)
	c, err := apikeys.NewClient(opts...)
	require.NoError(t, err)
	return c
}

// writeLegacy sends a reply with a JSON content type and a request ID.
func writeLegacy(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-FH-REQUEST-ID", legacyReqID)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// Clocks and goroutines.

// fakeClock is a settable clock for TokenConfig.Clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// leakCheck fails t if a goroutine started during t outlives it: the
// check runs at cleanup, after the cleanups registered later.
func leakCheck(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// waitGuard bounds the waits that must end: a failure guard, not a timing
// assumption.
const waitGuard = 10 * time.Second

// await waits for ch, failing the test after waitGuard.
func await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitGuard):
		t.Fatalf("%s: not reached within %s", what, waitGuard)
	}
}

// Keys.

// rfc7638N is the modulus of the RSA key of RFC 7517 appendix A.1, the
// key of RFC 7638 section 3.1.
const rfc7638N = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"

// signingKeys caches the signing keys the tests and benchmarks make, by
// name, once per process: RSA-3072 generation is slow.
var signingKeys struct {
	sync.Mutex
	byName map[string]apikeys.SigningKey
}

// cachedSigningKey returns the process's key named name, made by gen on
// first use. Tests may ask at once: gen runs unlocked, and the first key
// stored wins.
func cachedSigningKey(tb testing.TB, name string, gen func() (apikeys.SigningKey, error)) apikeys.SigningKey {
	tb.Helper()
	signingKeys.Lock()
	k, ok := signingKeys.byName[name]
	signingKeys.Unlock()
	if ok {
		return k
	}
	k, err := gen()
	require.NoError(tb, err, "key %s", name)
	signingKeys.Lock()
	defer signingKeys.Unlock()
	if first, ok := signingKeys.byName[name]; ok {
		return first
	}
	if signingKeys.byName == nil {
		signingKeys.byName = make(map[string]apikeys.SigningKey)
	}
	signingKeys.byName[name] = k
	return k
}

// generatedKey returns the process's GenerateSigningKey(alg) key.
func generatedKey(tb testing.TB, alg string) apikeys.SigningKey {
	tb.Helper()
	return cachedSigningKey(tb, alg, func() (apikeys.SigningKey, error) { return apikeys.GenerateSigningKey(alg) })
}

// wrappedSigner hides the concrete key type, like an HSM or KMS signer.
type wrappedSigner struct{ s crypto.Signer }

func (w wrappedSigner) Public() crypto.PublicKey { return w.s.Public() }

func (w wrappedSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	return w.s.Sign(r, d, o)
}

var _ crypto.Signer = wrappedSigner{}

// signWithJose signs claims as a JWT with go-jose, the way a third party
// would, with kid in the header when set.
func signWithJose(t *testing.T, key any, alg, kid string, claims any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key}, opts)
	require.NoError(t, err)
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	require.NoError(t, err)
	return tok
}

// fixture reads a file of testdata/jwks.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "jwks", name))
	require.NoError(t, err)
	return b
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

// Token endpoint replies.

// writeJSON replies status with body as JSON.
func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// tokenReply answers tok-<n> living 300 s.
func tokenReply(n int, w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, map[string]any{"access_token": fmt.Sprintf("tok-%d", n), "token_type": "Bearer", "expires_in": 300})
}

// Logs.

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

// debugLogger logs JSON at debug level and above into buf.
func debugLogger(buf *logBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Benchmarks.

// benchClientID is the client ID of the benchmarks' token sources.
const benchClientID = "2c6a1f4e-8d3b-4b7a-9e0f-5a1d7c3e9b42"

// floorTransport is a clone of http.DefaultTransport that keeps as many
// idle connections per host as it may keep in all (100), as the SDK's own
// transport does: with the default 2, more than 2 concurrent callers
// churn connections, and the parallel benchmarks would compare pool sizes
// rather than per-call cost.
func floorTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = t.MaxIdleConns
	return t
}

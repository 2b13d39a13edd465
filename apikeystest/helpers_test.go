package apikeystest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/apikeys-go/apikeys/apikeystest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is the injected clock's start.
var t0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// clock is a settable clock for WithClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a running fake and a client with its own transport, both closed at cleanup.
type fixture struct {
	t     *testing.T
	srv   *apikeystest.Server
	hc    *http.Client
	clock *clock
}

func start(t *testing.T, opts ...apikeystest.Option) *fixture {
	t.Helper()
	clk := newClock()
	srv := apikeystest.NewServer(append([]apikeystest.Option{apikeystest.WithClock(clk.Now)}, opts...)...)
	tr := &http.Transport{}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
	})
	return &fixture{t: t, srv: srv, hc: &http.Client{Transport: tr}, clock: clk}
}

// reply is a read response.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// object decodes the body as a JSON object.
func (r reply) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

// payload decodes a Platform envelope and returns its payload.
func (r reply) payload(t *testing.T) map[string]any {
	t.Helper()
	m := r.object(t)
	require.Equal(t, map[string]any{"version": "1.0.0"}, m["meta"])
	p, ok := m["payload"].(map[string]any)
	require.True(t, ok, "payload: %s", r.body)
	return p
}

// send makes one request; header is a list of name, value pairs.
func (f *fixture) send(method, rawURL, body string, header ...string) reply {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, rawURL, rd)
	require.NoError(f.t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := f.hc.Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(f.t, err)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// platform calls a Platform route with the static bearer token (and a JSON content type when
// there is a body).
func (f *fixture) platform(method, path, body string) reply {
	f.t.Helper()
	return f.platformAs(f.srv.BearerToken, method, path, body)
}

func (f *fixture) platformAs(token, method, path, body string) reply {
	f.t.Helper()
	h := []string{"Authorization", "Bearer " + token, "Accept", "application/json"}
	if body != "" {
		h = append(h, "Content-Type", "application/json")
	}
	return f.send(method, f.srv.PlatformURL+path, body, h...)
}

// legacy calls a legacy op as the seeded user.
func (f *fixture) legacy(op, body string) reply {
	f.t.Helper()
	return f.send(http.MethodPost, f.legacyURL(op), body,
		"X-FH-AUTH-USER", f.srv.LegacyUserKey, "Content-Type", "application/json")
}

func (f *fixture) legacyURL(op string) string {
	return f.srv.URL + "/box/srv/1.1/ide/" + f.srv.LegacyDomain + "/api/" + op
}

// token posts a token request form.
func (f *fixture) token(form url.Values) reply {
	f.t.Helper()
	return f.send(http.MethodPost, f.srv.TokenURL, form.Encode(),
		"Content-Type", "application/x-www-form-urlencoded")
}

// lastReason returns the Reason of the newest request log entry.
func (f *fixture) lastReason() string {
	reqs := f.srv.Requests()
	if len(reqs) == 0 {
		return "<no requests>"
	}
	return reqs[len(reqs)-1].Reason
}

// --- keys and assertions ---

var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func ecKey(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	require.NoError(t, err)
	return k
}

// jwkSet returns the public JWK Set of the given public keys, keyed kid -> key.
func jwkSet(t *testing.T, pub map[string]any) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for kid, k := range pub {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k, KeyID: kid, Use: "sig"})
	}
	b, err := json.Marshal(set)
	require.NoError(t, err)
	return b
}

// claims returns valid client-assertion claims for clientID at now.
func claims(f *fixture, clientID string) map[string]any {
	now := f.clock.Now()
	return map[string]any{
		"iss": clientID,
		"sub": clientID,
		"aud": f.srv.TokenURL,
		"iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
		"jti": rand.Text(),
	}
}

// sign signs claims as a compact JWS; kid "" leaves the kid header out.
func sign(t *testing.T, key any, alg jose.SignatureAlgorithm, kid string, c map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	require.NoError(t, err)
	s, err := jwt.Signed(signer).Claims(c).Serialize()
	require.NoError(t, err)
	return s
}

// tokenForm is a valid token request form for an assertion.
func tokenForm(assertion string) url.Values {
	return url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
		"scope":                 {"system/*.read"},
	}
}

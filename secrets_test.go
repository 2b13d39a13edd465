package apikeys_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// TestLegacyConfigJSONHidesCredentials: a LegacyConfig that ends up in
// JSON (a service's config dumped by json.Marshal, or a struct logged with
// slog's JSON handler) shows its host and domain, never its credentials.
func TestLegacyConfigJSONHidesCredentials(t *testing.T) {
	const userKey, cookie = "4a23bd0e3c1f9a8b7c6d5e4f3a2b1c0d9e8fec9e", "s3ss10n-c00kie-SECRET"
	cfg := apikeys.LegacyConfig{BaseURL: "https://acme.feedhenry.com", Domain: "acme", UserKey: userKey, SessionCookie: cookie}
	type serviceConfig struct {
		Name   string
		Legacy apikeys.LegacyConfig
		Ptr    *apikeys.LegacyConfig
	}
	b, err := json.Marshal(serviceConfig{Name: "billing", Legacy: cfg, Ptr: &cfg})
	require.NoError(t, err)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "svc", serviceConfig{Legacy: cfg}, "legacy", cfg)
	for _, out := range []string{string(b), logs.String()} {
		assert.Contains(t, out, "acme.feedhenry.com")
		assert.NotContains(t, out, userKey)
		assert.NotContains(t, out, cookie)
	}
	assert.JSONEq(t, `{"BaseURL":"https://acme.feedhenry.com","Domain":"acme","UserKey":"****","SessionCookie":""}`,
		jsonString(t, apikeys.LegacyConfig{BaseURL: "https://acme.feedhenry.com", Domain: "acme", UserKey: userKey}))
	// String, %#v and LogValue mask the same way as MarshalJSON: "****"
	// for a set credential, "" for an unset one.
	one := apikeys.LegacyConfig{BaseURL: "https://acme.feedhenry.com", Domain: "acme", UserKey: userKey}
	assert.Equal(t, `LegacyConfig{BaseURL: https://acme.feedhenry.com, Domain: acme, UserKey: "****", SessionCookie: ""}`, one.String())
	assert.Equal(t, "apikeys."+one.String(), fmt.Sprintf("%#v", one))
	assert.Equal(t, "[base_url=https://acme.feedhenry.com domain=acme user_key=**** session_cookie=]", one.LogValue().String())
}

// TestLegacyConfigHidesBaseURLSecrets: a LegacyConfig shows its BaseURL
// without user info, query or fragment (NewClient refuses them, but a
// config is printed or logged before that too) in every output.
func TestLegacyConfigHidesBaseURLSecrets(t *testing.T) {
	cfg := apikeys.LegacyConfig{BaseURL: "https://ops:hunter2@acme.example.com/fh?sig=QUERYSECRET#FRAGSECRET", Domain: "acme"}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("config", "legacy", cfg)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("config", "legacy", cfg)
	outputs := map[string]string{
		"String":     cfg.String(),
		"%v":         fmt.Sprintf("%v", cfg),
		"%+v":        fmt.Sprintf("%+v", cfg),
		"%#v":        fmt.Sprintf("%#v", cfg),
		"json":       jsonString(t, cfg),
		"slog text":  text.String(),
		"slog JSON":  js.String(),
		"LogValue":   cfg.LogValue().String(),
		"unparsable": apikeys.LegacyConfig{BaseURL: "https://ops:hunter2@acme.example.com/%zz"}.String(),
	}
	for name, out := range outputs {
		assert.NotContains(t, out, "hunter2", name)
		assert.NotContains(t, out, "SECRET", name)
		if name != "unparsable" {
			assert.Contains(t, out, "https://acme.example.com/fh", name)
		}
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// teeHandler sends every record to each handler: the scan logs through slog's
// JSON and text handlers at once.
type teeHandler []slog.Handler

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range t {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range t {
		if h.Enabled(ctx, r.Level) {
			if err := h.Handle(ctx, r.Clone()); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t teeHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make(teeHandler, len(t))
	for i, h := range t {
		out[i] = h.WithAttrs(attrs)
	}
	return out
}

func (t teeHandler) WithGroup(name string) slog.Handler {
	out := make(teeHandler, len(t))
	for i, h := range t {
		out[i] = h.WithGroup(name)
	}
	return out
}

// credentialRecorder is a transport that remembers every credential crossing
// it: bearer tokens, X-FH-AUTH-USER values, cookies and client assertions
// sent, and access tokens, legacy key values and secrets received. The
// scan then looks for each of them in everything the SDK printed.
type credentialRecorder struct {
	next  http.RoundTripper
	mu    sync.Mutex
	kinds map[string]map[string]bool // kind of credential -> values seen
}

func (r *credentialRecorder) add(kind, v string) {
	if len(v) < 8 {
		return // too short to be a credential; would match by chance
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.kinds[kind] == nil {
		r.kinds[kind] = map[string]bool{}
	}
	r.kinds[kind][v] = true
}

// all returns every value seen, with a kind it was seen as.
func (r *credentialRecorder) all() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]string{}
	for kind, values := range r.kinds {
		for v := range values {
			out[v] = kind
		}
	}
	return out
}

func (r *credentialRecorder) count(kind string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.kinds[kind])
}

func (r *credentialRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok {
		r.add("bearer token sent", tok)
	}
	r.add("X-FH-AUTH-USER sent", req.Header.Get("X-FH-AUTH-USER"))
	for _, c := range req.Cookies() {
		r.add("cookie sent", c.Value)
	}
	if req.Body != nil && strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		form, _ := url.ParseQuery(string(b))
		if a := form.Get("client_assertion"); a != "" {
			r.add("client assertion", a)
			parts := strings.Split(a, ".")
			r.add("client assertion signature", parts[len(parts)-1])
		}
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return resp, nil // the SDK sees the same cut body
	}
	var doc any
	if json.Unmarshal(b, &doc) == nil {
		r.walk(doc)
	}
	return resp, nil
}

// walk records the values of reply members that hold secrets.
func (r *credentialRecorder) walk(v any) {
	switch v := v.(type) {
	case map[string]any:
		for name, m := range v {
			if s, ok := m.(string); ok {
				switch name {
				case "access_token":
					r.add("access token received", s)
				case "secret":
					r.add("legacy secret received", s)
				case "key":
					r.add("legacy key value received", s)
				}
			}
			r.walk(m)
		}
	case []any:
		for _, m := range v {
			r.walk(m)
		}
	}
}

// printScan collects everything the SDK printed, logged or returned during
// the flows of TestSecretsNeverLeakFromAnyFlow.
type printScan struct {
	t      *testing.T
	logger *slog.Logger
	out    strings.Builder
	flows  []string
}

// fmtVerbs is every fmt verb (and the flags that change what a verb
// prints), not only the ones a type is meant to be printed with: %d, %x
// or %q of a struct print its fields unless the type formats itself.
var fmtVerbs = []string{
	"%v", "%+v", "%#v", "%s", "%q", "%#q", "%+q", "%x", "%X", "% x", "% X", "%#x", "%d", "%+d",
	"%o", "%O", "%b", "%t", "%e", "%E", "%f", "%F", "%g", "%G", "%c", "%U", "%#U", "%10.4s", "%-12v", "%T",
	"%z", "%!",
}

// show prints v every way a caller might: every fmt verb, and through
// the logger (both handlers). %p prints a pointer's address; of a value
// that is not a pointer it prints the fields as they are, before any
// method of the type can run (fmt's design; see SECURITY.md), so it is
// shown for pointers only. Slices of legacy keys are logged as their
// elements: slog's JSON handler encodes a slice with encoding/json, which
// does not call LogValue on the elements (see SECURITY.md).
func (s *printScan) show(v any) {
	for _, verb := range fmtVerbs {
		fmt.Fprintf(&s.out, verb+"\n", v)
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer {
		fmt.Fprintf(&s.out, "%p\n", v)
	}
	if keys, ok := v.([]*apikeys.LegacyKey); ok {
		for _, k := range keys {
			s.show(k)
		}
		return
	}
	s.logger.Debug("value", "v", v)
	if err, ok := v.(error); ok {
		s.out.WriteString(err.Error() + "\n")
		s.logger.Error("call failed", "err", err)
	}
}

// marshal JSON-encodes a value whose type is meant to be logged.
func (s *printScan) marshal(v any) {
	b, err := json.Marshal(v)
	require.NoError(s.t, err)
	s.out.Write(b)
	s.out.WriteByte('\n')
}

// flow runs one flow, shows what it returned, and turns a panic into a
// test failure.
func (s *printScan) flow(name string, f func() (any, error)) (v any, err error) {
	s.flows = append(s.flows, name)
	defer func() {
		if p := recover(); p != nil {
			s.t.Errorf("flow %q panicked: %v", name, p)
		}
	}()
	v, err = f()
	if v != nil {
		s.show(v)
	}
	if err != nil {
		s.show(err)
	}
	return v, err
}

// printedForms returns the ways fmt can print a secret string or byte
// slice: as is, in hex (%x, %X, % x) and as decimal bytes (%d of a []byte).
func printedForms(secret string) []string {
	b := []byte(secret)
	spaced := func(format string) string {
		parts := make([]string, len(b))
		for i, c := range b {
			parts[i] = fmt.Sprintf(format, c)
		}
		return strings.Join(parts, " ")
	}
	out := []string{secret, hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)), spaced("%02x"), spaced("%02X")}
	if len(b) >= 12 {
		out = append(out, "["+spaced("%d")[:len(spaced("%d"))*2/3]) // a prefix of %d of the bytes
	}
	return out
}

// privateKeyMaterial returns the encodings of a signing key's private
// half: the base64 lines of its PKCS #8 PEM, its private JWK members, and
// the private scalars in base64url and decimal.
func privateKeyMaterial(t *testing.T, signer crypto.Signer) []string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(signer)
	require.NoError(t, err)
	var out []string
	for _, line := range strings.Split(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "\n") {
		if len(line) > 16 && !strings.HasPrefix(line, "-----") {
			out = append(out, line)
		}
	}
	priv, err := jose.JSONWebKey{Key: signer}.MarshalJSON()
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(priv, &m))
	for _, name := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		if v, ok := m[name].(string); ok {
			out = append(out, v)
		}
	}
	switch k := signer.(type) {
	case *ecdsa.PrivateKey:
		b, err := k.Bytes()
		require.NoError(t, err)
		out = append(out, base64.RawURLEncoding.EncodeToString(b), k.D.String())
	case *rsa.PrivateKey:
		out = append(out, base64.RawURLEncoding.EncodeToString(k.D.Bytes()), k.D.String(), k.Primes[0].String())
	case ed25519.PrivateKey:
		out = append(out, base64.RawURLEncoding.EncodeToString(k.Seed()), string(k.Seed()))
	}
	return out
}

// TestSecretsNeverLeakFromAnyFlow runs every flow of both APIs and the token
// source against apikeystest (legacy admin, so secrets come back) with a
// debug logger on slog's JSON and text handlers, and prints every
// returned value and error with %v, %+v, %#v and %s (and JSON-encodes
// Token, SigningKey and LegacyConfig). No credential seen on the wire, no
// legacy key value or secret, and no private key material may appear in
// any of it, and no flow may panic.
func TestSecretsNeverLeakFromAnyFlow(t *testing.T) {
	srv := apikeystest.NewServer(apikeystest.WithLegacyAdmin(true))
	t.Cleanup(srv.Close)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	rec := &credentialRecorder{next: transport, kinds: map[string]map[string]bool{}}
	hc := &http.Client{Transport: rec}

	var jsonLogs, textLogs logBuffer
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	logger := slog.New(teeHandler{slog.NewJSONHandler(&jsonLogs, opts), slog.NewTextHandler(&textLogs, opts)})
	scan := &printScan{t: t, logger: logger}
	ctx := context.Background()
	envID := srv.EnvironmentID("Production")
	require.NotEmpty(t, envID)

	// A signing key registered with the fake, and its token source.
	sk, err := apikeys.GenerateSigningKey(apikeys.ES384)
	require.NoError(t, err)
	pub, err := sk.JWK()
	require.NoError(t, err)
	setJSON, err := json.Marshal(apikeys.NewJWKSet(pub))
	require.NoError(t, err)
	stored, err := srv.AddAPIKey(envID, "svc", setJSON, "")
	require.NoError(t, err)
	tokenCfg := apikeys.TokenConfig{ClientID: stored.ID, Key: sk, TokenURL: srv.TokenURL, HTTPClient: hc}
	ts, err := apikeys.NewTokenSource(tokenCfg)
	require.NoError(t, err)
	noWait := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	apikeys.SetTokenSourceWait(ts, noWait)
	rsaPEM := fixture(t, "rsa2048.pkcs8.pem")
	rsaKey, err := apikeys.ParseSigningKey(rsaPEM, "")
	require.NoError(t, err)
	edKey, err := apikeys.GenerateSigningKey(apikeys.EdDSA) // its Signer is the private key's bytes
	require.NoError(t, err)

	legacyCfg := apikeys.LegacyConfig{BaseURL: srv.URL, Domain: srv.LegacyDomain, UserKey: srv.LegacyUserKey, SessionCookie: srv.SessionCookie}
	newClient := func(opts ...apikeys.Option) *apikeys.Client {
		base := []apikeys.Option{apikeys.WithBaseURL(srv.PlatformURL), apikeys.WithHTTPClient(hc), apikeys.WithLogger(logger)}
		c, err := apikeys.NewClient(append(base, opts...)...)
		require.NoError(t, err)
		w := &waits{}
		apikeys.SetRetryClock(c, w.sleep, func() float64 { return 0.5 }, time.Now)
		return c
	}
	c := newClient(apikeys.WithTokenSource(ts), apikeys.WithLegacy(legacyCfg))
	static := newClient(apikeys.WithToken(srv.BearerToken))
	const wrongUserKey = "0f1e2d3c4b5a69788796a5b4c3d2e1f0deadbeef"
	wrongLegacy := newClient(apikeys.WithToken(srv.BearerToken), apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: srv.URL, Domain: srv.LegacyDomain, UserKey: wrongUserKey}))
	// cancelDuring runs call with a context that is cancelled while the
	// fake holds the request of route.
	cancelDuring := func(route apikeystest.Route, call func(context.Context) (any, error)) func() (any, error) {
		return func() (any, error) {
			srv.SetLatency(route, time.Minute)
			defer srv.SetLatency(route, 0)
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			arrived := srv.Await(route, srv.Count(route)+1)
			go func() {
				<-arrived
				cancel()
			}()
			v, err := call(cctx)
			assert.ErrorIs(t, err, context.Canceled)
			return v, err
		}
	}
	fails := func(err error) { assert.Error(t, err) }

	// Token source.
	tokV, err := scan.flow("token: fetch", func() (any, error) { return ts.Token(ctx) })
	require.NoError(t, err)
	tok := tokV.(*apikeys.Token)
	scan.show(*tok)
	scan.marshal(tok)
	scan.marshal(*tok)
	// refetch fetches with a new source, so nothing comes from a cache.
	refetch := func() (any, error) {
		fresh, err := apikeys.NewTokenSource(tokenCfg)
		require.NoError(t, err)
		apikeys.SetTokenSourceWait(fresh, noWait)
		return fresh.Token(ctx)
	}
	srv.FailNext(apikeystest.RouteToken, 2, http.StatusServiceUnavailable, "1")
	_, err = scan.flow("token: 503 twice, then a new token", refetch)
	require.NoError(t, err)
	srv.FailNext(apikeystest.RouteToken, 4, http.StatusBadGateway, "")
	_, err = scan.flow("token: 502 until retries run out", refetch)
	fails(err)
	srv.FailNextBody(apikeystest.RouteToken, 1, http.StatusOK, "text/html", []byte("<html><body>Login</body></html>"))
	_, err = scan.flow("token: HTML reply", refetch)
	fails(err)
	srv.FailNextBody(apikeystest.RouteToken, 1, http.StatusOK, "application/json", []byte(`{"access_token":"abcdef0123456789abcdef`))
	_, err = scan.flow("token: truncated reply", refetch)
	fails(err)
	unknown, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: "no-such-client", Key: sk, TokenURL: srv.TokenURL, HTTPClient: hc})
	require.NoError(t, err)
	_, err = scan.flow("token: unknown client (401 invalid_client)", func() (any, error) { return unknown.Token(ctx) })
	fails(err)
	rsaSource, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: stored.ID, Key: rsaKey, TokenURL: srv.TokenURL, HTTPClient: hc})
	require.NoError(t, err)
	_, err = scan.flow("token: key not in the set (400 unknown kid)", func() (any, error) { return rsaSource.Token(ctx) })
	fails(err)
	_, err = scan.flow("token: error through a Platform call", func() (any, error) {
		return newClient(apikeys.WithTokenSource(unknown)).APIKeys.List(ctx, envID)
	})
	fails(err)
	_, err = scan.flow("token: cancelled context", func() (any, error) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		return ts.Token(cctx)
	})
	fails(err)

	// Platform API.
	_, err = scan.flow("environments: list", func() (any, error) { return c.Environments.List(ctx, srv.OrganizationID()) })
	require.NoError(t, err)
	createdV, err := scan.flow("apikeys: create with a jwkSet", func() (any, error) {
		return c.APIKeys.Create(ctx, envID, apikeys.CreateAPIKeyRequest{Name: "billing", JWKSet: apikeys.NewJWKSet(pub)})
	})
	require.NoError(t, err)
	id := createdV.(*apikeys.APIKey).ID
	_, err = scan.flow("apikeys: get", func() (any, error) { return c.APIKeys.Get(ctx, id) })
	require.NoError(t, err)
	_, err = scan.flow("apikeys: list", func() (any, error) { return c.APIKeys.List(ctx, envID) })
	require.NoError(t, err)
	name := "billing-2"
	_, err = scan.flow("apikeys: update", func() (any, error) { return c.APIKeys.Update(ctx, id, apikeys.UpdateAPIKeyRequest{Name: &name}) })
	require.NoError(t, err)
	_, err = scan.flow("apikeys: list with a static bearer token", func() (any, error) { return static.APIKeys.List(ctx, envID) })
	require.NoError(t, err)
	_, err = scan.flow("apikeys: get unknown key (404)", func() (any, error) { return c.APIKeys.Get(ctx, "no-such-key") })
	fails(err)
	srv.FailNext(apikeystest.RouteUpdateAPIKey, 1, http.StatusBadRequest, "")
	_, err = scan.flow("apikeys: update refused (400)", func() (any, error) { return c.APIKeys.Update(ctx, id, apikeys.UpdateAPIKeyRequest{Name: &name}) })
	fails(err)
	srv.FailNext(apikeystest.RouteListAPIKeys, 2, http.StatusServiceUnavailable, "0")
	_, err = scan.flow("apikeys: list after two 503s (retries)", func() (any, error) { return c.APIKeys.List(ctx, envID) })
	require.NoError(t, err)
	srv.FailNext(apikeystest.RouteGetAPIKey, 4, http.StatusBadGateway, "") // 1 + MaxRetries attempts
	_, err = scan.flow("apikeys: get until retries run out (502)", func() (any, error) { return c.APIKeys.Get(ctx, id) })
	fails(err)
	srv.FailNext(apikeystest.RouteGetAPIKey, 1, http.StatusUnauthorized, "")
	_, err = scan.flow("apikeys: 401, new token, retry", func() (any, error) { return c.APIKeys.Get(ctx, id) })
	require.NoError(t, err)
	srv.FailNext(apikeystest.RouteGetAPIKey, 1, http.StatusUnauthorized, "")
	_, err = scan.flow("apikeys: 401 with a static token", func() (any, error) { return static.APIKeys.Get(ctx, id) })
	fails(err)
	srv.FailNext(apikeystest.RouteCreateAPIKey, 1, http.StatusInternalServerError, "")
	_, err = scan.flow("apikeys: create answered 500 (ambiguous)", func() (any, error) {
		return c.APIKeys.Create(ctx, envID, apikeys.CreateAPIKeyRequest{Name: "dup"})
	})
	assert.True(t, apikeys.IsAmbiguous(err), "%v", err)
	srv.DropNextAfterApply(apikeystest.RouteCreateAPIKey, 1)
	_, err = scan.flow("apikeys: create cut after apply (ambiguous)", func() (any, error) {
		return c.APIKeys.Create(ctx, envID, apikeys.CreateAPIKeyRequest{Name: "dup"})
	})
	assert.True(t, apikeys.IsAmbiguous(err), "%v", err)
	srv.FailNextBody(apikeystest.RouteGetAPIKey, 1, http.StatusOK, "text/html", []byte("<html><body>Bearer "+srv.BearerToken+" refused by gateway</body></html>"))
	_, err = scan.flow("apikeys: HTML 200 echoing the bearer token", func() (any, error) { return static.APIKeys.Get(ctx, id) })
	fails(err)
	srv.FailNextBody(apikeystest.RouteGetAPIKey, 1, http.StatusUnauthorized, "application/json", []byte(`{"message":"token `+srv.BearerToken+` expired"}`))
	_, err = scan.flow("apikeys: 401 JSON echoing the bearer token", func() (any, error) { return static.APIKeys.Get(ctx, id) })
	fails(err)
	srv.FailNextBody(apikeystest.RouteListAPIKeys, 1, http.StatusBadGateway, "text/plain", []byte("upstream refused Authorization: Bearer "+srv.BearerToken))
	srv.FailNextBody(apikeystest.RouteListAPIKeys, 3, http.StatusBadGateway, "application/json", []byte(`{"error":"token `+srv.BearerToken+`"}`))
	_, err = scan.flow("apikeys: 502s echoing the bearer token until retries run out", func() (any, error) { return static.APIKeys.List(ctx, envID) })
	fails(err)
	srv.FailNextBody(apikeystest.RouteGetAPIKey, 1, http.StatusOK, "text/html", []byte("<html><body>Proxy error</body></html>"))
	_, err = scan.flow("apikeys: HTML reply", func() (any, error) { return c.APIKeys.Get(ctx, id) })
	fails(err)
	srv.FailNextBody(apikeystest.RouteListAPIKeys, 1, http.StatusOK, "application/json", []byte(`{"meta":{"version":"1.0.0"},"payload":{"apikeys":[{"id":"`))
	_, err = scan.flow("apikeys: truncated reply", func() (any, error) { return c.APIKeys.List(ctx, envID) })
	fails(err)
	srv.FailNextBody(apikeystest.RouteCreateAPIKey, 1, http.StatusOK, "application/json", []byte(`{"meta":{"version":"1.0.0"},"payload":{"apikey":{`))
	_, err = scan.flow("apikeys: create with a truncated reply (ambiguous)", func() (any, error) {
		return c.APIKeys.Create(ctx, envID, apikeys.CreateAPIKeyRequest{Name: "dup"})
	})
	assert.True(t, apikeys.IsAmbiguous(err), "%v", err)
	_, err = scan.flow("apikeys: cancelled while in flight", cancelDuring(apikeystest.RouteGetAPIKey, func(ctx context.Context) (any, error) {
		return c.APIKeys.Get(ctx, id)
	}))
	fails(err)
	privateJWK, err := jose.JSONWebKey{Key: sk.Signer, KeyID: sk.KeyID, Algorithm: sk.Algorithm}.MarshalJSON()
	require.NoError(t, err)
	_, err = scan.flow("apikeys: upload of a private JWK (validation)", func() (any, error) {
		k, err := apikeys.ParseJWK(privateJWK)
		require.NoError(t, err)
		scan.show(k)
		return c.APIKeys.Update(ctx, id, apikeys.UpdateAPIKeyRequest{JWKSet: apikeys.NewJWKSet(k)})
	})
	fails(err)
	_, err = scan.flow("keys: parse a PEM key under a wrong alg (validation)", func() (any, error) { return apikeys.ParseSigningKey(rsaPEM, apikeys.ES256) })
	fails(err)
	_, err = scan.flow("keys: parse a private JWK as a public one", func() (any, error) {
		k, err := apikeys.ParseJWK(privateJWK)
		require.NoError(t, err)
		return k.PublicKey()
	})
	fails(err)
	_, err = scan.flow("apikeys: delete", func() (any, error) { return c.APIKeys.Delete(ctx, id) })
	require.NoError(t, err)
	_, err = scan.flow("apikeys: delete again (404)", func() (any, error) { return c.APIKeys.Delete(ctx, id) })
	fails(err)

	// Legacy API.
	_, err = scan.flow("legacy: create a user key", func() (any, error) { return c.Legacy.Create(ctx, apikeys.UserKeys(), "ci") })
	require.NoError(t, err)
	_, err = scan.flow("legacy: create an app key", func() (any, error) { return c.Legacy.Create(ctx, apikeys.AppKeys("app-1"), "deploy") })
	require.NoError(t, err)
	appV, err := scan.flow("legacy: create an app key again (revokes the first)", func() (any, error) {
		return c.Legacy.Create(ctx, apikeys.AppKeys("app-1"), "deploy-2")
	})
	require.NoError(t, err)
	app := appV.(*apikeys.LegacyKey)
	require.NotEmpty(t, app.Secret, "an admin gets key secrets")
	listV, err := scan.flow("legacy: list user keys", func() (any, error) { return c.Legacy.List(ctx, apikeys.UserKeys()) })
	require.NoError(t, err)
	require.NotEmpty(t, listV)
	_, err = scan.flow("legacy: list app keys", func() (any, error) { return c.Legacy.List(ctx, apikeys.AppKeys("app-1")) })
	require.NoError(t, err)
	_, err = scan.flow("legacy: update", func() (any, error) { return c.Legacy.Update(ctx, app.Key, "renamed") })
	require.NoError(t, err)
	_, err = scan.flow("legacy: validate", func() (any, error) { return c.Legacy.Validate(ctx, apikeys.KeyTypeApp, app.Key) })
	require.NoError(t, err)
	srv.FailNext(apikeystest.RouteLegacyList, 2, http.StatusServiceUnavailable, "")
	_, err = scan.flow("legacy: list after two 503s (retries)", func() (any, error) { return c.Legacy.List(ctx, apikeys.UserKeys()) })
	require.NoError(t, err)
	srv.FailNext(apikeystest.RouteLegacyCreate, 1, http.StatusBadGateway, "")
	_, err = scan.flow("legacy: create answered 502 (ambiguous)", func() (any, error) { return c.Legacy.Create(ctx, apikeys.UserKeys(), "ci") })
	assert.True(t, apikeys.IsAmbiguous(err), "%v", err)
	srv.DropNextAfterApply(apikeystest.RouteLegacyCreate, 1)
	_, err = scan.flow("legacy: create cut after apply (ambiguous)", func() (any, error) { return c.Legacy.Create(ctx, apikeys.AppKeys("app-2"), "ci") })
	assert.True(t, apikeys.IsAmbiguous(err), "%v", err)
	echo := "user " + srv.LegacyUserKey + " cookie " + srv.SessionCookie + " key " + app.Key
	srv.FailNextBody(apikeystest.RouteLegacyList, 1, http.StatusOK, "text/html", []byte("<html>"+echo+"</html>"))
	_, err = scan.flow("legacy: HTML reply echoing credentials", func() (any, error) { return c.Legacy.List(ctx, apikeys.UserKeys()) })
	fails(err)
	srv.FailNextBody(apikeystest.RouteLegacyUpdate, 1, http.StatusOK, "application/json",
		[]byte(`{"status":"error","message":"bad user `+srv.LegacyUserKey+`","msg":["`+echo+`"]}`))
	_, err = scan.flow("legacy: 200 + status error echoing credentials", func() (any, error) { return c.Legacy.Update(ctx, app.Key, "x") })
	fails(err)
	escaped := strings.Replace(srv.LegacyUserKey, srv.LegacyUserKey[1:2], fmt.Sprintf(`\u%04x`, srv.LegacyUserKey[1]), 1)
	srv.FailNextBody(apikeystest.RouteLegacyRevoke, 1, http.StatusForbidden, "application/json",
		[]byte(`{"status":"error","message":"user `+escaped+` may not revoke"}`))
	_, err = scan.flow("legacy: 403 echoing an escaped user key", func() (any, error) { return c.Legacy.Revoke(ctx, app.Key) })
	fails(err)
	srv.FailNextBody(apikeystest.RouteLegacyValidate, 1, http.StatusOK, "application/json", []byte(`{"status":"ok","valid":tr`))
	_, err = scan.flow("legacy: truncated reply", func() (any, error) { return c.Legacy.Validate(ctx, apikeys.KeyTypeApp, app.Key) })
	fails(err)
	_, err = scan.flow("legacy: revoke", func() (any, error) { return c.Legacy.Revoke(ctx, app.Key) })
	require.NoError(t, err)
	_, err = scan.flow("legacy: revoke an unknown key (200 + not found)", func() (any, error) {
		return c.Legacy.Revoke(ctx, "ffffffffffffffffffffffffffffffffffffffff")
	})
	fails(err)
	srv.DropNextAfterApply(apikeystest.RouteLegacyDelete, 1)
	_, err = scan.flow("legacy: delete cut after apply, retry finds it gone", func() (any, error) { return c.Legacy.Delete(ctx, app.Key) })
	require.NoError(t, err)
	_, err = scan.flow("legacy: wrong user key (401)", func() (any, error) { return wrongLegacy.Legacy.List(ctx, apikeys.UserKeys()) })
	fails(err)
	_, err = scan.flow("legacy: cancelled while in flight", cancelDuring(apikeystest.RouteLegacyList, func(ctx context.Context) (any, error) {
		return c.Legacy.List(ctx, apikeys.UserKeys())
	}))
	fails(err)
	_, err = scan.flow("legacy: label with a newline (validation)", func() (any, error) { return c.Legacy.Update(ctx, app.Key, "a\nb") })
	fails(err)
	_, err = scan.flow("legacy: user key with a space (validation)", func() (any, error) {
		return apikeys.NewClient(apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: srv.URL, Domain: srv.LegacyDomain, UserKey: srv.LegacyUserKey + " x"}))
	})
	fails(err)

	// The configuration values themselves.
	for _, v := range []any{c, static, ts, *ts, sk, &sk, rsaKey, edKey, &edKey, pub, tokenCfg, &tokenCfg, legacyCfg, &legacyCfg, *tok} {
		scan.show(v)
	}
	for _, v := range []any{sk, &sk, rsaKey, legacyCfg, &legacyCfg} {
		scan.marshal(v)
	}

	// What must never appear.
	secrets := rec.all()
	for kind, min := range map[string]int{"bearer token sent": 3, "access token received": 3, "client assertion": 3,
		"X-FH-AUTH-USER sent": 2, "cookie sent": 1, "legacy secret received": 3, "legacy key value received": 3} {
		assert.GreaterOrEqual(t, rec.count(kind), min, "the recorder saw %s", kind)
	}
	secrets[srv.BearerToken] = "srv.BearerToken"
	secrets[tok.AccessToken] = "access token returned by Token"
	secrets[srv.LegacyUserKey] = "srv.LegacyUserKey"
	secrets[srv.SessionCookie] = "srv.SessionCookie"
	secrets[wrongUserKey] = "wrong legacy user key"
	for _, k := range srv.LegacyKeys() {
		secrets[k.Key] = "stored legacy key value"
		secrets[k.Secret] = "stored legacy secret"
	}
	for _, m := range privateKeyMaterial(t, sk.Signer) {
		secrets[m] = "ES384 private key material"
	}
	for _, m := range privateKeyMaterial(t, rsaKey.Signer) {
		secrets[m] = "RSA private key material"
	}
	for _, m := range privateKeyMaterial(t, edKey.Signer) {
		secrets[m] = "Ed25519 private key material"
	}

	all := scan.out.String() + jsonLogs.String() + textLogs.String()
	require.Contains(t, jsonLogs.String(), `"msg":"apikeys: retrying"`, "the SDK logged its retries")
	require.Contains(t, textLogs.String(), "op=Legacy.List")
	require.Contains(t, all, "****", "masked values were printed")
	require.Contains(t, all, app.Key[:4]+"…"+app.Key[len(app.Key)-4:], "legacy keys were printed, masked")
	require.GreaterOrEqual(t, len(scan.flows), 40)
	for secret, kind := range secrets {
		if secret == "" {
			continue
		}
		for _, form := range printedForms(secret) {
			if i := strings.Index(all, form); i >= 0 {
				t.Errorf("%s leaked (as %q...): ...%s...", kind, form[:min(len(form), 16)], all[max(0, i-120):min(len(all), i+len(form)+40)])
				break
			}
		}
	}
	t.Logf("%d flows, %d secrets checked, %d bytes of output scanned", len(scan.flows), len(secrets), len(all))
}

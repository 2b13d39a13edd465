package apikeys_test

// Benchmarks of the SDK against the floor: each SDK call and a hand-written
// net/http + encoding/json call run against the same loopback server in the
// same run, as the sub-benchmarks .../sdk and .../nethttp. The server answers
// from pre-built byte slices and counts the connections it accepts.
// scripts/bench runs them and prints the ratios; BENCHMARKS.md has numbers.
// The token source and JWKS benchmarks, which have no floor, are in
// bench_token_test.go and bench_jwks_test.go.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apikeys-go/apikeys"
)

const (
	benchToken    = "bench-token"
	benchBasePath = "/platform"
	benchEnvID    = "497f6eca-6276-4993-bfeb-53cbbbba6f08"
	benchKeyID    = "2c6a1f4e-8d3b-4b7a-9e0f-5a1d7c3e9b42"
)

// benchRoute is one pre-built reply.
type benchRoute struct {
	method string
	status int
	body   []byte
	length []string // Content-Length, so replies are never chunked
	// authHeader must be authValue: the Platform routes' default is the
	// bearer token; legacy routes check X-FH-AUTH-USER.
	authHeader, authValue string
}

// benchServer is a loopback Platform fake that answers from pre-built
// replies and counts the connections it accepts.
type benchServer struct {
	*httptest.Server
	routes map[string]benchRoute     // by escaped path
	conns  atomic.Int64              // connections accepted
	closed atomic.Int64              // connections closed
	reqs   atomic.Int64              // requests served
	gate   atomic.Pointer[benchGate] // holds every request while set (warm-up)
}

var benchJSON = []string{"application/json"}

func newBenchServer(b *testing.B, routes map[string]benchRoute) *benchServer {
	b.Helper()
	s := &benchServer{routes: routes}
	for p, rt := range routes {
		rt.length = []string{strconv.Itoa(len(rt.body))}
		if rt.authHeader == "" {
			rt.authHeader, rt.authValue = "Authorization", "Bearer "+benchToken
		}
		s.routes[p] = rt
	}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			s.conns.Add(1)
		case http.StateClosed, http.StateHijacked:
			s.closed.Add(1)
		}
	}
	s.Start()
	b.Cleanup(s.Close)
	return s
}

func (s *benchServer) serve(w http.ResponseWriter, r *http.Request) {
	s.reqs.Add(1)
	rt, ok := s.routes[r.URL.EscapedPath()]
	switch {
	case !ok || r.Method != rt.method:
		http.Error(w, `{"message":"no such route"}`, http.StatusNotFound)
		return
	case r.Header.Get(rt.authHeader) != rt.authValue:
		http.Error(w, `{"message":"bad credentials"}`, http.StatusUnauthorized)
		return
	}
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
	}
	if g := s.gate.Load(); g != nil {
		g.wait()
	}
	h := w.Header()
	h["Content-Type"] = benchJSON
	h["Content-Length"] = rt.length
	w.WriteHeader(rt.status)
	_, _ = w.Write(rt.body)
}

// benchJWK returns a real EC P-384 public JWK as a server sends it.
func benchJWK(b *testing.B) []byte {
	b.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	pub, err := priv.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		b.Fatal(err)
	}
	x, y := pub[1:49], pub[49:]
	kid := sha256.Sum256(pub)
	enc := base64.RawURLEncoding.EncodeToString
	return fmt.Appendf(nil, `{"kty":"EC","crv":"P-384","kid":%q,"use":"sig","alg":"ES384","x":%q,"y":%q}`,
		enc(kid[:]), enc(x), enc(y))
}

// benchKey returns the JSON of one realistic key.
func benchKey(b *testing.B, i int, id string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"name":"billing-svc-%04d","jwkSet":{"keys":[%s]},"environment":{"id":%q,"environmentFlag":"Production"}}`,
		id, i, benchJWK(b), benchEnvID)
}

func benchEnvelope(payload []byte) []byte {
	return fmt.Appendf(nil, `{"meta":{"version":"1.0.0"},"payload":%s}`, payload)
}

func benchKeyReply(b *testing.B) []byte {
	return benchEnvelope(fmt.Appendf(nil, `{"apikey":%s}`, benchKey(b, 1, benchKeyID)))
}

func benchListReply(b *testing.B, n int) []byte {
	var keys bytes.Buffer
	for i := range n {
		if i > 0 {
			keys.WriteByte(',')
		}
		keys.Write(benchKey(b, i, fmt.Sprintf("2c6a1f4e-8d3b-4b7a-9e0f-%012d", i)))
	}
	return benchEnvelope(fmt.Appendf(nil, `{"apikeys":[%s]}`, keys.Bytes()))
}

func benchSDK(b *testing.B, s *benchServer) *apikeys.Client {
	b.Helper()
	c, err := apikeys.NewClient(apikeys.WithBaseURL(s.URL+benchBasePath), apikeys.WithToken(benchToken))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// The floor: what a competent user writes with net/http and encoding/json.

type floorJWKSet struct {
	Keys []json.RawMessage `json:"keys"`
}

type floorKey struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	JWKSURL     string       `json:"jwksURL,omitempty"`
	JWKSet      *floorJWKSet `json:"jwkSet,omitempty"`
	Environment struct {
		ID   string `json:"id"`
		Flag string `json:"environmentFlag"`
	} `json:"environment"`
}

type floorMeta struct {
	Version string `json:"version"`
}

type floorKeyReply struct {
	Meta    floorMeta `json:"meta"`
	Payload struct {
		APIKey *floorKey `json:"apikey"`
	} `json:"payload"`
}

type floorListReply struct {
	Meta    floorMeta `json:"meta"`
	Payload struct {
		APIKeys []*floorKey `json:"apikeys"`
	} `json:"payload"`
}

type floorCreate struct {
	Name   string       `json:"name"`
	JWKSet *floorJWKSet `json:"jwkSet,omitempty"`
}

type floorClient struct {
	hc                    *http.Client
	base                  string
	authHeader, authValue string
}

// newFloor returns a floor client of s's Platform API. Its idle
// connections are closed when b ends (the SDK's end when s closes).
func newFloor(b *testing.B, s *benchServer) *floorClient {
	f := &floorClient{
		hc:         &http.Client{Transport: floorTransport()},
		base:       s.URL + benchBasePath,
		authHeader: "Authorization",
		authValue:  "Bearer " + benchToken,
	}
	b.Cleanup(f.hc.CloseIdleConnections)
	return f
}

func (f *floorClient) do(ctx context.Context, method, u string, body []byte, want int, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set(f.authHeader, f.authValue)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d", method, u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body) // for connection reuse
	return nil
}

func (f *floorClient) get(ctx context.Context, id string) (*floorKey, error) {
	var r floorKeyReply
	err := f.do(ctx, http.MethodGet, f.base+"/v1/apikeys/"+url.PathEscape(id), nil, http.StatusOK, &r)
	return r.Payload.APIKey, err
}

func (f *floorClient) list(ctx context.Context, envID string) ([]*floorKey, error) {
	var r floorListReply
	err := f.do(ctx, http.MethodGet, f.base+"/v1/environments/"+url.PathEscape(envID)+"/apikeys", nil, http.StatusOK, &r)
	return r.Payload.APIKeys, err
}

func (f *floorClient) create(ctx context.Context, envID string, req floorCreate) (*floorKey, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	var r floorKeyReply
	err = f.do(ctx, http.MethodPost, f.base+"/v1/environments/"+url.PathEscape(envID)+"/apikeys", body, http.StatusCreated, &r)
	return r.Payload.APIKey, err
}

func BenchmarkAPIKeysGet(b *testing.B) {
	s := newBenchServer(b, map[string]benchRoute{
		benchBasePath + "/v1/apikeys/" + benchKeyID: {method: http.MethodGet, status: http.StatusOK, body: benchKeyReply(b)},
	})
	ctx := context.Background()
	b.Run("sdk", func(b *testing.B) {
		c := benchSDK(b, s)
		b.ReportAllocs()
		for b.Loop() {
			k, err := c.APIKeys.Get(ctx, benchKeyID)
			if err != nil || k.ID != benchKeyID || len(k.JWKSet.Keys) != 1 {
				b.Fatalf("Get: %v", err)
			}
		}
	})
	b.Run("nethttp", func(b *testing.B) {
		f := newFloor(b, s)
		b.ReportAllocs()
		for b.Loop() {
			k, err := f.get(ctx, benchKeyID)
			if err != nil || k.ID != benchKeyID || len(k.JWKSet.Keys) != 1 {
				b.Fatalf("get: %v", err)
			}
		}
	})
}

func BenchmarkAPIKeysList(b *testing.B) {
	sizes := []int{1, 100, 1000, 10000}
	routes := map[string]benchRoute{}
	for _, n := range sizes {
		routes[benchBasePath+"/v1/environments/env-"+strconv.Itoa(n)+"/apikeys"] = benchRoute{
			method: http.MethodGet, status: http.StatusOK, body: benchListReply(b, n),
		}
	}
	s := newBenchServer(b, routes)
	ctx := context.Background()
	for _, n := range sizes {
		env := "env-" + strconv.Itoa(n)
		b.Run("keys="+strconv.Itoa(n), func(b *testing.B) {
			b.Run("sdk", func(b *testing.B) {
				c := benchSDK(b, s)
				b.ReportAllocs()
				for b.Loop() {
					keys, err := c.APIKeys.List(ctx, env)
					if err != nil || len(keys) != n {
						b.Fatalf("List: %d keys, %v", len(keys), err)
					}
				}
			})
			b.Run("nethttp", func(b *testing.B) {
				f := newFloor(b, s)
				b.ReportAllocs()
				for b.Loop() {
					keys, err := f.list(ctx, env)
					if err != nil || len(keys) != n {
						b.Fatalf("list: %d keys, %v", len(keys), err)
					}
				}
			})
		})
	}
}

func BenchmarkAPIKeysCreate(b *testing.B) {
	s := newBenchServer(b, map[string]benchRoute{
		benchBasePath + "/v1/environments/" + benchEnvID + "/apikeys": {method: http.MethodPost, status: http.StatusCreated, body: benchKeyReply(b)},
	})
	jwk := benchJWK(b)
	ctx := context.Background()
	b.Run("sdk", func(b *testing.B) {
		c := benchSDK(b, s)
		k, err := apikeys.ParseJWK(jwk)
		if err != nil {
			b.Fatal(err)
		}
		req := apikeys.CreateAPIKeyRequest{Name: "billing-svc", JWKSet: &apikeys.JWKSet{Keys: []apikeys.JWK{k}}}
		b.ReportAllocs()
		for b.Loop() {
			k, err := c.APIKeys.Create(ctx, benchEnvID, req)
			if err != nil || k.ID != benchKeyID {
				b.Fatalf("Create: %v", err)
			}
		}
	})
	b.Run("nethttp", func(b *testing.B) {
		f := newFloor(b, s)
		req := floorCreate{Name: "billing-svc", JWKSet: &floorJWKSet{Keys: []json.RawMessage{jwk}}}
		b.ReportAllocs()
		for b.Loop() {
			k, err := f.create(ctx, benchEnvID, req)
			if err != nil || k.ID != benchKeyID {
				b.Fatalf("create: %v", err)
			}
		}
	})
}

// benchParallelism is the b.SetParallelism factor of the parallel variants:
// RunParallel runs benchParallelism*GOMAXPROCS goroutines.
const benchParallelism = 1

// benchParallel runs call from benchParallelism*GOMAXPROCS goroutines and
// reports the connections the server accepted in the round ("conns"). It
// fails when that is more than the number of goroutines: the pool is then
// closing connections it should keep, or opening more than it needs, and
// every call beyond its size pays for a new connection. The caller makes
// a fresh client per round (the function b.Run gets runs once per round),
// so conns counts this round only.
//
// A cold net/http pool may open up to 2g-1 connections for g concurrent
// callers (a caller waiting on a dial takes a connection that frees up
// first; the dial still completes and joins the pool), so each round first
// fills the pool with g calls the server holds until all g arrived:
// exactly g connections. Any connection after that is churn.
func benchParallel(b *testing.B, s *benchServer, call func() error) {
	b.Helper()
	b.SetParallelism(benchParallelism)
	g := runtime.GOMAXPROCS(0) * benchParallelism
	conns, closed := s.conns.Load(), s.closed.Load()
	s.warmUp(b, g, call)
	reqs := s.reqs.Load()
	var calls atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		n := int64(0)
		defer func() { calls.Add(n) }()
		for pb.Next() {
			n++
			if err := call(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	conns, closed, reqs = s.conns.Load()-conns, s.closed.Load()-closed, s.reqs.Load()-reqs
	b.ReportMetric(float64(conns), "conns")
	if conns > int64(g) {
		b.Fatalf("opened %d connections for %d goroutines (%d closed in the round; %d calls, %d requests)",
			conns, g, closed, calls.Load(), reqs)
	}
}

// BenchmarkAPIKeysGetParallel runs Get under benchParallel.
func BenchmarkAPIKeysGetParallel(b *testing.B) {
	s := newBenchServer(b, map[string]benchRoute{
		benchBasePath + "/v1/apikeys/" + benchKeyID: {method: http.MethodGet, status: http.StatusOK, body: benchKeyReply(b)},
	})
	ctx := context.Background()
	b.Run("sdk", func(b *testing.B) {
		c := benchSDK(b, s)
		benchParallel(b, s, func() error {
			k, err := c.APIKeys.Get(ctx, benchKeyID)
			if err == nil && k.ID != benchKeyID {
				err = fmt.Errorf("Get: key %q", k.ID)
			}
			return err
		})
	})
	b.Run("nethttp", func(b *testing.B) {
		f := newFloor(b, s)
		benchParallel(b, s, func() error {
			k, err := f.get(ctx, benchKeyID)
			if err == nil && k.ID != benchKeyID {
				err = fmt.Errorf("get: key %q", k.ID)
			}
			return err
		})
	})
}

// benchGate holds requests until n of them arrived.
type benchGate struct {
	n       int64
	arrived atomic.Int64
	open    chan struct{}
}

func (g *benchGate) wait() {
	if g.arrived.Add(1) == g.n {
		close(g.open)
	}
	select {
	case <-g.open:
	case <-time.After(5 * time.Second): // a client that cannot send g at once
	}
}

// warmUp makes g calls at once and returns when all were answered. The
// server answers none before all g arrived, so they need g connections.
// Nothing else may call the server meanwhile.
func (s *benchServer) warmUp(b *testing.B, g int, call func() error) {
	b.Helper()
	s.gate.Store(&benchGate{n: int64(g), open: make(chan struct{})})
	defer s.gate.Store(nil)
	errs := make(chan error, g)
	for range g {
		go func() { errs <- call() }()
	}
	for range g {
		if err := <-errs; err != nil {
			b.Fatalf("warm-up: %v", err)
		}
	}
}

// The legacy (FeedHenry) key API: Legacy.List against its floor.

const (
	benchLegacyPrefix  = "/fh"
	benchLegacyDomain  = "acme" // + "-<keys>": one domain per list size
	benchLegacyUserKey = "f00dfeed0123456789abcdef0123456789f00d42"
)

// benchLegacyKey returns the JSON of one legacy user key as a server sends
// it: members the SDK does not know, null revoked* members, and every
// fourth key revoked at a millisecond epoch.
func benchLegacyKey(i int) []byte {
	revoked, by, email := "null", "null", "null"
	if i%4 == 3 {
		revoked, by, email = "1425990896789", `"5f1d0c0e8a9b7c6d5e4f3a2b"`, `"ops@example.com"`
	}
	return fmt.Appendf(nil, `{"_id":"%024x","label":"ci-deploy-%04d","keyType":"user","key":"%040x","keyReference":"5f1d0c0e8a9b7c6d5e4f3a2b",`+
		`"secret":"api-secret-%04d-0123456789abcdef","revoked":%s,"revokedBy":%s,"revokedEmail":%s,`+
		`"createdBy":{"id":"5f1d0c0e8a9b7c6d5e4f3a2b","email":"dev@example.com"},"sysCreated":"2015-03-10T12:34:56.789Z"}`,
		i+1, i, 0xc0ffee0000+i, i, revoked, by, email)
}

func benchLegacyListReply(n int) []byte {
	var keys bytes.Buffer
	for i := range n {
		if i > 0 {
			keys.WriteByte(',')
		}
		keys.Write(benchLegacyKey(i))
	}
	return fmt.Appendf(nil, `{"status":"ok","list":[%s],"count":%d}`, keys.Bytes(), n)
}

// benchLegacyDomainFor is the domain, and so the path, of the n-key list.
func benchLegacyDomainFor(n int) string { return benchLegacyDomain + "-" + strconv.Itoa(n) }

func benchLegacyRoute(n int) (string, benchRoute) {
	return benchLegacyPrefix + "/box/srv/1.1/ide/" + benchLegacyDomainFor(n) + "/api/list", benchRoute{
		method: http.MethodPost, status: http.StatusOK, body: benchLegacyListReply(n),
		authHeader: "X-FH-AUTH-USER", authValue: benchLegacyUserKey,
	}
}

func benchLegacySDK(b *testing.B, s *benchServer, n int) *apikeys.Client {
	b.Helper()
	c, err := apikeys.NewClient(apikeys.WithLegacy(apikeys.LegacyConfig{
		BaseURL: s.URL + benchLegacyPrefix, Domain: benchLegacyDomainFor(n), UserKey: benchLegacyUserKey,
	}))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// The legacy floor decodes revoked as json.RawMessage: it arrives as a
// number, a numeric string, a date string, false or null, and a
// hand-written client that does not need it as a time leaves it raw. The
// SDK reads it into a *time.Time (see LegacyKey.Revoked).
type floorLegacyKey struct {
	Label        string          `json:"label"`
	KeyType      string          `json:"keyType"`
	Key          string          `json:"key"`
	KeyReference string          `json:"keyReference"`
	Secret       string          `json:"secret"`
	Revoked      json.RawMessage `json:"revoked"`
	RevokedBy    string          `json:"revokedBy"`
	RevokedEmail string          `json:"revokedEmail"`
}

type floorLegacyListReply struct {
	Status  string            `json:"status"`
	Message string            `json:"message"`
	List    []*floorLegacyKey `json:"list"`
}

type floorLegacyListBody struct {
	Type string `json:"type"`
}

func newLegacyFloor(b *testing.B, s *benchServer, n int) *floorClient {
	f := &floorClient{
		hc:         &http.Client{Transport: floorTransport()},
		base:       s.URL + benchLegacyPrefix + "/box/srv/1.1/ide/" + url.PathEscape(benchLegacyDomainFor(n)) + "/api",
		authHeader: "X-FH-AUTH-USER",
		authValue:  benchLegacyUserKey,
	}
	b.Cleanup(f.hc.CloseIdleConnections)
	return f
}

func (f *floorClient) legacyList(ctx context.Context) ([]*floorLegacyKey, error) {
	body, err := json.Marshal(floorLegacyListBody{Type: "user"})
	if err != nil {
		return nil, err
	}
	var r floorLegacyListReply
	if err := f.do(ctx, http.MethodPost, f.base+"/list", body, http.StatusOK, &r); err != nil {
		return nil, err
	}
	if r.Status != "ok" {
		return nil, fmt.Errorf("list: status %q: %s", r.Status, r.Message)
	}
	return r.List, nil
}

// BenchmarkLegacyList lists a user's legacy keys: 1 and 100 of them (a
// legacy user rarely has more).
func BenchmarkLegacyList(b *testing.B) {
	sizes := []int{1, 100}
	routes := map[string]benchRoute{}
	for _, n := range sizes {
		p, rt := benchLegacyRoute(n)
		routes[p] = rt
	}
	s := newBenchServer(b, routes)
	ctx := context.Background()
	for _, n := range sizes {
		b.Run("keys="+strconv.Itoa(n), func(b *testing.B) {
			b.Run("sdk", func(b *testing.B) {
				c := benchLegacySDK(b, s, n)
				b.ReportAllocs()
				for b.Loop() {
					keys, err := c.Legacy.List(ctx, apikeys.UserKeys())
					if err != nil || len(keys) != n {
						b.Fatalf("Legacy.List: %d keys, %v", len(keys), err)
					}
				}
			})
			b.Run("nethttp", func(b *testing.B) {
				f := newLegacyFloor(b, s, n)
				b.ReportAllocs()
				for b.Loop() {
					keys, err := f.legacyList(ctx)
					if err != nil || len(keys) != n {
						b.Fatalf("legacy list: %d keys, %v", len(keys), err)
					}
				}
			})
		})
	}
}

// BenchmarkLegacyListParallel runs Legacy.List of one key (a POST with a
// body) under benchParallel.
func BenchmarkLegacyListParallel(b *testing.B) {
	p, rt := benchLegacyRoute(1)
	s := newBenchServer(b, map[string]benchRoute{p: rt})
	ctx := context.Background()
	b.Run("sdk", func(b *testing.B) {
		c := benchLegacySDK(b, s, 1)
		benchParallel(b, s, func() error {
			keys, err := c.Legacy.List(ctx, apikeys.UserKeys())
			if err == nil && len(keys) != 1 {
				err = fmt.Errorf("Legacy.List: %d keys", len(keys))
			}
			return err
		})
	})
	b.Run("nethttp", func(b *testing.B) {
		f := newLegacyFloor(b, s, 1)
		benchParallel(b, s, func() error {
			keys, err := f.legacyList(ctx)
			if err == nil && len(keys) != 1 {
				err = fmt.Errorf("legacy list: %d keys", len(keys))
			}
			return err
		})
	})
}

// BenchmarkAPIKeysGetTokenSource measures what authenticating with a
// client assertion costs a call once the token is cached: Get with
// WithClientAssertion (sdk) next to its floor, Get with a static
// WithToken (static), against the same server.
func BenchmarkAPIKeysGetTokenSource(b *testing.B) {
	tokenBody, err := json.Marshal(map[string]any{"access_token": benchToken, "token_type": "Bearer", "expires_in": 300})
	if err != nil {
		b.Fatal(err)
	}
	s := newBenchServer(b, map[string]benchRoute{
		benchBasePath + "/v1/apikeys/" + benchKeyID: {method: http.MethodGet, status: http.StatusOK, body: benchKeyReply(b)},
		"/v2/auth/token": {method: http.MethodPost, status: http.StatusOK, body: tokenBody,
			authHeader: "Content-Type", authValue: "application/x-www-form-urlencoded"},
	})
	ctx := context.Background()
	clients := map[string]apikeys.Option{
		"sdk":    apikeys.WithClientAssertion(benchClientID, generatedKey(b, apikeys.ES256)),
		"static": apikeys.WithToken(benchToken),
	}
	for _, name := range []string{"sdk", "static"} {
		b.Run(name, func(b *testing.B) {
			c, err := apikeys.NewClient(apikeys.WithBaseURL(s.URL+benchBasePath), apikeys.WithTokenURL(s.URL+"/v2/auth/token"), clients[name])
			if name == "static" {
				c, err = apikeys.NewClient(apikeys.WithBaseURL(s.URL+benchBasePath), clients[name])
			}
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.APIKeys.Get(ctx, benchKeyID); err != nil { // the token is fetched here
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				k, err := c.APIKeys.Get(ctx, benchKeyID)
				if err != nil || k.ID != benchKeyID {
					b.Fatalf("Get: %v", err)
				}
			}
		})
	}
}

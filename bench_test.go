package apikeys_test

// Benchmarks of the SDK against the floor: each SDK call and a hand-written
// net/http + encoding/json call run against the same loopback server in the
// same run, as the sub-benchmarks .../sdk and .../nethttp. The server answers
// from pre-built byte slices and counts the connections it accepts.
// scripts/bench runs them and prints the ratios; BENCHMARKS.md has numbers.

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
	"strings"
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
}

// benchServer is a loopback Platform fake that answers from pre-built
// replies and counts the connections it accepts.
type benchServer struct {
	*httptest.Server
	routes map[string]benchRoute // by escaped path
	conns  atomic.Int64
	gate   atomic.Pointer[benchGate] // holds warm-up requests
}

var benchJSON = []string{"application/json"}

func newBenchServer(b *testing.B, routes map[string]benchRoute) *benchServer {
	b.Helper()
	s := &benchServer{routes: routes}
	for p, rt := range routes {
		rt.length = []string{strconv.Itoa(len(rt.body))}
		s.routes[p] = rt
	}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	b.Cleanup(s.Close)
	return s
}

func (s *benchServer) serve(w http.ResponseWriter, r *http.Request) {
	rt, ok := s.routes[r.URL.EscapedPath()]
	switch {
	case !ok || r.Method != rt.method:
		http.Error(w, `{"message":"no such route"}`, http.StatusNotFound)
		return
	case r.Header.Get("Authorization") != "Bearer "+benchToken:
		http.Error(w, `{"message":"bad token"}`, http.StatusUnauthorized)
		return
	}
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
	}
	if g := s.gate.Load(); g != nil && strings.HasSuffix(r.URL.Path, "/"+benchWarmID) {
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
	hc    *http.Client
	base  string
	token string
}

func newFloor(s *benchServer) *floorClient {
	return &floorClient{
		hc:    &http.Client{Transport: floorTransport()},
		base:  s.URL + benchBasePath,
		token: "Bearer " + benchToken,
	}
}

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

func (f *floorClient) do(ctx context.Context, method, u string, body []byte, want int, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", f.token)
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
		f := newFloor(s)
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
	sizes := []int{1, 100, 1000}
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
				f := newFloor(s)
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
		f := newFloor(s)
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

// BenchmarkAPIKeysGetParallel runs Get from benchParallelism*GOMAXPROCS
// goroutines with a fresh client per round and reports the connections the
// server accepted in the round ("conns"). It fails when that is more than
// the number of goroutines: the pool is then closing connections it should
// keep, and every call beyond its size pays for a new connection.
//
// A cold net/http pool may open up to 2g-1 connections for g concurrent
// callers (a caller waiting on a dial takes a connection that frees up
// first; the dial still completes and joins the pool), so each round first
// fills the pool with g requests the server holds until all g arrived:
// exactly g connections. Any connection after that is churn.
func BenchmarkAPIKeysGetParallel(b *testing.B) {
	s := newBenchServer(b, map[string]benchRoute{
		benchBasePath + "/v1/apikeys/" + benchKeyID:  {method: http.MethodGet, status: http.StatusOK, body: benchKeyReply(b)},
		benchBasePath + "/v1/apikeys/" + benchWarmID: {method: http.MethodGet, status: http.StatusOK, body: benchKeyReply(b)},
	})
	ctx := context.Background()
	run := func(b *testing.B, get func(id string) (string, error)) {
		b.SetParallelism(benchParallelism)
		g := runtime.GOMAXPROCS(0) * benchParallelism
		before := s.conns.Load()
		s.warmUp(b, g, func() error { _, err := get(benchWarmID); return err })
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id, err := get(benchKeyID)
				if err != nil || id != benchKeyID {
					b.Errorf("get: %q, %v", id, err)
					return
				}
			}
		})
		b.StopTimer()
		conns := s.conns.Load() - before
		b.ReportMetric(float64(conns), "conns")
		if conns > int64(g) {
			b.Fatalf("opened %d connections for %d goroutines", conns, g)
		}
	}
	b.Run("sdk", func(b *testing.B) {
		c := benchSDK(b, s) // fresh per round, so conns counts this round only
		run(b, func(id string) (string, error) {
			k, err := c.APIKeys.Get(ctx, id)
			if err != nil {
				return "", err
			}
			return k.ID, nil
		})
	})
	b.Run("nethttp", func(b *testing.B) {
		f := newFloor(s)
		defer f.hc.CloseIdleConnections()
		run(b, func(id string) (string, error) {
			k, err := f.get(ctx, id)
			if err != nil {
				return "", err
			}
			return k.ID, nil
		})
	})
}

// benchWarmID is the key the warm-up asks for; the server holds those
// requests at its gate.
const benchWarmID = "warm-up"

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

// warmUp sends g requests at once and returns when all were answered. The
// server answers none before all g arrived, so they need g connections.
func (s *benchServer) warmUp(b *testing.B, g int, get func() error) {
	b.Helper()
	s.gate.Store(&benchGate{n: int64(g), open: make(chan struct{})})
	defer s.gate.Store(nil)
	errs := make(chan error, g)
	for range g {
		go func() { errs <- get() }()
	}
	for range g {
		if err := <-errs; err != nil {
			b.Fatalf("warm-up: %v", err)
		}
	}
}

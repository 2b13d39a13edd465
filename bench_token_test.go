package apikeys_test

// Benchmarks of the token source (AssertionTokenSource). They have no
// floor: scripts/bench prints them in its second table.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apikeys-go/apikeys"
)

// benchTokenEndpoint is a loopback token endpoint that answers at once,
// without checking the assertion, and counts the requests it gets. It
// gives 300-second tokens; a source for /once has a clock that moves an
// hour a reading, so its cached token is always stale and every Token
// call fetches.
type benchTokenEndpoint struct {
	*httptest.Server
	requests atomic.Int64
	// hold, while set, is closed when the replies may go out.
	hold atomic.Pointer[chan struct{}]
	tr   *http.Transport // the sources' transport
}

func newBenchTokenEndpoint(b *testing.B) *benchTokenEndpoint {
	b.Helper()
	e := &benchTokenEndpoint{tr: floorTransport()}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := e.requests.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		if h := e.hold.Load(); h != nil {
			select {
			case <-*h:
			case <-time.After(10 * time.Second):
			}
		}
		body := `{"access_token":"tok-` + strconv.FormatInt(n, 10) + `","token_type":"Bearer","expires_in":300}`
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = io.WriteString(w, body)
	}))
	// Cleanups run last-in first-out: the connections close, then the server.
	b.Cleanup(e.Close)
	b.Cleanup(e.tr.CloseIdleConnections)
	return e
}

// source returns a new token source (with a cold cache) for path.
func (e *benchTokenEndpoint) source(b *testing.B, key apikeys.SigningKey, path string) *apikeys.AssertionTokenSource {
	b.Helper()
	cfg := apikeys.TokenConfig{ClientID: benchClientID, Key: key, TokenURL: e.URL + path, HTTPClient: &http.Client{Transport: e.tr}}
	if path == "/once" {
		var readings atomic.Int64
		start := time.Now()
		cfg.Clock = func() time.Time { return start.Add(time.Duration(readings.Add(1)) * time.Hour) }
	}
	ts, err := apikeys.NewTokenSource(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return ts
}

// BenchmarkTokenSource measures the token source:
//
//   - cold/callers=1000: 1,000 goroutines call Token at once on a new
//     source (a cold cache). The endpoint holds its reply until all 1,000
//     have started, so they overlap the fetch. Each round must make exactly
//     one token request (requests/op, which must be 1), and every caller
//     must get that request's token. ns/op is one round: 1,000 goroutines,
//     their Token calls, one ES384 signature and one round trip.
//   - cached, cached-parallel: Token with a fresh token in the cache, from
//     one goroutine and from GOMAXPROCS goroutines.
//   - fetch/alg=...: Token when every call fetches (the source's clock
//     says the cached token is stale): a fresh assertion signed with a GenerateSigningKey
//     key (RSA-3072 for RS384, P-384 for ES384), the POST to the loopback
//     endpoint, which answers at once, and decoding the reply.
//   - sign/alg=...: signing the assertion alone.
func BenchmarkTokenSource(b *testing.B) {
	e := newBenchTokenEndpoint(b)
	ctx := context.Background()

	b.Run("cold/callers=1000", func(b *testing.B) {
		const callers = 1000
		key := generatedKey(b, apikeys.ES384)
		first := e.requests.Load()
		b.ReportAllocs()
		for b.Loop() {
			ts := e.source(b, key, "/token")
			before := e.requests.Load()
			want := "tok-" + strconv.FormatInt(before+1, 10)
			all := make(chan struct{})
			e.hold.Store(&all)
			var started, failed atomic.Int64
			var firstErr atomic.Pointer[error]
			var wg sync.WaitGroup
			for range callers {
				wg.Go(func() {
					if started.Add(1) == callers {
						close(all)
					}
					tok, err := ts.Token(ctx)
					if err == nil && tok.AccessToken != want {
						err = fmt.Errorf("got token %q, want %q", tok.AccessToken, want)
					}
					if err != nil && failed.Add(1) == 1 {
						firstErr.Store(&err)
					}
				})
			}
			wg.Wait()
			e.hold.Store(nil)
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d of %d callers failed; first: %v", n, callers, *firstErr.Load())
			}
			if n := e.requests.Load() - before; n != 1 {
				b.Fatalf("%d concurrent Token calls on a cold cache made %d token requests, want 1", callers, n)
			}
		}
		b.ReportMetric(float64(e.requests.Load()-first)/float64(b.N), "requests/op")
	})

	b.Run("cached", func(b *testing.B) {
		ts := e.source(b, generatedKey(b, apikeys.ES384), "/token")
		if _, err := ts.Token(ctx); err != nil {
			b.Fatal(err)
		}
		before := e.requests.Load()
		b.ReportAllocs()
		for b.Loop() {
			if tok, err := ts.Token(ctx); err != nil || tok.AccessToken == "" {
				b.Fatalf("Token: %v", err)
			}
		}
		b.ReportMetric(float64(e.requests.Load()-before)/float64(b.N), "requests/op")
	})

	b.Run("cached-parallel", func(b *testing.B) {
		ts := e.source(b, generatedKey(b, apikeys.ES384), "/token")
		if _, err := ts.Token(ctx); err != nil {
			b.Fatal(err)
		}
		before := e.requests.Load()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if tok, err := ts.Token(ctx); err != nil || tok.AccessToken == "" {
					b.Errorf("Token: %v", err)
					return
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(e.requests.Load()-before)/float64(b.N), "requests/op")
	})

	for _, alg := range []string{apikeys.RS384, apikeys.ES384} {
		b.Run("fetch/alg="+alg, func(b *testing.B) {
			ts := e.source(b, generatedKey(b, alg), "/once")
			before := e.requests.Load()
			b.ReportAllocs()
			for b.Loop() {
				if tok, err := ts.Token(ctx); err != nil || tok.AccessToken == "" {
					b.Fatalf("Token: %v", err)
				}
			}
			b.ReportMetric(float64(e.requests.Load()-before)/float64(b.N), "requests/op")
		})
	}

	for _, alg := range []string{apikeys.RS384, apikeys.ES384} {
		b.Run("sign/alg="+alg, func(b *testing.B) {
			ts := e.source(b, generatedKey(b, alg), "/token")
			now := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				if a, err := apikeys.BenchSign(ts, now); err != nil || a == "" {
					b.Fatalf("sign: %v", err)
				}
			}
		})
	}
}

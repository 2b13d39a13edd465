package apikeys

// Fuzz targets for the SDK's decoders and parsers. They live in package
// apikeys to reach the unexported decoders directly, without HTTP: each
// call takes microseconds. `go test ./...` replays the seeds below and
// the corpora under testdata/fuzz/<FuzzName>/; SECURITY.md lists the
// commands that fuzz each target.

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// secFuzzNow is the clock of the fuzz targets.
var secFuzzNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// FuzzRetryAfter: parseRetryAfter never panics and never returns a
// negative delay; delay-seconds read exactly; and the backoff built on it
// stays within [0, MaxWait] (and at least MinWait without Retry-After)
// for every valid policy, attempt number and jitter.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "5", " 120 ", "2147483648", "2147483649", "99999999999999999999", "-1", "1.5", "+3",
		"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
		secFuzzNow.Add(90 * time.Second).Format(http.TimeFormat), "tomorrow"} {
		f.Add(s, uint8(0), uint16(32768), int64(500*time.Millisecond), int64(20*time.Second))
	}
	f.Add("", uint8(34), uint16(65535), int64(time.Second+1), int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, v string, n uint8, jit uint16, minWait, maxWait int64) {
		d, ok := parseRetryAfter(v, secFuzzNow)
		if !ok && d != 0 {
			t.Fatalf("parseRetryAfter(%q) = %v, false: want 0", v, d)
		}
		if d < 0 {
			t.Fatalf("parseRetryAfter(%q) = %v: negative", v, d)
		}
		if s := strings.TrimSpace(v); s != "" && strings.Trim(s, "0123456789") == "" {
			secs, err := strconv.ParseInt(s, 10, 64)
			if want := err == nil && secs <= 1<<31; ok != want || (ok && d != time.Duration(secs)*time.Second) {
				t.Fatalf("parseRetryAfter(%q) = %v, %t", v, d, ok)
			}
		}

		// Any policy WithRetry accepts.
		if minWait < 0 || maxWait < minWait {
			minWait, maxWait = int64(500*time.Millisecond), int64(20*time.Second)
		}
		p := RetryPolicy{MaxRetries: 100, MinWait: time.Duration(minWait), MaxWait: time.Duration(maxWait)}
		resp := &http.Response{Header: http.Header{"Retry-After": {v}}}
		jitter := float64(jit) / 65536
		attempt := int(n) % (p.MaxRetries + 1)
		w := p.backoff(attempt, resp, secFuzzNow, jitter)
		if w < 0 || w > p.MaxWait {
			t.Fatalf("backoff(%d, Retry-After %q, jitter %v) with %+v = %v: outside [0, MaxWait]", attempt, v, jitter, p, w)
		}
		if !ok && w < p.MinWait {
			t.Fatalf("backoff(%d, jitter %v) with %+v = %v: under MinWait", attempt, jitter, p, w)
		}
	})
}

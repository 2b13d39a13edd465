package apikeys

import (
	"context"
	"net/http"
	"time"
)

// The test hooks of the external tests (package apikeys_test), in one place.

// SetRetryClock replaces the client's wait, jitter and clock so retry
// tests run without waiting and see deterministic backoffs.
func SetRetryClock(c *Client, sleep func(context.Context, time.Duration) error, jitter func() float64, now func() time.Time) {
	c.sender.sleep, c.sender.jitter, c.sender.now = sleep, jitter, now
}

// SetTokenSourceWait replaces the wait between token request attempts, so
// tests never sleep. wait gets the backoff chosen for each retry.
func SetTokenSourceWait(ts *AssertionTokenSource, wait func(ctx context.Context, d time.Duration) error) {
	ts.s.sender.sleep = wait
	ts.s.sender.jitter = func() float64 { return 0 }
}

// Backoff exposes RetryPolicy.backoff for table tests.
func Backoff(p RetryPolicy, n int, retryAfter string, now time.Time, jitter float64) time.Duration {
	resp := &http.Response{Header: http.Header{}}
	if retryAfter != "" {
		resp.Header.Set("Retry-After", retryAfter)
	}
	return p.backoff(n, resp, now, jitter)
}

// ParseRetryAfter exposes parseRetryAfter for tests and fuzzing.
var ParseRetryAfter = parseRetryAfter

// ParseRevoked exposes parseRevoked to the external tests and fuzz target.
var ParseRevoked = parseRevoked

// BenchSign exposes the client-assertion signing of a token source to the
// benchmarks: one fresh assertion for the time now, as a token fetch signs.
func BenchSign(ts *AssertionTokenSource, now time.Time) (string, error) {
	return ts.s.sign(ts.s.key.Load(), now)
}

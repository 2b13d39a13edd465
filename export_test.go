package apikeys

import (
	"context"
	"net/http"
	"time"
)

// SetRetryClock replaces the client's wait, jitter and clock so retry
// tests run without waiting and see deterministic backoffs.
func SetRetryClock(c *Client, sleep func(context.Context, time.Duration) error, jitter func() float64, now func() time.Time) {
	c.sleep, c.jitter, c.now = sleep, jitter, now
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

package apikeys

import (
	"context"
	"time"
)

// SetTokenSourceWait replaces the wait between token request attempts, so
// tests never sleep. wait gets the backoff chosen for each retry.
func SetTokenSourceWait(ts *AssertionTokenSource, wait func(ctx context.Context, d time.Duration) error) {
	ts.s.sleep = wait
	ts.s.jitter = func() float64 { return 0 }
}

package apikeys

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// RetryPolicy says how often and how patiently a failed call is retried.
// Only failures that are safe to repeat for the call are retried (see the
// README's retry table); waits grow exponentially with full jitter between
// MinWait and MaxWait, and a Retry-After reply header is honoured up to MaxWait.
type RetryPolicy struct {
	// MaxRetries is the number of attempts after the first; 0 disables retries.
	MaxRetries int
	// MinWait is the shortest wait between attempts.
	MinWait time.Duration
	// MaxWait is the longest wait between attempts, Retry-After included.
	MaxWait time.Duration
}

// DefaultRetryPolicy returns the policy used when WithRetry is not given:
// 3 retries, waits between 500 ms and 20 s. It is a function so that no
// caller can change the default of every client in the process.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxRetries: 3, MinWait: 500 * time.Millisecond, MaxWait: 20 * time.Second}
}

// validate checks a policy before it is used; field names the option.
func (p RetryPolicy) validate(field string) error {
	switch {
	case p.MaxRetries < 0:
		return invalid(field, "MaxRetries is negative")
	case p.MaxRetries > 100:
		return invalid(field, "MaxRetries is over 100")
	case p.MinWait < 0:
		return invalid(field, "MinWait is negative")
	case p.MaxWait < 0:
		return invalid(field, "MaxWait is negative")
	case p.MaxWait < p.MinWait:
		return invalid(field, "MaxWait is shorter than MinWait")
	}
	return nil
}

// retryClass says when a call may be sent again.
type retryClass int

const (
	// idempotent calls (reads, PATCH) give the same result when repeated.
	idempotent retryClass = iota
	// idempotentDelete calls may be repeated; "not found" on a repeat that
	// follows an unknown outcome means the first attempt worked.
	idempotentDelete
	// nonIdempotent calls (creates) are repeated only when the request
	// surely never reached the server.
	nonIdempotent
)

// attempt is the state of one call across its attempts. It rides in the
// request context, which is how checkRetry and prepareRetry find it.
type attempt struct {
	op          operation
	bearer      bool
	token       *Token // the token sent on the latest attempt
	attempts    int
	retries     int
	authRetried bool
	wait        time.Duration
	unknown     bool           // an earlier attempt may have been applied by the server
	authErr     error          // why the token for a retry could not be had
	checked     *http.Response // the reply checkRetry last decided on
	secrets     secrets        // the credentials sent so far, masked in errors

	// Set from transport goroutines by the httptrace hooks of calls that
	// are not idempotent; reset before each retry.
	traced atomic.Bool // the transport reports its progress
	wrote  atomic.Bool // request headers were written to a connection
}

// surelyNotSent reports whether a failed attempt cannot have reached the
// server: the dial failed, or the transport got no further than that.
func (st *attempt) surelyNotSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	return st.traced.Load() && !st.wrote.Load()
}

type attemptKey struct{}

func attemptFrom(ctx context.Context) *attempt {
	a, _ := ctx.Value(attemptKey{}).(*attempt)
	return a
}

// checkRetry is the retryablehttp CheckRetry: it applies the retry table.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st := attemptFrom(ctx)
	if st == nil {
		return false, err
	}
	if resp != nil && resp == st.checked {
		// retryablehttp asks again about the reply that ended the retries
		// once bufferBody has read it: only a body that broke off (err)
		// changes the answer.
		if err == nil {
			return false, nil
		}
	} else {
		st.attempts++
		st.checked = resp
	}
	retry := false
	if err != nil {
		notSent := st.surelyNotSent(err)
		if !notSent {
			st.unknown = true
		}
		if ctx.Err() != nil || !retryableTransportError(err) {
			return false, nil
		}
		retry = st.op.class != nonIdempotent || notSent
	} else {
		code := resp.StatusCode
		switch {
		case code >= 200 && code <= 299:
		case code == http.StatusUnauthorized:
			// A rejected token: nothing was applied. Get a new one and
			// try once more if the source can drop the old one.
			if inv, ok := c.tokens.(tokenInvalidator); ok && st.bearer && !st.authRetried && st.token != nil {
				inv.Invalidate(st.token)
				st.authRetried = true
				st.wait = 0
				c.logRetry(ctx, st, resp, nil)
				return true, nil
			}
		case code == http.StatusTooManyRequests:
			retry = true // refused before processing: safe for every call
		default:
			if !refused(code) {
				st.unknown = true // the request may have been applied
			}
			retry = st.op.class != nonIdempotent && retryableStatus(code)
		}
	}
	if !retry || st.retries >= c.retry.MaxRetries {
		return false, nil
	}
	wait := c.retry.backoff(st.retries, resp, c.now(), c.jitter())
	if outlasts(ctx, wait) {
		// Return the last result now rather than fail later.
		return false, nil
	}
	st.retries++
	st.wait = wait
	c.logRetry(ctx, st, resp, err)
	return true, nil
}

// retryableStatus reports whether a reply with this status is worth
// another attempt of a call that is safe to repeat: 408, 429 and every 5xx
// (HTTP semantics: the server or a proxy failed or timed out, and a
// CDN's 520-527 or 599 are no different from a 502). The Client
// (checkRetry, which also applies the per-operation rules), the token
// source and IsRetryable share it.
func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || (code >= 500 && code <= 599)
}

// refused reports whether a reply with this status proves that the server
// did not apply the request: a definite refusal, any 4xx but 408 (a proxy
// may send 408 after the origin applied the request). Any other status a
// request can end with (a 5xx, 408, a 3xx, a status outside 100-599) leaves
// the outcome unknown.
func refused(code int) bool {
	return code >= 400 && code <= 499 && code != http.StatusRequestTimeout
}

// noBackoff stands in for retryablehttp's Backoff, which gets no context:
// the SDK waits in prepareRetry instead, where the context is at hand, so
// the wait ends with the context and tests can replace the clock.
func noBackoff(_, _ time.Duration, _ int, _ *http.Response) time.Duration { return 0 }

// prepareRetry waits the backoff chosen by checkRetry and refreshes the
// access token before the next attempt.
func (c *Client) prepareRetry(req *http.Request) error {
	ctx := req.Context()
	st := attemptFrom(ctx)
	if st == nil {
		return nil
	}
	// What the transport reports from here on is about the next attempt.
	st.traced.Store(false)
	st.wrote.Store(false)
	if err := c.sleep(ctx, st.wait); err != nil {
		return err
	}
	if err := c.authorize(ctx, req, st); err != nil {
		st.authErr = err
		return err
	}
	return nil
}

// retryableTransportError is false for failures a repeat cannot fix.
func retryableTransportError(err error) bool {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, errInsecureRedirect), errors.Is(err, errTooManyRedirects), errors.Is(err, errPlainHTTPRedirect),
		errors.Is(err, errBodyRedirect):
		return false
	case isCertificateError(err):
		return false
	case strings.Contains(err.Error(), "unsupported protocol scheme"):
		// net/http has no typed error for this: Transport.RoundTrip
		// returns fmt.Errorf("unsupported protocol scheme %q") (Go 1.26,
		// net/http/request.go badStringError), and retryablehttp matches
		// the same text. It is reached after a redirect to, say, ftp://.
		return false
	}
	return true
}

// backoff returns the wait before retry number n+1: Retry-After when the
// reply has one (capped at MaxWait, plus up to MinWait of jitter), else
// exponential growth from MinWait with full jitter, capped at MaxWait.
func (p RetryPolicy) backoff(n int, resp *http.Response, now time.Time, jitter float64) time.Duration {
	if resp != nil {
		if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			j := time.Duration(jitter * float64(p.MinWait))
			if ra > p.MaxWait-j { // a far-off date would overflow ra+j
				return p.MaxWait
			}
			return ra + j
		}
	}
	ceiling := p.MaxWait
	if n < 62 && p.MinWait > 0 && p.MinWait <= ceiling>>n { // MinWait<<n neither overflows nor passes MaxWait
		ceiling = p.MinWait << n
	}
	return p.MinWait + time.Duration(jitter*float64(ceiling-p.MinWait))
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		// Delay seconds. Past what a Duration holds the value saturates:
		// the caller caps it at MaxWait, as it does any long wait.
		const maxSecs = int64(math.MaxInt64 / time.Second)
		var secs int64
		for _, ch := range v {
			if ch < '0' || ch > '9' {
				return 0, false
			}
			secs = min(secs*10+int64(ch-'0'), maxSecs)
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// outlasts reports whether waiting d would take past ctx's deadline. The
// deadline is wall-clock time, so this uses the real clock, never an
// injected one (a test clock set ahead would otherwise disable retries).
func outlasts(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return ok && d > time.Until(deadline)
}

// sleepContext waits d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Client) logAttempt(_ retryablehttp.Logger, req *http.Request, n int) {
	st := attemptFrom(req.Context())
	if st == nil || !c.logger.Enabled(req.Context(), slog.LevelDebug) {
		return
	}
	c.logger.LogAttrs(req.Context(), slog.LevelDebug, "apikeys: sending request",
		slog.String("op", st.op.name), slog.String("method", req.Method),
		slog.String("url", redactURL(req.URL)), slog.Int("attempt", n+1))
}

func (c *Client) logRetry(ctx context.Context, st *attempt, resp *http.Response, err error) {
	if c.logger == nil || !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{slog.String("op", st.op.name), slog.Int("attempt", st.attempts), slog.Duration("wait", st.wait)}
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "apikeys: retrying", attrs...)
}

func isCertificateError(err error) bool {
	var verr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	return errors.As(err, &verr) || errors.As(err, &unknownAuthority) ||
		errors.As(err, &hostname) || errors.As(err, &invalidCert)
}

func randFloat() float64 { return rand.Float64() }

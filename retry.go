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
		return optionError(field, "MaxRetries is negative")
	case p.MaxRetries > 100:
		return optionError(field, "MaxRetries is over 100")
	case p.MinWait < 0:
		return optionError(field, "MinWait is negative")
	case p.MaxWait < 0:
		return optionError(field, "MaxWait is negative")
	case p.MaxWait < p.MinWait:
		return optionError(field, "MaxWait is shorter than MinWait")
	}
	return nil
}

// retryClass says when a call may be sent again.
type retryClass int

const (
	// idempotent calls (reads, PATCH, legacy revoke) give the same result
	// when repeated.
	idempotent retryClass = iota
	// idempotentDelete calls may be repeated; "not found" on a repeat that
	// follows an unknown outcome means the first attempt worked.
	idempotentDelete
	// nonIdempotent calls (creates) are repeated only when the request
	// surely never reached the server.
	nonIdempotent
)

// retryableStatus reports whether a reply with this status is worth
// another attempt of a call that is safe to repeat: 408, 429 and every 5xx
// (HTTP semantics: the server or a proxy failed or timed out, and a
// CDN's 520-527 or 599 are no different from a 502). checkRetry and
// IsRetryable share it.
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

// keyGone reports whether err is the API's own answer that the key a
// delete is about does not exist, which after an attempt with an unknown
// outcome means that attempt deleted it. One rule for both APIs: a 404, or
// a legacy error reply whose status has no sentinel of its own (the legacy
// API answers errors with HTTP 200), whose JSON message says that the key
// is not found (unknownKeyMessage). A reply that says nothing (an empty
// body, Go's text/plain "404 page not found", a proxy's HTML page, JSON
// with no message) or names something else ("domain not found",
// "environment not found") proves nothing, and the delete fails with it.
func keyGone(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	notFound := ae.StatusCode == http.StatusNotFound || (ae.API == LegacyAPI && statusSentinel(ae.StatusCode) == nil)
	return notFound && unknownKeyMessage(ae.Message)
}

// checkRetry is retryablehttp's CheckRetry: it applies the retry table
// to an attempt's reply (resp) or failure (err).
//
// retryablehttp asks it twice about the reply that ends the retries: once
// as it comes, and once more after the response handler (bufferBody) has
// read its body, with the read's error. The second question is about the
// same attempt: only a body that broke off (err) can change the answer.
func (c *call) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	// The failure is logged here and may end the call: its URL must show
	// no more than the call's error does.
	err = redactURLError(err)
	if resp != nil && resp == c.checked {
		if err == nil {
			return false, nil
		}
	} else {
		c.attempts++
		c.checked = resp
		c.logReply(ctx, resp, err)
	}
	retry := false
	if err != nil {
		notSent := c.surelyNotSent(err)
		if !notSent {
			c.unknown = true
		}
		if ctx.Err() != nil || !retryableTransportError(err) {
			return false, nil
		}
		retry = c.op.class != nonIdempotent || notSent
	} else {
		code := resp.StatusCode
		switch {
		case code >= 200 && code <= 299:
		case code == http.StatusUnauthorized:
			// A rejected token: nothing was applied. Get a new one and
			// try once more if the source can drop the old one.
			if inv, ok := c.s.tokens.(TokenInvalidator); ok && c.bearer && !c.authRetried && c.token != nil {
				inv.Invalidate(c.token)
				c.authRetried = true
				c.wait = 0
				c.logRetry(ctx, resp, nil)
				return true, nil
			}
		case code == http.StatusTooManyRequests:
			retry = true // refused before processing: safe for every call
		default:
			if !refused(code) {
				c.unknown = true // the request may have been applied
			}
			retry = c.op.class != nonIdempotent && retryableStatus(code)
		}
	}
	if !retry || c.retries >= c.s.policy.MaxRetries {
		return false, nil
	}
	wait := c.s.policy.backoff(c.retries, resp, c.s.now(), c.s.jitter())
	if outlasts(ctx, wait) {
		// Return the last result now rather than fail later.
		return false, nil
	}
	c.retries++
	c.wait = wait
	c.logRetry(ctx, resp, err)
	return true, nil
}

// surelyNotSent reports whether a failed attempt cannot have reached the
// server: the dial failed, or the transport got no further than that.
func (c *call) surelyNotSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	return c.traced.Load() && !c.wrote.Load()
}

// noBackoff stands in for retryablehttp's Backoff, which gets no context:
// the SDK waits in prepare instead, where the context is at hand, so the
// wait ends with the context and tests can replace the clock.
func noBackoff(_, _ time.Duration, _ int, _ *http.Response) time.Duration { return 0 }

// prepare readies an attempt (it is retryablehttp's PrepareRetry, and do
// calls it for the first attempt): after a failed attempt it waits the
// backoff checkRetry chose and signs a new body when the request needs
// one; every attempt gets the current access token.
func (c *call) prepare(req *http.Request) error {
	ctx := req.Context()
	if c.attempts > 0 {
		// What the transport reports from here on is about this attempt.
		c.traced.Store(false)
		c.wrote.Store(false)
		if err := c.s.sleep(ctx, c.wait); err != nil {
			return &opError{op: c.op.name, err: err}
		}
		if c.sign != nil {
			if err := c.resign(req); err != nil {
				return err
			}
		}
	}
	if err := c.authorize(ctx, req); err != nil {
		c.authErr = err
		return err
	}
	c.sent = time.Now()
	return nil
}

// resign makes the body of the next attempt with the request's sign.
// req, the attempt's request (nil before the first), gets its length.
func (c *call) resign(req *http.Request) error {
	b, err := c.sign()
	if err != nil {
		return &opError{op: c.op.name, err: err}
	}
	c.body = b
	if req != nil {
		req.ContentLength = int64(len(b))
	}
	return nil
}

// authorize sets the Platform access token for the next attempt.
func (c *call) authorize(ctx context.Context, req *http.Request) error {
	if !c.bearer {
		return nil
	}
	if c.s.tokens == nil {
		return &opError{op: c.op.name, err: &sentinelError{ErrNotConfigured, "client not configured for this call (needs WithToken, WithTokenSource or WithClientAssertion)"}}
	}
	// The token source may send requests of its own: keep them out of
	// this call's httptrace hooks and CaptureResponse.
	tok, err := tokenFrom(withoutCall(ctx), c.s.tokens)
	if err != nil {
		if ctx.Err() != nil {
			return &opError{op: c.op.name, err: ctx.Err()}
		}
		return &opError{op: c.op.name, what: "getting access token", err: err}
	}
	c.token = tok
	c.secrets = c.secrets.add(tok.AccessToken, "****")
	c.authBuf[0] = "Bearer " + tok.AccessToken
	req.Header["Authorization"] = c.authBuf[:]
	return nil
}

// tokenFrom gets a token from ts, refusing one that cannot be sent: sent,
// it would fail in the transport as if the server were down.
func tokenFrom(ctx context.Context, ts TokenSource) (*Token, error) {
	tok, err := ts.Token(ctx)
	if err != nil {
		return nil, err
	}
	if tok == nil {
		tok = &Token{}
	}
	if problem := accessTokenProblem(tok.AccessToken); problem != "" {
		return nil, invalid("", "token", "from the token source %s", problem)
	}
	return tok, nil
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

func isCertificateError(err error) bool {
	var verr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	return errors.As(err, &verr) || errors.As(err, &unknownAuthority) ||
		errors.As(err, &hostname) || errors.As(err, &invalidCert)
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

func randFloat() float64 { return rand.Float64() }

// logAttempt is retryablehttp's RequestLogHook: a debug line per attempt.
func (c *call) logAttempt(_ retryablehttp.Logger, req *http.Request, n int) {
	if !c.s.logger.Enabled(req.Context(), slog.LevelDebug) {
		return
	}
	c.s.logger.LogAttrs(req.Context(), slog.LevelDebug, "apikeys: sending request",
		slog.String("op", c.op.name), slog.String("method", req.Method),
		slog.String("url", redactURL(req.URL)), slog.Int("attempt", n+1))
}

// logReply logs an attempt's reply, or its failure, at debug level:
// operation, status, duration, attempt and the reply's request ID.
func (c *call) logReply(ctx context.Context, resp *http.Response, err error) {
	if c.s.logger == nil || !c.s.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{slog.String("op", c.op.name), slog.Int("attempt", c.attempts),
		slog.Duration("duration", time.Since(c.sent))}
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
		if id := requestID(resp.Header, c.api); id != "" {
			attrs = append(attrs, slog.String("request_id", id))
		}
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", serverText(err.Error(), maxServerText)))
	}
	c.s.logger.LogAttrs(ctx, slog.LevelDebug, "apikeys: reply", attrs...)
}

// logRetry logs a retry decision at debug level.
func (c *call) logRetry(ctx context.Context, resp *http.Response, err error) {
	if c.s.logger == nil || !c.s.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{slog.String("op", c.op.name), slog.Int("attempt", c.attempts), slog.Duration("wait", c.wait)}
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", serverText(err.Error(), maxServerText)))
	}
	c.s.logger.LogAttrs(ctx, slog.LevelDebug, "apikeys: retrying", attrs...)
}

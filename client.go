package apikeys

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Version is this SDK's version, sent in the User-Agent header.
const Version = "0.1.0"

// Base URLs of the Platform API and its token endpoint.
const (
	DefaultBaseURL  = "https://api.redoxengine.com/platform"
	CanadaBaseURL   = "https://api.ca.redoxengine.com/platform"
	DefaultTokenURL = "https://api.redoxengine.com/v2/auth/token"
	CanadaTokenURL  = "https://api.ca.redoxengine.com/v2/auth/token"
)

const (
	// DefaultMaxResponseBytes caps how much of a successful reply is read.
	DefaultMaxResponseBytes = 8 << 20
	// maxErrorBodyBytes caps how much of an error reply is read and kept.
	maxErrorBodyBytes = 64 << 10
	// maxIDLength bounds path parameters; real IDs are far shorter.
	maxIDLength = 256
)

// Client talks to the Platform API (APIKeys, Environments) and, when
// configured with WithLegacy, to the legacy key API (Legacy). It is safe
// for concurrent use. Every call goes through one request path with the
// SDK's retry rules and error model.
type Client struct {
	// APIKeys manages Platform OAuth API keys.
	APIKeys *APIKeysService
	// Environments lists Platform environments.
	Environments *EnvironmentsService
	// Legacy manages legacy user and app API keys.
	Legacy *LegacyService

	baseURL      *url.URL
	assertion    *AssertionTokenSource // nil without one
	legacy       *legacyConfig
	sender       *sender
	insecureHTTP bool
}

// String describes the client without any credential.
func (c *Client) String() string {
	return fmt.Sprintf("apikeys.Client{baseURL: %s, legacy: %t}", c.baseURL, c.legacy != nil)
}

// GoString is like String, so %#v shows no credential either.
func (c *Client) GoString() string { return c.String() }

// NewClient returns a Client configured by opts. The options are checked
// as a whole before any I/O; a bad one, or two that contradict each other
// (one region's base URL with another region's token URL, two ways to
// authenticate), is a *ValidationError.
func NewClient(opts ...Option) (*Client, error) {
	o := options{
		retry:            DefaultRetryPolicy(),
		maxResponseBytes: DefaultMaxResponseBytes,
	}
	for _, opt := range opts {
		if opt == nil {
			return nil, optionError("Option", "is nil")
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	base, err := parseURL("NewClient", "WithBaseURL", cmp.Or(o.baseURL, o.region.BaseURL()), o.insecureHTTP, true)
	if err != nil {
		return nil, err
	}
	if r, ok := regionOf(base, false); ok && o.region != "" && r != o.region {
		return nil, optionError("WithRegion", "is %s, but the base URL %s is the %s region's", o.region, redactURL(base), r)
	}
	c := &Client{baseURL: base, insecureHTTP: o.insecureHTTP}
	if o.legacy != nil {
		if c.legacy, err = newLegacyConfig(*o.legacy, o.insecureHTTP); err != nil {
			return nil, err
		}
	}
	userAgent := "apikeys-go/" + Version
	if o.userAgent != "" {
		userAgent += " " + o.userAgent
	}
	hc := copyHTTPClient(o.httpClient)
	c.sender = newSender(hc, o.retry, o.maxResponseBytes, userAgent)
	c.sender.tokens, c.sender.logger = o.tokens, o.logger
	if ts, ok := o.tokens.(*AssertionTokenSource); ok { // WithTokenSource refused one not initialized
		if err := o.checkTokenURL("WithTokenSource", base, ts.s.tokenURL); err != nil {
			return nil, err
		}
		c.assertion = ts
	}
	if o.tokenURL != "" && o.assertion == nil {
		return nil, optionError("WithTokenURL", "is for WithClientAssertion, which is not given (a TokenConfig has its own TokenURL)")
	}
	if o.assertion != nil {
		tokenURL, err := o.assertionTokenURL(base)
		if err != nil {
			return nil, err
		}
		// A copy of the Client's HTTP client: the same transport and so
		// the same connection pool.
		thc := *hc
		ts := newSender(tokenHTTPClient(&thc), o.retry, maxTokenBodyBytes, userAgent)
		ts.logger = o.logger
		c.assertion = newTokenSource(o.assertion.clientID, o.assertion.key, tokenURL, "", defaultFetchTimeout, ts, nil)
		c.sender.tokens = c.assertion
	}
	c.APIKeys = &APIKeysService{client: c}
	c.Environments = &EnvironmentsService{client: c}
	c.Legacy = &LegacyService{client: c}
	return c, nil
}

// assertionTokenURL returns the token URL of WithClientAssertion: that of
// WithTokenURL, else the region's (WithRegion's, else that of the region
// whose base URL base is). A base URL that is no region's needs
// WithTokenURL or WithRegion: guessing would send a test server's or a
// proxy's calls with tokens from production.
func (o *options) assertionTokenURL(base *url.URL) (*url.URL, error) {
	raw := o.tokenURL
	if raw == "" {
		r, ok := regionOf(base, false)
		switch {
		case o.region != "":
			r = o.region
		case !ok:
			return nil, optionError("WithClientAssertion", "needs WithTokenURL or WithRegion: the base URL %s is no region's", redactURL(base))
		}
		raw = r.TokenURL()
	}
	u, err := parseURL("NewClient", "WithTokenURL", raw, o.insecureHTTP, false)
	if err != nil {
		return nil, err
	}
	return u, o.checkTokenURL("WithTokenURL", base, u)
}

// checkTokenURL refuses a token URL, given by option, that is the known
// token URL of another region than WithRegion's or than base's.
func (o *options) checkTokenURL(option string, base, tokenURL *url.URL) error {
	if err := checkTokenRegion("NewClient", option, tokenURL, o.region, "WithRegion"); err != nil {
		return err
	}
	return checkPairing(option, base, tokenURL)
}

// AssertionTokenSource returns the token source of WithClientAssertion, or
// the *AssertionTokenSource given to WithTokenSource; nil when the Client
// has neither. Call its SetKey to switch keys while the Client runs.
func (c *Client) AssertionTokenSource() *AssertionTokenSource { return c.assertion }

// operation names a call and its retry class.
type operation struct {
	name  string
	class retryClass
}

// request is one call as it is sent, the same for every attempt but for
// the access token (bearer) and a body signed anew each time (sign).
type request struct {
	op     operation
	api    API // whose reply headers name the request ID; "" for the token endpoint
	method string
	url    *url.URL
	body   []byte
	header http.Header
	// bearer adds the Platform access token to every attempt.
	bearer bool
	// sign, when set, makes the body of each attempt: a token request
	// sends a newly signed client assertion every time.
	sign func() ([]byte, error)
	// secrets are the credentials the request carries, masked in errors.
	secrets secrets

	// Room for what newRequest makes, so that a call allocates it with
	// the request rather than piece by piece.
	urlBuf     url.URL
	headerBuf  [3]string // the values of Accept, User-Agent, Content-Type
	secretsBuf [4]string // two secrets and their masks
	authBuf    [1]string // the value of Authorization
}

// newRequest builds a request to base joined with the path-escaped
// segments, with body (when not nil) encoded as JSON.
func (s *sender) newRequest(op operation, method string, base *url.URL, body any, segments ...string) (*request, error) {
	r := &request{op: op, method: method, urlBuf: *base, header: make(http.Header, 4)}
	r.url, r.secrets = &r.urlBuf, r.secretsBuf[:0]
	r.url.Path, r.url.RawPath = joinPath(base, segments)
	r.headerBuf = [3]string{"application/json", s.userAgent, "application/json"}
	r.header["Accept"] = r.headerBuf[0:1:1]
	r.header["User-Agent"] = r.headerBuf[1:2:2]
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, &opError{op: op.name, what: "encoding request", err: err}
		}
		r.body = b
		r.header["Content-Type"] = r.headerBuf[2:3:3]
	}
	return r, nil
}

// sender sends requests with the SDK's retry rules. A Client has one for
// its API calls, an AssertionTokenSource one for the token endpoint: both
// go through do, on go-retryablehttp.
type sender struct {
	hc               *http.Client // a copy of the caller's; never mutated
	policy           RetryPolicy
	maxResponseBytes int64
	userAgent        string
	tokens           TokenSource  // the Platform access tokens of bearer requests
	logger           *slog.Logger // nil: silent

	// sleep waits between attempts, jitter returns a number in [0, 1) for
	// the backoff, now is the clock of Retry-After dates. Tests replace
	// them to run without waiting.
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func() float64
	now    func() time.Time
}

func newSender(hc *http.Client, p RetryPolicy, maxResponseBytes int64, userAgent string) *sender {
	return &sender{hc: hc, policy: p, maxResponseBytes: maxResponseBytes, userAgent: userAgent,
		sleep: sleepContext, jitter: randFloat, now: time.Now}
}

// call is the state of one request across its attempts: what the retry
// rules decide on. retryablehttp's hooks are its methods (retry.go).
type call struct {
	*request
	s *sender

	body        []byte // the body of the current attempt
	token       *Token // the access token of the current attempt
	attempts    int
	retries     int
	authRetried bool
	wait        time.Duration        // before the next attempt
	unknown     bool                 // an attempt may have been applied by the server
	authErr     error                // why the token for an attempt could not be had
	checked     *http.Response       // the reply checkRetry last decided on
	resp        *http.Response       // the last reply, for CaptureResponse
	version     string               // its meta.version (Platform)
	sent        time.Time            // when the current attempt was prepared, for the log
	rc          retryablehttp.Client // with the call's hooks; in the call, one allocation less

	// Set from transport goroutines by the httptrace hooks of calls that
	// are not idempotent; reset before each attempt.
	traced atomic.Bool // the transport reports its progress
	wrote  atomic.Bool // request headers were written to a connection
}

// do sends r, retrying as the retry table allows, and reads the last
// reply with read, which returns the call's error for a reply that is not
// what the call expects. The error that ends the call is settled by the
// last rules of the retry table (settle), and the call is reported to a
// CaptureResponse in ctx.
func (s *sender) do(ctx context.Context, r *request, read func(*http.Response, *call) error) error {
	if ctx == nil {
		return invalid(r.op.name, "ctx", "is nil")
	}
	c := &call{request: r, s: s, body: r.body}
	defer capture(ctx, c)
	if err := ctx.Err(); err != nil {
		return &opError{op: r.op.name, err: err}
	}
	if r.sign != nil {
		if err := c.resign(nil); err != nil {
			return err
		}
	}
	var body any
	switch {
	case r.sign != nil: // a new body each attempt (resign)
		body = retryablehttp.ReaderFunc(func() (io.Reader, error) { return bytes.NewReader(c.body), nil })
	case c.body != nil:
		body = c.body
	}
	req, err := newRetryableRequest(c.trace(ctx), r.method, r.url, body)
	if err != nil {
		return &opError{op: r.op.name, err: err}
	}
	req.Header = r.header
	if r.op.class == nonIdempotent || r.sign != nil {
		// net/http re-sends a request through GetBody, which retryablehttp
		// sets: its HTTP/2 transport after a stream reset or GOAWAY that
		// may follow a processed request, and its client on a 307 or 308.
		// A create must never be sent twice by a layer below the SDK (a
		// failure after sending is an unknown outcome; a 307 or 308 is
		// returned as it is), and a signed body must not be sent twice.
		req.GetBody = nil
	}
	req.SetResponseHandler(c.bufferBody)
	if err := c.prepare(req.Request); err != nil {
		return err
	}
	c.rc = retryablehttp.Client{
		HTTPClient:   s.hc,
		RetryMax:     s.policy.MaxRetries + 1, // +1 for the retry after a 401; checkRetry enforces MaxRetries
		CheckRetry:   c.checkRetry,
		Backoff:      noBackoff,
		PrepareRetry: c.prepare,
		// Without it the last reply is dropped for a "giving up" error.
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		// Logger stays nil: retryablehttp would log to stderr. The SDK logs
		// through WithLogger in its own hooks.
	}
	if s.logger != nil {
		c.rc.RequestLogHook = c.logAttempt
	}
	resp, err := c.rc.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return c.settle(c.stamp(c.failure(ctx, err)), false)
	}
	c.resp = resp
	err = c.stamp(read(resp, c))
	unreadable := isDecodeError(err) || errors.Is(err, ErrUnsupportedVersion)
	return c.settle(err, resp.StatusCode >= 200 && resp.StatusCode <= 299 && unreadable)
}

// newRetryableRequest is retryablehttp.NewRequestWithContext for a URL
// already parsed: that takes a string, and would print and parse the URL
// again for every call. u is the request's own (request.url).
func newRetryableRequest(ctx context.Context, method string, u *url.URL, body any) (*retryablehttp.Request, error) {
	hr, err := http.NewRequestWithContext(ctx, method, "", nil)
	if err != nil {
		return nil, err
	}
	hr.URL, hr.Host = u, u.Host
	req, err := retryablehttp.FromRequest(hr)
	if err != nil {
		return nil, err
	}
	return req, req.SetBody(body)
}

// trace adds to the context of a call that is not idempotent the hooks
// that tell whether an attempt's request reached a connection.
func (c *call) trace(ctx context.Context) context.Context {
	if c.op.class == idempotent || c.op.class == idempotentDelete {
		return ctx
	}
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GetConn:      func(string) { c.traced.Store(true) },
		WroteHeaders: func() { c.wrote.Store(true) },
	})
}

// stamp records on an error the call made (not one it passes on, such as
// a token fetch's) how many attempts the call made.
func (c *call) stamp(err error) error {
	switch e := err.(type) {
	case *APIError:
		e.Attempts = c.attempts
	case *DecodeError:
		e.Attempts = c.attempts
	case *TokenError:
		e.Attempts = c.attempts
	case *TransportError:
		e.Attempts = c.attempts
	}
	return err
}

// failure turns the end of the attempts without a usable reply into the
// SDK's error: the caller's context ending, the token for an attempt that
// could not be had, or a *TransportError.
func (c *call) failure(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return &opError{op: c.op.name, err: ctx.Err()}
	case c.authErr != nil:
		return c.authErr
	}
	return newTransportError(c.op.name, err)
}

// settle turns the error a call ends with into what the caller gets, by
// the last rules of the retry table. A delete whose earlier attempt had an
// unknown outcome and that now finds the key gone (keyGone: the API's own
// answer) worked: nil. A create is ambiguous when an attempt had an
// unknown outcome, or when its reply was a 2xx that could not be read
// (replied2xx): it was most likely applied, so the caller must reconcile
// rather than create again.
func (c *call) settle(err error, replied2xx bool) error {
	switch {
	case err == nil:
		return nil
	case c.op.class == idempotentDelete && c.unknown && keyGone(err):
		return nil
	case c.op.class == nonIdempotent && (c.unknown || replied2xx):
		return &AmbiguousError{Op: c.op.name, Err: err}
	}
	return err
}

// Response describes the reply to a call. Pass one to CaptureResponse to
// have a call fill it in.
type Response struct {
	// StatusCode is the HTTP status of the last reply. It is left as it
	// was (0 in a new Response) when no reply came: a transport failure,
	// or a call that ended before sending.
	StatusCode int
	// Header is the header of the last reply; left as it was (nil) when
	// no reply came.
	Header http.Header
	// Version is the Platform reply's meta.version ("" for legacy calls).
	Version string
	// Attempts counts the HTTP attempts the call made.
	Attempts int
}

type responseKey struct{}

// responseCapture is the Response of a CaptureResponse context; calls
// sharing the context fill it in one at a time.
type responseCapture struct {
	mu sync.Mutex
	r  *Response
}

// CaptureResponse returns a context that makes the call it is passed to
// fill in r after its last attempt. Calls that share the context may run
// concurrently: each fills r in whole, one after the other, so r describes
// the call that ended last.
func CaptureResponse(ctx context.Context, r *Response) context.Context {
	return context.WithValue(ctx, responseKey{}, &responseCapture{r: r})
}

// capture reports call c to the CaptureResponse of ctx, if there is one.
func capture(ctx context.Context, c *call) {
	if ctx == nil {
		return
	}
	rc, _ := ctx.Value(responseKey{}).(*responseCapture)
	if rc == nil || rc.r == nil {
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.r.Attempts = c.attempts
	if c.resp != nil {
		rc.r.StatusCode, rc.r.Header = c.resp.StatusCode, c.resp.Header
	}
	rc.r.Version = c.version
}

// withoutCall hides what belongs to one call in ctx (an httptrace hook, a
// CaptureResponse) from the requests made with it on another call's
// behalf: a token fetch during a Platform call.
func withoutCall(ctx context.Context) context.Context {
	if httptrace.ContextClientTrace(ctx) == nil && ctx.Value(responseKey{}) == nil {
		return ctx // nothing to hide: save the allocation
	}
	return callFreeContext{ctx}
}

type callFreeContext struct{ context.Context }

func (c callFreeContext) Value(key any) any {
	if _, ok := key.(responseKey); ok {
		return nil
	}
	v := c.Context.Value(key)
	if _, ok := v.(*httptrace.ClientTrace); ok {
		return nil
	}
	return v
}

// doPlatform sends a Platform call (the base URL joined with segments,
// body as JSON, the access token on every attempt) and decodes the
// payload of its reply into a T (readEnvelope). A nil c (the service of a
// Client not made by NewClient) is ErrNotConfigured, as for Legacy.
func doPlatform[T any](ctx context.Context, c *Client, op operation, method string, body any, segments ...string) (T, error) {
	var payload T
	if c == nil {
		return payload, &opError{op: op.name, err: &sentinelError{ErrNotConfigured, "client not configured for this call (make the Client with NewClient)"}}
	}
	r, err := c.sender.newRequest(op, method, c.baseURL, body, segments...)
	if err != nil {
		return payload, err
	}
	r.bearer, r.api = true, PlatformAPI
	err = c.sender.do(ctx, r, func(resp *http.Response, call *call) error { return readEnvelope(resp, call, &payload) })
	return payload, err
}

package apikeys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

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

	baseURL          *url.URL
	tokens           TokenSource
	legacy           *legacyConfig
	http             *retryablehttp.Client
	retry            RetryPolicy
	logger           *slog.Logger
	userAgent        string
	insecureHTTP     bool
	maxResponseBytes int64

	// sleep waits between attempts; tests replace it to run without waiting.
	sleep func(ctx context.Context, d time.Duration) error
	// jitter returns a number in [0, 1) for backoff jitter.
	jitter func() float64
	now    func() time.Time
	// responseHandler is c.bufferBody, bound once rather than per call.
	responseHandler retryablehttp.ResponseHandlerFunc
}

// String describes the client without any credential.
func (c *Client) String() string {
	return fmt.Sprintf("apikeys.Client{baseURL: %s, legacy: %t}", c.baseURL, c.legacy != nil)
}

// GoString is like String, so %#v shows no credential either.
func (c *Client) GoString() string { return c.String() }

// Option configures a Client. Options validate their arguments; NewClient
// returns the first error as a *ValidationError.
type Option func(*options) error

// options collects what the Option functions set, checked as a whole by NewClient.
type options struct {
	baseURL          string
	tokens           TokenSource
	legacy           *LegacyConfig
	httpClient       *http.Client
	retry            RetryPolicy
	logger           *slog.Logger
	userAgent        string
	insecureHTTP     bool
	maxResponseBytes int64
}

// WithBaseURL sets the Platform base URL (default DefaultBaseURL). It must be
// absolute https; plain http is accepted for loopback hosts, and for any host
// with WithInsecureHTTP.
func WithBaseURL(rawURL string) Option {
	return func(o *options) error {
		if rawURL == "" {
			return invalid("WithBaseURL", "is empty")
		}
		o.baseURL = rawURL
		return nil
	}
}

// WithToken authenticates Platform calls with a fixed bearer token.
func WithToken(token string) Option {
	return func(o *options) error {
		if problem := accessTokenProblem(token); problem != "" {
			return invalid("WithToken", "token %s", problem)
		}
		if o.tokens != nil {
			return invalid("WithToken", "a token or token source is already set")
		}
		o.tokens = &staticTokenSource{token: &Token{AccessToken: token, TokenType: "Bearer"}}
		return nil
	}
}

// WithTokenSource authenticates Platform calls with tokens from ts, asked
// for before every attempt (see TokenSource).
func WithTokenSource(ts TokenSource) Option {
	return func(o *options) error {
		if ts == nil {
			return invalid("WithTokenSource", "token source is nil")
		}
		if o.tokens != nil {
			return invalid("WithTokenSource", "a token or token source is already set")
		}
		o.tokens = ts
		return nil
	}
}

// WithHTTPClient sends requests with a copy of hc (its Transport, Jar and
// Timeout). hc itself is never modified. Without it each Client gets its
// own pooled transport, a clone of http.DefaultTransport that keeps up to
// 100 idle connections per host for concurrent callers.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error {
		if hc == nil {
			return invalid("WithHTTPClient", "client is nil")
		}
		o.httpClient = hc
		return nil
	}
}

// WithRetry replaces DefaultRetryPolicy(). The policy is checked: negative
// values, more than 100 retries or MaxWait under MinWait are refused.
func WithRetry(p RetryPolicy) Option {
	return func(o *options) error {
		if err := p.validate("WithRetry"); err != nil {
			return err
		}
		o.retry = p
		return nil
	}
}

// WithLogger logs each attempt and retry decision at debug level: operation,
// method, URL path, status, wait. Headers and bodies are never logged.
// Without it the Client is silent.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return invalid("WithLogger", "logger is nil (omit the option for no logging)")
		}
		o.logger = l
		return nil
	}
}

// WithUserAgent appends ua to the User-Agent header "apikeys-go/<Version>".
func WithUserAgent(ua string) Option {
	return func(o *options) error {
		if ua == "" || hasControl(ua) || !utf8.ValidString(ua) {
			return invalid("WithUserAgent", "is empty, has control characters or is not valid UTF-8")
		}
		o.userAgent = ua
		return nil
	}
}

// WithInsecureHTTP allows plain http base URLs for non-loopback hosts
// (loopback hosts need no option), and plain http jwksURL values for any
// host (the Platform fetches those, so loopback is no exception). Use it
// only on trusted networks.
func WithInsecureHTTP() Option {
	return func(o *options) error {
		o.insecureHTTP = true
		return nil
	}
}

// WithMaxResponseBytes caps how much of a successful reply is read
// (default DefaultMaxResponseBytes). A larger reply fails with a *DecodeError.
func WithMaxResponseBytes(n int64) Option {
	return func(o *options) error {
		if n <= 0 {
			return invalid("WithMaxResponseBytes", "must be positive")
		}
		o.maxResponseBytes = n
		return nil
	}
}

// NewClient returns a Client configured by opts.
func NewClient(opts ...Option) (*Client, error) {
	o := options{
		baseURL:          DefaultBaseURL,
		retry:            DefaultRetryPolicy(),
		maxResponseBytes: DefaultMaxResponseBytes,
	}
	for _, opt := range opts {
		if opt == nil {
			return nil, invalid("Option", "is nil")
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	base, err := parseServiceURL("WithBaseURL", o.baseURL, o.insecureHTTP)
	if err != nil {
		return nil, err
	}
	c := &Client{
		baseURL:          base,
		tokens:           o.tokens,
		retry:            o.retry,
		logger:           o.logger,
		insecureHTTP:     o.insecureHTTP,
		maxResponseBytes: o.maxResponseBytes,
		userAgent:        "apikeys-go/" + Version,
		sleep:            sleepContext,
		jitter:           randFloat,
		now:              time.Now,
	}
	if o.userAgent != "" {
		c.userAgent += " " + o.userAgent
	}
	if o.legacy != nil {
		if c.legacy, err = newLegacyConfig(*o.legacy, o.insecureHTTP); err != nil {
			return nil, err
		}
	}
	c.http = &retryablehttp.Client{
		HTTPClient:   copyHTTPClient(o.httpClient),
		RetryMax:     c.retry.MaxRetries + 1, // +1 for the retry after a 401; checkRetry enforces MaxRetries
		CheckRetry:   c.checkRetry,
		Backoff:      noBackoff,
		PrepareRetry: c.prepareRetry,
		// Without it the last reply is dropped for a "giving up" error.
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		// Logger stays nil: retryablehttp would log to stderr. The SDK logs
		// through WithLogger in its own hooks.
	}
	if c.logger != nil {
		c.http.RequestLogHook = c.logAttempt
	}
	c.responseHandler = c.bufferBody
	c.APIKeys = &APIKeysService{client: c}
	c.Environments = &EnvironmentsService{client: c}
	c.Legacy = &LegacyService{client: c}
	return c, nil
}

// copyWithDefaultTransport returns a copy of hc (a new client for nil)
// whose nil Transport is http.DefaultTransport itself, as net/http uses
// it: for calls that do not own a connection pool of their own.
func copyWithDefaultTransport(hc *http.Client) *http.Client {
	var cp http.Client
	if hc != nil {
		cp = *hc
	}
	if cp.Transport == nil {
		cp.Transport = http.DefaultTransport
	}
	return &cp
}

// copyHTTPClient copies hc so the caller's client is never modified, gives
// it a private pooled transport when it has none (retryablehttp closes the
// transport's idle connections after a failed call), and adds the redirect
// policy.
func copyHTTPClient(hc *http.Client) *http.Client {
	var cp http.Client
	if hc != nil {
		cp = *hc
	}
	if cp.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// A Client talks to one or two hosts: let one host keep as many
		// idle connections as the pool holds (100), not net/http's
		// default 2, so more than 2 concurrent calls reuse connections
		// instead of opening (and TLS-handshaking) new ones.
		t.MaxIdleConnsPerHost = t.MaxIdleConns
		cp.Transport = t
	}
	next := cp.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := checkRedirect(req, via); err != nil {
			return err
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errTooManyRedirects
		}
		return nil
	}
	return &cp
}

var (
	// These reach callers inside a *url.Error inside a *TransportError,
	// which adds the "apikeys: " prefix.
	errInsecureRedirect = errors.New("refusing redirect from https to http")
	errTooManyRedirects = errors.New("stopped after 10 redirects")
	errBodyRedirect     = errors.New("refusing to send the request body to another host on redirect")
)

// checkRedirect refuses https -> http downgrades, and a redirect that would
// take a request body to another host (a 307 or 308 re-sends it; a legacy
// body holds a key value, itself a credential), and strips credentials
// before following any other redirect to another host. net/http strips
// Authorization and Cookie itself, but not X-FH-AUTH-USER.
func checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0]
	if first.URL.Scheme == "https" && req.URL.Scheme != "https" {
		return errInsecureRedirect
	}
	if req.URL.Host != first.URL.Host {
		if req.Body != nil && req.Body != http.NoBody {
			return errBodyRedirect
		}
		for _, h := range []string{"Authorization", legacyAuthHeader, "Cookie"} {
			req.Header.Del(h)
		}
	}
	return nil
}

// parseServiceURL checks a base URL given to an option.
func parseServiceURL(field, raw string, insecureHTTP bool) (*url.URL, error) {
	u, err := checkURL(field, raw, insecureHTTP)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, invalid(field, "must not have a query or fragment")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// checkURL accepts an absolute https URL without user info, or http for a
// loopback host (any host with insecureHTTP).
func checkURL(field, raw string, insecureHTTP bool) (*url.URL, error) {
	if len(raw) > 2048 {
		return nil, invalid(field, "URL is longer than 2048 bytes")
	}
	if hasControl(raw) {
		return nil, invalid(field, "URL has control characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, invalid(field, "is not a URL")
	}
	if !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return nil, invalid(field, "must be an absolute URL with a host")
	}
	if u.User != nil {
		return nil, invalid(field, "must not carry user info")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !insecureHTTP && !isLoopback(u.Hostname()) {
			return nil, invalid(field, "must use https (plain http only for loopback hosts, or with WithInsecureHTTP)")
		}
	default:
		return nil, invalid(field, "must use https")
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}

// accessTokenProblem says why tok cannot go in an Authorization header,
// or returns "" when it can.
func accessTokenProblem(tok string) string {
	switch {
	case strings.TrimSpace(tok) == "":
		return "is empty"
	case hasControl(tok) || strings.ContainsRune(tok, ' '):
		return "has spaces or control characters"
	}
	return ""
}

// validateID checks a path parameter. IDs are path-escaped as well; this
// catches mistakes (an empty ID would silently address the collection).
func validateID(field, id string) error {
	switch {
	case id == "":
		return invalid(field, "is empty")
	case !utf8.ValidString(id):
		return invalid(field, "is not valid UTF-8")
	case len(id) > maxIDLength:
		return invalid(field, "is longer than %d bytes", maxIDLength)
	case strings.Contains(id, "/") || strings.Contains(id, `\`):
		return invalid(field, "contains a slash")
	case strings.Contains(id, ".."):
		return invalid(field, `contains ".."`)
	case id == ".":
		return invalid(field, `is "."`)
	case hasControl(id):
		return invalid(field, "contains control characters")
	case strings.TrimSpace(id) != id:
		return invalid(field, "has leading or trailing spaces")
	}
	return nil
}

// operation names a call and its retry class.
type operation struct {
	name  string
	class retryClass
}

// request is one call's request before sending.
type request struct {
	op      operation
	method  string
	url     *url.URL
	body    []byte
	header  http.Header
	bearer  bool    // add the Platform access token on every attempt
	secrets secrets // the credentials header and body carry, masked in errors
}

// newRequest builds a request to base joined with the path-escaped segments.
func (c *Client) newRequest(op operation, method string, base *url.URL, body any, segments ...string) (*request, error) {
	u := *base
	u.Path, u.RawPath = joinPath(base, segments)
	r := &request{op: op, method: method, url: &u, header: make(http.Header, 4)}
	r.header.Set("Accept", "application/json")
	r.header.Set("User-Agent", c.userAgent)
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, &opError{op: op.name, what: "encoding request", err: err}
		}
		r.body = b
		r.header.Set("Content-Type", "application/json")
	}
	return r, nil
}

// joinPath returns base's path and escaped path, each followed by the
// segments ("/" + segment, path-escaped in raw). It allocates one string
// when no segment needs escaping, the usual case, as both are then equal.
func joinPath(base *url.URL, segments []string) (path, raw string) {
	baseRaw := base.EscapedPath()
	same := baseRaw == base.Path
	n, rawN := len(base.Path), len(baseRaw)
	for _, s := range segments {
		e := url.PathEscape(s) // s itself, without allocating, when nothing needs escaping
		same = same && e == s
		n += 1 + len(s)
		rawN += 1 + len(e)
	}
	var b strings.Builder
	b.Grow(rawN)
	b.WriteString(baseRaw)
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	raw = b.String()
	if same {
		return raw, raw
	}
	var p strings.Builder
	p.Grow(n)
	p.WriteString(base.Path)
	for _, s := range segments {
		p.WriteByte('/')
		p.WriteString(s)
	}
	return p.String(), raw
}

// withoutTrace hides an httptrace.ClientTrace in ctx, so requests made
// with it do not report to the hooks of the call that owns ctx.
func withoutTrace(ctx context.Context) context.Context {
	if httptrace.ContextClientTrace(ctx) == nil {
		return ctx // nothing to hide: save the allocation
	}
	return noTraceContext{ctx}
}

type noTraceContext struct{ context.Context }

func (c noTraceContext) Value(key any) any {
	v := c.Context.Value(key)
	if _, ok := v.(*httptrace.ClientTrace); ok {
		return nil
	}
	return v
}

// send runs the request with retries and returns the final reply, whatever
// its status, or the final transport or context error.
func (c *Client) send(ctx context.Context, r *request) (*http.Response, *attempt, error) {
	if ctx == nil {
		return nil, nil, invalid("ctx", "is nil")
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, &contextError{op: r.op.name, err: err}
	}
	st := &attempt{op: r.op, bearer: r.bearer, secrets: r.secrets}
	ctx = context.WithValue(ctx, attemptKey{}, st)
	if r.op.class != idempotent {
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			GetConn:      func(string) { st.traced.Store(true) },
			WroteHeaders: func() { st.wrote.Store(true) },
		})
	}
	var body any
	if r.body != nil {
		body = r.body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, r.method, r.url.String(), body)
	if err != nil {
		return nil, nil, &opError{op: r.op.name, err: err}
	}
	req.Header = r.header
	if r.op.class == nonIdempotent {
		// net/http re-sends a request through GetBody, which retryablehttp
		// sets: its HTTP/2 transport after a stream reset or GOAWAY that
		// may follow a processed request, and its client on a 307 or 308.
		// A create must never be sent twice by a layer below the SDK: a
		// failure after sending is an unknown outcome, a 307 or 308 is
		// returned as it is.
		req.GetBody = nil
	}
	req.SetResponseHandler(c.responseHandler)
	if err := c.authorize(ctx, req.Request, st); err != nil {
		return nil, st, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, st, c.transportError(ctx, st, err)
	}
	return resp, st, nil
}

// transportError turns a failure without a usable reply into the SDK's
// error: a context error, a token error, or a *TransportError; wrapped in
// an *AmbiguousError when a create may have been applied.
func (c *Client) transportError(ctx context.Context, st *attempt, err error) error {
	var out error
	switch {
	case ctx.Err() != nil:
		out = &contextError{op: st.op.name, err: ctx.Err()}
	case st.authErr != nil:
		out = st.authErr
	default:
		out = newTransportError(st.op.name, err)
	}
	if st.op.class == nonIdempotent && st.unknown {
		return &AmbiguousError{Op: st.op.name, Err: out}
	}
	return out
}

// authorize sets the Platform access token for the next attempt.
func (c *Client) authorize(ctx context.Context, req *http.Request, st *attempt) error {
	if !st.bearer {
		return nil
	}
	if c.tokens == nil {
		return &opError{op: st.op.name, err: fmt.Errorf("%w (needs WithToken or WithTokenSource)", ErrNotConfigured)}
	}
	// The token source may send requests of its own: keep them out of
	// this call's httptrace hooks.
	tok, err := c.tokens.Token(withoutTrace(ctx))
	if err != nil {
		if ctx.Err() != nil {
			return &contextError{op: st.op.name, err: ctx.Err()}
		}
		return &opError{op: st.op.name, what: "getting access token", err: err}
	}
	if tok == nil {
		tok = &Token{}
	}
	if problem := accessTokenProblem(tok.AccessToken); problem != "" {
		// Sent, it would fail in the transport as if the server were down.
		return &opError{op: st.op.name, what: "getting access token", err: invalid("token", "from the token source %s", problem)}
	}
	st.token = tok
	st.secrets = st.secrets.add(tok.AccessToken, "****")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return nil
}

// redactURL drops user info, query and fragment, which may hold secrets.
func redactURL(u *url.URL) string {
	cp := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return cp.String()
}

// bufferBody is the retryablehttp response handler, called for the reply
// that ends the retries. It reads a 2xx body (one byte past the cap, so
// readBody can tell an over-long one) while a reply that breaks off midway
// can still be retried, as the transport failure it is, when the call is
// safe to repeat.
func (c *Client) bufferBody(resp *http.Response) error {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil
	}
	b, err := readPastLimit(resp, c.maxResponseBytes)
	resp.Body.Close()
	bb := &bufferedBody{b: b}
	bb.Reset(b)
	resp.Body = bb
	if err != nil {
		return &bodyReadError{err: err}
	}
	return nil
}

// bodyReadError is a reply body that broke off.
type bodyReadError struct{ err error }

func (e *bodyReadError) Error() string { return "reading reply body: " + e.err.Error() }

func (e *bodyReadError) Unwrap() error { return e.err }

// bufferedBody is a reply body read in full by bufferBody.
type bufferedBody struct {
	bytes.Reader
	b []byte
}

func (*bufferedBody) Close() error { return nil }

// readBody reads at most limit bytes of the reply body and closes it.
func readBody(resp *http.Response, limit int64) ([]byte, bool, error) {
	defer resp.Body.Close()
	if bb, ok := resp.Body.(*bufferedBody); ok {
		if int64(len(bb.b)) > limit {
			return bb.b[:limit], true, nil
		}
		return bb.b, false, nil
	}
	b, err := readPastLimit(resp, limit)
	if int64(len(b)) > limit {
		return b[:limit], true, err
	}
	return b, false, err
}

// maxPrealloc is the most readPastLimit allocates before it has read
// that much.
const maxPrealloc = 1 << 20

// readPastLimit reads up to limit+1 bytes of the reply body, one more than
// the caller keeps, so that it can tell a body that is too long. It reads
// into one buffer sized from Content-Length (bytes.Buffer.ReadFrom would
// reallocate it: it wants 512 free bytes before each read).
func readPastLimit(resp *http.Response, limit int64) ([]byte, error) {
	n := min(limit, math.MaxInt64-1) + 1
	size := int64(512)
	if resp.ContentLength > 0 {
		// +1: room to see EOF without growing. The server's claim sizes
		// at most maxPrealloc up front: it may be huge, or a lie.
		size = min(resp.ContentLength, maxPrealloc) + 1
	}
	b := make([]byte, 0, min(size, n))
	for int64(len(b)) < n {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		m, err := resp.Body.Read(b[len(b):min(int64(cap(b)), n)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

// checkResponse turns a non-2xx Platform reply to req into an *APIError,
// with the credentials the call sent masked. The request is the SDK's own:
// a reply from a caller's RoundTripper may have no Request.
func checkResponse(req *http.Request, resp *http.Response, sec secrets) error {
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	if resp.Request != nil && resp.Request.URL != nil {
		req = resp.Request // the request that got this reply, after redirects
	}
	body, _, _ := readBody(resp, maxErrorBodyBytes)
	body = sec.body(body)
	return &APIError{
		StatusCode: resp.StatusCode,
		Method:     req.Method,
		URL:        redactURL(req.URL),
		Message:    sec.text(errorMessage(body)),
		Body:       body,
		Header:     resp.Header,
	}
}

// errorMessage finds the server's explanation in an error body, best effort.
func errorMessage(body []byte) string {
	var e struct {
		Message          string `json:"message"`
		Error            any    `json:"error"`
		ErrorDescription string `json:"error_description"`
		Payload          struct {
			Message string `json:"message"`
		} `json:"payload"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	msg := e.Message
	if msg == "" {
		msg = e.Payload.Message
	}
	if s, ok := e.Error.(string); ok && msg == "" {
		msg = s
	}
	if e.ErrorDescription != "" {
		if msg != "" {
			msg += ": "
		}
		msg += e.ErrorDescription
	}
	return serverText(msg, maxServerText)
}

// supportedMajorVersion is the payload format this SDK decodes.
const supportedMajorVersion = "1"

// envelope is a Platform reply. Of "meta" only "version" is read (see
// metaVersion); its other members (links, totalRecords, pageSize) are
// informational and ignored, whatever their type.
type envelope[T any] struct {
	Meta    json.RawMessage `json:"meta"`
	Payload T               `json:"payload"`
}

// metaVersion reads meta.version: a string, or a number's literal; ""
// when it is missing, null or of another type.
func metaVersion(meta json.RawMessage) string {
	var m struct {
		Version json.RawMessage `json:"version"`
	}
	if len(meta) == 0 || json.Unmarshal(meta, &m) != nil {
		return ""
	}
	v := bytes.TrimSpace(m.Version)
	if len(v) == 0 {
		return ""
	}
	var s string
	switch {
	case v[0] == '"':
		_ = json.Unmarshal(v, &s)
	case v[0] == '-' || (v[0] >= '0' && v[0] <= '9'):
		s = string(v)
	}
	return s
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

// CaptureResponse returns a context that makes the call it is passed to
// fill in r after its last attempt.
func CaptureResponse(ctx context.Context, r *Response) context.Context {
	return context.WithValue(ctx, responseKey{}, r)
}

func capture(ctx context.Context, resp *http.Response, st *attempt, version string) {
	if ctx == nil {
		return
	}
	r, _ := ctx.Value(responseKey{}).(*Response)
	if r == nil {
		return
	}
	if st != nil {
		r.Attempts = st.attempts
	}
	if resp != nil {
		r.StatusCode, r.Header = resp.StatusCode, resp.Header
	}
	r.Version = version
}

// doPlatform sends a Platform request and decodes the payload of its
// envelope into a T.
func doPlatform[T any](ctx context.Context, c *Client, r *request) (T, error) {
	var zero T
	r.bearer = true
	resp, st, err := c.send(ctx, r)
	if err != nil {
		capture(ctx, nil, st, "")
		return zero, err
	}
	if err := checkResponse(req(r), resp, st.secrets); err != nil {
		capture(ctx, resp, st, "")
		return zero, settle(st, err, false)
	}
	payload, version, err := decodeEnvelope[T](resp, c.maxResponseBytes, st.secrets)
	capture(ctx, resp, st, version)
	if err != nil {
		return zero, settle(st, err, true)
	}
	return payload, nil
}

// req is the method and URL of r, for an error about its reply.
func req(r *request) *http.Request { return &http.Request{Method: r.method, URL: r.url} }

// settle turns the error a call ends with into what the caller gets, by
// the last rules of the retry table. A delete whose earlier attempt had an
// unknown outcome and that now finds the target gone (keyGone: the API's
// own answer) worked: nil. A create is ambiguous when an attempt had an
// unknown outcome, or when its reply was a 2xx that could not be read
// (replied2xx): it was most likely applied, so the caller must reconcile
// rather than create again.
func settle(st *attempt, err error, replied2xx bool) error {
	switch {
	case st.op.class == idempotentDelete && st.unknown && keyGone(err):
		return nil
	case st.op.class == nonIdempotent && (st.unknown || replied2xx):
		return &AmbiguousError{Op: st.op.name, Err: err}
	}
	return &opError{op: st.op.name, err: err}
}

// decodeEnvelope reads a 2xx Platform reply (at most limit bytes) and
// decodes its envelope. It returns the meta.version it could read even
// when it fails; the error is a *DecodeError, or wraps
// ErrUnsupportedVersion. The payload must hold the member the call reads
// (see missing): a list member may be [], never absent or null.
func decodeEnvelope[T any](resp *http.Response, limit int64, sec secrets) (T, string, error) {
	body, tooBig, err := readBody(resp, limit)
	var env envelope[T]
	decoded := false // env holds the whole reply, meta included
	switch {
	case err != nil:
		err = newDecodeError(resp, sec.body(body), fmt.Errorf("reading body: %w", err))
	case tooBig:
		err = newDecodeError(resp, nil, fmt.Errorf("body exceeds %d bytes", limit))
	case len(bytes.TrimSpace(body)) == 0:
		err = newDecodeError(resp, nil, errors.New("empty body"))
	default:
		jerr := json.Unmarshal(body, &env)
		decoded = jerr == nil
		if jerr != nil {
			err = newDecodeError(resp, sec.body(body), jerr)
		} else if p, ok := any(&env.Payload).(interface{ missing() string }); ok && p.missing() != "" {
			err = newDecodeError(resp, nil, fmt.Errorf("%s is missing", p.missing()))
		}
	}
	version := metaVersion(env.Meta)
	if !decoded && len(body) > 0 {
		// Read on its own: a reply in an unknown format is reported as
		// such, even when its payload also failed to decode.
		var m struct {
			Meta json.RawMessage `json:"meta"`
		}
		if json.Unmarshal(body, &m) == nil {
			version = metaVersion(m.Meta)
		}
	}
	if verr := checkVersion(version); verr != nil {
		err = verr
	}
	if err != nil {
		var zero T
		return zero, version, err
	}
	return env.Payload, version, nil
}

// checkVersion fails for a meta.version of an unknown major version.
func checkVersion(version string) error {
	if version == "" {
		return nil
	}
	major, _, _ := strings.Cut(strings.TrimPrefix(version, "v"), ".")
	if major != supportedMajorVersion {
		return fmt.Errorf("%w: meta.version %q (this SDK reads %s.x)", ErrUnsupportedVersion, serverText(version, 32), supportedMajorVersion)
	}
	return nil
}

// isNil reports whether p is nil: lists drop their null elements with it.
func isNil[T any](p *T) bool { return p == nil }

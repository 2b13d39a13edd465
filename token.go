package apikeys

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Token is an OAuth access token for Platform calls. Printing, logging or
// JSON-encoding a Token (or a *Token) never shows AccessToken: read the
// field itself where the value is needed.
type Token struct {
	// AccessToken is the bearer token sent as "Authorization: Bearer ...".
	// It is a secret.
	AccessToken string
	// TokenType is the token's type: "Bearer", in the case the token
	// endpoint wrote it ("Bearer" when its reply left it out).
	TokenType string
	// Scope is the scope the token endpoint granted; empty when its reply
	// did not say.
	Scope string
	// Expiry is when the token stops working; zero means unknown.
	Expiry time.Time
}

// expiryDelta is how long before its Expiry a token stops being Valid: the
// time a request may take to reach the server, and clock skew (as in
// golang.org/x/oauth2).
const expiryDelta = 10 * time.Second

// Valid reports whether t is a token that can be sent now: it is not nil,
// has an access token, and is not within 10 seconds of its Expiry (a zero
// Expiry never expires). It reads the real clock, whatever the clock of
// the source the token came from (TokenConfig.Clock).
func (t *Token) Valid() bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || time.Now().Add(expiryDelta).Before(t.Expiry))
}

// String describes the token without its value.
func (t Token) String() string {
	return "Token{AccessToken: ****, TokenType: " + t.TokenType + ", Scope: " + t.Scope + ", Expiry: " + t.Expiry.Format(time.RFC3339) + "}"
}

// GoString is like String, so %#v does not print the token either.
func (t Token) GoString() string { return "apikeys." + t.String() }

// LogValue logs the token's type, scope and expiry, never its value.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_token", "****"), slog.String("token_type", t.TokenType),
		slog.String("scope", t.Scope), slog.Time("expiry", t.Expiry))
}

// MarshalJSON writes the token's type, scope and expiry, with the access
// token masked, so a Token inside a JSON-logged struct does not leak.
func (t Token) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		AccessToken string    `json:"access_token"`
		TokenType   string    `json:"token_type,omitempty"`
		Scope       string    `json:"scope,omitempty"`
		Expiry      time.Time `json:"expiry,omitzero"`
	}{"****", t.TokenType, t.Scope, t.Expiry})
}

// TokenSource supplies access tokens for Platform calls. The Client asks
// for a token before every attempt, so a source may rotate tokens freely.
// If the source is also a TokenInvalidator, the Client calls Invalidate
// when the server answers 401 to a token, then retries the call once with
// a new token.
type TokenSource interface {
	Token(ctx context.Context) (*Token, error)
}

// TokenSourceFunc adapts a function to a TokenSource, such as one that
// gets tokens from golang.org/x/oauth2 (see the README).
type TokenSourceFunc func(ctx context.Context) (*Token, error)

// Token calls f(ctx).
func (f TokenSourceFunc) Token(ctx context.Context) (*Token, error) { return f(ctx) }

// TokenInvalidator is the optional method of a TokenSource that the Client
// calls when the API answers 401 to a token: Invalidate drops that token
// (if it is still the one the source would hand out), so that the Client's
// one retry gets a new token. AssertionTokenSource has it.
//
// A TokenSource that wraps another (to log, count or rotate, say) must
// have Invalidate too and forward it to the source it wraps: the Client
// finds the method on the outermost source only, and without it a 401
// fails the call instead of refreshing the token.
type TokenInvalidator interface {
	Invalidate(*Token)
}

// staticTokenSource always returns the same token (WithToken).
type staticTokenSource struct {
	token *Token
}

func (s *staticTokenSource) Token(context.Context) (*Token, error) { return s.token, nil }

// String hides the token, so %v of a Client never shows it.
func (s *staticTokenSource) String() string { return "staticTokenSource{****}" }

// GoString hides the token from %#v too.
func (s *staticTokenSource) GoString() string { return s.String() }

// Client assertion and token request constants (RFC 7523, RFC 6749).
const (
	// assertionLifetime is how long a client assertion is valid: the token
	// endpoint refuses exp more than 5 minutes after iat.
	assertionLifetime = 5 * time.Minute
	// defaultTokenLifetime is used when a reply has no expires_in.
	defaultTokenLifetime = 300 * time.Second
	// maxRefreshMargin is how long before expiry a cached token is
	// replaced; tokens living under 300 s are replaced at 90% of their life.
	maxRefreshMargin = 30 * time.Second
	// maxTokenBodyBytes caps a token endpoint reply.
	maxTokenBodyBytes = 64 << 10
	// defaultFetchTimeout bounds one token fetch, retries included.
	defaultFetchTimeout = time.Minute

	clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// opToken is the token request: safe to repeat, with a newly signed
// assertion each time.
var opToken = operation{"token request", idempotent}

// TokenConfig configures NewTokenSource.
type TokenConfig struct {
	// ClientID is the Platform API key's ID: iss and sub of the assertion.
	ClientID string
	// Key signs the assertions. Its KeyID must be the kid of a public key
	// in the API key's JWK Set (or at its jwksURL).
	Key SigningKey
	// Region picks the token endpoint when TokenURL is empty (default US:
	// DefaultTokenURL).
	Region Region
	// TokenURL is the token endpoint, for one that is no region's (a
	// proxy, a test server). It is also the assertion's aud, exactly as
	// given. It must be https; http is accepted for loopback hosts, and
	// for any host with InsecureHTTP. One region's token URL with another
	// Region is refused.
	TokenURL string
	// Scope, when set, is sent as the scope form field.
	Scope string
	// HTTPClient sends token requests (default: a client with its own
	// pooled transport, a clone of http.DefaultTransport). It is copied,
	// never modified. Redirects are not followed: a 3xx reply is a
	// *TokenError.
	HTTPClient *http.Client
	// Clock returns the current time (default time.Now): for iat/exp of
	// assertions and for token expiry.
	Clock func() time.Time
	// InsecureHTTP allows an http TokenURL for non-loopback hosts.
	InsecureHTTP bool
	// Timeout bounds one token fetch, retries and waits included (default
	// 1 minute; negative is refused). A fetch runs detached from its
	// callers (see Token), so it needs a bound of its own. When it passes,
	// the fetch fails with a retryable *TransportError saying the token
	// endpoint timed out; context.DeadlineExceeded is only ever the
	// caller's own deadline.
	Timeout time.Duration
}

// AssertionTokenSource gets access tokens from the token endpoint with
// client assertions (RFC 7523) signed by a SigningKey, and caches them
// until shortly before they expire. It is safe for concurrent use: one
// fetch runs at a time, and every caller that needs a token meanwhile
// waits for that fetch, each until its own context ends. Printing or
// logging it never shows the key or a token.
//
// Make one with NewTokenSource and pass it to WithTokenSource.
type AssertionTokenSource struct {
	s *tokenSource
}

// tokenSource is the state behind an AssertionTokenSource. It sits behind
// a pointer so that even printing an AssertionTokenSource value by its
// fields shows nothing of the key.
type tokenSource struct {
	clientID     string
	tokenURL     *url.URL
	scope        string
	key          atomic.Pointer[assertionKey] // signs the next fetch's assertions
	sender       *sender                      // sends token requests, with the SDK's retry rules
	now          func() time.Time
	fetchTimeout time.Duration
	// realClock says now is time.Now: a timer then drops the cached token
	// at its refresh time, so that Token need not read the clock (on a
	// virtual machine that costs more than the rest of a cached Token).
	realClock bool

	cached   atomic.Pointer[cachedToken] // the token to hand out, nil when none
	mu       sync.Mutex                  // guards inflight, and the timers of cached
	inflight *tokenCall                  // the fetch in progress, nil when none
}

// cachedToken is a token and when it must be replaced.
type cachedToken struct {
	tok       *Token
	refreshAt time.Time
	timer     *time.Timer // drops it at refreshAt (real clock); stopped when it goes sooner
}

// drop stops c's timer: its token was replaced or invalidated.
func (c *cachedToken) drop() {
	if c != nil && c.timer != nil {
		c.timer.Stop()
	}
}

// fresh returns the cached token while it is fresh, else nil.
func (s *tokenSource) fresh() *Token {
	c := s.cached.Load()
	if c == nil || (!s.realClock && !s.now().Before(c.refreshAt)) {
		return nil
	}
	return c.tok
}

// cache makes tok the token to hand out until refreshAt. s.mu is held.
func (s *tokenSource) cache(tok *Token, refreshAt time.Time) {
	c := &cachedToken{tok: tok, refreshAt: refreshAt}
	s.cached.Swap(c).drop()
	if s.realClock { // after the Swap: a timer that fires at once must find c
		c.timer = time.AfterFunc(time.Until(refreshAt), func() { s.cached.CompareAndSwap(c, nil) })
	}
}

// assertionKey is a SigningKey with the go-jose signer built from it once.
type assertionKey struct {
	key    SigningKey
	signer jose.Signer
}

// newAssertionKey checks key as op's field and builds its signer.
func newAssertionKey(op, field string, key SigningKey) (*assertionKey, error) {
	if err := key.validate(op, field); err != nil {
		return nil, err
	}
	signer, err := key.joseSigner()
	if err != nil {
		return nil, invalid(op, field, "%v", err)
	}
	return &assertionKey{key: key, signer: signer}, nil
}

// tokenCall is one fetch shared by every caller that waits for it. tok and
// err are written before done is closed.
type tokenCall struct {
	done chan struct{}
	tok  *Token
	err  error
}

// NewTokenSource checks cfg and returns a token source. Every field is
// checked before any I/O; a bad one is a *ValidationError. Nothing is
// fetched until the first Token call.
//
// For a Client, WithClientAssertion is shorter: it builds the same source
// on the Client's own HTTP client, retry policy and logger.
func NewTokenSource(cfg TokenConfig) (*AssertionTokenSource, error) {
	const op = "NewTokenSource"
	if problem := idProblem(cfg.ClientID); problem != "" {
		return nil, invalid(op, "TokenConfig.ClientID", "%s", problem)
	}
	key, err := newAssertionKey(op, "TokenConfig.Key", cfg.Key)
	if err != nil {
		return nil, err
	}
	if err := cfg.Region.check(op, "TokenConfig.Region"); err != nil {
		return nil, err
	}
	u, err := parseURL(op, "TokenConfig.TokenURL", cmp.Or(cfg.TokenURL, cfg.Region.TokenURL()), cfg.InsecureHTTP, false)
	if err != nil {
		return nil, err
	}
	if err := checkTokenRegion(op, "TokenConfig.TokenURL", u, cfg.Region, "TokenConfig.Region"); err != nil {
		return nil, err
	}
	if hasControl(cfg.Scope) || !utf8.ValidString(cfg.Scope) {
		return nil, invalid(op, "TokenConfig.Scope", "contains control characters or is not valid UTF-8")
	}
	switch {
	case cfg.Timeout < 0:
		return nil, invalid(op, "TokenConfig.Timeout", "is negative")
	case cfg.Timeout == 0:
		cfg.Timeout = defaultFetchTimeout
	}
	sender := newSender(tokenHTTPClient(pooledCopy(cfg.HTTPClient)), DefaultRetryPolicy(), maxTokenBodyBytes, "apikeys-go/"+Version)
	return newTokenSource(cfg.ClientID, key, u, cfg.Scope, cfg.Timeout, sender, cfg.Clock), nil
}

// newTokenSource returns a source that fetches tokens for clientID with
// key from tokenURL through sender, on clock (nil: the real one).
func newTokenSource(clientID string, key *assertionKey, tokenURL *url.URL, scope string, timeout time.Duration, sender *sender, clock func() time.Time) *AssertionTokenSource {
	s := &tokenSource{
		clientID:     clientID,
		tokenURL:     tokenURL,
		scope:        scope,
		sender:       sender,
		now:          clock,
		realClock:    clock == nil,
		fetchTimeout: timeout,
	}
	if s.realClock {
		s.now = time.Now
	}
	sender.now = s.now // Retry-After dates are read on the clock of the assertions
	s.key.Store(key)
	return &AssertionTokenSource{s: s}
}

// tokenHTTPClient sets hc, a copy, to follow no redirect: the token
// endpoint has no business redirecting, and following one could re-post
// the assertion elsewhere. A 3xx reply is then a *TokenError.
func tokenHTTPClient(hc *http.Client) *http.Client {
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return hc
}

// SetKey makes the source sign its next client assertions with key,
// checked as NewTokenSource checks TokenConfig.Key (a *ValidationError
// leaves the source as it was). A fetch already in flight finishes with
// the key it started with. The cached token, got with the old key, stays
// in use until shortly before it expires (at most the token's lifetime, 5
// minutes at the Platform); to drop it now, pass it to Invalidate (Token
// returns it). SetKey is safe to call while any number of callers use
// Token. Rotate uses it; on its own it is the step that switches a live
// source once the new key's public half is published.
func (ts *AssertionTokenSource) SetKey(key SigningKey) error {
	const op = "AssertionTokenSource.SetKey"
	if ts == nil || ts.s == nil {
		return &opError{op: op, err: errors.New("AssertionTokenSource is not initialized: use NewTokenSource")}
	}
	k, err := newAssertionKey(op, "key", key)
	if err != nil {
		return err
	}
	ts.s.key.Store(k)
	return nil
}

// KeyID returns the kid of the key the next client assertion is signed
// with.
func (ts *AssertionTokenSource) KeyID() string {
	if ts == nil || ts.s == nil {
		return ""
	}
	return ts.s.key.Load().key.KeyID
}

// TokenURL returns the token endpoint the source gets tokens from, for
// making a source for another API key of the same region.
func (ts *AssertionTokenSource) TokenURL() string {
	if ts == nil || ts.s == nil {
		return ""
	}
	return ts.s.tokenURL.String()
}

// String describes the source by client ID, token URL and key ID only.
func (ts AssertionTokenSource) String() string {
	if ts.s == nil {
		return "AssertionTokenSource{}"
	}
	return fmt.Sprintf("AssertionTokenSource{ClientID: %q, TokenURL: %q, Key: %s}", ts.s.clientID, ts.s.tokenURL.String(), ts.s.key.Load().key)
}

// GoString is like String, so %#v shows no key or token either.
func (ts AssertionTokenSource) GoString() string { return "apikeys." + ts.String() }

// LogValue logs the client ID, token URL and key ID only.
func (ts AssertionTokenSource) LogValue() slog.Value {
	if ts.s == nil {
		return slog.GroupValue()
	}
	key := ts.s.key.Load().key // once: a SetKey between two loads would mix two keys
	return slog.GroupValue(slog.String("client_id", ts.s.clientID), slog.String("token_url", ts.s.tokenURL.String()),
		slog.String("kid", key.KeyID), slog.String("alg", key.Algorithm))
}

// Token returns the cached access token while it is fresh, or fetches a
// new one. Only one fetch runs at a time; callers that arrive meanwhile
// wait for its result. A caller whose ctx ends stops waiting and gets the
// context's error (errors.Is-able), while the fetch goes on for the
// others and its token is cached: the fetch runs detached from any one
// caller's cancellation (context.WithoutCancel of the caller that started
// it, which keeps that context's values but not an httptrace.ClientTrace),
// bounded by TokenConfig.Timeout (one minute by default, and for the
// source of WithClientAssertion).
//
// The returned Token is shared by every caller until it is replaced (as
// golang.org/x/oauth2's sources share theirs): do not modify it.
//
// Errors are the endpoint's *TokenError, a *DecodeError for a reply that
// is not a token, a *TransportError, or the context's error. A failed
// fetch is not cached: the next call tries again.
func (ts *AssertionTokenSource) Token(ctx context.Context) (*Token, error) {
	if ts == nil || ts.s == nil {
		return nil, &opError{op: opToken.name, err: errors.New("AssertionTokenSource is not initialized: use NewTokenSource")}
	}
	if ctx == nil {
		return nil, invalid(opToken.name, "ctx", "is nil")
	}
	s := ts.s
	if err := ctx.Err(); err != nil {
		return nil, &opError{op: opToken.name, err: err}
	}
	if tok := s.fresh(); tok != nil {
		return tok, nil
	}
	s.mu.Lock()
	if tok := s.fresh(); tok != nil { // a fetch ended meanwhile
		s.mu.Unlock()
		return tok, nil
	}
	call := s.inflight
	if call == nil {
		call = &tokenCall{done: make(chan struct{})}
		s.inflight = call
		go s.run(detach(ctx), call)
	}
	s.mu.Unlock()

	select {
	case <-call.done:
		return call.tok, call.err
	case <-ctx.Done():
		return nil, &opError{op: opToken.name, err: ctx.Err()}
	}
}

// Invalidate drops the cached token if it is still t (same access token),
// so that the next Token call fetches a new one. A stale t, already
// replaced by a newer token, leaves the cache alone. The Client calls it
// when the server answers 401.
func (ts *AssertionTokenSource) Invalidate(t *Token) {
	if ts == nil || ts.s == nil || t == nil {
		return
	}
	s := ts.s
	s.mu.Lock() // c.timer is set under it
	defer s.mu.Unlock()
	if c := s.cached.Load(); c != nil && c.tok.AccessToken == t.AccessToken && s.cached.CompareAndSwap(c, nil) {
		c.drop()
	}
}

// detach returns a context with ctx's values but not its cancellation or
// deadline, nor what belongs to the call that started the fetch (see
// withoutCall), for a fetch shared by many callers.
func detach(ctx context.Context) context.Context {
	return withoutCall(context.WithoutCancel(ctx))
}

// run performs one fetch for call and every caller waiting on it.
func (s *tokenSource) run(ctx context.Context, call *tokenCall) {
	tok, refreshAt, err := s.fetchWithin(ctx)
	s.mu.Lock()
	if err == nil {
		s.cache(tok, refreshAt)
	}
	s.inflight = nil
	call.tok, call.err = tok, err
	s.mu.Unlock()
	close(call.done)
}

// fetchWithin is fetch bounded by the source's Timeout. A fetch the bound
// ended fails with timedOut; one that ctx itself ended, with ctx's error
// (run's ctx is detached, so only the bound ends it; Rotate's is the
// caller's).
func (s *tokenSource) fetchWithin(ctx context.Context) (*Token, time.Time, error) {
	bounded, cancel := context.WithTimeout(ctx, s.fetchTimeout)
	defer cancel()
	tok, refreshAt, err := s.fetch(bounded)
	if err != nil && bounded.Err() != nil && ctx.Err() == nil {
		return nil, time.Time{}, s.timedOut()
	}
	return tok, refreshAt, err
}

// fetch gets a token through the SDK's request path (sender.do), retried
// as any call that is safe to repeat, each attempt with a newly signed
// assertion. It returns the token and when to replace it.
func (s *tokenSource) fetch(ctx context.Context) (*Token, time.Time, error) {
	r := &request{op: opToken, method: http.MethodPost, urlBuf: *s.tokenURL, header: make(http.Header, 4)}
	r.url = &r.urlBuf // the request's own: the transport gets it
	r.header.Set("Accept", "application/json")
	r.header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.header.Set("User-Agent", s.sender.userAgent)
	key := s.key.Load()    // every attempt of this fetch signs with it, whatever SetKey does
	var signedAt time.Time // when the assertion of the latest attempt was signed
	r.sign = func() ([]byte, error) {
		signedAt = s.now()
		assertion, err := s.sign(key, signedAt)
		if err != nil {
			return nil, err
		}
		r.secrets = r.secrets.add(assertion, "****")
		form := url.Values{
			"grant_type":            {"client_credentials"},
			"client_assertion_type": {clientAssertionType},
			"client_assertion":      {assertion},
		}
		if s.scope != "" {
			form.Set("scope", s.scope)
		}
		return []byte(form.Encode()), nil
	}
	var tok *Token
	var lifetime time.Duration
	err := s.sender.do(ctx, r, func(resp *http.Response, c *call) (err error) {
		tok, lifetime, err = readToken(resp, c)
		return err
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	tok.Expiry = signedAt.Add(lifetime)
	margin := min(maxRefreshMargin, lifetime/10)
	return tok, tok.Expiry.Add(-margin), nil
}

// readToken reads a token endpoint reply: a token and its lifetime, a
// *TokenError for a non-2xx reply, a *DecodeError (with no excerpt, not
// even of a page: a token reply holds a secret) for one that is no token.
func readToken(resp *http.Response, c *call) (*Token, time.Duration, error) {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := tokenError(resp.StatusCode, c.errorBody(resp), c.secrets)
		e.Header, e.RequestID = c.secrets.header(resp.Header), requestID(resp.Header, c.api)
		return nil, 0, e
	}
	// No excerpt of a reply that is no token, not even of a page: a token
	// reply holds a secret.
	body, err := c.readSuccess(resp, c.s.maxResponseBytes)
	var de *DecodeError
	if errors.As(err, &de) {
		de.Excerpt = ""
	}
	if err != nil {
		return nil, 0, err
	}
	tok, lifetime, err := decodeToken(body)
	if err != nil {
		return nil, 0, c.decodeError(resp, nil, err)
	}
	return tok, lifetime, nil
}

// timedOut is the error of a fetch that outlasted its Timeout: the token
// endpoint is slow, a retryable failure, not a caller's deadline.
func (s *tokenSource) timedOut() error {
	return &TransportError{Op: opToken.name, Err: &timeoutError{what: "the token endpoint", d: s.fetchTimeout}}
}

// tokenError reads an RFC 6749 error body. Its members are filtered and
// capped, and cleaned of the assertions sent, should the server echo one.
func tokenError(status int, body []byte, sec secrets) *TokenError {
	var e struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		ErrorURI         string `json:"error_uri"`
	}
	_ = json.Unmarshal(body, &e)
	clean := func(s string) string { return serverText(sec.text(s), maxServerText) }
	return &TokenError{Op: opToken.name, StatusCode: status, Code: clean(e.Error), Description: clean(e.ErrorDescription), URI: clean(e.ErrorURI)}
}

// decodeToken reads a token reply. expires_in may be a number or a numeric
// string; absent (or null), the token lives defaultTokenLifetime. Any
// other expires_in that is not a positive number of seconds ("NaN", 0, -1,
// "soon") is an error: the reply is not a usable token.
func decodeToken(body []byte) (*Token, time.Duration, error) {
	var r struct {
		AccessToken string          `json:"access_token"`
		TokenType   string          `json:"token_type"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
		Scope       string          `json:"scope"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, 0, fmt.Errorf("invalid JSON at offset %d", se.Offset)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, 0, fmt.Errorf("member %q has the wrong JSON type", te.Field)
		}
		return nil, 0, errors.New("invalid JSON")
	}
	if problem := accessTokenProblem(r.AccessToken); problem != "" {
		return nil, 0, errors.New("access_token " + problem)
	}
	switch {
	case r.TokenType == "":
		r.TokenType = "Bearer"
	case !strings.EqualFold(r.TokenType, "Bearer"):
		return nil, 0, fmt.Errorf("token_type %q is not Bearer", excerpt([]byte(r.TokenType), 32))
	}
	lifetime := defaultTokenLifetime
	if raw := strings.TrimSpace(string(r.ExpiresIn)); raw != "" && raw != "null" {
		secs, err := strconv.ParseFloat(strings.Trim(raw, `"`), 64)
		if err != nil || !(secs > 0 && secs <= 1e9) { // NaN too
			return nil, 0, errors.New("expires_in is not a positive number of seconds")
		}
		lifetime = time.Duration(secs * float64(time.Second))
	}
	return &Token{AccessToken: r.AccessToken, TokenType: r.TokenType, Scope: r.Scope}, lifetime, nil
}

// sign makes a fresh client assertion, signed with k: header alg, kid and
// typ JWT; claims iss = sub = client ID, aud = the token URL (one string),
// iat = now, exp = now + 5 minutes and a random 128-bit jti.
func (s *tokenSource) sign(k *assertionKey, now time.Time) (string, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", fmt.Errorf("making assertion jti: %w", err)
	}
	claims := jwt.Claims{
		Issuer:   s.clientID,
		Subject:  s.clientID,
		Audience: jwt.Audience{s.tokenURL.String()}, // one member: marshalled as a string
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(now.Add(assertionLifetime)),
		ID:       base64.RawURLEncoding.EncodeToString(id[:]),
	}
	out, err := jwt.Signed(k.signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("signing client assertion: %s", libraryError(err))
	}
	return out, nil
}

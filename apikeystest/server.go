package apikeystest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Route names one operation of the fake, for counting requests and injecting faults.
type Route string

// legacy reports whether r is a route of the legacy API.
func (r Route) legacy() bool { return strings.HasPrefix(string(r), "Legacy") }

// The routes served by [Server].
const (
	RouteListAPIKeys      Route = "ListAPIKeys"      // GET /platform/v1/environments/{environmentId}/apikeys
	RouteCreateAPIKey     Route = "CreateAPIKey"     // POST /platform/v1/environments/{environmentId}/apikeys
	RouteGetAPIKey        Route = "GetAPIKey"        // GET /platform/v1/apikeys/{apikeyId}
	RouteUpdateAPIKey     Route = "UpdateAPIKey"     // PATCH /platform/v1/apikeys/{apikeyId}
	RouteDeleteAPIKey     Route = "DeleteAPIKey"     // DELETE /platform/v1/apikeys/{apikeyId}
	RouteListEnvironments Route = "ListEnvironments" // GET /platform/v1/organizations/{organizationId}/environments
	RouteToken            Route = "Token"            // POST /v2/auth/token
	RouteLegacyList       Route = "LegacyList"       // POST /box/srv/1.1/ide/{domain}/api/list
	RouteLegacyCreate     Route = "LegacyCreate"     // POST /box/srv/1.1/ide/{domain}/api/create
	RouteLegacyRevoke     Route = "LegacyRevoke"     // POST /box/srv/1.1/ide/{domain}/api/revoke
	RouteLegacyDelete     Route = "LegacyDelete"     // POST /box/srv/1.1/ide/{domain}/api/delete
	RouteLegacyUpdate     Route = "LegacyUpdate"     // POST /box/srv/1.1/ide/{domain}/api/update
	RouteLegacyValidate   Route = "LegacyValidate"   // POST /box/srv/1.1/ide/{domain}/api/validate
)

// routeTable maps method and path pattern ("*" is one non-empty, path-unescaped segment) to a route.
var routeTable = []struct {
	method  string
	pattern string
	route   Route
}{
	{http.MethodGet, "/platform/v1/environments/*/apikeys", RouteListAPIKeys},
	{http.MethodPost, "/platform/v1/environments/*/apikeys", RouteCreateAPIKey},
	{http.MethodGet, "/platform/v1/apikeys/*", RouteGetAPIKey},
	{http.MethodPatch, "/platform/v1/apikeys/*", RouteUpdateAPIKey},
	{http.MethodDelete, "/platform/v1/apikeys/*", RouteDeleteAPIKey},
	{http.MethodGet, "/platform/v1/organizations/*/environments", RouteListEnvironments},
	{http.MethodPost, "/v2/auth/token", RouteToken},
	{http.MethodPost, "/box/srv/1.1/ide/*/api/list", RouteLegacyList},
	{http.MethodPost, "/box/srv/1.1/ide/*/api/create", RouteLegacyCreate},
	{http.MethodPost, "/box/srv/1.1/ide/*/api/revoke", RouteLegacyRevoke},
	{http.MethodPost, "/box/srv/1.1/ide/*/api/delete", RouteLegacyDelete},
	{http.MethodPost, "/box/srv/1.1/ide/*/api/update", RouteLegacyUpdate},
	{http.MethodPost, "/box/srv/1.1/ide/*/api/validate", RouteLegacyValidate},
}

// maxBody is the largest request body accepted (the Platform API's documented limit).
const maxBody = 10 << 20

// maxLoggedBody caps the body kept in one [Request] log entry.
const maxLoggedBody = 64 << 10

// Request is one entry of the request log, with every secret masked by what the request holds,
// whatever route it matched or failed to match:
//
//   - the credentials of an Authorization header read "****", after its scheme ("Bearer ****")
//     when the value is a scheme of letters, whitespace and credentials; X-FH-AUTH-USER, Cookie
//     and Proxy-Authorization read "****";
//   - in a JSON body, at any depth and with member names in any letter case, private JWK members
//     (d, p, q, dp, dq, qi, oth, k, priv), client_assertion, client_secret, assertion,
//     access_token, refresh_token and password read "****", and so do "secret" strings, while
//     legacy "key" and "apiKey" strings are shortened to their first and last four characters
//     (such a body is written back with its members sorted);
//   - in a form, those credential fields read "****", the rest kept as sent;
//   - in any other body, runs of 32 or more hex digits and JWS- or JWE-shaped tokens read
//     "****", and a body that does not parse but names one of those members is replaced by a
//     placeholder.
//
// A body with nothing to mask is kept as sent.
type Request struct {
	Route  Route // "" when no route matched
	Method string
	Path   string // escaped path as sent
	Header http.Header
	Body   string // masked, capped at 64 KiB
	// Reason says why the fake refused or cut the request ("" when it was served normally): the
	// error message of a Platform or legacy refusal, "injected fault", "injected fault: dropped",
	// "injected fault: dropped after apply", "cancelled during latency", or for the token
	// endpoint one of the reasons listed in the package documentation (the real endpoint sends a
	// blank error_description for several rules; Reason tells them apart).
	Reason string
}

// Option configures a [Server].
type Option func(*config)

type config struct {
	now          func() time.Time
	legacyDomain string
	legacyAdmin  bool
	jwksClient   *http.Client
}

// WithClock sets the clock used for access-token expiry, assertion iat/exp checks and legacy
// revocation timestamps. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithLegacyDomain sets the legacy tenant domain (the {domain} path segment). Default "acme".
func WithLegacyDomain(d string) Option {
	return func(c *config) { c.legacyDomain = d }
}

// WithLegacyAdmin makes legacy replies include each key's "secret", as the real server does for
// callers in the admin group. Default false.
func WithLegacyAdmin(admin bool) Option {
	return func(c *config) { c.legacyAdmin = admin }
}

// WithJWKSClient sets the HTTP client used to fetch a key's jwksURL, http or https (for example
// an httptest TLS server's Client, which trusts its certificate). Only loopback hosts are fetched
// in any case. The default client allows plain http, verifies https certificates against the
// system roots (so an httptest TLS server's fetch fails without this option), follows no
// redirects and times out after 5 s.
func WithJWKSClient(hc *http.Client) Option {
	return func(c *config) { c.jwksClient = hc }
}

// Server is a running fake. Its exported fields are fixed at start; all methods are safe for
// concurrent use.
type Server struct {
	URL           string // base URL, e.g. http://127.0.0.1:PORT; the legacy host
	PlatformURL   string // URL + "/platform", the Platform API base URL
	TokenURL      string // URL + "/v2/auth/token", also the required assertion "aud"
	BearerToken   string // a static bearer token always accepted by Platform routes
	LegacyDomain  string // legacy tenant domain
	LegacyUserKey string // 40-hex user API key of the seeded legacy user (X-FH-AUTH-USER)
	SessionCookie string // value of a "feedhenry" cookie that also authenticates legacy calls

	ts        *httptest.Server
	now       func() time.Time
	admin     bool
	jwks      *http.Client
	ownJWKS   *http.Transport // the default JWKS client's transport, closed by Close
	conns     atomic.Int64
	closeOnce sync.Once
	closing   chan struct{} // closed by Close after closeGrace, ending any latency still running

	mu      sync.Mutex
	envs    []Environment
	keys    []*APIKey    // Platform keys, in creation order
	legacy  []*LegacyKey // legacy keys, in creation order
	tokens  map[string]time.Time
	jtis    map[string]bool
	log     []Request
	counts  map[Route]int
	faults  map[Route][]*fault
	latency map[Route]time.Duration
	waiters []waiter
	// clientTransports are the transports of clients made by NewClient; Close closes their
	// idle connections.
	clientTransports []*http.Transport
}

type waiter struct {
	route Route
	n     int
	ch    chan struct{}
}

// NewServer starts a fake on a loopback port. The caller must call [Server.Close].
func NewServer(opts ...Option) *Server {
	cfg := config{now: time.Now, legacyDomain: "acme"}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{
		BearerToken:   randomHex(32),
		LegacyDomain:  cfg.legacyDomain,
		LegacyUserKey: randomHex(20),
		SessionCookie: randomHex(24),
		now:           cfg.now,
		admin:         cfg.legacyAdmin,
		jwks:          cfg.jwksClient,
		tokens:        map[string]time.Time{},
		jtis:          map[string]bool{},
		counts:        map[Route]int{},
		faults:        map[Route][]*fault{},
		latency:       map[Route]time.Duration{},
		closing:       make(chan struct{}),
	}
	if s.jwks == nil {
		s.ownJWKS = &http.Transport{
			DialContext:       (&net.Dialer{Timeout: jwksTimeout}).DialContext,
			DisableKeepAlives: true,
		}
		s.jwks = &http.Client{
			Transport:     s.ownJWKS,
			Timeout:       jwksTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	for _, e := range []struct{ name, flag string }{
		{"Acme Production", "Production"},
		{"Acme Staging", "Staging"},
		{"Acme Development", "Development"},
	} {
		s.envs = append(s.envs, Environment{ID: newUUID(), Name: e.name, Flag: e.flag, OrganizationID: organizationID})
	}
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.ts.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.ts.Start()
	s.URL = s.ts.URL
	s.PlatformURL = s.URL + "/platform"
	s.TokenURL = s.URL + "/v2/auth/token"
	return s
}

// closeGrace is how long Close lets requests held by SetLatency end on their own.
const closeGrace = 5 * time.Second

// Close shuts the fake down. Like httptest.Server.Close it waits for requests in flight. A request
// held by [Server.SetLatency] ends as soon as its client gives up; one whose client still waits
// after 5 s is answered 503 so Close never hangs on a long latency. It also closes the idle
// connections of the clients made by [Server.NewClient] and [Server.Client].
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		grace := time.AfterFunc(closeGrace, func() { close(s.closing) })
		s.ts.Close()
		if grace.Stop() {
			close(s.closing)
		}
		if s.ownJWKS != nil {
			s.ownJWKS.CloseIdleConnections()
		}
		s.mu.Lock()
		trs := s.clientTransports
		s.mu.Unlock()
		for _, tr := range trs {
			tr.CloseIdleConnections()
		}
	})
}

// Requests returns a copy of the request log, oldest first, with secrets masked.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.log))
	for i, r := range s.log {
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// Count reports how many requests of route the fake has seen, faulted ones included.
func (s *Server) Count(r Route) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[r]
}

// Await returns a channel that is closed once n requests of route have been seen (as counted by
// [Server.Count]), so a test can act while a request is in flight without sleeping.
func (s *Server) Await(r Route, n int) <-chan struct{} {
	ch := make(chan struct{})
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counts[r] >= n {
		close(ch)
		return ch
	}
	s.waiters = append(s.waiters, waiter{route: r, n: n, ch: ch})
	return ch
}

// Connections reports how many TCP connections the fake has accepted.
func (s *Server) Connections() int { return int(s.conns.Load()) }

// IssuedTokens reports how many access tokens the token endpoint has issued.
func (s *Server) IssuedTokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens) // tokens are never removed
}

type faultKind int

const (
	faultStatus faultKind = iota
	faultBody
	faultDrop
	faultDropAfterApply
)

type fault struct {
	kind        faultKind
	left        int
	status      int
	retryAfter  string
	contentType string
	body        []byte
}

func (s *Server) addFault(r Route, f *fault) {
	if f.left <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[r] = append(s.faults[r], f)
}

// FailNext makes the next n requests of route fail with status (and a Retry-After header when
// retryAfter is not empty) and a small JSON body, without applying them. Faults queue in order.
func (s *Server) FailNext(r Route, n int, status int, retryAfter string) {
	s.addFault(r, &fault{kind: faultStatus, left: n, status: status, retryAfter: retryAfter})
}

// FailNextBody makes the next n requests of route get a canned reply (for example an HTML page
// with status 200, or truncated JSON), without applying them.
func (s *Server) FailNextBody(r Route, n int, status int, contentType string, body []byte) {
	s.addFault(r, &fault{kind: faultBody, left: n, status: status, contentType: contentType, body: slices.Clone(body)})
}

// DropNext makes the next n requests of route be read in full and then cut: the connection is
// closed without a response and the request is not applied.
func (s *Server) DropNext(r Route, n int) {
	s.addFault(r, &fault{kind: faultDrop, left: n})
}

// DropNextAfterApply makes the next n requests of route be applied (state changes) and then cut
// without a response, as when a connection resets after the server did the work.
func (s *Server) DropNextAfterApply(r Route, n int) {
	s.addFault(r, &fault{kind: faultDropAfterApply, left: n})
}

// SetLatency delays every later request of route by d before it is handled (0 removes the
// delay). The wait ends early when the request's context ends.
func (s *Server) SetLatency(r Route, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency[r] = d
}

// call is one request being served.
type call struct {
	w      http.ResponseWriter
	r      *http.Request
	route  Route
	params []string // unescaped "*" segments of the route pattern
	body   []byte
	s      *Server
	logIdx int
}

// refuse records why the request was refused in its log entry.
func (c *call) refuse(reason string) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.s.log[c.logIdx].Reason = reason
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	route, params, known := matchRoute(r.Method, r.URL.EscapedPath())
	if strings.HasPrefix(r.URL.Path, "/box/") {
		w.Header().Set("X-FH-REQUEST-ID", randomHex(12))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return // the client went away
	}
	c := &call{w: w, r: r, route: route, params: params, body: body, s: s}
	f, delay := s.record(c)

	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			c.refuse("cancelled during latency")
			return
		case <-s.closing:
			t.Stop()
			c.refuse("server closed during latency")
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": "server closing"})
			return
		}
	}
	if f != nil {
		switch f.kind {
		case faultDrop:
			c.refuse("injected fault: dropped")
			hijackAndClose(w)
			return
		case faultDropAfterApply:
			c.w = httptest.NewRecorder() // the reply is discarded
			defer func() {
				c.refuse("injected fault: dropped after apply")
				hijackAndClose(w)
			}()
		default:
			c.refuse("injected fault")
			writeFault(w, route, f)
			return
		}
	}

	switch {
	case route == "" && known:
		c.refuse("method not allowed")
		w.Header().Set("Allow", allowed(r.URL.EscapedPath()))
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"message": "method not allowed"})
	case route == "" && strings.HasPrefix(r.URL.Path, "/box/"):
		c.refuse("no such route")
		writeJSON(w, http.StatusNotFound, legacyError("unknown operation"))
	case route == "":
		c.refuse("no such route")
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "not found"})
	case len(body) > maxBody:
		c.refuse("body too large")
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"message": "request body too large"})
	case route == RouteToken:
		s.token(c)
	case route.legacy():
		s.legacyOp(c)
	default:
		s.platform(c)
	}
}

// record logs and counts the request, and takes the route's next fault and latency.
func (s *Server) record(c *call) (*fault, time.Duration) {
	entry := Request{
		Route:  c.route,
		Method: c.r.Method,
		Path:   c.r.URL.EscapedPath(),
		Header: maskHeader(c.r.Header),
		Body:   maskBody(c.r.Header, c.body),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c.logIdx = len(s.log)
	s.log = append(s.log, entry)
	if c.route == "" {
		return nil, 0
	}
	s.counts[c.route]++
	s.waiters = slices.DeleteFunc(s.waiters, func(w waiter) bool {
		if w.route == c.route && s.counts[w.route] >= w.n {
			close(w.ch)
			return true
		}
		return false
	})
	var f *fault
	if q := s.faults[c.route]; len(q) > 0 {
		head := *q[0]
		f = &head
		if q[0].left--; q[0].left == 0 {
			s.faults[c.route] = q[1:]
		}
	}
	return f, s.latency[c.route]
}

func writeFault(w http.ResponseWriter, route Route, f *fault) {
	if f.kind == faultBody {
		if f.contentType != "" {
			w.Header().Set("Content-Type", f.contentType)
		}
		w.WriteHeader(f.status)
		_, _ = w.Write(f.body)
		return
	}
	if f.retryAfter != "" {
		w.Header().Set("Retry-After", f.retryAfter)
	}
	msg := fmt.Sprintf("injected fault: status %d", f.status)
	switch {
	case route == RouteToken:
		writeJSON(w, f.status, tokenErrorBody("server_error", msg))
	case route.legacy():
		writeJSON(w, f.status, legacyError(msg))
	default:
		writeJSON(w, f.status, map[string]string{"message": msg})
	}
}

func hijackAndClose(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// matchRoute finds the route of a request. known is true when the path matches a route for some
// other method.
func matchRoute(method, escapedPath string) (route Route, params []string, known bool) {
	for _, rt := range routeTable {
		p, ok := matchPattern(rt.pattern, escapedPath)
		if !ok {
			continue
		}
		if rt.method == method {
			return rt.route, p, true
		}
		known = true
	}
	return "", nil, known
}

func matchPattern(pattern, escapedPath string) ([]string, bool) {
	want := strings.Split(pattern, "/")
	got := strings.Split(escapedPath, "/")
	if len(want) != len(got) {
		return nil, false
	}
	var params []string
	for i, w := range want {
		if w != "*" {
			if got[i] != w {
				return nil, false
			}
			continue
		}
		seg, err := url.PathUnescape(got[i])
		if err != nil || seg == "" {
			return nil, false
		}
		params = append(params, seg)
	}
	return params, true
}

func allowed(escapedPath string) string {
	var methods []string
	for _, rt := range routeTable {
		if _, ok := matchPattern(rt.pattern, escapedPath); ok {
			methods = append(methods, rt.method)
		}
	}
	return strings.Join(methods, ", ")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only fixed, marshalable types are written
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// hasContentType reports whether the request declares a body of media type want.
func hasContentType(r *http.Request, want string) bool {
	mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(mt), want)
}

// --- random values ---

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

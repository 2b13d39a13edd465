package apikeystest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Request is one entry of the request log. Secrets are masked by one rule, applied to every
// request whatever route it matched or failed to match, so a request the fake refuses for its
// path, method or content type logs no more than one it serves:
//
//   - Headers, by name: Authorization keeps its scheme ("Bearer ****") when it is a scheme of
//     ASCII letters, whitespace and credentials, and reads "****" otherwise (what looks like a
//     scheme may be the credentials); X-FH-AUTH-USER, Cookie and Proxy-Authorization read "****".
//   - JSON members and form fields, by name, at any depth and in any letter case as
//     encoding/json matches names (strings.EqualFold: KELVIN SIGN "\u212a" is "k"), escapes
//     decoded: the value of a private JWK member (d, p, q, dp, dq, qi, oth, k, priv),
//     client_assertion, client_secret, assertion, access_token, refresh_token, password or
//     secret reads "****" whatever it holds, and a "key" or "apiKey" string (a legacy key) shows
//     only its first and last four characters, "0123…cdef" ("****" for fewer than 16 characters;
//     another key value is looked into). A JSON member is a string literal followed by a colon,
//     so JSON that does not parse is masked as well; any body that does not open with "{" or "["
//     is also read as a URL-encoded form, and a multipart/form-data body part by part; whatever
//     content type the request declares.
//   - The fake's own secrets, by value: [Server.BearerToken], [Server.LegacyUserKey],
//     [Server.SessionCookie], every access token it issued and every legacy key value and
//     secret it created read "****" wherever they appear, in the path, any header or a body of
//     any content type, parsable or not, JSON-escaped or percent-encoded.
//
// Everything else is kept as sent, member order and spacing included. In particular a token
// that is not the fake's own, such as a client assertion sent as text/plain or inside some
// other text rather than in a form field or a JSON member, is not masked.
type Request struct {
	Route  Route       `json:"route"`  // "" when no route matched
	Method string      `json:"method"` // as sent
	Path   string      `json:"path"`   // escaped path as sent, the fake's own secrets masked
	Header http.Header `json:"header"` // masked as described above
	Body   string      `json:"body"`   // masked, the first 64 KiB
	// Reason says why the fake refused or cut the request ("" when it was served normally): the
	// error message of a Platform or legacy refusal ("missing bearer token", "unknown bearer
	// token" or "expired bearer token" for a Platform route's 401, whose message is only
	// "Unauthorized"), "injected fault", "injected fault: dropped",
	// "injected fault: dropped after apply", "cancelled during latency", "server closed during
	// latency", "no such route", "method not allowed", "body too large", or for the token
	// endpoint one of the reasons listed in the package documentation (the real endpoint sends a
	// blank error_description for several rules; Reason tells them apart).
	Reason string `json:"reason"`
	Proto  string `json:"proto"` // the protocol the request came in: "HTTP/1.1", or "HTTP/2.0" with WithTLS
}

// Option configures a [Server].
type Option func(*config)

type config struct {
	now          func() time.Time
	legacyDomain string
	legacyAdmin  bool
	jwksClient   *http.Client
	jwksTTL      time.Duration
	tls          bool
	tlsCert      *tls.Certificate
	listener     net.Listener
	publicURL    string
	adminAPI     bool
}

// DefaultJWKSCache is how long the fake keeps a key's fetched jwksURL set by default.
const DefaultJWKSCache = time.Second

// WithJWKSCache sets how long the fake keeps the JWK Set it fetched from a key's jwksURL before
// fetching it again (default [DefaultJWKSCache]; 0 fetches it for every token request), on the
// fake's clock ([WithClock]). The Platform caches a hosted set too, for a time it does not
// document: until the cached copy expires, a token request signed with a kid added to the hosted
// set since is refused ("unknown kid"), so hosted key rotation in tests meets the delay it meets
// in production (see apikeys.Rotate).
func WithJWKSCache(ttl time.Duration) Option {
	return func(c *config) {
		if ttl >= 0 {
			c.jwksTTL = ttl
		}
	}
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

// WithTLS serves the fake over HTTPS with HTTP/2 (and HTTP/1.1 for clients that only offer
// that), with the certificate of net/http/httptest; [Server.URL], [Server.PlatformURL] and
// [Server.TokenURL] are then https URLs. The clients made by [Server.Client], [Server.NewClient]
// and [Server.HTTPClient] trust the certificate and speak HTTP/2; [Server.Certificate] returns
// it for a client of one's own. Without this option the fake serves plain HTTP/1.1.
func WithTLS() Option {
	return func(c *config) { c.tls = true }
}

// WithTLSCertificate is [WithTLS] with cert instead of the certificate of net/http/httptest (whose
// private key is public, and which names only 127.0.0.1, ::1 and example.com): for a fake that
// other programs reach by a host name of their own, such as the standalone server
// (cmd/apikeys-fake), which generates a self-signed certificate at start. [Server.Certificate]
// returns cert's leaf, the first certificate of its chain.
func WithTLSCertificate(cert tls.Certificate) Option {
	return func(c *config) {
		c.tls = true
		c.tlsCert = &cert
	}
}

// WithListener makes the fake serve on l (for example a listener on a fixed port, or on all
// interfaces) instead of on a new loopback port. The fake takes l over: [Server.Close] and
// [Server.Shutdown] close it. [Server.URL] is built from l's address, with an unspecified IP
// (0.0.0.0 or ::) read as 127.0.0.1; see [WithPublicURL] for a fake reached by another name.
func WithListener(l net.Listener) Option {
	return func(c *config) { c.listener = l }
}

// WithPublicURL sets the base URL clients reach the fake at, when it is not the listener's
// address: a host name in docker-compose, or a port a proxy or container runtime maps to the
// listener. [Server.URL], [Server.PlatformURL], [Server.TokenURL] (and so the aud a client
// assertion must carry) are built from it; the fake still listens where it would without
// it. The URL is "http://host[:port]" ("https://..." with [WithTLS] or [WithTLSCertificate]),
// with no path, query, fragment or userinfo; [NewServer] panics on any other. The clients made by
// [Server.NewClient], [Server.Client] and [Server.HTTPClient] use it, so they need it to reach
// the fake.
func WithPublicURL(u string) Option {
	return func(c *config) { c.publicURL = u }
}

// Server is a running fake. Its exported fields are fixed at start; all methods are safe for
// concurrent use.
type Server struct {
	URL           string // base URL, e.g. http://127.0.0.1:PORT (https with WithTLS); the legacy host
	PlatformURL   string // URL + "/platform", the Platform API base URL
	TokenURL      string // URL + "/v2/auth/token", also the required assertion "aud"
	BearerToken   string // a static bearer token always accepted by Platform routes
	LegacyDomain  string // legacy tenant domain
	LegacyUserKey string // 40-hex user API key of the seeded legacy user (X-FH-AUTH-USER)
	SessionCookie string // value of a "feedhenry" cookie that also authenticates legacy calls
	AdminURL      string // URL + "/_fake", the admin API's base URL, with WithAdminAPI; else ""

	ts       *httptest.Server
	mux      *http.ServeMux
	routes   []Route   // every route the mux serves, in the order of the Route constants
	secrets  secretSet // masked in the request log by value
	now      func() time.Time
	admin    bool
	jwks     *http.Client
	jwksTTL  time.Duration   // how long jwksCache keeps a fetched jwksURL set
	ownJWKS  *http.Transport // the default JWKS client's transport, closed by Close
	conns    atomic.Int64
	stopOnce sync.Once
	stopping chan struct{} // closed when Close or Shutdown is first called
	stopped  chan struct{} // closed once the httptest.Server has stopped and idle clients are closed
	endOnce  sync.Once
	closing  chan struct{} // closed by endLatency, ending any latency still running

	mu   sync.Mutex
	envs []Environment
	keys []*APIKey // Platform keys, in creation order
	// management holds the IDs of the keys NewManagementKey stored, which Reset keeps.
	management map[string]bool
	legacy     []*LegacyKey         // legacy keys, in creation order
	users      []LegacyUser         // legacy users, the seeded one first
	tokens     map[string]time.Time // access token -> expiry
	issued     []IssuedToken
	jtis       map[string]bool
	jwksCache  map[string]cachedSet // fetched jwksURL sets, by URL
	log        []*Request
	counts     map[Route]int
	faults     map[Route][]*fault
	latency    map[Route]time.Duration
	waiters    []waiter
	// clientTransports are the transports of clients made by NewClient, Client and HTTPClient;
	// Close closes their idle connections.
	clientTransports []*http.Transport
}

type waiter struct {
	route Route
	n     int
	ch    chan struct{}
}

// NewServer starts a fake on a loopback port ([WithListener] for another). The caller must call
// [Server.Close] or [Server.Shutdown].
func NewServer(opts ...Option) *Server {
	cfg := config{now: time.Now, legacyDomain: "acme", jwksTTL: DefaultJWKSCache}
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
		management:    map[string]bool{},
		tokens:        map[string]time.Time{},
		jtis:          map[string]bool{},
		jwksTTL:       cfg.jwksTTL,
		jwksCache:     map[string]cachedSet{},
		counts:        map[Route]int{},
		faults:        map[Route][]*fault{},
		latency:       map[Route]time.Duration{},
		closing:       make(chan struct{}),
		stopping:      make(chan struct{}),
		stopped:       make(chan struct{}),
	}
	s.secrets.add(s.BearerToken, s.LegacyUserKey, s.SessionCookie)
	s.users = []LegacyUser{{ID: LegacyUserID, Email: LegacyUserEmail, Key: s.LegacyUserKey}}
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
	s.mux = s.newMux()
	handler := http.HandlerFunc(s.middleware)
	if cfg.listener != nil {
		s.ts = &httptest.Server{Listener: cfg.listener, Config: &http.Server{Handler: handler}}
	} else {
		s.ts = httptest.NewUnstartedServer(handler)
	}
	s.ts.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	if cfg.tlsCert != nil {
		s.ts.TLS = &tls.Config{Certificates: []tls.Certificate{*cfg.tlsCert}}
	}
	// The URLs are set before the server starts: a request already waiting on a WithListener
	// listener is served as soon as it does, and reads them (Info, the token's aud).
	s.URL = listenerURL(s.ts.Listener, cfg.tls)
	if cfg.publicURL != "" {
		u, err := checkPublicURL(cfg.publicURL, cfg.tls)
		if err != nil {
			s.ts.Close()
			panic("apikeystest: WithPublicURL: " + err.Error())
		}
		s.URL = u
	}
	s.PlatformURL = s.URL + "/platform"
	s.TokenURL = s.URL + "/v2/auth/token"
	if cfg.adminAPI {
		s.AdminURL = s.URL + adminRoot
	}
	if cfg.tls {
		s.ts.EnableHTTP2 = true
		s.ts.StartTLS()
	} else {
		s.ts.Start()
	}
	return s
}

// listenerURL is the URL the httptest.Server will have on l, with an unspecified IP read as
// 127.0.0.1.
func listenerURL(l net.Listener, tls bool) string {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	addr := l.Addr().String()
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
	}
	return scheme + "://" + addr
}

// CheckPublicURL returns why [WithPublicURL] refuses u (and [NewServer] would panic), or nil,
// for a program that takes the URL from its user, such as cmd/apikeys-fake; tls says whether
// the fake serves HTTPS ([WithTLS], [WithTLSCertificate]).
func CheckPublicURL(u string, tls bool) error {
	_, err := checkPublicURL(u, tls)
	return err
}

// checkPublicURL checks a WithPublicURL value and returns it without a trailing "/".
func checkPublicURL(raw string, tls bool) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	want := "http"
	if tls {
		want = "https"
	}
	switch {
	case u.Scheme != want:
		return "", fmt.Errorf("%q: the scheme must be %s", raw, want)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("%q has no host", raw)
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || (u.Path != "" && u.Path != "/"):
		return "", fmt.Errorf("%q: only a scheme, host and port are allowed", raw)
	}
	return u.Scheme + "://" + u.Host, nil
}

// closeGrace is how long Close lets requests held by SetLatency end on their own.
const closeGrace = 5 * time.Second

// cutGrace is how long Shutdown, once its context ended, lets requests write the 503 that ends
// their latency before it closes the connections still open.
const cutGrace = 500 * time.Millisecond

// Close shuts the fake down. Like httptest.Server.Close it waits for requests in flight. A request
// held by [Server.SetLatency] ends as soon as its client gives up; one whose client still waits
// after 5 s is answered 503 so Close never hangs on a long latency. It also closes the idle
// connections of the clients made by [Server.NewClient], [Server.Client] and
// [Server.HTTPClient]. Close and [Server.Shutdown] may both be called, and more than once: the
// first call stops the fake, a later one waits until it has stopped.
func (s *Server) Close() {
	s.stop()
	grace := time.NewTimer(closeGrace)
	defer grace.Stop()
	select {
	case <-s.stopped:
	case <-grace.C:
		s.endLatency()
		<-s.stopped
	}
}

// Shutdown stops the fake gracefully, as http.Server.Shutdown does: it stops accepting
// connections, closes idle ones and waits for the requests in flight, each of which is answered
// in full, until ctx ends. A request held by [Server.SetLatency] waits out its latency meanwhile;
// an admin await (GET /_fake/await, [WithAdminAPI]) is answered 503 at once, here and in Close.
// If ctx ends first, the requests still held by a latency are answered 503 ("server closed
// during latency") at once, the connections still open half a second later are closed, and
// Shutdown returns ctx.Err() once every connection has ended; otherwise it returns nil. Like
// [Server.Close] it closes the idle connections of the clients the fake made, and it may be
// called with or after Close.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stop()
	select {
	case <-s.stopped:
		return nil
	case <-ctx.Done():
	}
	s.endLatency()
	cut := time.NewTimer(cutGrace)
	defer cut.Stop()
	select {
	case <-s.stopped:
	case <-cut.C:
		s.ts.CloseClientConnections()
		<-s.stopped
	}
	return ctx.Err()
}

// stop starts stopping the fake, once: s.stopping is closed (ending the admin awaits, which
// would otherwise hold the stop until their own timeout), the httptest.Server closes its
// listener and idle connections and waits for the others, then the idle connections of the JWKS
// client and of the clients made for the fake are closed and s.stopped is closed.
func (s *Server) stop() {
	s.stopOnce.Do(func() {
		close(s.stopping)
		go func() {
			s.ts.Close()
			s.endLatency() // nothing waits on it any more; closes the channel for good
			if s.ownJWKS != nil {
				s.ownJWKS.CloseIdleConnections()
			}
			s.mu.Lock()
			trs := s.clientTransports
			s.mu.Unlock()
			for _, tr := range trs {
				tr.CloseIdleConnections()
			}
			close(s.stopped)
		}()
	})
}

// endLatency ends every latency still running (the requests are answered 503), and any later one
// at once.
func (s *Server) endLatency() { s.endOnce.Do(func() { close(s.closing) }) }

// Reset brings the fake back to its state at start, so that one fake can serve many tests (or a
// standalone fake many runs) without their state mixing. It forgets every Platform key except
// the management keys ([Server.NewManagementKey], [Server.NewClient], [Server.Client]) that
// still exist, every legacy key and every legacy user but the seeded one, the access tokens
// issued (and the jti values used), the jwksURL sets cached, the request log, the counts, and
// every fault and latency ([Server.ClearFaults]). It keeps the seeded environments, organization
// and credentials (BearerToken, LegacyUserKey, SessionCookie), the URLs and options, and the
// fake's record of secrets to mask. A client made before a Reset keeps working: its access
// token is refused with 401 and it fetches a new one with its management key. Requests in flight
// during a Reset finish against the new state and are not in the new log; channels from
// [Server.Await] not yet closed wait for the counts since the Reset.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = slices.DeleteFunc(s.keys, func(k *APIKey) bool { return !s.management[k.ID] })
	s.legacy = nil
	s.users = s.users[:1]
	clear(s.tokens)
	s.issued = nil
	clear(s.jtis)
	clear(s.jwksCache)
	s.log = nil
	clear(s.counts)
	clear(s.faults)
	clear(s.latency)
}

// Requests returns a copy of the request log, oldest first, with secrets masked.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.log))
	for i, e := range s.log {
		r := *e
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
	ch, _ := s.await(r, n)
	return ch
}

// await is Await, with a function that forgets the waiter for a caller that stops waiting
// first: record rescans every waiter left at each request.
func (s *Server) await(r Route, n int) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counts[r] >= n {
		close(ch)
		return ch, func() {}
	}
	s.waiters = append(s.waiters, waiter{route: r, n: n, ch: ch})
	forget := func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.waiters = slices.DeleteFunc(s.waiters, func(w waiter) bool { return w.ch == ch })
	}
	return ch, forget
}

// logEntry is the request log entry of a call, with its secrets masked.
func (s *Server) logEntry(c *call) Request {
	return Request{
		Route:  c.route,
		Method: c.r.Method,
		Path:   s.secrets.replace(c.r.URL.EscapedPath()),
		Header: s.secrets.maskHeader(c.r.Header),
		Body:   s.secrets.maskBody(c.r.Header, c.body),
		Proto:  c.r.Proto,
	}
}

// Connections reports how many TCP connections the fake has accepted.
func (s *Server) Connections() int { return int(s.conns.Load()) }

// IssuedTokens reports how many access tokens the token endpoint has issued.
func (s *Server) IssuedTokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.issued)
}

// IssuedToken describes an access token the token endpoint issued (never the token itself).
type IssuedToken struct {
	ClientID  string    `json:"clientId"`  // the API key (iss of the client assertion)
	KeyID     string    `json:"keyId"`     // the kid of the key that signed the client assertion
	IssuedAt  time.Time `json:"issuedAt"`  // on the fake's clock
	ExpiresAt time.Time `json:"expiresAt"` // IssuedAt + 300 s
}

// Tokens returns the access tokens the token endpoint issued, oldest first, each with the kid of
// the key that signed its client assertion: a test sees a key rotation as the kid changing.
func (s *Server) Tokens() []IssuedToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]IssuedToken{}, s.issued...) // [] in the admin API's JSON, never null
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

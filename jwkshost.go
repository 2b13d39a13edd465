package apikeys

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultJWKSMaxAge is how long JWKSHandler lets clients cache the set it
// serves (Cache-Control max-age).
const DefaultJWKSMaxAge = 5 * time.Minute

// JWKSHost is an http.Handler serving a JWK Set that can be replaced at
// any time, for hosting an API key's jwksURL: the Platform fetches the set
// there to verify client assertions. Every set it serves passed Validate,
// so it never publishes a private key.
//
// It answers GET and HEAD with application/jwk-set+json, a strong ETag
// and "Cache-Control: public, max-age=<maxAge>"; a request whose
// If-None-Match names the current ETag gets 304 Not Modified; other
// methods get 405. It is safe for concurrent use: a request gets the whole
// set before or after a change, never a mix. It is also a KeyPublisher,
// for Rotate: the Platform caches a hosted set, for up to maxAge or
// longer, so a key added here is accepted only once that cache expires.
//
// Make one with NewJWKSHost. The zero JWKSHost serves no set: ServeHTTP
// answers 503 Service Unavailable, JWKSet returns an empty set, and Set,
// PublicKeys, AddPublicKeys and RemovePublicKeys return a
// *ValidationError.
type JWKSHost struct {
	maxAge string // the Cache-Control value
	mu     sync.Mutex
	cur    atomic.Pointer[hostedSet]
}

// hostedSet is a set as JWKSHost serves it, encoded once.
type hostedSet struct {
	set  *JWKSet
	body []byte
	etag string
}

// NewJWKSHost returns a host serving set, which must pass Validate (the
// error is Validate's *JWKSetError otherwise), and letting clients cache
// it for maxAge (0 or more; the Cache-Control header counts whole seconds).
func NewJWKSHost(set *JWKSet, maxAge time.Duration) (*JWKSHost, error) {
	if maxAge < 0 {
		return nil, invalid("NewJWKSHost", "maxAge", "is negative")
	}
	h := &JWKSHost{maxAge: "public, max-age=" + strconv.FormatInt(int64(maxAge/time.Second), 10)}
	if err := h.Set(set); err != nil {
		return nil, err
	}
	return h, nil
}

// JWKSHandler returns a handler that serves set for hosting a key's
// jwksURL, as a JWKSHost whose set never changes, with a max-age of
// DefaultJWKSMaxAge. The set must pass Validate (the error is Validate's
// *JWKSetError otherwise); later changes to it are not served. To rotate
// keys without a new handler, use a JWKSHost.
func JWKSHandler(set *JWKSet) (http.Handler, error) {
	return NewJWKSHost(set, DefaultJWKSMaxAge)
}

// Set replaces the set the host serves. The set must pass Validate: the
// error is Validate's *JWKSetError, and the host keeps serving the set it
// had. The host keeps a copy: later changes to set are not served.
func (h *JWKSHost) Set(set *JWKSet) error {
	if h.maxAge == "" { // only NewJWKSHost sets it, and never changes it
		return errZeroHost("JWKSHost.Set")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.set(set)
}

// errZeroHost is the error of op on a JWKSHost not made by NewJWKSHost.
func errZeroHost(op string) error {
	return invalid(op, "JWKSHost", "serves no set: make it with NewJWKSHost")
}

// current returns what the host serves, or, for a zero JWKSHost, an
// error of op.
func (h *JWKSHost) current(op string) (*hostedSet, error) {
	if cur := h.cur.Load(); cur != nil {
		return cur, nil
	}
	return nil, errZeroHost(op)
}

// set replaces the set; h.mu must be held.
func (h *JWKSHost) set(set *JWKSet) error {
	if set == nil {
		return invalid("JWKSHost.Set", "set", "is nil")
	}
	if err := set.Validate(); err != nil {
		return err
	}
	set = NewJWKSet(set.Keys...)
	body, err := json.Marshal(set)
	if err != nil {
		return &opError{op: "JWKSHost.Set", what: "encoding JWK set", err: err}
	}
	sum := sha256.Sum256(body)
	h.cur.Store(&hostedSet{set: set, body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`})
	return nil
}

// JWKSet returns a copy of the set the host serves (an empty set for a
// zero JWKSHost).
func (h *JWKSHost) JWKSet() *JWKSet {
	if cur := h.cur.Load(); cur != nil {
		return NewJWKSet(cur.set.Keys...)
	}
	return NewJWKSet()
}

// PublicKeys returns a copy of the set the host serves (KeyPublisher).
func (h *JWKSHost) PublicKeys(context.Context) (*JWKSet, error) {
	cur, err := h.current("JWKSHost.PublicKeys")
	if err != nil {
		return nil, err
	}
	return NewJWKSet(cur.set.Keys...), nil
}

// AddPublicKeys serves keys next to the keys the host serves
// (KeyPublisher). It is idempotent: a key already served with the same kid
// and key material is left as it is (see JWKSet.With).
func (h *JWKSHost) AddPublicKeys(_ context.Context, keys ...JWK) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	cur, err := h.current("JWKSHost.AddPublicKeys")
	if err != nil {
		return err
	}
	set, err := cur.set.With(keys...)
	if err != nil {
		return err
	}
	return h.set(set)
}

// RemovePublicKeys stops serving the keys with the given kids
// (KeyPublisher). A kid the host does not serve is ignored; removing the
// last key fails with ErrLastPublicKey.
func (h *JWKSHost) RemovePublicKeys(_ context.Context, kids ...string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	hosted, err := h.current("JWKSHost.RemovePublicKeys")
	if err != nil {
		return err
	}
	cur := hosted.set
	set := cur.Without(kids...)
	if len(set.Keys) == 0 && len(cur.Keys) > 0 {
		return &opError{op: "JWKSHost.RemovePublicKeys", err: &sentinelError{ErrLastPublicKey,
			"refusing to stop serving the last public key (kids " + strings.Join(kids, ", ") + ")"}}
	}
	return h.set(set)
}

// ServeHTTP serves the current set (see JWKSHost).
func (h *JWKSHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	cur := h.cur.Load()
	if cur == nil {
		http.Error(w, "no JWK set to serve", http.StatusServiceUnavailable)
		return
	}
	hdr := w.Header()
	hdr.Set("ETag", cur.etag)
	hdr.Set("Cache-Control", h.maxAge)
	if etagMatches(r.Header.Get("If-None-Match"), cur.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Type", "application/jwk-set+json")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Length", strconv.Itoa(len(cur.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(cur.body)
	}
}

// etagMatches reports whether an If-None-Match header names etag: "*", or
// a list of entity tags, compared weakly (RFC 9110 section 13.1.2).
func etagMatches(ifNoneMatch, etag string) bool {
	for tag := range strings.SplitSeq(ifNoneMatch, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}

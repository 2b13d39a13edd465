package apikeystest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"time"
)

// maxBody is the largest request body accepted (the Platform API's documented limit).
const maxBody = 10 << 20

// The middleware is the one place every request goes through, whatever route it matches or
// fails to match: it reads the body, logs and counts the request, applies the route's latency
// and fault, answers the requests no route serves, and hands the others to the mux. The one
// exception is the admin API (WithAdminAPI), which it hands over first: admin requests are not
// API traffic.

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
// closed without a response (on HTTP/2 the stream is reset) and the request is not applied.
func (s *Server) DropNext(r Route, n int) {
	s.addFault(r, &fault{kind: faultDrop, left: n})
}

// DropNextAfterApply makes the next n requests of route be applied (state changes) and then cut
// without a response, as when a connection resets after the server did the work (on HTTP/2 the
// stream is reset).
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

// ClearFaults drops every fault still queued, on every route, and every latency set with
// [Server.SetLatency], so that a test can run many cases against one server.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
	clear(s.latency)
}

// middleware is the handler of the fake's http.Server, in front of the mux.
func (s *Server) middleware(w http.ResponseWriter, r *http.Request) {
	if s.AdminURL != "" && isAdminPath(r.URL.Path) { // AdminURL is set with WithAdminAPI only
		s.serveAdmin(w, r) // not API traffic: not logged, counted or faulted
		return
	}
	route, allow := s.match(r)
	if strings.HasPrefix(r.URL.Path, "/box/") {
		w.Header().Set("X-FH-REQUEST-ID", randomHex(12))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return // the client went away
	}
	c := &call{w: w, r: r, route: route, allow: allow, body: body, s: s}
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
			drop(w)
		case faultDropAfterApply:
			s.serve(c, httptest.NewRecorder(), r) // the reply is discarded
			c.refuse("injected fault: dropped after apply")
			drop(w)
		default:
			c.refuse("injected fault")
			writeFault(w, route, f)
		}
		return
	}
	s.serve(c, w, r)
}

// serve answers a request that got no fault: the route's handler, or a refusal.
func (s *Server) serve(c *call, w http.ResponseWriter, r *http.Request) {
	switch {
	case c.route == "" && len(c.allow) > 0:
		c.refuse("method not allowed")
		w.Header().Set("Allow", strings.Join(c.allow, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"message": "method not allowed"})
	case c.route == "" && strings.HasPrefix(r.URL.Path, "/box/"):
		c.refuse("no such route")
		writeJSON(w, http.StatusNotFound, legacyError("unknown operation"))
	case c.route == "":
		c.refuse("no such route")
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "not found"})
	case len(c.body) > maxBody:
		c.refuse("body too large")
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"message": "request body too large"})
	default:
		s.mux.ServeHTTP(w, withCall(r, c))
	}
}

// record logs and counts the request, and takes the route's next fault and latency.
func (s *Server) record(c *call) (*fault, time.Duration) {
	entry := s.logEntry(c)
	s.mu.Lock()
	defer s.mu.Unlock()
	c.entry = &entry
	s.log = append(s.log, c.entry)
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

// drop cuts the request without a response. On HTTP/1 the connection is hijacked and closed.
// HTTP/2 has no hijacking; panicking with http.ErrAbortHandler makes the server reset the
// stream (RST_STREAM INTERNAL_ERROR) without logging the panic, and the connection stays open.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

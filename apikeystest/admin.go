package apikeystest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The admin API: the Go API's faults, inspection and seeding over HTTP, for tests in other
// languages and for the standalone server (cmd/apikeys-fake). Every handler calls the exported
// method that does the same from Go, so there is one implementation of each.

// adminRoot is the path prefix of the admin API.
const adminRoot = "/_fake"

// Limits of the admin API.
const (
	defaultAwait = 10 * time.Second
	maxAwait     = 5 * time.Minute
)

// WithAdminAPI serves the admin API under /_fake/ ([Server.AdminURL]): the faults, inspection,
// seeding and reset of the Go API over HTTP, JSON in and out, for tests written in other
// languages and for the standalone server, cmd/apikeys-fake. Without this option the fake
// serves no admin route (a request under /_fake/ is an unknown path like any other).
//
// Admin requests need no credentials: serve the admin API only where every client may drive
// the fake. They are not API traffic: they are not logged in [Server.Requests], not counted,
// and get no fault. Each route calls the Go method named:
//
//	GET    /_fake/                index of the admin routes
//	GET    /_fake/info            URLs, IDs and credentials (the Server's fields)
//	POST   /_fake/faults          FailNext, FailNextBody, DropNext, DropNextAfterApply, SetLatency
//	DELETE /_fake/faults          ClearFaults
//	GET    /_fake/requests        Requests
//	GET    /_fake/counts          Count, for every route
//	GET    /_fake/await           Await (?route=R&count=N&timeout=10s)
//	POST   /_fake/reset           Reset
//	GET    /_fake/environments    Environments
//	GET    /_fake/apikeys         APIKeys
//	POST   /_fake/apikeys         AddAPIKey
//	GET    /_fake/tokens          Tokens
//	GET    /_fake/legacy/users    LegacyUsers
//	POST   /_fake/legacy/users    AddLegacyUser
//	GET    /_fake/legacy/keys     LegacyKeys
//	POST   /_fake/legacy/keys     AddLegacyKey
//
// A fault is {"route": "CreateAPIKey", "kind": K, ...} with kind "status" (count, status,
// retryAfter), "body" (count, status, contentType, body), "drop" or "dropAfterApply" (count), or
// "latency" (latency, a Go duration such as "250ms"; "0s" removes it); count defaults to 1. Bad
// input is answered 400, an unknown admin path 404 and a wrong method 405 (with Allow), each
// with {"error": "..."}. The repository's README shows every route with curl.
func WithAdminAPI() Option {
	return func(c *config) { c.adminAPI = true }
}

// isAdminPath reports whether a request path is under the admin prefix.
func isAdminPath(p string) bool {
	return p == adminRoot || strings.HasPrefix(p, adminRoot+"/")
}

type adminRoute struct {
	method, path string
	serve        func(w http.ResponseWriter, r *http.Request, body []byte)
}

func (s *Server) adminRoutes() []adminRoute {
	return []adminRoute{
		{http.MethodGet, "/", s.adminIndex},
		{http.MethodGet, "/info", s.adminInfo},
		{http.MethodPost, "/faults", s.adminAddFault},
		{http.MethodDelete, "/faults", s.adminClearFaults},
		{http.MethodGet, "/requests", s.adminRequests},
		{http.MethodGet, "/counts", s.adminCounts},
		{http.MethodGet, "/await", s.adminAwait},
		{http.MethodPost, "/reset", s.adminReset},
		{http.MethodGet, "/environments", s.adminEnvironments},
		{http.MethodGet, "/apikeys", s.adminAPIKeys},
		{http.MethodPost, "/apikeys", s.adminAddAPIKey},
		{http.MethodGet, "/tokens", s.adminTokens},
		{http.MethodGet, "/legacy/users", s.adminLegacyUsers},
		{http.MethodPost, "/legacy/users", s.adminAddLegacyUser},
		{http.MethodGet, "/legacy/keys", s.adminLegacyKeys},
		{http.MethodPost, "/legacy/keys", s.adminAddLegacyKey},
	}
}

// serveAdmin answers a request under the admin prefix.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, adminRoot)
	var allow []string
	for _, rt := range s.adminRoutes() {
		if rt.path != path {
			continue
		}
		if rt.method != r.Method {
			allow = append(allow, rt.method)
			continue
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			return // the client went away
		}
		if len(body) > maxBody {
			adminError(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		rt.serve(w, r, body)
		return
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		adminError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path))
		return
	}
	adminError(w, http.StatusNotFound, fmt.Sprintf("no admin route %s (GET %s/ lists them)", r.URL.Path, adminRoot))
}

func adminError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// decodeAdmin decodes a JSON object body into v, refusing unknown members and trailing data.
func decodeAdmin(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return errors.New("the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("invalid JSON body: data after the object")
	}
	return nil
}

// knownRoute reports whether r is one of the fake's routes.
func (s *Server) knownRoute(r Route) bool { return slices.Contains(s.routes, r) }

func (s *Server) adminIndex(w http.ResponseWriter, _ *http.Request, _ []byte) {
	var routes []string
	for _, rt := range s.adminRoutes() {
		routes = append(routes, rt.method+" "+adminRoot+rt.path)
	}
	writeJSON(w, http.StatusOK, map[string]any{"routes": routes})
}

// Info is what a client in any language needs to call the fake, as GET /_fake/info returns it
// and cmd/apikeys-fake prints it (with more members) at start.
type Info struct {
	BaseURL        string            `json:"baseURL"`        // Server.URL
	PlatformURL    string            `json:"platformURL"`    // the Platform API base URL
	TokenURL       string            `json:"tokenURL"`       // the token endpoint
	LegacyURL      string            `json:"legacyURL"`      // the legacy host (Server.URL)
	LegacyDomain   string            `json:"legacyDomain"`   // the legacy tenant domain
	AdminURL       string            `json:"adminURL"`       // the admin API, "" without WithAdminAPI
	OrganizationID int               `json:"organizationId"` // the seeded organization
	Environments   map[string]string `json:"environments"`   // environment IDs by flag
	BearerToken    string            `json:"bearerToken"`    // always accepted by Platform routes
	LegacyUserKey  string            `json:"legacyUserKey"`  // the seeded legacy user's key
	SessionCookie  string            `json:"sessionCookie"`  // the "feedhenry" cookie's value
}

// Info returns what a client needs to call the fake.
func (s *Server) Info() Info {
	envs := map[string]string{}
	for _, e := range s.Environments() {
		envs[e.Flag] = e.ID
	}
	return Info{
		BaseURL: s.URL, PlatformURL: s.PlatformURL, TokenURL: s.TokenURL,
		LegacyURL: s.URL, LegacyDomain: s.LegacyDomain, AdminURL: s.AdminURL,
		OrganizationID: s.OrganizationID(), Environments: envs,
		BearerToken: s.BearerToken, LegacyUserKey: s.LegacyUserKey, SessionCookie: s.SessionCookie,
	}
}

func (s *Server) adminInfo(w http.ResponseWriter, _ *http.Request, _ []byte) {
	writeJSON(w, http.StatusOK, s.Info())
}

// adminFaultJSON is a fault to inject. Count is a pointer so that an absent count (1) differs
// from 0 (refused).
type adminFaultJSON struct {
	Route       Route   `json:"route"`
	Kind        string  `json:"kind"`
	Count       *int    `json:"count,omitempty"`
	Status      int     `json:"status,omitempty"`
	RetryAfter  string  `json:"retryAfter,omitempty"`
	ContentType string  `json:"contentType,omitempty"`
	Body        *string `json:"body,omitempty"`
	Latency     string  `json:"latency,omitempty"`
}

// The fault kinds of the admin API.
const (
	kindStatus         = "status"
	kindBody           = "body"
	kindDrop           = "drop"
	kindDropAfterApply = "dropAfterApply"
	kindLatency        = "latency"
)

func (s *Server) adminAddFault(w http.ResponseWriter, _ *http.Request, body []byte) {
	var f adminFaultJSON
	if err := decodeAdmin(body, &f); err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	latency, err := s.checkFault(&f)
	if err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	switch f.Kind {
	case kindStatus:
		s.FailNext(f.Route, *f.Count, f.Status, f.RetryAfter)
	case kindBody:
		if f.Body == nil {
			f.Body = new(string)
		}
		s.FailNextBody(f.Route, *f.Count, f.Status, f.ContentType, []byte(*f.Body))
	case kindDrop:
		s.DropNext(f.Route, *f.Count)
	case kindDropAfterApply:
		s.DropNextAfterApply(f.Route, *f.Count)
	case kindLatency:
		s.SetLatency(f.Route, latency)
		f.Latency = latency.String()
	}
	writeJSON(w, http.StatusCreated, map[string]any{"fault": f})
}

// checkFault validates a fault, fills in its default count and returns its latency.
func (s *Server) checkFault(f *adminFaultJSON) (time.Duration, error) {
	switch {
	case f.Route == "":
		return 0, errors.New("route is required")
	case !s.knownRoute(f.Route):
		return 0, fmt.Errorf("unknown route %q (one of %s)", f.Route, s.routeList())
	}
	// The members each kind takes besides route and kind.
	takes := map[string][]string{
		kindStatus:         {"count", "status", "retryAfter"},
		kindBody:           {"count", "status", "contentType", "body"},
		kindDrop:           {"count"},
		kindDropAfterApply: {"count"},
		kindLatency:        {"latency"},
	}
	allowed, ok := takes[f.Kind]
	switch {
	case f.Kind == "":
		return 0, errors.New("kind is required: status, body, drop, dropAfterApply or latency")
	case !ok:
		return 0, fmt.Errorf("unknown kind %q: status, body, drop, dropAfterApply or latency", f.Kind)
	}
	for _, m := range []struct {
		name string
		set  bool
	}{
		{"count", f.Count != nil}, {"status", f.Status != 0}, {"retryAfter", f.RetryAfter != ""},
		{"contentType", f.ContentType != ""}, {"body", f.Body != nil}, {"latency", f.Latency != ""},
	} {
		if m.set && !slices.Contains(allowed, m.name) {
			return 0, fmt.Errorf("%s does not apply to a %s fault", m.name, f.Kind)
		}
	}
	if slices.Contains(allowed, "count") {
		if f.Count == nil {
			f.Count = new(int)
			*f.Count = 1
		}
		if *f.Count < 1 {
			return 0, errors.New("count must be at least 1")
		}
	}
	if slices.Contains(allowed, "status") && (f.Status < 200 || f.Status > 599) {
		return 0, errors.New("status is required, from 200 to 599")
	}
	for name, v := range map[string]string{"retryAfter": f.RetryAfter, "contentType": f.ContentType} {
		if strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return 0, fmt.Errorf("%s must not hold control characters", name)
		}
	}
	if f.Kind != kindLatency {
		return 0, nil
	}
	if f.Latency == "" {
		return 0, errors.New(`latency is required: a duration such as "250ms" ("0s" removes it)`)
	}
	d, err := time.ParseDuration(f.Latency)
	if err != nil || d < 0 {
		return 0, fmt.Errorf(`latency %q is not a duration of 0 or more, such as "250ms"`, f.Latency)
	}
	return d, nil
}

// routeList names the fake's routes, for error messages.
func (s *Server) routeList() string {
	names := make([]string, len(s.routes))
	for i, r := range s.routes {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

func (s *Server) adminClearFaults(w http.ResponseWriter, _ *http.Request, _ []byte) {
	s.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) adminReset(w http.ResponseWriter, _ *http.Request, _ []byte) {
	s.Reset()
	w.WriteHeader(http.StatusNoContent)
}

// The list handlers write the public types (Request, Environment, APIKey,
// IssuedToken, LegacyUser) as they are: their JSON tags are the admin API's.

func (s *Server) adminRequests(w http.ResponseWriter, _ *http.Request, _ []byte) {
	writeJSON(w, http.StatusOK, map[string]any{"requests": s.Requests()})
}

func (s *Server) adminCounts(w http.ResponseWriter, _ *http.Request, _ []byte) {
	counts := map[Route]int{}
	for _, r := range s.routes {
		counts[r] = s.Count(r)
	}
	writeJSON(w, http.StatusOK, map[string]any{"counts": counts})
}

// adminAwait waits, as Await does, until route has been seen count times, or timeout passes
// (408), or the fake starts stopping (503).
func (s *Server) adminAwait(w http.ResponseWriter, r *http.Request, _ []byte) {
	q := r.URL.Query()
	for name := range q {
		if name != "route" && name != "count" && name != "timeout" {
			adminError(w, http.StatusBadRequest, fmt.Sprintf("unknown parameter %q: route, count and timeout are", name))
			return
		}
	}
	route := Route(q.Get("route"))
	if !s.knownRoute(route) {
		adminError(w, http.StatusBadRequest, fmt.Sprintf("route %q is not one of %s", route, s.routeList()))
		return
	}
	n := 1
	if v := q.Get("count"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			adminError(w, http.StatusBadRequest, "count must be a whole number of at least 1")
			return
		}
	}
	timeout := defaultAwait
	if v := q.Get("timeout"); v != "" {
		var err error
		if timeout, err = time.ParseDuration(v); err != nil || timeout <= 0 || timeout > maxAwait {
			adminError(w, http.StatusBadRequest, fmt.Sprintf("timeout must be a duration over 0 and at most %s", maxAwait))
			return
		}
	}
	reached, forget := s.await(route, n)
	defer forget()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-reached:
		writeJSON(w, http.StatusOK, map[string]any{"route": route, "count": s.Count(route)})
	case <-t.C:
		adminError(w, http.StatusRequestTimeout, fmt.Sprintf("%s seen %d times, not %d, after %s", route, s.Count(route), n, timeout))
	case <-s.stopping: // an idle wait must not hold Close or Shutdown
		adminError(w, http.StatusServiceUnavailable, "server shutting down")
	case <-r.Context().Done():
	}
}

func (s *Server) adminEnvironments(w http.ResponseWriter, _ *http.Request, _ []byte) {
	writeJSON(w, http.StatusOK, map[string]any{"environments": s.Environments()})
}

func (s *Server) adminAPIKeys(w http.ResponseWriter, _ *http.Request, _ []byte) {
	writeJSON(w, http.StatusOK, map[string]any{"apikeys": s.APIKeys()})
}

func (s *Server) adminAddAPIKey(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		EnvironmentID   string          `json:"environmentId"`
		EnvironmentFlag string          `json:"environmentFlag"`
		Name            string          `json:"name"`
		JWKSURL         string          `json:"jwksURL"`
		JWKSet          json.RawMessage `json:"jwkSet"`
	}
	if err := decodeAdmin(body, &in); err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	env := in.EnvironmentID
	switch {
	case env != "" && in.EnvironmentFlag != "":
		adminError(w, http.StatusBadRequest, "give environmentId or environmentFlag, not both")
		return
	case in.EnvironmentFlag != "":
		if env = s.EnvironmentID(in.EnvironmentFlag); env == "" {
			adminError(w, http.StatusBadRequest, fmt.Sprintf("no environment with flag %q (Production, Staging or Development)", in.EnvironmentFlag))
			return
		}
	case env == "":
		adminError(w, http.StatusBadRequest, "environmentId or environmentFlag is required")
		return
	}
	k, err := s.AddAPIKey(env, in.Name, in.JWKSet, in.JWKSURL)
	if err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"apikey": k})
}

func (s *Server) adminTokens(w http.ResponseWriter, _ *http.Request, _ []byte) {
	writeJSON(w, http.StatusOK, map[string]any{"tokens": s.Tokens()})
}

func (s *Server) adminLegacyUsers(w http.ResponseWriter, _ *http.Request, _ []byte) {
	writeJSON(w, http.StatusOK, map[string]any{"legacyUsers": s.LegacyUsers()})
}

func (s *Server) adminAddLegacyUser(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in LegacyUser
	if err := decodeAdmin(body, &in); err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	u, err := s.AddLegacyUser(in)
	if err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"legacyUser": u})
}

func (s *Server) adminLegacyKeys(w http.ResponseWriter, _ *http.Request, _ []byte) {
	keys := s.LegacyKeys()
	out := make([]legacyKeyJSON, len(keys))
	for i, k := range keys {
		out[i] = legacyWire(k, true) // a stored key always has a secret: omitempty never drops it
	}
	writeJSON(w, http.StatusOK, map[string]any{"legacyKeys": out})
}

func (s *Server) adminAddLegacyKey(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in legacyKeyJSON // the legacy wire form, as the admin API lists keys
	if err := decodeAdmin(body, &in); err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	k := LegacyKey{Label: in.Label, KeyType: in.KeyType, Key: in.Key, KeyReference: in.KeyReference, Secret: in.Secret}
	if in.RevokedBy != nil {
		k.RevokedBy = *in.RevokedBy
	}
	if in.RevokedEmail != nil {
		k.RevokedEmail = *in.RevokedEmail
	}
	if in.Revoked != nil {
		t := time.UnixMilli(*in.Revoked)
		k.Revoked = &t
	}
	stored, err := s.AddLegacyKey(k)
	if err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"legacyKey": legacyWire(stored, true)})
}

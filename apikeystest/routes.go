package apikeystest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
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

// routeMethods are the methods the routes use, in the order an Allow header lists them.
var routeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete}

// newMux registers every route's handler under its ServeMux pattern. A wildcard matches one
// path segment, escapes and all ("a%2Fb" too), and r.PathValue returns it unescaped.
func (s *Server) newMux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range []struct {
		route   Route
		pattern string
		serve   func(*call)
	}{
		{RouteListAPIKeys, "GET /platform/v1/environments/{environmentId}/apikeys", s.platform(s.listKeys)},
		{RouteCreateAPIKey, "POST /platform/v1/environments/{environmentId}/apikeys", s.platform(s.createKey)},
		{RouteGetAPIKey, "GET /platform/v1/apikeys/{apikeyId}", s.platform(s.getKey)},
		{RouteUpdateAPIKey, "PATCH /platform/v1/apikeys/{apikeyId}", s.platform(s.updateKey)},
		{RouteDeleteAPIKey, "DELETE /platform/v1/apikeys/{apikeyId}", s.platform(s.deleteKey)},
		{RouteListEnvironments, "GET /platform/v1/organizations/{organizationId}/environments", s.platform(s.listEnvironments)},
		{RouteToken, "POST /v2/auth/token", s.token},
		{RouteLegacyList, "POST /box/srv/1.1/ide/{domain}/api/list", s.legacyOp(s.legacyList)},
		{RouteLegacyCreate, "POST /box/srv/1.1/ide/{domain}/api/create", s.legacyOp(s.legacyCreate)},
		{RouteLegacyRevoke, "POST /box/srv/1.1/ide/{domain}/api/revoke", s.legacyOp(s.legacyChange)},
		{RouteLegacyDelete, "POST /box/srv/1.1/ide/{domain}/api/delete", s.legacyOp(s.legacyChange)},
		{RouteLegacyUpdate, "POST /box/srv/1.1/ide/{domain}/api/update", s.legacyOp(s.legacyChange)},
		{RouteLegacyValidate, "POST /box/srv/1.1/ide/{domain}/api/validate", s.legacyOp(s.legacyValidate)},
	} {
		mux.Handle(rt.pattern, routeHandler{rt.route, rt.serve})
		s.routes = append(s.routes, rt.route)
	}
	return mux
}

// routeHandler serves one route. The middleware finds the route of a request by the
// routeHandler the mux picks for it, and hands the handler the request's call in its context.
type routeHandler struct {
	route Route
	serve func(*call)
}

func (h routeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := r.Context().Value(callKey{}).(*call)
	c.w, c.r = w, r // r now carries the path values
	h.serve(c)
}

// match returns the route of a request, or "" with the methods the path is served for (none
// for an unknown path). Only the methods a route names are served: ServeMux would let a GET
// route serve HEAD too, and it redirects a path with "." or ".." segments or doubled slashes to
// its clean form; both are refused, as the real API does not document them.
func (s *Server) match(r *http.Request) (Route, []string) {
	if r.Method != http.MethodHead {
		if h, ok := s.routeFor(r, r.Method); ok {
			return h.route, nil
		}
	}
	var allow []string
	for _, m := range routeMethods {
		if _, ok := s.routeFor(r, m); ok {
			allow = append(allow, m)
		}
	}
	return "", allow
}

// routeFor returns the handler the mux picks for r sent with method, if it is a route's.
func (s *Server) routeFor(r *http.Request, method string) (routeHandler, bool) {
	probe := *r // a shallow copy: only the method differs
	probe.Method = method
	h, _ := s.mux.Handler(&probe)
	rh, ok := h.(routeHandler)
	return rh, ok
}

// callKey is the context key of a request's *call.
type callKey struct{}

// call is one request being served.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	route Route
	allow []string // for a request no route serves, the methods its path is served for
	body  []byte
	s     *Server
	entry *Request   // its request log entry (no longer in the log after a Reset)
	user  LegacyUser // the legacy caller, once a legacy operation authenticated it
}

// withCall returns r with c in its context, for the route's handler.
func withCall(r *http.Request, c *call) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), callKey{}, c))
}

// refuse records why the request was refused in its log entry.
func (c *call) refuse(reason string) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.entry.Reason = reason
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

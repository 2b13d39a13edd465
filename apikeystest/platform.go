package apikeystest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/apikeys-go/apikeys/internal/jwkmember"
)

// organizationID is the id of the seeded organization.
const organizationID = 1

// APIKey is a stored Platform OAuth API key. ID is its OAuth client ID.
type APIKey struct {
	ID              string          `json:"id"`                // a UUID, the OAuth client ID
	Name            string          `json:"name"`              // not unique
	EnvironmentID   string          `json:"environmentId"`     // the environment it belongs to
	EnvironmentFlag string          `json:"environmentFlag"`   // that environment's flag
	JWKSURL         string          `json:"jwksURL,omitempty"` // "" when unset
	JWKSet          json.RawMessage `json:"jwkSet,omitempty"`  // {"keys":[...]}, nil when unset
}

// Environment is a seeded Platform environment.
type Environment struct {
	ID             string `json:"id"`              // UUID
	Name           string `json:"name"`            // "Acme Production", ...
	Flag           string `json:"environmentFlag"` // Production, Staging or Development
	OrganizationID int    `json:"organizationId"`  // always the seeded organization's
}

// OrganizationID returns the id of the seeded organization (1).
func (s *Server) OrganizationID() int { return organizationID }

// Environments returns the seeded environments: Production, Staging and Development.
func (s *Server) Environments() []Environment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.envs)
}

// EnvironmentID returns the id of the seeded environment with the given flag ("Production",
// "Staging" or "Development"), or "" if there is none.
func (s *Server) EnvironmentID(flag string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.envs {
		if e.Flag == flag {
			return e.ID
		}
	}
	return ""
}

// AddAPIKey stores a Platform key directly (no HTTP), with the same checks as the create call,
// and returns it with its new ID (the OAuth client ID). jwkSet is nil, empty or JSON null, and
// jwksURL "", when unset.
func (s *Server) AddAPIKey(environmentID, name string, jwkSet []byte, jwksURL string) (APIKey, error) {
	if strings.TrimSpace(name) == "" {
		return APIKey{}, errors.New("name is required")
	}
	k := APIKey{Name: name}
	if jwksURL != "" {
		if err := checkJWKSURL(jwksURL); err != nil {
			return APIKey{}, err
		}
		k.JWKSURL = jwksURL
	}
	// null is unset, as in a create call's body (the admin API passes its body's member on).
	if len(jwkSet) > 0 && !bytes.Equal(bytes.TrimSpace(jwkSet), []byte("null")) {
		set, err := checkJWKSet(jwkSet)
		if err != nil {
			return APIKey{}, err
		}
		k.JWKSet = set
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	env, ok := s.environment(environmentID)
	if !ok {
		return APIKey{}, fmt.Errorf("environment %q not found", environmentID)
	}
	return s.storeKey(k, env), nil
}

// APIKeys returns copies of the stored Platform keys, in creation order.
func (s *Server) APIKeys() []APIKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]APIKey, len(s.keys))
	for i, k := range s.keys {
		out[i] = copyKey(k)
	}
	return out
}

func copyKey(k *APIKey) APIKey {
	c := *k
	c.JWKSet = slices.Clone(k.JWKSet)
	return c
}

// environment and key lookups; s.mu must be held.
func (s *Server) environment(id string) (Environment, bool) {
	for _, e := range s.envs {
		if e.ID == id {
			return e, true
		}
	}
	return Environment{}, false
}

func (s *Server) keyIndex(id string) int {
	return slices.IndexFunc(s.keys, func(k *APIKey) bool { return k.ID == id })
}

func (s *Server) storeKey(k APIKey, env Environment) APIKey {
	k.ID = newUUID()
	k.EnvironmentID = env.ID
	k.EnvironmentFlag = env.Flag
	s.keys = append(s.keys, &k)
	return copyKey(&k)
}

// --- wire types ---

type envelope struct {
	Meta    meta `json:"meta"`
	Payload any  `json:"payload"`
}

type meta struct {
	Version string `json:"version"`
}

type wireKey struct {
	Name        string          `json:"name"`
	JWKSURL     string          `json:"jwksURL,omitempty"`
	JWKSet      json.RawMessage `json:"jwkSet,omitempty"`
	ID          string          `json:"id"`
	Environment wireEnvRef      `json:"environment"`
}

type wireEnvRef struct {
	ID              string `json:"id"`
	EnvironmentFlag string `json:"environmentFlag"`
}

type wireEnvironment struct {
	ID              string  `json:"id"`
	Name            string  `json:"name"`
	EnvironmentFlag string  `json:"environmentFlag"`
	Organization    wireOrg `json:"organization"`
}

type wireOrg struct {
	ID int `json:"id"`
}

func toWire(k APIKey) wireKey {
	return wireKey{
		Name:        k.Name,
		JWKSURL:     k.JWKSURL,
		JWKSet:      k.JWKSet,
		ID:          k.ID,
		Environment: wireEnvRef{ID: k.EnvironmentID, EnvironmentFlag: k.EnvironmentFlag},
	}
}

// keyFields is a create or update body. A field that is absent or null is nil.
type keyFields struct {
	Name    *string         `json:"name"`
	JWKSURL *string         `json:"jwksURL"`
	JWKSet  json.RawMessage `json:"jwkSet"`
}

// --- handlers ---

// platform wraps a Platform route's handler with the bearer token check they all share.
func (s *Server) platform(serve func(*call)) func(*call) {
	return func(c *call) {
		if reason := s.checkBearer(c.r.Header.Get("Authorization")); reason != "" {
			c.refuse(reason)
			writeJSON(c.w, http.StatusUnauthorized, map[string]string{"message": "Unauthorized"})
			return
		}
		serve(c)
	}
}

// checkBearer returns why the Authorization header is refused, or "".
func (s *Server) checkBearer(h string) string {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "missing bearer token"
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.BearerToken)) == 1 {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	switch {
	case !ok:
		return "unknown bearer token"
	case !s.now().Before(exp):
		return "expired bearer token"
	}
	return ""
}

func platformOK(c *call, payload any) {
	writeJSON(c.w, http.StatusOK, envelope{Meta: meta{Version: "1.0.0"}, Payload: payload})
}

func platformError(c *call, status int, msg string) {
	c.refuse(msg)
	writeJSON(c.w, status, map[string]string{"message": msg})
}

func (s *Server) listEnvironments(c *call) {
	org, err := strconv.Atoi(c.r.PathValue("organizationId"))
	if err != nil || org != organizationID {
		platformError(c, http.StatusNotFound, "organization not found")
		return
	}
	envs := s.Environments()
	out := make([]wireEnvironment, len(envs))
	for i, e := range envs {
		out[i] = wireEnvironment{ID: e.ID, Name: e.Name, EnvironmentFlag: e.Flag, Organization: wireOrg{ID: e.OrganizationID}}
	}
	platformOK(c, map[string]any{"environments": out})
}

func (s *Server) listKeys(c *call) {
	envID := c.r.PathValue("environmentId")
	s.mu.Lock()
	_, ok := s.environment(envID)
	out := []wireKey{}
	for _, k := range s.keys {
		if k.EnvironmentID == envID {
			out = append(out, toWire(copyKey(k)))
		}
	}
	s.mu.Unlock()
	if !ok {
		platformError(c, http.StatusNotFound, "environment not found")
		return
	}
	platformOK(c, map[string]any{"apikeys": out})
}

func (s *Server) getKey(c *call) {
	s.mu.Lock()
	i := s.keyIndex(c.r.PathValue("apikeyId"))
	var k APIKey
	if i >= 0 {
		k = copyKey(s.keys[i])
	}
	s.mu.Unlock()
	if i < 0 {
		platformError(c, http.StatusNotFound, "API key not found")
		return
	}
	platformOK(c, map[string]any{"apikey": toWire(k)})
}

func (s *Server) createKey(c *call) {
	s.mu.Lock()
	env, ok := s.environment(c.r.PathValue("environmentId"))
	s.mu.Unlock()
	if !ok {
		platformError(c, http.StatusNotFound, "environment not found")
		return
	}
	f, status, err := decodeKeyFields(c)
	if err != nil {
		platformError(c, status, err.Error())
		return
	}
	if f.Name == nil || strings.TrimSpace(*f.Name) == "" {
		platformError(c, http.StatusBadRequest, "name is required")
		return
	}
	k := APIKey{Name: *f.Name}
	if f.JWKSURL != nil {
		k.JWKSURL = *f.JWKSURL
	}
	if f.JWKSet != nil {
		k.JWKSet = f.JWKSet
	}
	s.mu.Lock()
	k = s.storeKey(k, env)
	s.mu.Unlock()
	platformOK(c, map[string]any{"apikey": toWire(k)})
}

func (s *Server) updateKey(c *call) {
	id := c.r.PathValue("apikeyId")
	s.mu.Lock()
	found := s.keyIndex(id) >= 0
	s.mu.Unlock()
	if !found {
		platformError(c, http.StatusNotFound, "API key not found")
		return
	}
	f, status, err := decodeKeyFields(c)
	if err != nil {
		platformError(c, status, err.Error())
		return
	}
	if f.Name != nil && strings.TrimSpace(*f.Name) == "" {
		platformError(c, http.StatusBadRequest, "name must not be empty")
		return
	}
	s.mu.Lock()
	i := s.keyIndex(id)
	if i < 0 { // deleted meanwhile
		s.mu.Unlock()
		platformError(c, http.StatusNotFound, "API key not found")
		return
	}
	k := s.keys[i]
	if f.Name != nil {
		k.Name = *f.Name
	}
	if f.JWKSURL != nil {
		k.JWKSURL = *f.JWKSURL
	}
	if f.JWKSet != nil {
		k.JWKSet = f.JWKSet
	}
	out := copyKey(k)
	s.mu.Unlock()
	platformOK(c, map[string]any{"apikey": toWire(out)})
}

func (s *Server) deleteKey(c *call) {
	s.mu.Lock()
	i := s.keyIndex(c.r.PathValue("apikeyId"))
	if i >= 0 {
		s.keys = slices.Delete(s.keys, i, i+1)
	}
	s.mu.Unlock()
	if i < 0 {
		platformError(c, http.StatusNotFound, "API key not found")
		return
	}
	platformOK(c, map[string]any{"message": "API key deleted"})
}

// decodeKeyFields parses and checks a create or update body. A jwksURL of "" means none; the
// returned JWKSet is normalized to {"keys":[...]}.
func decodeKeyFields(c *call) (keyFields, int, error) {
	var f keyFields
	if !hasContentType(c.r, "application/json") {
		return f, http.StatusUnsupportedMediaType, errors.New("content-type must be application/json")
	}
	body := bytes.TrimSpace(c.body)
	if len(body) == 0 || body[0] != '{' {
		return f, http.StatusBadRequest, errors.New("body must be a JSON object")
	}
	if err := json.Unmarshal(body, &f); err != nil {
		return f, http.StatusBadRequest, fmt.Errorf("invalid JSON body: %v", err)
	}
	if f.JWKSURL != nil && *f.JWKSURL != "" {
		if err := checkJWKSURL(*f.JWKSURL); err != nil {
			return f, http.StatusBadRequest, err
		}
	}
	if string(f.JWKSet) == "null" {
		f.JWKSet = nil
	}
	if f.JWKSet != nil {
		set, err := checkJWKSet(f.JWKSet)
		if err != nil {
			return f, http.StatusBadRequest, err
		}
		f.JWKSet = set
	}
	return f, 0, nil
}

func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("jwksURL must be an absolute http(s) URL")
	}
	return nil
}

// checkJWKSet validates a JWK Set and returns it as {"keys":[...]} with each key compacted.
func checkJWKSet(raw []byte) (json.RawMessage, error) {
	var set map[string]json.RawMessage
	if err := json.Unmarshal(raw, &set); err != nil || set == nil {
		return nil, errors.New("jwkSet must be a JSON object")
	}
	var keys []json.RawMessage
	if err := json.Unmarshal(set["keys"], &keys); err != nil || keys == nil {
		return nil, errors.New("jwkSet.keys must be an array")
	}
	seen := map[string]bool{}
	var out bytes.Buffer
	out.WriteString(`{"keys":[`)
	for i, k := range keys {
		var members map[string]json.RawMessage
		if err := json.Unmarshal(k, &members); err != nil || members == nil {
			return nil, fmt.Errorf("jwkSet.keys[%d] must be a JSON object", i)
		}
		var kid, kty string
		if json.Unmarshal(members["kid"], &kid) != nil || kid == "" {
			return nil, fmt.Errorf("jwkSet.keys[%d]: kid is required", i)
		}
		if json.Unmarshal(members["kty"], &kty) != nil || kty == "" {
			return nil, fmt.Errorf("jwkSet.keys[%d] (kid %q): kty is required", i, kid)
		}
		if names := jwkmember.In(members); len(names) > 0 {
			return nil, fmt.Errorf("jwkSet.keys[%d] (kid %q): private member %q is not allowed", i, kid, names[0])
		}
		if seen[kid] {
			return nil, fmt.Errorf("jwkSet.keys[%d]: duplicate kid %q", i, kid)
		}
		seen[kid] = true
		if i > 0 {
			out.WriteByte(',')
		}
		if err := json.Compact(&out, k); err != nil {
			return nil, fmt.Errorf("jwkSet.keys[%d]: %v", i, err)
		}
	}
	out.WriteString(`]}`)
	return out.Bytes(), nil
}

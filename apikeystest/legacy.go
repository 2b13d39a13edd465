package apikeystest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// The seeded legacy user, the owner of user keys and the revoker of keys.
const (
	LegacyUserID    = "user-1"
	LegacyUserEmail = "dev@example.com"
)

// LegacyKey is a stored legacy API key. Revoked is nil while the key is active.
type LegacyKey struct {
	Label        string
	KeyType      string // "user" or "app"
	Key          string // 40 hex characters
	KeyReference string // owner id: LegacyUserID, or the app id
	Secret       string // 40 hex characters; only sent to admin callers
	Revoked      *time.Time
	RevokedBy    string
	RevokedEmail string
}

// LegacyKeys returns copies of the stored legacy keys, revoked ones included, in creation order.
func (s *Server) LegacyKeys() []LegacyKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]LegacyKey, len(s.legacy))
	for i, k := range s.legacy {
		out[i] = copyLegacy(k)
	}
	return out
}

func copyLegacy(k *LegacyKey) LegacyKey {
	c := *k
	if k.Revoked != nil {
		t := *k.Revoked
		c.Revoked = &t
	}
	return c
}

// legacyKeyJSON is the wire form: revoked* are null while active, revoked is a ms epoch number.
type legacyKeyJSON struct {
	Label        string  `json:"label"`
	KeyType      string  `json:"keyType"`
	Key          string  `json:"key"`
	KeyReference string  `json:"keyReference"`
	Secret       string  `json:"secret,omitempty"`
	Revoked      *int64  `json:"revoked"`
	RevokedBy    *string `json:"revokedBy"`
	RevokedEmail *string `json:"revokedEmail"`
}

func (s *Server) legacyWire(k LegacyKey) legacyKeyJSON {
	out := legacyKeyJSON{Label: k.Label, KeyType: k.KeyType, Key: k.Key, KeyReference: k.KeyReference}
	if s.admin {
		out.Secret = k.Secret
	}
	if k.Revoked != nil {
		ms := k.Revoked.UnixMilli()
		out.Revoked, out.RevokedBy, out.RevokedEmail = &ms, &k.RevokedBy, &k.RevokedEmail
	}
	return out
}

// legacyRequest is the union of the legacy request bodies.
type legacyRequest struct {
	Type   string  `json:"type"`
	AppID  string  `json:"appId"`
	Label  *string `json:"label"`
	Key    string  `json:"key"`
	Fields *struct {
		Label *string `json:"label"`
	} `json:"fields"`
}

// label returns fields.label, else the top-level label.
func (r legacyRequest) label() string {
	if r.Fields != nil && r.Fields.Label != nil && *r.Fields.Label != "" {
		return *r.Fields.Label
	}
	if r.Label != nil {
		return *r.Label
	}
	return ""
}

func legacyError(msg string) map[string]string {
	return map[string]string{"status": "error", "message": msg}
}

// legacyFail replies with HTTP status and a {"status":"error"} body.
func legacyFail(c *call, status int, msg string) {
	c.refuse(msg)
	writeJSON(c.w, status, legacyError(msg))
}

// legacyOp wraps a legacy operation (POST /box/srv/1.1/ide/{domain}/api/{op}) with the domain,
// authentication and body checks they all share.
func (s *Server) legacyOp(serve func(*call, legacyRequest)) func(*call) {
	return func(c *call) {
		if c.r.PathValue("domain") != s.LegacyDomain {
			legacyFail(c, http.StatusNotFound, "domain not found")
			return
		}
		if !s.legacyAuthenticated(c.r) {
			legacyFail(c, http.StatusUnauthorized, "not logged in")
			return
		}
		if !hasContentType(c.r, "application/json") {
			legacyFail(c, http.StatusOK, "content-type must be application/json")
			return
		}
		var req legacyRequest
		body := bytes.TrimSpace(c.body)
		if len(body) == 0 || body[0] != '{' || json.Unmarshal(body, &req) != nil {
			legacyFail(c, http.StatusOK, "invalid JSON body")
			return
		}
		serve(c, req)
	}
}

// legacyAuthenticated accepts the seeded user key, an active user key of the seeded user, or the
// session cookie.
func (s *Server) legacyAuthenticated(r *http.Request) bool {
	if ck, err := r.Cookie("feedhenry"); err == nil && equal(ck.Value, s.SessionCookie) {
		return true
	}
	h := r.Header.Get("X-FH-AUTH-USER")
	if h == "" {
		return false
	}
	if equal(h, s.LegacyUserKey) {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.ContainsFunc(s.legacy, func(k *LegacyKey) bool {
		return k.KeyType == "user" && k.KeyReference == LegacyUserID && k.Revoked == nil && equal(h, k.Key)
	})
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// owner returns the keyReference a list or create request is about.
func owner(c *call, req legacyRequest) (string, bool) {
	switch req.Type {
	case "user":
		return LegacyUserID, true
	case "app":
		if req.AppID == "" {
			legacyFail(c, http.StatusOK, "appId is required for app keys")
			return "", false
		}
		return req.AppID, true
	case "":
		legacyFail(c, http.StatusOK, "type is required")
	default:
		legacyFail(c, http.StatusOK, "invalid key type")
	}
	return "", false
}

func (s *Server) legacyList(c *call, req legacyRequest) {
	ref, ok := owner(c, req)
	if !ok {
		return
	}
	s.mu.Lock()
	list := []legacyKeyJSON{}
	for _, k := range s.legacy {
		if k.KeyType == req.Type && k.KeyReference == ref {
			list = append(list, s.legacyWire(copyLegacy(k)))
		}
	}
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, map[string]any{"status": "ok", "list": list})
}

func (s *Server) legacyCreate(c *call, req legacyRequest) {
	label := req.label()
	if label == "" {
		legacyFail(c, http.StatusOK, "label is required")
		return
	}
	ref, ok := owner(c, req)
	if !ok {
		return
	}
	k := &LegacyKey{Label: label, KeyType: req.Type, Key: randomHex(20), KeyReference: ref, Secret: randomHex(20)}
	s.secrets.add(k.Key, k.Secret)
	s.mu.Lock()
	if req.Type == "app" { // an app has one active key: revoke the earlier ones
		for _, old := range s.legacy {
			if old.KeyType == "app" && old.KeyReference == ref && old.Revoked == nil {
				s.revoke(old)
			}
		}
	}
	s.legacy = append(s.legacy, k)
	out := s.legacyWire(copyLegacy(k))
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, map[string]any{"status": "ok", "apiKey": out})
}

// revoke marks k revoked by the seeded user now, at millisecond precision; s.mu must be held.
func (s *Server) revoke(k *LegacyKey) {
	t := time.UnixMilli(s.now().UnixMilli())
	k.Revoked, k.RevokedBy, k.RevokedEmail = &t, LegacyUserID, LegacyUserEmail
}

// legacyChange serves revoke, delete and update, which all name a key by its value.
func (s *Server) legacyChange(c *call, req legacyRequest) {
	if req.Key == "" {
		legacyFail(c, http.StatusOK, "key is required")
		return
	}
	label := req.label()
	if c.route == RouteLegacyUpdate && label == "" {
		legacyFail(c, http.StatusOK, "label is required")
		return
	}
	s.mu.Lock()
	i := slices.IndexFunc(s.legacy, func(k *LegacyKey) bool { return k.Key == req.Key })
	var out legacyKeyJSON
	if i >= 0 {
		k := s.legacy[i]
		switch c.route {
		case RouteLegacyRevoke:
			if k.Revoked == nil { // revoking a revoked key keeps its first revocation
				s.revoke(k)
			}
		case RouteLegacyDelete:
			s.legacy = slices.Delete(s.legacy, i, i+1)
		case RouteLegacyUpdate:
			k.Label = label
		}
		out = s.legacyWire(copyLegacy(k))
	}
	s.mu.Unlock()
	if i < 0 {
		legacyFail(c, http.StatusOK, "API key not found")
		return
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"status": "ok", "apiKey": out})
}

func (s *Server) legacyValidate(c *call, req legacyRequest) {
	switch {
	case req.Type == "":
		legacyFail(c, http.StatusOK, "type is required")
		return
	case req.Key == "":
		legacyFail(c, http.StatusOK, "key is required")
		return
	}
	s.mu.Lock()
	valid := slices.ContainsFunc(s.legacy, func(k *LegacyKey) bool {
		return k.Key == req.Key && k.KeyType == req.Type && k.Revoked == nil
	})
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, map[string]any{"status": "ok", "valid": valid})
}

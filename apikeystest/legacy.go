package apikeystest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The seeded legacy user: [Server.LegacyUserKey] and [Server.SessionCookie] authenticate as it.
const (
	LegacyUserID    = "user-1"
	LegacyUserEmail = "dev@example.com"
)

// LegacyUser is a user of the legacy API. Its Key (X-FH-AUTH-USER), and any active user key it
// owns, authenticate legacy calls as the user, who then owns the user keys those calls list and
// create, and is named (revokedBy, revokedEmail) on the keys they revoke. The fake starts with
// one, [LegacyUserID]; [Server.AddLegacyUser] adds others.
type LegacyUser struct {
	ID    string `json:"id"`    // owns the user's keys (their keyReference)
	Email string `json:"email"` // revokedEmail of the keys the user revokes
	Key   string `json:"key"`   // 40 lower-case hex characters
}

// LegacyUsers returns the legacy users, the seeded one first, then in the order they were added.
func (s *Server) LegacyUsers() []LegacyUser {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.users)
}

// AddLegacyUser adds a legacy user and returns it as stored. An empty ID is replaced by the first
// free "user-N", an empty Email by ID + "@example.com", and an empty Key by a new random key. A
// given Key must be 40 lower-case hex characters, as the real keys are, and not be the key of
// another user or of a stored legacy key; a given ID must be new. The key is one of the fake's
// secrets: the request log masks it wherever it appears.
func (s *Server) AddLegacyUser(u LegacyUser) (LegacyUser, error) {
	if u.Key == "" {
		u.Key = randomHex(20)
	} else if !isLegacyKeyValue(u.Key) {
		return LegacyUser{}, errors.New("key must be 40 lower-case hex characters")
	}
	if u.ID != "" && strings.TrimSpace(u.ID) == "" {
		return LegacyUser{}, errors.New("id must not be blank")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == "" {
		for n := len(s.users) + 1; ; n++ {
			if _, taken := s.legacyUser(fmt.Sprintf("user-%d", n)); !taken {
				u.ID = fmt.Sprintf("user-%d", n)
				break
			}
		}
	} else if _, taken := s.legacyUser(u.ID); taken {
		return LegacyUser{}, fmt.Errorf("legacy user %q already exists", u.ID)
	}
	if u.Email == "" {
		u.Email = u.ID + "@example.com"
	}
	if s.legacyKeyInUse(u.Key) {
		return LegacyUser{}, errors.New("key is already in use")
	}
	s.secrets.add(u.Key)
	s.users = append(s.users, u)
	return u, nil
}

// AddLegacyKey stores a legacy key directly (no HTTP) and returns it as stored, with the rules of
// the create call: Label is required; KeyType is "user" or "app"; a user key's KeyReference is a
// legacy user's ID (default [LegacyUserID]), an app key's is the app ID, required; and an active
// app key revokes the app's earlier active keys, by the seeded user, since an app has one active
// key. An empty Key or Secret is replaced by a new random one; a given one must be 40 lower-case
// hex characters, and a given Key must not be in use. A key may be stored revoked: Revoked is
// kept to the millisecond (the wire's precision), and RevokedBy and RevokedEmail default to the
// seeded user; without Revoked they must be empty. Key and Secret are the fake's secrets: the
// request log masks them wherever they appear.
func (s *Server) AddLegacyKey(k LegacyKey) (LegacyKey, error) {
	switch {
	case strings.TrimSpace(k.Label) == "":
		return LegacyKey{}, errors.New("label is required")
	case k.KeyType != "user" && k.KeyType != "app":
		return LegacyKey{}, errors.New(`keyType must be "user" or "app"`)
	case k.KeyType == "app" && strings.TrimSpace(k.KeyReference) == "":
		return LegacyKey{}, errors.New("keyReference (the app ID) is required for an app key")
	case k.Key != "" && !isLegacyKeyValue(k.Key):
		return LegacyKey{}, errors.New("key must be 40 lower-case hex characters")
	case k.Secret != "" && !isLegacyKeyValue(k.Secret):
		return LegacyKey{}, errors.New("secret must be 40 lower-case hex characters")
	case k.Revoked == nil && (k.RevokedBy != "" || k.RevokedEmail != ""):
		return LegacyKey{}, errors.New("revokedBy and revokedEmail are only for a revoked key")
	}
	if k.Key == "" {
		k.Key = randomHex(20)
	}
	if k.Secret == "" {
		k.Secret = randomHex(20)
	}
	if k.Revoked != nil {
		t := time.UnixMilli(k.Revoked.UnixMilli())
		k.Revoked = &t
		if k.RevokedBy == "" && k.RevokedEmail == "" {
			k.RevokedBy, k.RevokedEmail = LegacyUserID, LegacyUserEmail
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k.KeyType == "user" {
		if k.KeyReference == "" {
			k.KeyReference = LegacyUserID
		}
		if _, ok := s.legacyUser(k.KeyReference); !ok {
			return LegacyKey{}, fmt.Errorf("no legacy user %q", k.KeyReference)
		}
	}
	if s.legacyKeyInUse(k.Key) {
		return LegacyKey{}, errors.New("key is already in use")
	}
	s.secrets.add(k.Key, k.Secret)
	if k.KeyType == "app" && k.Revoked == nil {
		s.revokeAppKeys(k.KeyReference, s.users[0])
	}
	stored := copyLegacy(&k)
	s.legacy = append(s.legacy, &stored)
	return copyLegacy(&stored), nil
}

// isLegacyKeyValue reports whether v has the shape of a legacy key or secret.
func isLegacyKeyValue(v string) bool {
	return len(v) == 40 && strings.Trim(v, hexDigits) == ""
}

// legacyUser returns the user with id; s.mu must be held.
func (s *Server) legacyUser(id string) (LegacyUser, bool) {
	i := slices.IndexFunc(s.users, func(u LegacyUser) bool { return u.ID == id })
	if i < 0 {
		return LegacyUser{}, false
	}
	return s.users[i], true
}

// legacyKeyInUse reports whether v is a user's key or a stored key; s.mu must be held.
func (s *Server) legacyKeyInUse(v string) bool {
	return slices.ContainsFunc(s.users, func(u LegacyUser) bool { return u.Key == v }) ||
		slices.ContainsFunc(s.legacy, func(k *LegacyKey) bool { return k.Key == v })
}

// LegacyKey is a stored legacy API key. Revoked is nil while the key is active.
type LegacyKey struct {
	Label        string     // not unique
	KeyType      string     // "user" or "app"
	Key          string     // 40 hex characters
	KeyReference string     // owner id: a LegacyUser's ID (LegacyUserID for the seeded user), or the app id
	Secret       string     // 40 hex characters; only sent to admin callers
	Revoked      *time.Time // when it was revoked, on the fake's clock
	RevokedBy    string     // the revoking user's ID
	RevokedEmail string     // the revoking user's email
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

// legacyWire is k in the wire form, with its secret when withSecret (the real server shows it
// to callers in the admin group; the admin API always shows it).
func legacyWire(k LegacyKey, withSecret bool) legacyKeyJSON {
	out := legacyKeyJSON{Label: k.Label, KeyType: k.KeyType, Key: k.Key, KeyReference: k.KeyReference}
	if withSecret {
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
		user, ok := s.legacyCaller(c.r)
		if !ok {
			legacyFail(c, http.StatusUnauthorized, "not logged in")
			return
		}
		c.user = user
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

// legacyCaller returns the user a legacy request authenticates as: the seeded user for the
// session cookie, else the user whose key, or one of whose active user keys, is X-FH-AUTH-USER.
func (s *Server) legacyCaller(r *http.Request) (LegacyUser, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ck, err := r.Cookie("feedhenry"); err == nil && equal(ck.Value, s.SessionCookie) {
		return s.users[0], true
	}
	h := r.Header.Get("X-FH-AUTH-USER")
	if h == "" {
		return LegacyUser{}, false
	}
	for _, u := range s.users {
		if equal(h, u.Key) {
			return u, true
		}
	}
	for _, k := range s.legacy {
		if k.KeyType == "user" && k.Revoked == nil && equal(h, k.Key) {
			return s.legacyUser(k.KeyReference)
		}
	}
	return LegacyUser{}, false
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// owner returns the keyReference a list or create request is about.
func owner(c *call, req legacyRequest) (string, bool) {
	switch req.Type {
	case "user":
		return c.user.ID, true
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
			list = append(list, legacyWire(copyLegacy(k), s.admin))
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
		s.revokeAppKeys(ref, c.user)
	}
	s.legacy = append(s.legacy, k)
	out := legacyWire(copyLegacy(k), s.admin)
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, map[string]any{"status": "ok", "apiKey": out})
}

// revoke marks k revoked by user now, at millisecond precision; s.mu must be held.
func (s *Server) revoke(k *LegacyKey, by LegacyUser) {
	t := time.UnixMilli(s.now().UnixMilli())
	k.Revoked, k.RevokedBy, k.RevokedEmail = &t, by.ID, by.Email
}

// revokeAppKeys revokes the active keys of app; s.mu must be held.
func (s *Server) revokeAppKeys(app string, by LegacyUser) {
	for _, k := range s.legacy {
		if k.KeyType == "app" && k.KeyReference == app && k.Revoked == nil {
			s.revoke(k, by)
		}
	}
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
				s.revoke(k, c.user)
			}
		case RouteLegacyDelete:
			s.legacy = slices.Delete(s.legacy, i, i+1)
		case RouteLegacyUpdate:
			k.Label = label
		}
		out = legacyWire(copyLegacy(k), s.admin)
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

package apikeys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// legacyAuthHeader carries the legacy user API key.
const legacyAuthHeader = "X-FH-AUTH-USER"

// LegacyConfig configures the legacy (FeedHenry/RHMAP) key API.
type LegacyConfig struct {
	// BaseURL is the host, e.g. "https://acme.feedhenry.com".
	BaseURL string
	// Domain is the tenant name used in the path /box/srv/1.1/ide/<domain>/api/.
	Domain string
	// UserKey is the user API key sent as X-FH-AUTH-USER.
	UserKey string
	// SessionCookie, if set, is sent as the "feedhenry" cookie.
	SessionCookie string
}

// String describes the configuration without its credentials, BaseURL
// without user info, query or fragment.
func (c LegacyConfig) String() string {
	return fmt.Sprintf("LegacyConfig{BaseURL: %s, Domain: %s, UserKey: %q, SessionCookie: %q}",
		redactRawURL(c.BaseURL), c.Domain, maskSecret(c.UserKey), maskSecret(c.SessionCookie))
}

// GoString is like String, so %#v shows no credential either.
func (c LegacyConfig) GoString() string { return "apikeys." + c.String() }

// LogValue logs the configuration without its credentials, as String.
func (c LegacyConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", redactRawURL(c.BaseURL)), slog.String("domain", c.Domain),
		slog.String("user_key", maskSecret(c.UserKey)), slog.String("session_cookie", maskSecret(c.SessionCookie)))
}

// MarshalJSON writes the configuration with its credentials masked, like
// LogValue, so a LegacyConfig inside a JSON-encoded or JSON-logged struct
// shows no credential. The field names are those of the struct.
func (c LegacyConfig) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		BaseURL       string
		Domain        string
		UserKey       string
		SessionCookie string
	}{redactRawURL(c.BaseURL), c.Domain, maskSecret(c.UserKey), maskSecret(c.SessionCookie)})
}

// legacyConfig is a checked LegacyConfig.
type legacyConfig struct {
	apiURL        *url.URL // <BaseURL>/box/srv/1.1/ide/<domain>/api
	userKey       string
	sessionCookie string
}

func newLegacyConfig(cfg LegacyConfig, insecureHTTP bool) (*legacyConfig, error) {
	base, err := parseURL("NewClient", "LegacyConfig.BaseURL", cfg.BaseURL, insecureHTTP, true)
	if err != nil {
		return nil, err
	}
	if err := validateID("NewClient", "LegacyConfig.Domain", cfg.Domain); err != nil {
		return nil, err
	}
	if cfg.UserKey == "" && cfg.SessionCookie == "" {
		return nil, optionError("LegacyConfig.UserKey", "is empty (set UserKey or SessionCookie)")
	}
	if hasControl(cfg.UserKey) || strings.ContainsAny(cfg.UserKey, " ;,") || !utf8.ValidString(cfg.UserKey) {
		return nil, optionError("LegacyConfig.UserKey", "contains spaces, separators or control characters")
	}
	if hasControl(cfg.SessionCookie) || strings.ContainsAny(cfg.SessionCookie, " ;,\"") || !utf8.ValidString(cfg.SessionCookie) {
		return nil, optionError("LegacyConfig.SessionCookie", "contains spaces, separators or control characters")
	}
	api := *base
	api.Path, api.RawPath = joinPath(base, []string{"box", "srv", "1.1", "ide", cfg.Domain, "api"})
	return &legacyConfig{apiURL: &api, userKey: cfg.UserKey, sessionCookie: cfg.SessionCookie}, nil
}

// KeyOwner says whose legacy keys a call lists or creates. Build it with
// UserKeys or AppKeys; the zero KeyOwner is invalid.
type KeyOwner struct {
	keyType string
	appID   string
}

// UserKeys selects the keys of the user the Client authenticates as. It
// takes no app ID: the server finds the user from the credentials.
func UserKeys() KeyOwner { return KeyOwner{keyType: KeyTypeUser} }

// AppKeys selects the keys of the app instance appID. An app has at most
// one active key: creating one revokes the app's earlier keys.
func AppKeys(appID string) KeyOwner { return KeyOwner{keyType: KeyTypeApp, appID: appID} }

func (o KeyOwner) validate(op string) error {
	switch o.keyType {
	case KeyTypeUser:
		return nil
	case KeyTypeApp:
		return validateID(op, "appID", o.appID)
	}
	return invalid(op, "owner", "is the zero KeyOwner (use UserKeys or AppKeys)")
}

// LegacyService manages legacy user and app API keys. Get it from
// Client.Legacy; its calls need WithLegacy. Each call is a POST to
// <BaseURL>/box/srv/1.1/ide/<Domain>/api/<op> with the configured
// credentials, and shares the Client's retry rules and error model: an
// *APIError with API LegacyAPI for error replies (HTTP 200 with
// "status":"error" included), a *DecodeError for a success reply that
// cannot be read, a *ValidationError for bad input (nothing is sent).
type LegacyService struct {
	client *Client
}

var (
	opLegacyList   = operation{"Legacy.List", idempotent}
	opLegacyCreate = operation{"Legacy.Create", nonIdempotent}
	// Revoke is idempotent on its own: revoking twice leaves the key
	// revoked, and revoked keys stay listed, so "not found" never means
	// that an earlier attempt worked.
	opLegacyRevoke   = operation{"Legacy.Revoke", idempotent}
	opLegacyDelete   = operation{"Legacy.Delete", idempotentDelete}
	opLegacyUpdate   = operation{"Legacy.Update", idempotent}
	opLegacyValidate = operation{"Legacy.Validate", idempotent}
)

// Request bodies; field order is the order on the wire.
type (
	legacyFields struct {
		Label string `json:"label"`
	}
	legacyListBody struct {
		Type  string `json:"type"`
		AppID string `json:"appId,omitempty"`
	}
	legacyCreateBody struct {
		Type   string       `json:"type"`
		Label  string       `json:"label"`
		AppID  string       `json:"appId,omitempty"`
		Fields legacyFields `json:"fields"`
	}
	legacyKeyBody struct {
		Key string `json:"key"`
	}
	legacyUpdateBody struct {
		Key    string       `json:"key"`
		Fields legacyFields `json:"fields"`
		Label  string       `json:"label"`
	}
	legacyValidateBody struct {
		Type string `json:"type"`
		Key  string `json:"key"`
	}
)

// List returns the keys of owner, revoked ones included.
func (s *LegacyService) List(ctx context.Context, owner KeyOwner) ([]*LegacyKey, error) {
	if err := owner.validate(opLegacyList.name); err != nil {
		return nil, err
	}
	rep, err := s.do(ctx, opLegacyList, "list", legacyListBody{Type: owner.keyType, AppID: owner.appID}, memberList, "")
	if err != nil {
		return nil, err
	}
	return models(rep.List, newReplyObjects(rep.body, legacyListObjects), (*legacyKeyJSON).key), nil
}

// Create creates a key for owner. Creating an app key revokes the app's
// earlier keys, so Create is never sent twice once it may have reached the
// server: if its outcome is unknown (a reset or timeout after sending, a
// 5xx reply) the error satisfies IsAmbiguous, and the caller should ask
// FindCreated whether the key was made before creating again. It is
// retried only when the request surely was not sent (a dial error) or on
// 429.
func (s *LegacyService) Create(ctx context.Context, owner KeyOwner, label string) (*LegacyKey, error) {
	if err := owner.validate(opLegacyCreate.name); err != nil {
		return nil, err
	}
	if err := validateName(opLegacyCreate.name, "label", label); err != nil {
		return nil, err
	}
	body := legacyCreateBody{Type: owner.keyType, Label: label, AppID: owner.appID, Fields: legacyFields{Label: label}}
	rep, err := s.do(ctx, opLegacyCreate, "create", body, memberAPIKey, "")
	if err != nil {
		return nil, err
	}
	return rep.key(), nil
}

// FindCreated returns the key that a Create for owner with label made,
// for reconciling a Create whose error satisfies IsAmbiguous: the newest
// active key of owner with that label, taken to be the last listed (the
// legacy API lists keys in the order they were made). Labels are not
// unique, so the match is proof only when no other key of the owner had
// the label: give each create a label of its own (a date, a run ID).
// Revoked keys are skipped: a create makes an active key, and one that a
// later create already revoked is of no use.
//
// When no key matches, the error matches ErrNotFound: the create was not
// applied, and Create may be called again. Other errors are List's.
func (s *LegacyService) FindCreated(ctx context.Context, owner KeyOwner, label string) (*LegacyKey, error) {
	const op = "Legacy.FindCreated"
	if err := owner.validate(op); err != nil {
		return nil, err
	}
	if err := validateName(op, "label", label); err != nil {
		return nil, err
	}
	keys, err := s.List(ctx, owner)
	if err != nil {
		return nil, err
	}
	for _, k := range slices.Backward(keys) {
		if k.Label == label && !k.IsRevoked() {
			return k, nil
		}
	}
	return nil, &opError{op: op, err: &sentinelError{ErrNotFound, fmt.Sprintf("no active key labelled %s", quoted(label))}}
}

// Revoke revokes a key: it stays listed, with Revoked set, and no longer
// authenticates. Revoking a revoked key leaves it revoked, so Revoke is
// retried like a read. An unknown key is an error matching ErrNotFound,
// also on a retry: revoked keys stay listed, so "not found" never means
// that an earlier attempt worked.
func (s *LegacyService) Revoke(ctx context.Context, key string) (*LegacyKey, error) {
	return s.removeKey(ctx, opLegacyRevoke, "revoke", key)
}

// Delete deletes a key for good. If an attempt's reply was lost and the
// retry gets the legacy API's own answer that the key does not exist
// ("API key not found"), the delete is reported as done and the returned
// LegacyKey has only Key set. A reply that says nothing (an empty or
// plain-text 404, a proxy's page) proves nothing: see the README's retry
// table.
func (s *LegacyService) Delete(ctx context.Context, key string) (*LegacyKey, error) {
	return s.removeKey(ctx, opLegacyDelete, "delete", key)
}

func (s *LegacyService) removeKey(ctx context.Context, op operation, path, key string) (*LegacyKey, error) {
	if err := validateKey(op.name, "key", key); err != nil {
		return nil, err
	}
	rep, err := s.do(ctx, op, path, legacyKeyBody{Key: key}, memberAPIKey, key)
	if err != nil {
		return nil, err
	}
	if rep == nil {
		return &LegacyKey{Key: key}, nil // an earlier attempt removed it
	}
	return rep.key(), nil
}

// Update sets the label of a key and returns the updated key.
func (s *LegacyService) Update(ctx context.Context, key, label string) (*LegacyKey, error) {
	if err := validateKey(opLegacyUpdate.name, "key", key); err != nil {
		return nil, err
	}
	if err := validateName(opLegacyUpdate.name, "label", label); err != nil {
		return nil, err
	}
	body := legacyUpdateBody{Key: key, Fields: legacyFields{Label: label}, Label: label}
	rep, err := s.do(ctx, opLegacyUpdate, "update", body, memberAPIKey, key)
	if err != nil {
		return nil, err
	}
	return rep.key(), nil
}

// Validate reports whether key is a valid key of type keyType (such as
// KeyTypeUser or KeyTypeApp). A key the server rejects as unknown may come
// back as an *APIError matching ErrNotFound rather than as false.
func (s *LegacyService) Validate(ctx context.Context, keyType, key string) (bool, error) {
	if err := validateName(opLegacyValidate.name, "keyType", keyType); err != nil {
		return false, err
	}
	if err := validateKey(opLegacyValidate.name, "key", key); err != nil {
		return false, err
	}
	rep, err := s.do(ctx, opLegacyValidate, "validate", legacyValidateBody{Type: keyType, Key: key}, memberValid, key)
	if err != nil {
		return false, err
	}
	return *rep.Valid, nil
}

// The reply members a successful call needs.
const (
	memberList   = "list"
	memberAPIKey = "apiKey"
	memberValid  = "valid"
)

// legacyStatus is the part of the legacy envelope every reply has.
type legacyStatus struct {
	Status  string          `json:"status"`
	Message json.RawMessage `json:"message"`
	Msg     json.RawMessage `json:"msg"`
	// Address is sent, with no status, when the caller is not logged in:
	// {"msg":"...","address":{"login-status":"none"}}.
	Address json.RawMessage `json:"address"`
}

// loggedOut reports whether the reply is the not-logged-in shape without a
// status, which legacy servers send with HTTP 200.
func (s *legacyStatus) loggedOut() bool {
	var a struct {
		LoginStatus string `json:"login-status"`
	}
	return len(s.Address) > 0 && json.Unmarshal(s.Address, &a) == nil && a.LoginStatus == "none"
}

// text returns "message", or else "msg" (a string or strings joined with "; ").
func (s *legacyStatus) text() string {
	for _, raw := range []json.RawMessage{s.Message, s.Msg} {
		var one string
		if json.Unmarshal(raw, &one) == nil && one != "" {
			return one
		}
		var many []any
		if json.Unmarshal(raw, &many) == nil {
			parts := make([]string, 0, len(many))
			for _, m := range many {
				if p, ok := m.(string); ok && p != "" {
					parts = append(parts, p)
				}
			}
			if len(parts) > 0 {
				return strings.Join(parts, "; ")
			}
		}
	}
	return ""
}

// legacyReply is the legacy envelope with the members of every call.
type legacyReply struct {
	legacyStatus
	List   []*legacyKeyJSON `json:"list"`
	APIKey *legacyKeyJSON   `json:"apiKey"`
	Valid  *bool            `json:"valid"`

	body []byte // for the keys' objects (see raw.go)
}

// has reports whether the reply carries member, one of the member
// constants.
func (r *legacyReply) has(member string) bool {
	switch member {
	case memberList:
		return r.List != nil
	case memberAPIKey:
		return r.APIKey != nil
	default: // memberValid
		return r.Valid != nil
	}
}

// do sends a legacy call and reads its reply (readLegacy), which must
// carry member. key is the key value the call is about ("" if none); it is
// masked in errors like the credentials. For a delete whose retry finds the
// key gone after an unknown outcome it returns (nil, nil).
func (s *LegacyService) do(ctx context.Context, op operation, path string, body any, member, key string) (*legacyReply, error) {
	if s == nil || s.client == nil || s.client.legacy == nil {
		return nil, &opError{op: op.name, err: &sentinelError{ErrNotConfigured, "client not configured for this call (needs WithLegacy)"}}
	}
	c, cfg := s.client, s.client.legacy
	r, err := c.sender.newRequest(op, http.MethodPost, cfg.apiURL, body, path)
	if err != nil {
		return nil, err
	}
	r.api = LegacyAPI
	if cfg.userKey != "" {
		r.header.Set(legacyAuthHeader, cfg.userKey)
	}
	if cfg.sessionCookie != "" {
		r.header.Set("Cookie", "feedhenry="+cfg.sessionCookie)
	}
	r.secrets = r.secrets.add(cfg.userKey, "****").add(cfg.sessionCookie, "****").add(key, maskKey(key))
	var rep *legacyReply
	err = c.sender.do(ctx, r, func(resp *http.Response, call *call) (err error) {
		rep, err = readLegacy(resp, call, member)
		return err
	})
	return rep, err
}

// readLegacy reads a legacy reply. A non-2xx reply, a "status":"error"
// body or a not-logged-in reply gives an *APIError (LegacyAPI); a 2xx body
// that is not the expected JSON gives a *DecodeError.
func readLegacy(resp *http.Response, c *call, member string) (*legacyReply, error) {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body := c.errorBody(resp)
		var st legacyStatus
		if json.Unmarshal(body, &st) != nil {
			return nil, c.apiError(resp, LegacyAPI, body, markupExcerpt(resp.Header.Get("Content-Type"), body))
		}
		return nil, c.apiError(resp, LegacyAPI, body, st.text())
	}
	body, err := c.readSuccess(resp, c.s.maxResponseBytes)
	if err != nil {
		return nil, err
	}
	var rep legacyReply
	if jerr := json.Unmarshal(body, &rep); jerr != nil {
		// A malformed payload member does not hide an error reply.
		if json.Unmarshal(body, &rep.legacyStatus) != nil || (rep.Status != "error" && !rep.loggedOut()) {
			return nil, c.decodeError(resp, body, jerr)
		}
	}
	switch {
	case rep.Status == "ok":
	case rep.Status == "error":
		return nil, c.apiError(resp, LegacyAPI, c.secrets.body(body), rep.text())
	case rep.Status == "" && rep.loggedOut():
		// Whatever its msg says, this shape means the user key or session
		// was not accepted: say so, so that it matches ErrUnauthorized.
		msg := rep.text()
		if !notLoggedInMessage(msg) {
			msg = strings.TrimSuffix("not logged in: "+msg, ": ")
		}
		return nil, c.apiError(resp, LegacyAPI, c.secrets.body(body), msg)
	case rep.Status == "":
		return nil, c.decodeError(resp, nil, errors.New("status is missing"))
	default:
		return nil, c.decodeError(resp, nil, fmt.Errorf("unknown status %q", serverText(rep.Status, 32)))
	}
	if !rep.has(member) {
		return nil, c.decodeError(resp, nil, fmt.Errorf("%s is missing", member))
	}
	rep.body = body
	return &rep, nil
}

// key returns the reply's apiKey.
func (r *legacyReply) key() *LegacyKey {
	return r.APIKey.key(objectRef{objs: newReplyObjects(r.body, legacyKeyObjects)})
}

// unknownKeyRE matches the legacy API's message for an unknown key, "API
// key not found", and its close variants: "Key not found", "apiKey not
// found", "API key was not found", optionally followed by detail
// ("API key not found: 4a23…ec9e"). The Platform API's JSON 404 for a key
// says the same.
var unknownKeyRE = regexp.MustCompile(`(?i)^(?:the\s+)?(?:api[\s_-]?)?key\s+(?:was\s+|is\s+)?not\s+found(?:$|[\s.:,!(])`)

// unknownKeyMessage reports whether an error message (or one of the
// "; "-joined parts of a legacy "msg" array) says that the key the call
// was about does not exist.
func unknownKeyMessage(msg string) bool {
	for part := range strings.SplitSeq(msg, "; ") {
		if unknownKeyRE.MatchString(strings.TrimSpace(part)) {
			return true
		}
	}
	return false
}

// notLoggedInRE matches what legacy servers and their clients say when the
// user key or session is not accepted: "not logged in", fh-fhc's "check
// your login details", "login required", "session expired", "unauthorized".
var notLoggedInRE = regexp.MustCompile(`(?i)\bnot\s+logged\s+in\b|\bcheck\s+your\s+login\b|\blog\s*in\s+(?:is\s+)?required\b|\bsession\s+(?:has\s+)?expired\b|\bnot\s+authenticated\b|\bunauthori[sz]ed\b`)

// notLoggedInMessage reports whether a legacy error message says that the
// caller is not logged in.
func notLoggedInMessage(msg string) bool { return notLoggedInRE.MatchString(msg) }

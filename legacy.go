package apikeys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/apikeys-go/apikeys/internal/mask"
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

// String describes the configuration without its credentials.
func (c LegacyConfig) String() string {
	return fmt.Sprintf("LegacyConfig{BaseURL: %s, Domain: %s, UserKey: %q, SessionCookie: %q}",
		c.BaseURL, c.Domain, maskSecret(c.UserKey), maskSecret(c.SessionCookie))
}

// GoString is like String, so %#v shows no credential either.
func (c LegacyConfig) GoString() string { return "apikeys." + c.String() }

// LogValue logs the configuration without its credentials.
func (c LegacyConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.BaseURL), slog.String("domain", c.Domain),
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
	}{c.BaseURL, c.Domain, maskSecret(c.UserKey), maskSecret(c.SessionCookie)})
}

// WithLegacy enables Client.Legacy with the given host, domain and credentials.
func WithLegacy(cfg LegacyConfig) Option {
	return func(o *options) error {
		o.legacy = &cfg
		return nil
	}
}

// legacyConfig is a checked LegacyConfig.
type legacyConfig struct {
	apiURL        *url.URL // <BaseURL>/box/srv/1.1/ide/<domain>/api
	userKey       string
	sessionCookie string
}

func newLegacyConfig(cfg LegacyConfig, insecureHTTP bool) (*legacyConfig, error) {
	base, err := parseServiceURL("LegacyConfig.BaseURL", cfg.BaseURL, insecureHTTP)
	if err != nil {
		return nil, err
	}
	if err := validateID("LegacyConfig.Domain", cfg.Domain); err != nil {
		return nil, err
	}
	if cfg.UserKey == "" && cfg.SessionCookie == "" {
		return nil, invalid("LegacyConfig.UserKey", "is empty (set UserKey or SessionCookie)")
	}
	if hasControl(cfg.UserKey) || strings.ContainsAny(cfg.UserKey, " ;,") || !utf8.ValidString(cfg.UserKey) {
		return nil, invalid("LegacyConfig.UserKey", "contains spaces, separators or control characters")
	}
	if hasControl(cfg.SessionCookie) || strings.ContainsAny(cfg.SessionCookie, " ;,\"") || !utf8.ValidString(cfg.SessionCookie) {
		return nil, invalid("LegacyConfig.SessionCookie", "contains spaces, separators or control characters")
	}
	api := *base
	api.Path, api.RawPath = joinPath(base, []string{"box", "srv", "1.1", "ide", cfg.Domain, "api"})
	return &legacyConfig{apiURL: &api, userKey: cfg.UserKey, sessionCookie: cfg.SessionCookie}, nil
}

// Key types of legacy keys. LegacyKey.KeyType is an open string: servers
// send other values too (e.g. "git_repo"), which are kept as they came.
const (
	KeyTypeUser = "user"
	KeyTypeApp  = "app"
)

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

func (o KeyOwner) validate() error {
	switch o.keyType {
	case KeyTypeUser:
		return nil
	case KeyTypeApp:
		return validateID("appID", o.appID)
	}
	return invalid("owner", "is the zero KeyOwner (use UserKeys or AppKeys)")
}

// LegacyKey is a legacy user or app API key. String, GoString and
// LogValue mask Secret and show Key only as its first and last 4
// characters; json.Marshal writes every field (it is for storage, not logs).
type LegacyKey struct {
	// Label is the key's user-given name. Labels are not unique.
	Label string `json:"label"`
	// KeyType is KeyTypeUser, KeyTypeApp or another type the server uses.
	KeyType string `json:"keyType"`
	// Key is the API key value, which identifies the key.
	Key string `json:"key"`
	// KeyReference is the owner's ID (the user's or the app's), shared by
	// all keys of that owner.
	KeyReference string `json:"keyReference"`
	// Secret is the API secret key. The server sends it to admins only.
	Secret string `json:"secret,omitempty"`
	// Revoked is when the key was revoked, nil while it is active. It is
	// read from a millisecond epoch (number or numeric string) or a date
	// string; null, "", false and 0 mean active. A value that is present but
	// cannot be read as a time gives a non-nil zero time: the key is
	// revoked, and when is unknown.
	Revoked *time.Time `json:"revoked"`
	// RevokedBy is the ID of the user who revoked the key.
	RevokedBy string `json:"revokedBy,omitempty"`
	// RevokedEmail is the email address of the user who revoked the key.
	RevokedEmail string `json:"revokedEmail,omitempty"`
}

// IsRevoked reports whether the key has been revoked.
func (k LegacyKey) IsRevoked() bool { return k.Revoked != nil }

// UnmarshalJSON decodes a key leniently: unknown fields are ignored, null
// strings are read as "", and Revoked accepts the formats described on it.
func (k *LegacyKey) UnmarshalJSON(b []byte) error {
	var w legacyKeyJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*k = *w.key()
	return nil
}

// legacyKeyJSON is a LegacyKey as the server sends it, "revoked" not yet
// read. Replies decode into it directly: through LegacyKey.UnmarshalJSON
// every key would be scanned and decoded twice.
type legacyKeyJSON struct {
	Label        string          `json:"label"`
	KeyType      string          `json:"keyType"`
	Key          string          `json:"key"`
	KeyReference string          `json:"keyReference"`
	Secret       string          `json:"secret"`
	Revoked      json.RawMessage `json:"revoked"`
	RevokedBy    string          `json:"revokedBy"`
	RevokedEmail string          `json:"revokedEmail"`
}

func (w *legacyKeyJSON) key() *LegacyKey {
	revoked, err := parseRevoked(w.Revoked)
	if err != nil {
		revoked = &time.Time{} // revoked, when unknown
	}
	return &LegacyKey{
		Label: w.Label, KeyType: w.KeyType, Key: w.Key, KeyReference: w.KeyReference, Secret: w.Secret,
		Revoked: revoked, RevokedBy: w.RevokedBy, RevokedEmail: w.RevokedEmail,
	}
}

// maxRevokedMillis is 9999-12-31T23:59:59.999Z.
const maxRevokedMillis = 253402300799999

// revokedLayouts are the date formats seen for "revoked", tried in order.
// A layout without a zone reads the time as UTC.
var revokedLayouts = []string{
	time.RFC3339,                // 2015-03-10T12:34:56.789Z (fractions are accepted)
	"2006-01-02T15:04:05Z0700",  // 2015-03-10T12:34:56+0000
	"2006-01-02T15:04:05",       // 2015-03-10T12:34:56
	"2006-01-02 15:04:05Z07:00", // 2015-03-10 12:34:56+00:00
	"2006-01-02 15:04:05 -0700", // 2015-03-10 12:34:56 +0000
	"2006-01-02 15:04:05",       // 2015-03-10 12:34:56
	"2006-01-02",
	time.RFC1123,  // Tue, 10 Mar 2015 12:34:56 GMT (JavaScript toUTCString)
	time.RFC1123Z, // Tue, 10 Mar 2015 12:34:56 +0000
	time.RFC850,
	time.UnixDate, // Tue Mar 10 12:34:56 UTC 2015
	time.ANSIC,
	"Mon Jan 02 2006 15:04:05 GMT-0700", // JavaScript toString, its "(zone name)" cut off
}

// parseRevoked reads a "revoked" JSON value: a millisecond epoch as a
// number or numeric string, a date string in one of revokedLayouts, or
// null, "", false or 0 for an active key (nil). Anything else is an error.
func parseRevoked(b []byte) (*time.Time, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0, string(b) == "null", string(b) == "false":
		return nil, nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, err
		}
		return parseRevokedString(strings.TrimSpace(s))
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		return parseEpochMillis(string(b))
	}
	return nil, fmt.Errorf("revoked: not a time: %s", excerpt(b, 32))
}

func parseRevokedString(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	if strings.Trim(s, "0123456789") == "" {
		return parseEpochMillis(s)
	}
	if i := strings.LastIndex(s, " ("); i > 0 && strings.HasSuffix(s, ")") {
		s = s[:i] // JavaScript Date.toString ends in " (Coordinated Universal Time)"
	}
	for _, layout := range revokedLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			if t.IsZero() {
				// 0001-01-01 is no revocation time; the zero time stands
				// for "revoked, when unknown" (see LegacyKey.Revoked).
				return nil, fmt.Errorf("revoked: %q is the zero time", excerpt([]byte(s), 32))
			}
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, fmt.Errorf("revoked: unrecognised date %q", excerpt([]byte(s), 32))
}

// parseEpochMillis reads a number of milliseconds since the epoch.
func parseEpochMillis(s string) (*time.Time, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("revoked: not a number: %s", excerpt([]byte(s), 32))
	}
	if !(f >= 0 && f <= maxRevokedMillis) { // NaN too
		return nil, fmt.Errorf("revoked: %s is out of range", excerpt([]byte(s), 32))
	}
	if f < 1 {
		return nil, nil // 0: never revoked
	}
	t := time.UnixMilli(int64(f)).UTC()
	return &t, nil
}

// String describes the key with its secret masked and its value shortened.
func (k LegacyKey) String() string {
	revoked := "nil"
	if k.Revoked != nil {
		revoked = formatRevoked(*k.Revoked)
	}
	return fmt.Sprintf("LegacyKey{Label: %q, KeyType: %q, Key: %q, KeyReference: %q, Secret: %q, Revoked: %s, RevokedBy: %q, RevokedEmail: %q}",
		k.Label, k.KeyType, maskKey(k.Key), k.KeyReference, maskSecret(k.Secret), revoked, k.RevokedBy, k.RevokedEmail)
}

// GoString is like String, so %#v shows no secret either.
func (k LegacyKey) GoString() string { return "apikeys." + k.String() }

// LogValue logs the key with its secret masked and its value shortened.
func (k LegacyKey) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("label", k.Label), slog.String("key_type", k.KeyType), slog.String("key", maskKey(k.Key)),
		slog.String("key_reference", k.KeyReference), slog.String("secret", maskSecret(k.Secret)),
	}
	if k.Revoked != nil {
		attrs = append(attrs, slog.String("revoked", formatRevoked(*k.Revoked)),
			slog.String("revoked_by", k.RevokedBy), slog.String("revoked_email", k.RevokedEmail))
	}
	return slog.GroupValue(attrs...)
}

func formatRevoked(t time.Time) string {
	if t.IsZero() {
		return "unknown-time"
	}
	return t.Format(time.RFC3339Nano)
}

// maskKey shows a key value as its first and last 4 characters; values
// of 8 characters or fewer are masked fully. The rule is shared with the
// fake server's request log (internal/mask).
func maskKey(key string) string { return mask.Key(key) }

// maskSecret hides a secret value: "****", or "" when there is none (so
// an unset credential still shows as unset).
func maskSecret(s string) string {
	if s == "" {
		return ""
	}
	return "****"
}

// LegacyService manages legacy user and app API keys. Get it from
// Client.Legacy; its calls need WithLegacy. Each call is a POST to
// <BaseURL>/box/srv/1.1/ide/<Domain>/api/<op> with the configured
// credentials, and shares the Client's retry rules and error model:
// a *LegacyError for error replies (HTTP 200 with "status":"error"
// included), a *DecodeError for a success reply that cannot be read, a
// *ValidationError for bad input (nothing is sent).
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
	if err := owner.validate(); err != nil {
		return nil, err
	}
	rep, err := s.do(ctx, opLegacyList, "list", legacyListBody{Type: owner.keyType, AppID: owner.appID}, memberList, "")
	if err != nil {
		return nil, err
	}
	keys := make([]*LegacyKey, 0, len(rep.List))
	for _, w := range rep.List {
		if w != nil { // a null element
			keys = append(keys, w.key())
		}
	}
	return keys, nil
}

// Create creates a key for owner. Creating an app key revokes the app's
// earlier keys, so Create is never sent twice once it may have reached the
// server: if its outcome is unknown (a reset or timeout after sending, a
// 5xx reply) the error satisfies IsAmbiguous, and the caller should List
// the owner's keys before creating again. It is retried only when the
// request surely was not sent (a dial error) or on 429.
func (s *LegacyService) Create(ctx context.Context, owner KeyOwner, label string) (*LegacyKey, error) {
	if err := owner.validate(); err != nil {
		return nil, err
	}
	if err := validateName("label", label); err != nil {
		return nil, err
	}
	body := legacyCreateBody{Type: owner.keyType, Label: label, AppID: owner.appID, Fields: legacyFields{Label: label}}
	rep, err := s.do(ctx, opLegacyCreate, "create", body, memberAPIKey, "")
	if err != nil {
		return nil, err
	}
	return rep.APIKey.key(), nil
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
	if err := validateKey("key", key); err != nil {
		return nil, err
	}
	rep, err := s.do(ctx, op, path, legacyKeyBody{Key: key}, memberAPIKey, key)
	if err != nil {
		return nil, err
	}
	if rep == nil {
		return &LegacyKey{Key: key}, nil // an earlier attempt removed it
	}
	return rep.APIKey.key(), nil
}

// Update sets the label of a key and returns the updated key.
func (s *LegacyService) Update(ctx context.Context, key, label string) (*LegacyKey, error) {
	if err := validateKey("key", key); err != nil {
		return nil, err
	}
	if err := validateName("label", label); err != nil {
		return nil, err
	}
	body := legacyUpdateBody{Key: key, Fields: legacyFields{Label: label}, Label: label}
	rep, err := s.do(ctx, opLegacyUpdate, "update", body, memberAPIKey, key)
	if err != nil {
		return nil, err
	}
	return rep.APIKey.key(), nil
}

// Validate reports whether key is a valid key of type keyType (such as
// KeyTypeUser or KeyTypeApp). A key the server rejects as unknown may come
// back as a *LegacyError matching ErrNotFound rather than as false.
func (s *LegacyService) Validate(ctx context.Context, keyType, key string) (bool, error) {
	if err := validateName("keyType", keyType); err != nil {
		return false, err
	}
	if err := validateKey("key", key); err != nil {
		return false, err
	}
	rep, err := s.do(ctx, opLegacyValidate, "validate", legacyValidateBody{Type: keyType, Key: key}, memberValid, key)
	if err != nil {
		return false, err
	}
	return *rep.Valid, nil
}

// validateKey checks a key value sent in a body.
func validateKey(field, key string) error {
	switch {
	case key == "":
		return invalid(field, "is empty")
	case !utf8.ValidString(key):
		return invalid(field, "is not valid UTF-8")
	case hasControl(key) || strings.IndexFunc(key, unicode.IsSpace) >= 0:
		return invalid(field, "contains spaces or control characters")
	}
	return nil
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
}

func (r *legacyReply) has(member string) bool {
	switch member {
	case memberList:
		return r.List != nil
	case memberAPIKey:
		return r.APIKey != nil
	case memberValid:
		return r.Valid != nil
	}
	return true
}

// do sends a legacy call and decodes its reply, which must carry member.
// key is the key value the call is about ("" if none); it is masked in
// error messages like the credentials. For an idempotentDelete call whose
// retry finds the key gone after an unknown outcome it returns (nil, nil).
func (s *LegacyService) do(ctx context.Context, op operation, path string, body any, member, key string) (*legacyReply, error) {
	if s == nil || s.client == nil || s.client.legacy == nil {
		return nil, &opError{op: op.name, err: fmt.Errorf("%w (needs WithLegacy)", ErrNotConfigured)}
	}
	c, cfg := s.client, s.client.legacy
	r, err := c.newRequest(op, http.MethodPost, cfg.apiURL, body, path)
	if err != nil {
		return nil, err
	}
	if cfg.userKey != "" {
		r.header.Set(legacyAuthHeader, cfg.userKey)
	}
	if cfg.sessionCookie != "" {
		r.header.Set("Cookie", "feedhenry="+cfg.sessionCookie)
	}
	r.secrets = r.secrets.add(cfg.userKey, "****").add(cfg.sessionCookie, "****").add(key, maskKey(key))
	resp, st, err := c.send(ctx, r)
	if err != nil {
		capture(ctx, nil, st, "")
		return nil, err
	}
	capture(ctx, resp, st, "")
	rep, err := decodeLegacy(resp, c.maxResponseBytes, member, st.secrets)
	if err != nil {
		// nil, nil: an earlier attempt removed the key; its reply was lost.
		return nil, settle(st, err, isDecodeError(err))
	}
	return rep, nil
}

// decodeLegacy reads a legacy reply. A non-2xx reply, a "status":"error"
// body or a not-logged-in reply gives a *LegacyError; a 2xx body that is
// not the expected JSON gives a *DecodeError. Every body, message and
// excerpt kept has the call's credentials masked (sec).
func decodeLegacy(resp *http.Response, limit int64, member string, sec secrets) (*legacyReply, error) {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _, _ := readBody(resp, maxErrorBodyBytes)
		body = sec.body(body)
		var st legacyStatus
		msg := ""
		if json.Unmarshal(body, &st) == nil {
			msg = st.text()
		} else {
			// The short, secret-free excerpt a DecodeError shows of a non-JSON body.
			msg = newDecodeError(resp, body, nil).Excerpt
		}
		return nil, newLegacyError(resp, sec.text(msg))
	}
	body, tooBig, err := readBody(resp, limit)
	switch {
	case err != nil:
		return nil, newDecodeError(resp, sec.body(body), fmt.Errorf("reading body: %w", err))
	case tooBig:
		return nil, newDecodeError(resp, nil, fmt.Errorf("body exceeds %d bytes", limit))
	case len(bytes.TrimSpace(body)) == 0:
		return nil, newDecodeError(resp, nil, errors.New("empty body"))
	}
	var rep legacyReply
	if jerr := json.Unmarshal(body, &rep); jerr != nil {
		// A malformed payload member does not hide an error reply.
		if json.Unmarshal(body, &rep.legacyStatus) != nil || (rep.Status != "error" && !rep.loggedOut()) {
			return nil, newDecodeError(resp, sec.body(body), jerr)
		}
	}
	switch {
	case rep.Status == "ok":
	case rep.Status == "error":
		return nil, newLegacyError(resp, sec.text(rep.text()))
	case rep.Status == "" && rep.loggedOut():
		// Whatever its msg says, this shape means the user key or session
		// was not accepted: say so, so that it matches ErrUnauthorized.
		msg := sec.text(rep.text())
		if !notLoggedInMessage(msg) {
			msg = strings.TrimSuffix("not logged in: "+msg, ": ")
		}
		return nil, newLegacyError(resp, msg)
	case rep.Status == "":
		return nil, newDecodeError(resp, nil, errors.New("status is missing"))
	default:
		return nil, newDecodeError(resp, nil, fmt.Errorf("unknown status %q", serverText(rep.Status, 32)))
	}
	if !rep.has(member) {
		return nil, newDecodeError(resp, nil, fmt.Errorf("%s is missing", member))
	}
	return &rep, nil
}

// newLegacyError describes a legacy error reply.
func newLegacyError(resp *http.Response, msg string) *LegacyError {
	return &LegacyError{
		StatusCode: resp.StatusCode,
		Message:    serverText(msg, maxServerText),
		RequestID:  serverText(resp.Header.Get("X-FH-REQUEST-ID"), maxRequestIDText),
	}
}

// notLoggedInRE matches what legacy servers and their clients say when the
// user key or session is not accepted: "not logged in", fh-fhc's "check
// your login details", "login required", "session expired", "unauthorized".
var notLoggedInRE = regexp.MustCompile(`(?i)\bnot\s+logged\s+in\b|\bcheck\s+your\s+login\b|\blog\s*in\s+(?:is\s+)?required\b|\bsession\s+(?:has\s+)?expired\b|\bnot\s+authenticated\b|\bunauthori[sz]ed\b`)

// notLoggedInMessage reports whether a legacy error message says that the
// caller is not logged in.
func notLoggedInMessage(msg string) bool { return notLoggedInRE.MatchString(msg) }

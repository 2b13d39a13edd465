package apikeys

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/apikeys-go/apikeys/internal/mask"
)

// Key types of legacy keys. LegacyKey.KeyType is an open string: servers
// send other values too (e.g. "git_repo"), which are kept as they came.
const (
	KeyTypeUser = "user"
	KeyTypeApp  = "app"
)

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

	obj objectRef // for Raw
}

// Raw returns the JSON object the key was decoded from, members the SDK
// does not model included (a creation date some servers send, say); nil
// for a key not decoded from JSON. It holds the key value and the secret
// as the server sent them: handle it as you would Key and Secret, and
// print the LegacyKey, not Raw. It shares memory with the reply, as
// APIKey.Raw does: do not modify it, and know that a key kept from a List
// keeps the whole reply, the other keys' values and secrets included, in
// memory until it is dropped.
func (k LegacyKey) Raw() json.RawMessage { return k.obj.object() }

// IsRevoked reports whether the key has been revoked.
func (k LegacyKey) IsRevoked() bool { return k.Revoked != nil }

// UnmarshalJSON decodes a key leniently: unknown fields are ignored, and
// Revoked accepts the formats described on it. It keeps a copy of the
// object for Raw. As for any struct (and as APIKey and Environment do),
// null leaves k as it is, and so do the members b lacks and null strings
// for their fields; a null "revoked" makes the key active.
func (k *LegacyKey) UnmarshalJSON(b []byte) error {
	w := legacyKeyJSON{Label: k.Label, KeyType: k.KeyType, Key: k.Key, KeyReference: k.KeyReference,
		Secret: k.Secret, RevokedBy: k.RevokedBy, RevokedEmail: k.RevokedEmail}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	obj := ownObject(b)
	if obj.objs == nil { // null leaves k as it is
		return nil
	}
	revoked := k.Revoked
	*k = *w.key(obj)
	if w.Revoked == nil { // no "revoked" member ("revoked":null is "null")
		k.Revoked = revoked
	}
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

// key returns the LegacyKey of w (nil for nil: a null), whose object obj is.
func (w *legacyKeyJSON) key(obj objectRef) *LegacyKey {
	if w == nil {
		return nil
	}
	revoked, err := parseRevoked(w.Revoked)
	if err != nil {
		revoked = &time.Time{} // revoked, when unknown
	}
	return &LegacyKey{
		Label: w.Label, KeyType: w.KeyType, Key: w.Key, KeyReference: w.KeyReference, Secret: w.Secret,
		Revoked: revoked, RevokedBy: w.RevokedBy, RevokedEmail: w.RevokedEmail, obj: obj,
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
// shorter than 16 characters are masked fully (mask.Key). The rule is
// shared with the fake in apikeystest.
func maskKey(key string) string { return mask.Key(key) }

// maskSecret hides a secret value: "****", or "" when there is none (so
// an unset credential still shows as unset).
func maskSecret(s string) string {
	if s == "" {
		return ""
	}
	return "****"
}

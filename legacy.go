package apikeys

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
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
	return fmt.Sprintf("LegacyConfig{BaseURL: %s, Domain: %s, UserKey: %s, SessionCookie: %s}",
		c.BaseURL, c.Domain, maskSet(c.UserKey), maskSet(c.SessionCookie))
}

// GoString is like String, so %#v shows no credential either.
func (c LegacyConfig) GoString() string { return "apikeys." + c.String() }

// LogValue logs the configuration without its credentials.
func (c LegacyConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.BaseURL), slog.String("domain", c.Domain),
		slog.String("user_key", maskSet(c.UserKey)), slog.String("session_cookie", maskSet(c.SessionCookie)))
}

func maskSet(s string) string {
	if s == "" {
		return `""`
	}
	return "****"
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
	if hasControl(cfg.UserKey) || strings.ContainsAny(cfg.UserKey, " ;,") {
		return nil, invalid("LegacyConfig.UserKey", "contains spaces, separators or control characters")
	}
	if hasControl(cfg.SessionCookie) || strings.ContainsAny(cfg.SessionCookie, " ;,\"") {
		return nil, invalid("LegacyConfig.SessionCookie", "contains spaces, separators or control characters")
	}
	api := *base
	api.Path += "/box/srv/1.1/ide/" + cfg.Domain + "/api"
	api.RawPath = base.EscapedPath() + "/box/srv/1.1/ide/" + url.PathEscape(cfg.Domain) + "/api"
	return &legacyConfig{apiURL: &api, userKey: cfg.UserKey, sessionCookie: cfg.SessionCookie}, nil
}

// LegacyService manages legacy user and app API keys. Get it from
// Client.Legacy; its calls need WithLegacy.
type LegacyService struct {
	client *Client
}

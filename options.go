package apikeys

import (
	"log/slog"
	"net/http"
	"unicode/utf8"
)

// Option configures a Client. Options validate their arguments; NewClient
// returns the first error as a *ValidationError.
type Option func(*options) error

// options collects what the Option functions set, checked as a whole by NewClient.
type options struct {
	baseURL          string
	region           Region // "" when WithRegion is not given
	tokenURL         string
	tokens           TokenSource
	assertion        *clientAssertion
	legacy           *LegacyConfig
	httpClient       *http.Client
	retry            RetryPolicy
	logger           *slog.Logger
	userAgent        string
	insecureHTTP     bool
	maxResponseBytes int64
}

// optionError is a bad option: its Op is NewClient.
func optionError(field, format string, args ...any) error {
	return invalid("NewClient", field, format, args...)
}

// WithBaseURL sets the Platform base URL (default: the region's, see
// WithRegion), for one that is no region's: a proxy, a test server. It
// must be absolute https; plain http is accepted for loopback hosts, and
// for any host with WithInsecureHTTP. One region's base URL with another
// region's token URL or WithRegion is refused.
func WithBaseURL(rawURL string) Option {
	return func(o *options) error {
		if rawURL == "" {
			return optionError("WithBaseURL", "is empty")
		}
		o.baseURL = rawURL
		return nil
	}
}

// WithRegion sets the region (default US): the Platform base URL and the
// token URL of WithClientAssertion, which must go together.
func WithRegion(r Region) Option {
	return func(o *options) error {
		if err := r.check("NewClient", "WithRegion"); err != nil {
			return err
		}
		o.region = r.orUS()
		return nil
	}
}

// WithTokenURL sets the token endpoint of WithClientAssertion, for one
// that is no region's: a proxy, a test server. Without it the token URL
// is the region's: WithRegion's, else that of the region whose base URL
// WithBaseURL gave. It must be https; plain http is accepted as for
// WithBaseURL.
func WithTokenURL(rawURL string) Option {
	return func(o *options) error {
		if rawURL == "" {
			return optionError("WithTokenURL", "is empty")
		}
		o.tokenURL = rawURL
		return nil
	}
}

// clientAssertion is what WithClientAssertion checked.
type clientAssertion struct {
	clientID string
	key      *assertionKey
}

// WithClientAssertion authenticates Platform calls with access tokens got
// by signing client assertions (RFC 7523, private_key_jwt) with key for
// the API key clientID. NewClient builds the AssertionTokenSource on the
// Client's own HTTP client (one connection pool), retry policy and
// logger, with the token URL of WithTokenURL or the region; the Client's
// AssertionTokenSource method returns it, for SetKey. For a scope or a
// clock of your own, use NewTokenSource and WithTokenSource.
func WithClientAssertion(clientID string, key SigningKey) Option {
	return func(o *options) error {
		if problem := idProblem(clientID); problem != "" {
			return optionError("WithClientAssertion", "client ID %s", problem)
		}
		k, err := newAssertionKey("NewClient", "WithClientAssertion key", key)
		if err != nil {
			return err
		}
		if err := o.checkNoAuth("WithClientAssertion"); err != nil {
			return err
		}
		o.assertion = &clientAssertion{clientID: clientID, key: k}
		return nil
	}
}

// checkNoAuth refuses a second way to authenticate: which one should win
// is not something to decide by option order.
func (o *options) checkNoAuth(option string) error {
	if o.tokens != nil || o.assertion != nil {
		return optionError(option, "a token, token source or client assertion is already set; give only one")
	}
	return nil
}

// WithToken authenticates Platform calls with a fixed bearer token.
func WithToken(token string) Option {
	return func(o *options) error {
		if problem := accessTokenProblem(token); problem != "" {
			return optionError("WithToken", "token %s", problem)
		}
		if err := o.checkNoAuth("WithToken"); err != nil {
			return err
		}
		o.tokens = &staticTokenSource{token: &Token{AccessToken: token, TokenType: "Bearer"}}
		return nil
	}
}

// WithTokenSource authenticates Platform calls with tokens from ts, asked
// for before every attempt (see TokenSource). A nil ts, a nil
// TokenSourceFunc and an *AssertionTokenSource not made by NewTokenSource
// are refused.
func WithTokenSource(ts TokenSource) Option {
	return func(o *options) error {
		switch ts := ts.(type) {
		case nil:
			return optionError("WithTokenSource", "token source is nil")
		case TokenSourceFunc:
			if ts == nil {
				return optionError("WithTokenSource", "TokenSourceFunc is nil")
			}
		case *AssertionTokenSource:
			// Every call would fail: it has no key, no token URL.
			if ts == nil || ts.s == nil {
				return optionError("WithTokenSource", "AssertionTokenSource is not initialized: use NewTokenSource")
			}
		}
		if err := o.checkNoAuth("WithTokenSource"); err != nil {
			return err
		}
		o.tokens = ts
		return nil
	}
}

// WithHTTPClient sends requests with a copy of hc (its Transport, Jar and
// Timeout). hc itself is never modified. Without it each Client gets its
// own pooled transport, a clone of http.DefaultTransport that keeps up to
// 100 idle connections per host for concurrent callers.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error {
		if hc == nil {
			return optionError("WithHTTPClient", "client is nil")
		}
		o.httpClient = hc
		return nil
	}
}

// WithRetry replaces DefaultRetryPolicy(). The policy is checked: negative
// values, more than 100 retries or MaxWait under MinWait are refused.
func WithRetry(p RetryPolicy) Option {
	return func(o *options) error {
		if err := p.validate("WithRetry"); err != nil {
			return err
		}
		o.retry = p
		return nil
	}
}

// WithLogger logs at debug level each attempt (operation, method, URL
// as scheme, host and path, attempt number), each reply or failure
// (operation, attempt, duration, status, request ID, a failure's error
// text) and each retry decision (the wait, the error text). Headers,
// bodies, query strings and user info are never logged, and error text is
// masked as the errors themselves are. Without it the Client is silent.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return optionError("WithLogger", "logger is nil (omit the option for no logging)")
		}
		o.logger = l
		return nil
	}
}

// WithUserAgent appends ua to the User-Agent header "apikeys-go/<Version>".
func WithUserAgent(ua string) Option {
	return func(o *options) error {
		if ua == "" || hasControl(ua) || !utf8.ValidString(ua) {
			return optionError("WithUserAgent", "is empty, has control characters or is not valid UTF-8")
		}
		o.userAgent = ua
		return nil
	}
}

// WithInsecureHTTP allows plain http for non-loopback hosts (loopback
// hosts need no option) in the base URL, WithTokenURL and
// LegacyConfig.BaseURL, and plain http jwksURL values for any host (the
// Platform fetches those, so loopback is no exception). Use it only on
// trusted networks.
func WithInsecureHTTP() Option {
	return func(o *options) error {
		o.insecureHTTP = true
		return nil
	}
}

// WithMaxResponseBytes caps how much of a successful reply is read
// (default DefaultMaxResponseBytes). A larger reply fails with a *DecodeError.
func WithMaxResponseBytes(n int64) Option {
	return func(o *options) error {
		if n <= 0 {
			return optionError("WithMaxResponseBytes", "must be positive")
		}
		o.maxResponseBytes = n
		return nil
	}
}

// WithLegacy enables Client.Legacy with the given host, domain and credentials.
func WithLegacy(cfg LegacyConfig) Option {
	return func(o *options) error {
		o.legacy = &cfg
		return nil
	}
}

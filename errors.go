package apikeys

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Every SDK error has one shape: an Op naming the call that failed, and
// a message "apikeys: <op>: <what happened>" built from its fields. An
// error that wraps another SDK error shows the inner one's description
// (describe), never its whole message, so the prefix appears once.

// describer is implemented by every SDK error type: describe returns the
// message after "apikeys: <op>: ", and operation the Op.
type describer interface {
	error
	operation() string
	describe() string
}

// message builds an SDK error message from its op and description.
func message(op, text string) string {
	if op == "" {
		return "apikeys: " + text
	}
	return "apikeys: " + op + ": " + text
}

// cause describes err as part of the message of an error of op that
// wraps it: an SDK error by its description (and its own op when that is
// another call, such as the token request inside a Platform call), any
// other error by its message.
func cause(err error, op string) string {
	d, ok := err.(describer)
	switch {
	case err == nil:
		return "<nil>"
	case !ok:
		return err.Error()
	case d.operation() != "" && d.operation() != op:
		return d.operation() + ": " + d.describe()
	}
	return d.describe()
}

// Sentinel errors. Match them with errors.Is; an *APIError matches the
// sentinel for its HTTP status.
var (
	// ErrNotFound matches a 404 reply, and a legacy error reply saying that
	// the key is unknown.
	ErrNotFound = errors.New("apikeys: not found")
	// ErrUnauthorized matches a 401 reply, and a legacy reply saying that
	// the caller is not logged in: the token or user key is missing,
	// invalid or expired.
	ErrUnauthorized = errors.New("apikeys: unauthorized")
	// ErrForbidden matches a 403 reply: the caller lacks the role for the call.
	ErrForbidden = errors.New("apikeys: forbidden")
	// ErrConflict matches a 409 reply.
	ErrConflict = errors.New("apikeys: conflict")
	// ErrRateLimited matches a 429 reply.
	ErrRateLimited = errors.New("apikeys: rate limited")
	// ErrServer matches any 5xx reply.
	ErrServer = errors.New("apikeys: server error")
	// ErrUnsupportedVersion is returned when a Platform reply declares a
	// meta.version whose major version this SDK does not know.
	ErrUnsupportedVersion = errors.New("apikeys: unsupported payload version")
	// ErrNotConfigured is returned by a call whose API the Client was not
	// configured for (no token for Platform calls, no WithLegacy for legacy
	// calls). It is returned before any I/O.
	ErrNotConfigured = errors.New("apikeys: client not configured for this call")
)

// statusSentinel maps an HTTP status to the sentinel it matches.
func statusSentinel(status int) error {
	switch {
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusConflict:
		return ErrConflict
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 500 && status <= 599:
		return ErrServer
	}
	return nil
}

// API names the API an error reply came from.
type API string

// The APIs an *APIError comes from.
const (
	// PlatformAPI is the Platform API (APIKeys, Environments).
	PlatformAPI API = "Platform"
	// LegacyAPI is the legacy key API (Legacy). Its error replies include
	// {"status":"error"} bodies sent with HTTP 200.
	LegacyAPI API = "legacy"
	// JWKSHostAPI is a server hosting a JWK Set (FetchJWKS).
	JWKSHostAPI API = "JWKS host"
)

// APIError is the server saying no: a non-2xx reply of the Platform API
// or a JWKS host, or an error reply of the legacy API (a non-2xx reply, or
// a {"status":"error"} body, which the legacy API also sends with HTTP
// 200). Match it with one errors.As for both APIs, and its status with the
// sentinels (errors.Is).
type APIError struct {
	// Op names the call, e.g. "APIKeys.Get", "Legacy.List" or "FetchJWKS".
	Op string
	// API is the API that replied.
	API API
	// StatusCode is the reply's HTTP status, e.g. 404 (often 200 for the
	// legacy API).
	StatusCode int
	// Method is the request's HTTP method, e.g. "GET".
	Method string
	// URL is the request URL without query string or user info.
	URL string
	// Message is the server's explanation when the reply carried one:
	// "message", "error", "error_description" or "payload.message" of a
	// Platform reply; "message", or "msg" joined with "; ", of a legacy
	// reply; the start of a legacy markup page. The credentials the call
	// sent are masked in it, and it is filtered and capped.
	Message string
	// Body is the start of the raw reply body, at most 64 KiB, with the
	// credentials the call sent masked.
	Body []byte
	// Header is the reply's header, with the values of Set-Cookie,
	// Authorization, Cookie and X-FH-AUTH-USER masked, and the call's
	// credentials wherever they appear.
	Header http.Header
	// RequestID identifies the request for the API's support: the
	// X-FH-REQUEST-ID reply header of the legacy API; X-Request-Id,
	// X-Correlation-Id or X-Amzn-Trace-Id (the first present) of others.
	RequestID string
	// Attempts counts the HTTP attempts the call made, this reply's included.
	Attempts int
}

func (e *APIError) operation() string { return e.Op }

func (e *APIError) describe() string {
	var b strings.Builder
	if e.Method != "" || e.URL != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.URL)
	}
	if e.StatusCode >= 200 && e.StatusCode <= 299 {
		fmt.Fprintf(&b, "error reply (HTTP %d)", e.StatusCode) // the legacy API's 200 + "status":"error"
	} else {
		fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	b.WriteString(replyNote(e.RequestID, e.Attempts))
	return b.String()
}

// replyNote is what the message of an error about a reply ends with, for
// support: " (request ID <id>; after <n> attempts)", with the parts there
// are (the attempts when more than one), or "".
func replyNote(requestID string, attempts int) string {
	var parts []string
	if requestID != "" {
		parts = append(parts, "request ID "+requestID)
	}
	if attempts > 1 {
		parts = append(parts, fmt.Sprintf("after %d attempts", attempts))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// Error returns "apikeys: <op>: <method> <url>: <status> <status text>"
// ("error reply (HTTP <status>)" for a 2xx legacy error reply), followed by
// ": <message>" when the server gave one, and by the request ID and the
// number of attempts (when more than one) when there are. The body is not
// included.
func (e *APIError) Error() string { return message(e.Op, e.describe()) }

// Is reports whether the error matches one of the status sentinels
// (ErrNotFound, ErrUnauthorized, ErrForbidden, ErrConflict, ErrRateLimited,
// ErrServer). A legacy error reply whose status has no sentinel of its own
// (the legacy API answers errors with HTTP 200) matches by what it says:
// ErrNotFound when its message says that the key is unknown ("API key not
// found", in any case; "user not found" and other "not found" messages do
// not match), ErrUnauthorized when it says the caller is not logged in.
func (e *APIError) Is(target error) bool {
	if target == nil {
		return false
	}
	if s := statusSentinel(e.StatusCode); s != nil || e.API != LegacyAPI {
		return s == target
	}
	switch target {
	case ErrNotFound:
		return unknownKeyMessage(e.Message)
	case ErrUnauthorized:
		return notLoggedInMessage(e.Message)
	}
	return false
}

// requestIDHeaders are the reply headers, in order, that may identify a
// request for support, other than the legacy API's X-FH-REQUEST-ID.
var requestIDHeaders = []string{"X-Request-Id", "X-Correlation-Id", "X-Amzn-Trace-Id"}

// requestID reads the request ID of a reply from api.
func requestID(h http.Header, api API) string {
	if api == LegacyAPI {
		return serverText(h.Get("X-FH-REQUEST-ID"), maxRequestIDText)
	}
	for _, name := range requestIDHeaders {
		if v := h.Get(name); v != "" {
			return serverText(v, maxRequestIDText)
		}
	}
	return ""
}

// ValidationError reports bad input caught before any I/O: nothing was sent.
type ValidationError struct {
	// Op names the call or constructor, e.g. "APIKeys.Get" or "NewClient".
	Op string
	// Field names the argument, request field or option at fault.
	Field string
	// Reason says what is wrong with it. It never repeats a secret value.
	Reason string
}

func (e *ValidationError) operation() string { return e.Op }
func (e *ValidationError) describe() string  { return "invalid " + e.Field + ": " + e.Reason }

// Error returns "apikeys: <op>: invalid <field>: <reason>".
func (e *ValidationError) Error() string { return message(e.Op, e.describe()) }

// invalid returns a *ValidationError of op for field.
func invalid(op, field, format string, args ...any) *ValidationError {
	return &ValidationError{Op: op, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// DecodeError reports a 2xx reply whose body is not the JSON the call
// expects: an HTML page from a proxy, truncated JSON, an empty or oversized body.
type DecodeError struct {
	// Op names the call, e.g. "APIKeys.Get" or "token request".
	Op string
	// StatusCode is the reply's HTTP status (a 2xx).
	StatusCode int
	// ContentType is the reply's Content-Type header, filtered and capped;
	// empty when it had none.
	ContentType string
	// Excerpt is the start of a body that is a markup page (at most 64 printable
	// characters). It is empty for JSON bodies, which may hold secrets.
	Excerpt string
	// Err is the underlying cause.
	Err error
	// Header is the reply's header, with the values of Set-Cookie,
	// Authorization, Cookie and X-FH-AUTH-USER masked, and the call's
	// credentials wherever they appear.
	Header http.Header
	// RequestID identifies the request for the API's support (see
	// APIError.RequestID).
	RequestID string
	// Attempts counts the HTTP attempts the call made, this reply's included.
	Attempts int
}

func (e *DecodeError) operation() string { return e.Op }

func (e *DecodeError) describe() string {
	msg := fmt.Sprintf("decoding %d reply (%s): %s", e.StatusCode,
		serverText(e.ContentType, maxContentTypeText), serverText(cause(e.Err, e.Op), maxServerText))
	if e.Excerpt != "" {
		msg += fmt.Sprintf(" (body starts %q)", e.Excerpt)
	}
	return msg + replyNote(e.RequestID, e.Attempts)
}

// Error returns "apikeys: <op>: decoding <status> reply (<content type>):
// <cause>", followed by the excerpt when there is one. Text that came from
// the server is filtered and capped, as everywhere (see serverText).
func (e *DecodeError) Error() string { return message(e.Op, e.describe()) }

// Unwrap returns Err, so errors.Is and errors.As see the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

func isDecodeError(err error) bool {
	if err == nil {
		return false // without the allocation of errors.As
	}
	var de *DecodeError
	return errors.As(err, &de)
}

// AmbiguousError reports that a call which must not be repeated (a create)
// failed after its request may have reached the server: it may or may not
// have taken effect. The SDK does not retry it, because a second create
// could make a duplicate (or, for a legacy app key, revoke the first key).
// Reconcile instead, e.g. by listing keys and looking for the name or label.
type AmbiguousError struct {
	// Op names the call, e.g. "APIKeys.Create".
	Op string
	// Err is the failure seen: a transport error, a 5xx *APIError, a context error.
	Err error
}

func (e *AmbiguousError) operation() string { return e.Op }

func (e *AmbiguousError) describe() string {
	return "outcome unknown, the request may have been applied (not retried): " + cause(e.Err, e.Op)
}

// Error returns "apikeys: <op>: outcome unknown, ...: <the failure seen>".
func (e *AmbiguousError) Error() string { return message(e.Op, e.describe()) }

// Unwrap returns Err, so errors.Is and errors.As see the failure (for
// example ErrServer, or a *TransportError).
func (e *AmbiguousError) Unwrap() error { return e.Err }

// IsAmbiguous reports whether err says a non-repeatable call may or may not
// have been applied by the server.
func IsAmbiguous(err error) bool {
	var ae *AmbiguousError
	return errors.As(err, &ae)
}

// IsRetryable reports whether err is worth retrying later by the caller:
// a reply with status 408, 429 or 5xx, or a transport failure (a timeout
// included). It is false for ambiguous outcomes (reconcile those first),
// bad input and the caller's context ending.
func IsRetryable(err error) bool {
	if err == nil || IsAmbiguous(err) {
		return false
	}
	var ve *ValidationError
	var ae *APIError
	var tke *TokenError
	var te *TransportError
	switch {
	case errors.As(err, &ve):
		return false
	case errors.As(err, &ae):
		return retryableStatus(ae.StatusCode)
	case errors.As(err, &tke):
		return retryableStatus(tke.StatusCode)
	case errors.As(err, &te):
		return retryableTransportError(te.Err)
	}
	return false // a context end, a caller's token source failing
}

// TransportError is a failure to get any HTTP reply: connection refused or
// reset, timeout, TLS failure.
type TransportError struct {
	// Op names the call, e.g. "APIKeys.Get", "token request" or "FetchJWKS".
	Op string
	// Err is the failure from net/http, usually a *url.Error (which names
	// the method and URL, never the body or headers).
	Err error
	// Attempts counts the HTTP attempts the call made, this one included.
	Attempts int
}

func (e *TransportError) operation() string { return e.Op }

func (e *TransportError) describe() string {
	return serverText(cause(e.Err, e.Op), maxServerText) + replyNote("", e.Attempts)
}

// Error returns "apikeys: <op>: <the failure>", followed by the number of
// attempts when there was more than one. The failure's text is filtered
// and capped (see serverText): net/http quotes what a server sent, a
// malformed status line for one.
func (e *TransportError) Error() string { return message(e.Op, e.describe()) }

// Unwrap returns Err, so errors.Is and errors.As see the cause (for
// example a *net.OpError or context.DeadlineExceeded).
func (e *TransportError) Unwrap() error { return e.Err }

// newTransportError wraps a failure to get a reply (see redactURLError).
func newTransportError(op string, err error) *TransportError {
	return &TransportError{Op: op, Err: redactURLError(err)}
}

// redactURLError drops, in place, the query and user info of the URL that
// a *url.Error in err quotes: they may hold secrets (a pre-signed URL's
// signature, a redirect's). It returns err.
func redactURLError(err error) error {
	if err == nil {
		return nil // before ue, which escapes to the heap: no allocation per reply
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			ue.URL = redactURL(u)
		} else {
			ue.URL = ""
		}
	}
	return err
}

// timeoutError is the SDK's own time limit on a call passing (the token
// fetch's TokenConfig.Timeout, FetchJWKS's FetchTimeout): a transport
// failure, retryable, and unlike the caller's deadline not
// context.DeadlineExceeded. Timeout reports true, as for net.Error.
type timeoutError struct {
	what string // e.g. "the token endpoint"
	d    time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("%s did not answer within %s", e.what, e.d)
}

// Timeout reports true: the error is a timeout.
func (e *timeoutError) Timeout() bool { return true }

// Temporary reports true: another attempt may succeed.
func (e *timeoutError) Temporary() bool { return true }

// TokenError is an error reply from the OAuth token endpoint (RFC 6749
// section 5.2).
type TokenError struct {
	// Op is "token request".
	Op string
	// StatusCode is the token endpoint's HTTP status, e.g. 400 or 401.
	StatusCode int
	// Code is the "error" member, e.g. "invalid_request" or "invalid_client".
	Code string
	// Description is "error_description"; the server often leaves it blank.
	Description string
	// URI is "error_uri".
	URI string
	// Header is the reply's header, with the values of Set-Cookie,
	// Authorization, Cookie and X-FH-AUTH-USER masked, and the call's
	// credentials wherever they appear.
	Header http.Header
	// RequestID identifies the request for the token endpoint's support
	// (X-Request-Id, X-Correlation-Id or X-Amzn-Trace-Id, the first present).
	RequestID string
	// Attempts counts the token requests the fetch made, this reply's included.
	Attempts int
}

func (e *TokenError) operation() string { return e.Op }

func (e *TokenError) describe() string {
	msg := fmt.Sprintf("token endpoint: %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg + replyNote(e.RequestID, e.Attempts)
}

// Error returns "apikeys: token request: token endpoint: <status> <status
// text>", followed by the code and description when the reply had them,
// and by the request ID and the number of attempts (when more than one).
func (e *TokenError) Error() string { return message(e.Op, e.describe()) }

// Is matches the status sentinels, like APIError.Is.
func (e *TokenError) Is(target error) bool {
	return target != nil && statusSentinel(e.StatusCode) == target
}

// opError is an error of op that is not one of the SDK's types: the
// caller's context ending, a caller's token source failing, a call on an
// API the client is not configured for. It names op and, when set, what
// the call was doing.
type opError struct {
	op   string
	what string // e.g. "getting access token"; may be empty
	err  error
}

func (e *opError) operation() string { return e.op }

func (e *opError) describe() string {
	if e.what == "" {
		return cause(e.err, e.op)
	}
	return e.what + ": " + cause(e.err, e.op)
}

func (e *opError) Error() string { return message(e.op, e.describe()) }

func (e *opError) Unwrap() error { return e.err }

// sentinelError is a sentinel with detail: errors.Is matches the sentinel,
// and its message is the detail alone, without the sentinel's "apikeys: ",
// for the message of the SDK error that wraps it.
type sentinelError struct {
	sentinel error
	detail   string
}

func (e *sentinelError) Error() string { return e.detail }

func (e *sentinelError) Unwrap() error { return e.sentinel }

// Caps, in runes, on text from outside the SDK that reaches an error string.
const (
	maxServerText      = 512 // messages, descriptions, transport failures
	maxContentTypeText = 128
	maxRequestIDText   = 128
)

// serverText is text from outside the SDK (a reply's message or header, a
// transport failure quoting a status line) made fit for an error string:
// runes that are not printable (controls, U+2028, U+202E, invalid UTF-8)
// become spaces, and it is cut to n runes.
func serverText(s string, n int) string { return excerpt([]byte(s), n) }

// excerpt returns up to n printable runes of b, for error messages.
func excerpt(b []byte, n int) string {
	var sb strings.Builder
	for len(b) > 0 && n > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			r = ' '
		}
		sb.WriteRune(r)
		n--
	}
	return strings.TrimSpace(sb.String())
}

package apikeys

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// errPrefix starts every error message of the SDK, exactly once. The SDK's
// error types add it themselves. One that shows the message of an error it
// wraps drops that message's own prefix first (see detail), and no wrapper
// adds the prefix in front of an SDK error's message.
const errPrefix = "apikeys: "

// detail returns err's message without its leading errPrefix, and without
// a leading "op: " when op is the operation the caller names already.
func detail(err error, op string) string {
	if err == nil {
		return "<nil>"
	}
	s := strings.TrimPrefix(err.Error(), errPrefix)
	if op != "" {
		s = strings.TrimPrefix(s, op+": ")
	}
	return s
}

// opError names the operation an error happened in: its message is
// "apikeys: <op>: [<what>: ]<err's message without its prefix>".
type opError struct {
	op   string
	what string // what the operation was doing, e.g. "getting access token"; may be empty
	err  error
}

func (e *opError) Error() string {
	msg := errPrefix + e.op + ": "
	if e.what != "" {
		msg += e.what + ": "
	}
	return msg + detail(e.err, e.op)
}

func (e *opError) Unwrap() error { return e.err }

// Sentinel errors. Match them with errors.Is; an *APIError or *LegacyError
// matches the sentinel for its HTTP status.
var (
	// ErrNotFound matches a 404 reply.
	ErrNotFound = errors.New("apikeys: not found")
	// ErrUnauthorized matches a 401 reply: the token or user key is missing, invalid or expired.
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

// APIError is a non-2xx reply from the Platform API.
type APIError struct {
	// StatusCode is the reply's HTTP status, e.g. 404.
	StatusCode int
	// Method is the request's HTTP method, e.g. "GET".
	Method string
	// URL is the request URL without query string or user info.
	URL string
	// Message is the server's explanation when the body carried one
	// (message, error, error_description or payload.message).
	Message string
	// Body is the start of the raw reply body, at most 64 KiB.
	Body []byte
	// Header is the reply's header.
	Header http.Header
}

// Error returns "apikeys: <method> <url>: <status> <status text>", followed
// by ": <message>" when the server gave one. The body is not included.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "apikeys: %s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is reports whether the error matches one of the status sentinels
// (ErrNotFound, ErrUnauthorized, ErrForbidden, ErrConflict, ErrRateLimited, ErrServer).
func (e *APIError) Is(target error) bool {
	return target != nil && statusSentinel(e.StatusCode) == target
}

// ValidationError reports bad input caught before any I/O: nothing was sent.
type ValidationError struct {
	// Field names the argument, request field or option at fault.
	Field string
	// Reason says what is wrong with it. It never repeats a secret value.
	Reason string
}

// Error returns "apikeys: invalid <field>: <reason>".
func (e *ValidationError) Error() string {
	return "apikeys: invalid " + e.Field + ": " + e.Reason
}

func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// DecodeError reports a 2xx reply whose body is not the JSON the call
// expects: an HTML page from a proxy, truncated JSON, an empty or oversized body.
type DecodeError struct {
	// StatusCode is the reply's HTTP status (a 2xx).
	StatusCode int
	// ContentType is the reply's Content-Type header; empty when it had none.
	ContentType string
	// Excerpt is the start of a body that is a markup page (at most 64 printable
	// characters). It is empty for JSON bodies, which may hold secrets.
	Excerpt string
	// Err is the underlying cause.
	Err error
}

// Error returns "apikeys: decoding <status> reply (<content type>): <cause>",
// followed by the excerpt when there is one. Text that came from the server
// is filtered and capped, as everywhere (see serverText).
func (e *DecodeError) Error() string {
	msg := fmt.Sprintf("apikeys: decoding %d reply (%s): %s", e.StatusCode,
		serverText(e.ContentType, maxContentTypeText), serverText(detail(e.Err, ""), maxServerText))
	if e.Excerpt != "" {
		msg += fmt.Sprintf(" (body starts %q)", e.Excerpt)
	}
	return msg
}

// Unwrap returns Err, so errors.Is and errors.As see the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

func isDecodeError(err error) bool {
	var de *DecodeError
	return errors.As(err, &de)
}

// newDecodeError describes a reply body that could not be decoded. It
// quotes the start of the body only when that is a markup page (a proxy's
// or login page's HTML), never when the body is or holds anything else:
// replies to token and legacy calls carry secrets in any shape (JSON, a
// form, text), and a JSON-like body may be one of them cut short.
func newDecodeError(resp *http.Response, body []byte, err error) *DecodeError {
	ct := resp.Header.Get("Content-Type")
	de := &DecodeError{StatusCode: resp.StatusCode, ContentType: serverText(ct, maxContentTypeText), Err: err}
	body = bytes.TrimLeft(bytes.TrimPrefix(bytes.TrimSpace(body), []byte("\uFEFF")), " \t\r\n")
	if !strings.Contains(ct, "json") && len(body) > 0 && body[0] == '<' {
		de.Excerpt = excerpt(body, 64)
	}
	return de
}

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

// Error returns "apikeys: <op>: outcome unknown, ...: <the failure seen>".
func (e *AmbiguousError) Error() string {
	return errPrefix + e.Op + ": outcome unknown, the request may have been applied (not retried): " + detail(e.Err, e.Op)
}

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
	if errors.As(err, &ve) || errors.Is(err, errContextEnded) {
		return false
	}
	var ae *APIError
	var le *LegacyError
	var tke *TokenError
	var te *TransportError
	switch {
	case errors.As(err, &ae):
		return retryableStatus(ae.StatusCode)
	case errors.As(err, &le):
		return retryableStatus(le.StatusCode)
	case errors.As(err, &tke):
		return retryableStatus(tke.StatusCode)
	case errors.As(err, &te):
		return retryableTransportError(te.Err)
	}
	return false
}

// TransportError is a failure to get any HTTP reply: connection refused or
// reset, timeout, TLS failure.
type TransportError struct {
	// Op names the call, e.g. "APIKeys.Get", "token request" or "FetchJWKS".
	Op string
	// Err is the failure from net/http, usually a *url.Error (which names
	// the method and URL, never the body or headers).
	Err error
}

// Error returns "apikeys: <op>: <the failure>". The failure's text is
// filtered and capped (see serverText): net/http quotes what a server sent,
// a malformed status line for one.
func (e *TransportError) Error() string {
	return errPrefix + e.Op + ": " + serverText(detail(e.Err, e.Op), maxServerText)
}

// newTransportError wraps a failure to get a reply. A *url.Error in it
// quotes the request URL: its query and user info, which may hold secrets
// (a pre-signed URL's signature), are dropped.
func newTransportError(op string, err error) *TransportError {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			ue.URL = redactURL(u)
		} else {
			ue.URL = ""
		}
	}
	return &TransportError{Op: op, Err: err}
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

// Unwrap returns Err, so errors.Is and errors.As see the cause (for
// example a *net.OpError or context.DeadlineExceeded).
func (e *TransportError) Unwrap() error { return e.Err }

// errContextEnded marks errors caused by the caller's context ending.
var errContextEnded = errors.New("apikeys: context ended")

// contextError wraps ctx.Err() so that errors.Is matches both it and the cause.
type contextError struct {
	op  string
	err error
}

func (e *contextError) Error() string { return errPrefix + e.op + ": " + detail(e.err, e.op) }

func (e *contextError) Unwrap() []error { return []error{e.err, errContextEnded} }

// TokenError is an error reply from the OAuth token endpoint (RFC 6749
// section 5.2).
type TokenError struct {
	// StatusCode is the token endpoint's HTTP status, e.g. 400 or 401.
	StatusCode int
	// Code is the "error" member, e.g. "invalid_request" or "invalid_client".
	Code string
	// Description is "error_description"; the server often leaves it blank.
	Description string
	// URI is "error_uri".
	URI string
}

// Error returns "apikeys: token endpoint: <status> <status text>",
// followed by the code and description when the reply had them.
func (e *TokenError) Error() string {
	msg := fmt.Sprintf("apikeys: token endpoint: %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// Is matches the status sentinels, like APIError.Is.
func (e *TokenError) Is(target error) bool {
	return target != nil && statusSentinel(e.StatusCode) == target
}

// LegacyError is an error reply from the legacy key API: a non-2xx reply,
// or a {"status":"error"} body, which the legacy API also sends with HTTP 200.
type LegacyError struct {
	// StatusCode is the HTTP status of the reply (often 200).
	StatusCode int
	// Message is the server's explanation ("message", or "msg" joined with
	// "; "), or the start of a body that is not JSON. Credentials and the
	// key value the call was about are masked in it.
	Message string
	// RequestID is the X-FH-REQUEST-ID reply header, for support requests.
	RequestID string
}

// Error returns "apikeys: legacy API error (HTTP <status>)", followed by
// the message and the request ID when there are any.
func (e *LegacyError) Error() string {
	msg := fmt.Sprintf("apikeys: legacy API error (HTTP %d)", e.StatusCode)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.RequestID != "" {
		msg += " [request ID " + e.RequestID + "]"
	}
	return msg
}

// Is matches the status sentinels, like APIError.Is. A reply whose status
// has no sentinel of its own (the legacy API answers errors with HTTP 200)
// matches by what it says: ErrNotFound when its message says that the key
// is unknown ("API key not found", in any case; other "not found" messages
// such as "user not found" do not match), and ErrUnauthorized when it says
// the caller is not logged in.
func (e *LegacyError) Is(target error) bool {
	if target == nil {
		return false
	}
	if s := statusSentinel(e.StatusCode); s != nil {
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

// unknownKeyRE matches the legacy API's message for an unknown key, "API
// key not found", and its close variants: "Key not found", "apiKey not
// found", "API key was not found", optionally followed by detail
// ("API key not found: 4a23…ec9e").
var unknownKeyRE = regexp.MustCompile(`(?i)^(?:the\s+)?(?:api[\s_-]?)?key\s+(?:was\s+|is\s+)?not\s+found(?:$|[\s.:,!(])`)

// unknownKeyMessage reports whether a legacy error message (or one of the
// "; "-joined parts of a "msg" array) says that the key the call was about
// does not exist.
func unknownKeyMessage(msg string) bool {
	for part := range strings.SplitSeq(msg, "; ") {
		if unknownKeyRE.MatchString(strings.TrimSpace(part)) {
			return true
		}
	}
	return false
}

// keyGone reports whether err is the API's own answer that the key a
// delete is about does not exist, which after an attempt with an unknown
// outcome means that attempt deleted it. One rule for both APIs: a 404, or
// a legacy error reply whose status has no sentinel of its own (the legacy
// API answers errors with HTTP 200), whose JSON message says that the key
// is not found (unknownKeyMessage). A reply
// that says nothing (an empty body, Go's text/plain "404 page not found",
// a proxy's HTML page, JSON with no message) or names something else
// ("domain not found", "environment not found") proves nothing, and the
// delete fails with it.
func keyGone(err error) bool {
	var ae *APIError
	var le *LegacyError
	switch {
	case errors.As(err, &ae):
		return ae.StatusCode == http.StatusNotFound && unknownKeyMessage(ae.Message)
	case errors.As(err, &le):
		return (le.StatusCode == http.StatusNotFound || statusSentinel(le.StatusCode) == nil) && unknownKeyMessage(le.Message)
	}
	return false
}

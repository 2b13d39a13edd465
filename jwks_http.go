package apikeys

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"
)

// maxJWKSBytes caps a fetched JWKS document.
const maxJWKSBytes = 1 << 20

// FetchOption configures FetchJWKS. Options validate their arguments:
// FetchJWKS returns the first error, a *ValidationError, before any I/O.
type FetchOption func(*fetchOptions) error

// fetchOptions collects what the FetchOption functions set.
type fetchOptions struct {
	httpClient       *http.Client
	insecureLoopback bool
	timeout          time.Duration
}

// DefaultFetchTimeout bounds a FetchJWKS call, the reply's body included,
// unless FetchTimeout says otherwise.
const DefaultFetchTimeout = 30 * time.Second

// FetchTimeout bounds FetchJWKS (default DefaultFetchTimeout): when d
// passes, it fails with a retryable *TransportError saying the JWKS host
// timed out. The caller's context still ends the call sooner, with the
// context's error. d must be positive.
func FetchTimeout(d time.Duration) FetchOption {
	return func(o *fetchOptions) error {
		if d <= 0 {
			return invalid("FetchJWKS", "FetchTimeout", "must be positive")
		}
		o.timeout = d
		return nil
	}
}

// FetchHTTPClient makes FetchJWKS send its request with a copy of hc (its
// Transport, Jar and Timeout; the SDK's redirect checks are added to the
// copy). hc itself is never modified; a nil hc is a *ValidationError.
// Without this option FetchJWKS uses http.DefaultTransport.
func FetchHTTPClient(hc *http.Client) FetchOption {
	return func(o *fetchOptions) error {
		if hc == nil {
			return invalid("FetchJWKS", "FetchHTTPClient", "client is nil")
		}
		o.httpClient = hc
		return nil
	}
}

// FetchInsecureLoopbackHTTP lets FetchJWKS use a plain http:// URL whose
// host is a loopback address or "localhost", e.g. an httptest server in
// tests. Plain http to any other host is always refused, as a URL or as a
// redirect target.
func FetchInsecureLoopbackHTTP() FetchOption {
	return func(o *fetchOptions) error {
		o.insecureLoopback = true
		return nil
	}
}

// errPlainHTTPRedirect refuses a FetchJWKS redirect to plain http on a
// host that is not loopback. It reaches callers inside a *TransportError.
var errPlainHTTPRedirect = errors.New("refusing redirect to plain http on a non-loopback host")

// FetchJWKS downloads the JWK Set at rawURL, e.g. to check that a hosted
// JWKS holds the kid a SigningKey signs with. rawURL must be https; plain
// http is accepted only for a loopback host and only with
// FetchInsecureLoopbackHTTP (so tests can use httptest). Redirects from
// https to http, and to plain http on a non-loopback host, are refused.
// The reply must be 2xx with a JSON content type (application/json,
// application/jwk-set+json or any +json type) and at most 1 MiB. Keys of
// unknown types are kept as they are; the set is not validated (call
// Validate for that).
//
// The call is bounded by DefaultFetchTimeout (30 s) even when ctx has no
// deadline; FetchTimeout changes the bound.
//
// Errors: *ValidationError for a bad URL or option (nothing is sent),
// *TransportError (its URL without query or user info, which may hold
// secrets; a timeout when the bound passes), *APIError for a non-2xx
// reply, *DecodeError for a body that is not a JWK Set, and the context's
// error (errors.Is-able) when ctx ends.
func FetchJWKS(ctx context.Context, rawURL string, opts ...FetchOption) (*JWKSet, error) {
	op := opFetchJWKS.name
	if ctx == nil {
		return nil, invalid(op, "ctx", "is nil")
	}
	o := fetchOptions{timeout: DefaultFetchTimeout}
	for _, opt := range opts {
		if opt == nil {
			return nil, invalid(op, "FetchOption", "is nil")
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	u, err := checkURL(op, "jwksURL", rawURL, true) // the scheme is checked below
	if err != nil {
		return nil, err
	}
	if u.Scheme == "http" {
		switch {
		case !isLoopback(u.Hostname()):
			return nil, invalid(op, "jwksURL", "must use https (plain http only for loopback hosts, with FetchInsecureLoopbackHTTP)")
		case !o.insecureLoopback:
			return nil, invalid(op, "jwksURL", "must use https (plain http to a loopback host needs FetchInsecureLoopbackHTTP)")
		}
	}
	if u.Fragment != "" {
		return nil, invalid(op, "jwksURL", "must not have a fragment")
	}
	// copyHTTPClient would fill a nil Transport with a new clone of
	// http.DefaultTransport, right for a Client made once but not for a
	// call: each FetchJWKS would get its own connection pool. So a nil
	// Transport is http.DefaultTransport itself here, as documented and
	// as net/http does.
	hc := copyHTTPClient(copyWithDefaultTransport(o.httpClient))
	next := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := next(req, via); err != nil {
			return err
		}
		if req.URL.Scheme != "https" && !isLoopback(req.URL.Hostname()) {
			return errPlainHTTPRedirect
		}
		return nil
	}
	callerCtx := ctx
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	r := &request{op: opFetchJWKS, api: JWKSHostAPI, method: http.MethodGet, url: u, header: http.Header{}}
	r.header.Set("Accept", "application/jwk-set+json, application/json")
	r.header.Set("User-Agent", "apikeys-go/"+Version)
	var set *JWKSet
	// One attempt: FetchJWKS is not retried.
	err = newSender(hc, RetryPolicy{}, maxJWKSBytes, "").do(ctx, r, func(resp *http.Response, c *call) (err error) {
		set, err = readJWKS(resp, c)
		return err
	})
	if err != nil && ctx.Err() != nil && callerCtx.Err() == nil {
		// FetchJWKS's own bound ended it: a retryable timeout, not the
		// caller's deadline.
		return nil, &TransportError{Op: op, Err: &timeoutError{what: "the JWKS host", d: o.timeout}}
	}
	return set, err
}

// opFetchJWKS is FetchJWKS: a read.
var opFetchJWKS = operation{"FetchJWKS", idempotent}

// readJWKS reads a JWKS host's reply: a non-2xx reply is an *APIError;
// a 2xx reply must be a JSON JWK Set, else it is a *DecodeError.
func readJWKS(resp *http.Response, c *call) (*JWKSet, error) {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body := c.errorBody(resp)
		return nil, c.apiError(resp, JWKSHostAPI, body, errorMessage(body))
	}
	body, err := c.readSuccess(resp, maxJWKSBytes)
	if err != nil {
		return nil, err
	}
	if !isJSONContentType(resp.Header.Get("Content-Type")) {
		return nil, c.decodeError(resp, body, errors.New("content type is not JSON"))
	}
	var doc struct {
		Keys *[]JWK `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, c.decodeError(resp, body, err)
	}
	if doc.Keys == nil {
		return nil, c.decodeError(resp, nil, errors.New(`"keys" member is missing`))
	}
	return &JWKSet{Keys: *doc.Keys}, nil
}

// isJSONContentType accepts application/json, application/jwk-set+json and
// any other +json media type.
func isJSONContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

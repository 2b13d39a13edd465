package apikeys

import (
	"io"
	"net/http"
)

// Transport is an http.RoundTripper that authenticates each request with
// an access token from Source ("Authorization: Bearer <token>"), to call
// other APIs with the tokens of an API key: Redox's FHIR and Data Model
// APIs take the same token as the Platform API.
//
// When the server answers 401 and Source is a TokenInvalidator (as
// AssertionTokenSource is), Transport drops the token and sends the
// request once more with a new one, if the request can be sent again: it
// has no body, or GetBody (which http.NewRequest sets for the usual body
// types). A 401 means the server refused the request unread, so sending
// it again cannot apply it twice.
//
// The request given to RoundTrip is not modified; a clone carries the
// header. A redirect that leaves the host of the first request (or goes
// from https to http) is sent without a token: http.Client drops an
// Authorization header it was given on such a redirect, but it cannot
// know of one that a RoundTripper adds.
type Transport struct {
	// Source supplies the tokens. It is required.
	Source TokenSource
	// Base sends the requests (default http.DefaultTransport).
	Base http.RoundTripper
}

// maxDrainBytes is how much of a 401 body is read so that its connection
// can be reused.
const maxDrainBytes = 4 << 10

// RoundTrip sends req with a token, and once more with a new token after
// a 401 (see Transport). An error getting a token wraps the source's
// error (a *TokenError, say: errors.As finds it).
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Source == nil {
		closeBody(req)
		return nil, invalid("Transport.RoundTrip", "Transport.Source", "is nil")
	}
	if redirectedAway(req) {
		return t.base().RoundTrip(req)
	}
	tok, err := t.token(req)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.send(req, req.Body, tok)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	inv, ok := t.Source.(TokenInvalidator)
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	if !ok || !replayable {
		return resp, nil
	}
	inv.Invalidate(tok)
	fresh, err := t.token(req)
	if err != nil || fresh.AccessToken == tok.AccessToken {
		return resp, nil // the 401 is the better answer than a token failure
	}
	body := req.Body
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
	resp.Body.Close()
	return t.send(req, body, fresh)
}

// token gets a token from Source for req.
func (t *Transport) token(req *http.Request) (*Token, error) {
	tok, err := tokenFrom(req.Context(), t.Source)
	if err != nil {
		return nil, &opError{op: "Transport.RoundTrip", what: "getting access token", err: err}
	}
	return tok, nil
}

// send sends a clone of req with body and tok's bearer header.
func (t *Transport) send(req *http.Request, body io.ReadCloser, tok *Token) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Body = body
	if r.Header == nil { // http.Client fills it in; a caller of RoundTrip may not
		r.Header = make(http.Header, 1)
	}
	r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return t.base().RoundTrip(r)
}

func (t *Transport) base() http.RoundTripper {
	if t.Base == nil {
		return http.DefaultTransport
	}
	return t.Base
}

// redirectedAway reports whether req is a redirect to another host than
// that of the request it started from, or from https to http.
func redirectedAway(req *http.Request) bool {
	first := req
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	return first != req && (!sameHost(req.URL, first.URL) ||
		(first.URL.Scheme == "https" && req.URL.Scheme != "https"))
}

// closeBody closes the body of a request that will not be sent, as a
// RoundTripper must.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

package apikeys

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// copyWithDefaultTransport returns a copy of hc (a new client for nil)
// whose nil Transport is http.DefaultTransport itself, as net/http uses
// it: for calls that do not own a connection pool of their own.
func copyWithDefaultTransport(hc *http.Client) *http.Client {
	var cp http.Client
	if hc != nil {
		cp = *hc
	}
	if cp.Transport == nil {
		cp.Transport = http.DefaultTransport
	}
	return &cp
}

// copyHTTPClient returns pooledCopy(hc) with the redirect policy added.
func copyHTTPClient(hc *http.Client) *http.Client {
	cp := pooledCopy(hc)
	next := cp.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := checkRedirect(req, via); err != nil {
			return err
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errTooManyRedirects
		}
		return nil
	}
	return cp
}

// pooledCopy copies hc (a new client for nil) so the caller's client is
// never modified, gives it a private pooled transport when it has none,
// and hides the CloseIdleConnections of a transport it was given
// (keepIdle).
func pooledCopy(hc *http.Client) *http.Client {
	var cp http.Client
	if hc != nil {
		cp = *hc
	}
	if cp.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// A Client talks to one or two hosts: let one host keep as many
		// idle connections as the pool holds (100), not net/http's
		// default 2, so more than 2 concurrent calls reuse connections
		// instead of opening (and TLS-handshaking) new ones.
		t.MaxIdleConnsPerHost = t.MaxIdleConns
		cp.Transport = t
	} else {
		cp.Transport = keepIdle{cp.Transport}
	}
	return &cp
}

// keepIdle is a transport without CloseIdleConnections.
// go-retryablehttp calls its http.Client's CloseIdleConnections after every
// failed call. On the SDK's private pool that is its own business; on a
// transport it was given it would drop the idle connections of a pool the
// SDK does not own: the caller's, or http.DefaultTransport's and so those
// of every client in the process.
type keepIdle struct{ http.RoundTripper }

var (
	// These reach callers inside a *url.Error inside a *TransportError,
	// which adds the "apikeys: " prefix.
	errInsecureRedirect = errors.New("refusing redirect from https to http")
	errTooManyRedirects = errors.New("stopped after 10 redirects")
	errBodyRedirect     = errors.New("refusing to send the request body to another host on redirect")
)

// checkRedirect refuses https -> http downgrades, and a redirect that would
// take a request body to another host (a 307 or 308 re-sends it; a legacy
// body holds a key value, itself a credential), and strips credentials
// before following any other redirect to another host. net/http strips
// Authorization and Cookie itself, but not X-FH-AUTH-USER.
func checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0]
	if first.URL.Scheme == "https" && req.URL.Scheme != "https" {
		return errInsecureRedirect
	}
	if !sameHost(req.URL, first.URL) {
		if req.Body != nil && req.Body != http.NoBody {
			return errBodyRedirect
		}
		for _, h := range []string{"Authorization", legacyAuthHeader, "Cookie"} {
			req.Header.Del(h)
		}
	}
	return nil
}

// sameHost reports whether a and b are the same host and port: the one
// rule of the Client's and Transport's redirect checks. Host names compare
// case-insensitively, as DNS does.
func sameHost(a, b *url.URL) bool { return strings.EqualFold(a.Host, b.Host) }

package apikeys

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// bufferBody is the retryablehttp response handler, called for the reply
// that ends the retries. It reads a 2xx body (one byte past the cap, so
// readBody can tell an over-long one) while a reply that breaks off midway
// can still be retried, as the transport failure it is, when the call is
// safe to repeat.
func (c *call) bufferBody(resp *http.Response) error {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil
	}
	b, err := readPastLimit(resp, c.s.maxResponseBytes)
	resp.Body.Close()
	bb := &bufferedBody{b: b}
	bb.Reset(b)
	resp.Body = bb
	if err != nil {
		return fmt.Errorf("reading reply body: %w", err)
	}
	return nil
}

// bufferedBody is a reply body read in full by bufferBody.
type bufferedBody struct {
	bytes.Reader
	b []byte
}

func (*bufferedBody) Close() error { return nil }

// readBody reads at most limit bytes of the reply body and closes it. It
// reports whether the body was longer.
func readBody(resp *http.Response, limit int64) ([]byte, bool, error) {
	defer resp.Body.Close()
	if bb, ok := resp.Body.(*bufferedBody); ok {
		if int64(len(bb.b)) > limit {
			return bb.b[:limit], true, nil
		}
		return bb.b, false, nil
	}
	b, err := readPastLimit(resp, limit)
	if int64(len(b)) > limit {
		return b[:limit], true, err
	}
	return b, false, err
}

// maxPrealloc is the most readPastLimit allocates before it has read
// that much.
const maxPrealloc = 1 << 20

// readPastLimit reads up to limit+1 bytes of the reply body, one more than
// the caller keeps, so that it can tell a body that is too long. It reads
// into one buffer sized from Content-Length (bytes.Buffer.ReadFrom would
// reallocate it: it wants 512 free bytes before each read). The server's
// claim sizes at most maxPrealloc up front, for it may be huge, or a lie;
// once that much has come, the buffer grows to the claim at once (within
// limit), not step by step: a 3 MB reply is then read into two buffers
// (1 MB, then 3 MB), not seven.
func readPastLimit(resp *http.Response, limit int64) ([]byte, error) {
	n := min(limit, math.MaxInt64-1) + 1
	size := int64(512)
	if resp.ContentLength > 0 {
		size = min(resp.ContentLength, maxPrealloc) + 1 // +1: room to see EOF without growing
	}
	b := make([]byte, 0, min(size, n))
	for int64(len(b)) < n {
		if len(b) == cap(b) {
			want := int64(2 * cap(b))
			if resp.ContentLength >= int64(len(b)) {
				want = max(want, resp.ContentLength+1)
			}
			b = slices.Grow(b, int(min(want, n)-int64(len(b))))
		}
		m, err := resp.Body.Read(b[len(b):min(int64(cap(b)), n)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

// readSuccess reads a 2xx reply body of at most limit bytes, or says why
// it cannot be decoded: it broke off, is too long or is empty.
func (c *call) readSuccess(resp *http.Response, limit int64) ([]byte, error) {
	body, tooBig, err := readBody(resp, limit)
	switch {
	case err != nil:
		return nil, c.decodeError(resp, body, fmt.Errorf("reading body: %w", err))
	case tooBig:
		return nil, c.decodeError(resp, nil, fmt.Errorf("body exceeds %d bytes", limit))
	case len(bytes.TrimSpace(body)) == 0:
		return nil, c.decodeError(resp, nil, errors.New("empty body"))
	}
	return body, nil
}

// errorBody reads a reply that says no: at most 64 KiB, with the
// credentials the call sent masked. It masks before it cuts, and reads for
// that as much as a 2xx reply may have (and a credential's length, JSON
// escapes included, past that): a credential across the 64 KiB mark would
// otherwise keep its start, and a JSON body cut short cannot be decoded to
// find one spelled with escapes. A body longer still is kept only up to
// its first escape, for that reason.
func (c *call) errorBody(resp *http.Response) []byte {
	limit := int64(maxErrorBodyBytes)
	if len(c.secrets) > 0 {
		limit = max(limit, c.s.maxResponseBytes) + int64(6*c.secrets.longest()) // \u0061 spells "a"
	}
	body, cut, _ := readBody(resp, limit)
	body = c.secrets.body(body)
	if i := bytes.IndexByte(body, '\\'); cut && i >= 0 && len(c.secrets) > 0 {
		body = body[:i]
	}
	return body[:min(len(body), maxErrorBodyBytes)]
}

// apiError describes a reply from api that says no, with body (masked,
// see errorBody) and the server's explanation msg. The request is the
// SDK's own when the reply has none (a caller's RoundTripper may leave it
// out).
func (c *call) apiError(resp *http.Response, api API, body []byte, msg string) *APIError {
	method, u := c.method, c.url
	if resp.Request != nil && resp.Request.URL != nil {
		method, u = resp.Request.Method, resp.Request.URL // after redirects
	}
	return &APIError{
		Op:         c.op.name,
		API:        api,
		StatusCode: resp.StatusCode,
		Method:     method,
		URL:        redactURL(u),
		Message:    serverText(c.secrets.text(msg), maxServerText),
		Body:       body[:min(len(body), maxErrorBodyBytes)],
		Header:     c.secrets.header(resp.Header),
		RequestID:  requestID(resp.Header, api),
	}
}

// errorMessage finds the server's explanation in a Platform or JWKS host
// error body, best effort: "message", "payload.message", "error" and
// "error_description".
func errorMessage(body []byte) string {
	var e struct {
		Message          string `json:"message"`
		Error            any    `json:"error"`
		ErrorDescription string `json:"error_description"`
		Payload          struct {
			Message string `json:"message"`
		} `json:"payload"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	msg := e.Message
	if msg == "" {
		msg = e.Payload.Message
	}
	if s, ok := e.Error.(string); ok && msg == "" {
		msg = s
	}
	if e.ErrorDescription != "" {
		if msg != "" {
			msg += ": "
		}
		msg += e.ErrorDescription
	}
	return msg
}

// decodeError describes a 2xx reply body that cannot be decoded, quoting
// the start of a markup page (markupExcerpt) with the call's credentials
// masked.
func (c *call) decodeError(resp *http.Response, body []byte, err error) *DecodeError {
	ct := resp.Header.Get("Content-Type")
	return &DecodeError{Op: c.op.name, StatusCode: resp.StatusCode, ContentType: serverText(ct, maxContentTypeText),
		Excerpt: markupExcerpt(ct, c.secrets.body(body)), Err: err, Header: c.secrets.header(resp.Header), RequestID: requestID(resp.Header, c.api)}
}

// markupExcerpt quotes the start of a body only when that is a markup page
// (a proxy's or login page's HTML), never when the body is or holds
// anything else: replies to token and legacy calls carry secrets in any
// shape (JSON, a form, text), and a JSON-like body may be one of them cut
// short.
func markupExcerpt(contentType string, body []byte) string {
	body = bytes.TrimLeft(bytes.TrimPrefix(bytes.TrimSpace(body), []byte("\uFEFF")), " \t\r\n")
	if strings.Contains(contentType, "json") || len(body) == 0 || body[0] != '<' {
		return ""
	}
	return excerpt(body, 64)
}

// supportedMajorVersion is the payload format this SDK decodes.
const supportedMajorVersion = "1"

// envelope is a Platform reply. Of "meta" only "version" is read (see
// metaVersion); its other members (links, totalRecords, pageSize) are
// informational and ignored, whatever their type.
type envelope[T any] struct {
	Meta    json.RawMessage `json:"meta"`
	Payload T               `json:"payload"`
}

// envelopeFast is an envelope read in one pass, meta.version where it lies
// in the body: what nearly every reply is. A reply it cannot read (a meta
// that is no object, say) is read again as an envelope.
type envelopeFast[T any] struct {
	Meta struct {
		Version span `json:"version"`
	} `json:"meta"`
	Payload T `json:"payload"`
}

// readEnvelope reads the reply to a Platform call into out: a non-2xx
// reply is an *APIError; a 2xx reply must be an envelope of a version this
// SDK reads, whose payload holds the member the call needs (see missing: a
// list member may be [], never absent or null), else it is a *DecodeError
// or wraps ErrUnsupportedVersion.
func readEnvelope[T any](resp *http.Response, c *call, out *T) error {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body := c.errorBody(resp)
		return c.apiError(resp, PlatformAPI, body, errorMessage(body))
	}
	body, err := c.readSuccess(resp, c.s.maxResponseBytes)
	if err != nil {
		return err
	}
	var fast envelopeFast[T]
	var env envelope[T]
	if json.Unmarshal(body, &fast) == nil {
		env.Payload, c.version = fast.Payload, versionText(fast.Meta.Version)
	} else if jerr := json.Unmarshal(body, &env); jerr != nil {
		// Read on its own: a reply in an unknown format is reported as
		// such, even when its payload also failed to decode.
		var m struct {
			Meta json.RawMessage `json:"meta"`
		}
		if json.Unmarshal(body, &m) == nil {
			c.version = metaVersion(m.Meta)
		}
		if verr := checkVersion(c.op.name, c.version); verr != nil {
			return verr
		}
		return c.decodeError(resp, body, jerr)
	} else {
		c.version = metaVersion(env.Meta)
	}
	if verr := checkVersion(c.op.name, c.version); verr != nil {
		return verr
	}
	if p, ok := any(&env.Payload).(interface{ missing() string }); ok && p.missing() != "" {
		return c.decodeError(resp, nil, fmt.Errorf("%s is missing", p.missing()))
	}
	if p, ok := any(&env.Payload).(interface{ keepObjects(body []byte) }); ok {
		p.keepObjects(body)
	}
	*out = env.Payload
	return nil
}

// metaVersion reads meta.version: a string, or a number's literal; ""
// when it is missing, null or of another type.
func metaVersion(meta json.RawMessage) string {
	var m struct {
		Version span `json:"version"`
	}
	if len(meta) == 0 || json.Unmarshal(meta, &m) != nil {
		return ""
	}
	return versionText(m.Version)
}

// versionText reads a meta.version value: a string, or a number's literal;
// "" for null or another type.
func versionText(v span) string {
	var s string
	switch {
	case len(v) == 0:
	case v[0] == '"' && bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v):
		s = string(v[1 : len(v)-1]) // no escapes: the text between the quotes
	case v[0] == '"':
		_ = json.Unmarshal(v, &s)
	case v[0] == '-' || (v[0] >= '0' && v[0] <= '9'):
		s = string(v)
	}
	return s
}

// checkVersion fails, with ErrUnsupportedVersion, for a meta.version of
// an unknown major version.
func checkVersion(op, version string) error {
	if version == "" {
		return nil
	}
	major, _, _ := strings.Cut(strings.TrimPrefix(version, "v"), ".")
	if major != supportedMajorVersion {
		return &opError{op: op, err: &sentinelError{ErrUnsupportedVersion,
			fmt.Sprintf("unsupported payload version: meta.version %q (this SDK reads %s.x)", serverText(version, 32), supportedMajorVersion)}}
	}
	return nil
}

package apikeys_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// replyFacts is what every error about a reply carries for support.
type replyFacts struct {
	header    http.Header
	requestID string
	attempts  int
}

// factsOf reads the reply facts of any of the SDK's reply errors.
func factsOf(t *testing.T, err error) replyFacts {
	t.Helper()
	var (
		ae *apikeys.APIError
		de *apikeys.DecodeError
		te *apikeys.TokenError
	)
	switch {
	case errors.As(err, &ae):
		return replyFacts{header: ae.Header, requestID: ae.RequestID, attempts: ae.Attempts}
	case errors.As(err, &de):
		return replyFacts{header: de.Header, requestID: de.RequestID, attempts: de.Attempts}
	case errors.As(err, &te):
		return replyFacts{header: te.Header, requestID: te.RequestID, attempts: te.Attempts}
	}
	t.Fatalf("%T is not an error about a reply: %v", err, err)
	return replyFacts{}
}

// TestRequestIDOnEveryErrorType: APIError, DecodeError and TokenError,
// from each API and the token endpoint, carry the reply's header and
// request ID, and say the request ID in Error().
func TestRequestIDOnEveryErrorType(t *testing.T) {
	const html = "<html><body>Bad gateway</body></html>"
	tests := []struct {
		name     string
		header   map[string]string // reply headers, names as the server writes them
		status   int
		ctype    string
		body     string
		call     func(t *testing.T, url string) error
		wantType any
		wantID   string
	}{
		{name: "Platform APIError, X-Request-Id", header: map[string]string{"X-Request-Id": "rid-1"}, status: 404, ctype: "application/json", body: `{"message":"no such key"}`,
			call: platformGet, wantType: &apikeys.APIError{}, wantID: "rid-1"},
		{name: "Platform APIError, lower-case x-correlation-id", header: map[string]string{"x-correlation-id": "corr-1"}, status: 500, ctype: "application/json", body: `{}`,
			call: platformGet, wantType: &apikeys.APIError{}, wantID: "corr-1"},
		{name: "Platform APIError, X-Amzn-Trace-Id", header: map[string]string{"X-Amzn-Trace-Id": "Root=1-67891233-abcdef012345678912345678"}, status: 409, ctype: "application/json", body: `{}`,
			call: platformGet, wantType: &apikeys.APIError{}, wantID: "Root=1-67891233-abcdef012345678912345678"},
		{name: "Platform APIError, X-Request-Id first of all three", header: map[string]string{"X-Amzn-Trace-Id": "amzn", "X-Correlation-Id": "corr", "X-Request-Id": "rid"}, status: 403, ctype: "application/json", body: `{}`,
			call: platformGet, wantType: &apikeys.APIError{}, wantID: "rid"},
		{name: "Platform APIError, X-Correlation-Id before X-Amzn-Trace-Id", header: map[string]string{"X-Amzn-Trace-Id": "amzn", "X-Correlation-Id": "corr"}, status: 400, ctype: "application/json", body: `{}`,
			call: platformGet, wantType: &apikeys.APIError{}, wantID: "corr"},
		{name: "Platform DecodeError", header: map[string]string{"X-Request-Id": "rid-2"}, status: 200, ctype: "text/html", body: html,
			call: platformGet, wantType: &apikeys.DecodeError{}, wantID: "rid-2"},
		{name: "Platform APIError, legacy header ignored", header: map[string]string{"X-FH-REQUEST-ID": "fh"}, status: 404, ctype: "application/json", body: `{}`,
			call: platformGet, wantType: &apikeys.APIError{}, wantID: ""},
		{name: "legacy APIError", header: map[string]string{"X-FH-REQUEST-ID": "fh-1"}, status: 200, ctype: "application/json", body: `{"status":"error","message":"no such key"}`,
			call: legacyList, wantType: &apikeys.APIError{}, wantID: "fh-1"},
		{name: "legacy APIError, HTTP status", header: map[string]string{"x-fh-request-id": "fh-2"}, status: 401, ctype: "application/json", body: `{"status":"error","message":"not logged in"}`,
			call: legacyList, wantType: &apikeys.APIError{}, wantID: "fh-2"},
		{name: "legacy DecodeError", header: map[string]string{"X-FH-REQUEST-ID": "fh-3"}, status: 200, ctype: "text/html", body: html,
			call: legacyList, wantType: &apikeys.DecodeError{}, wantID: "fh-3"},
		{name: "TokenError", header: map[string]string{"X-Request-Id": "tok-rid"}, status: 400, ctype: "application/json", body: `{"error":"invalid_request"}`,
			call: fetchToken, wantType: &apikeys.TokenError{}, wantID: "tok-rid"},
		{name: "token DecodeError", header: map[string]string{"X-Correlation-Id": "tok-corr"}, status: 200, ctype: "text/html", body: html,
			call: fetchToken, wantType: &apikeys.DecodeError{}, wantID: "tok-corr"},
		{name: "JWKS host APIError", header: map[string]string{"X-Request-Id": "jwks-rid"}, status: 404, ctype: "text/plain", body: "not found",
			call: fetchJWKS, wantType: &apikeys.APIError{}, wantID: "jwks-rid"},
		{name: "JWKS host DecodeError", header: map[string]string{"X-Request-Id": "jwks-rid-2"}, status: 200, ctype: "text/html", body: html,
			call: fetchJWKS, wantType: &apikeys.DecodeError{}, wantID: "jwks-rid-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				for k, v := range tt.header {
					w.Header()[k] = []string{v} // as written, not canonicalised
				}
				w.Header().Set("Content-Type", tt.ctype)
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			err := tt.call(t, s.URL)
			require.Error(t, err)
			require.IsType(t, tt.wantType, errors.Unwrap(wrapOf(err)))
			facts := factsOf(t, err)
			assert.Equal(t, tt.wantID, facts.requestID)
			require.NotNil(t, facts.header)
			assert.Equal(t, tt.ctype, facts.header.Get("Content-Type"), "the reply's header is kept")
			assert.Equal(t, 1, facts.attempts)
			if tt.wantID != "" {
				assert.Contains(t, err.Error(), "(request ID "+tt.wantID+")")
			} else {
				assert.NotContains(t, err.Error(), "request ID")
			}
			assert.NotContains(t, err.Error(), "attempts", "one attempt is not worth saying")
		})
	}
}

// wrapOf wraps err so that errors.Unwrap gives err itself, whatever its
// own Unwrap does: for checking the dynamic type of the error returned.
func wrapOf(err error) error { return fmt.Errorf("%w", err) }

func platformGet(t *testing.T, url string) error {
	ctx := context.Background()
	c, err := apikeys.NewClient(apikeys.WithBaseURL(url+basePath), apikeys.WithToken(testToken), apikeys.WithRetry(apikeys.RetryPolicy{}))
	if err != nil {
		return err
	}
	_, err = c.APIKeys.Get(ctx, "client-1")
	return err
}

func legacyList(t *testing.T, url string) error {
	ctx := context.Background()
	c, err := apikeys.NewClient(apikeys.WithRetry(apikeys.RetryPolicy{}),
		apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: url, Domain: legacyDomain, UserKey: legacyUserKey}))
	if err != nil {
		return err
	}
	_, err = c.Legacy.List(ctx, apikeys.UserKeys())
	return err
}

func fetchToken(t *testing.T, url string) error {
	ctx := context.Background()
	ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: "client-1", Key: generatedKey(t, apikeys.ES256), TokenURL: url + "/v2/auth/token"})
	if err != nil {
		return err
	}
	_, err = ts.Token(ctx)
	return err
}

func fetchJWKS(t *testing.T, url string) error {
	ctx := context.Background()
	_, err := apikeys.FetchJWKS(ctx, url+"/jwks.json", apikeys.FetchInsecureLoopbackHTTP())
	return err
}

// TestErrorsCountAttempts: an error after retries says how many attempts
// the call made, in its Attempts field and its message.
func TestErrorsCountAttempts(t *testing.T) {
	tests := []struct {
		name       string
		maxRetries int
		reply      func(w http.ResponseWriter, n int)
		attempts   int
		wantText   string
	}{
		{name: "503 three times", maxRetries: 2, reply: func(w http.ResponseWriter, _ int) {
			w.Header().Set("X-Request-Id", "rid-3")
			reply(w, http.StatusServiceUnavailable, `{}`)
		}, attempts: 3, wantText: "(request ID rid-3; after 3 attempts)"},
		{name: "503 once, no retries", maxRetries: 0, reply: func(w http.ResponseWriter, _ int) {
			reply(w, http.StatusServiceUnavailable, `{}`)
		}, attempts: 1, wantText: "503 Service Unavailable"},
		{name: "503, then an HTML page", maxRetries: 2, reply: func(w http.ResponseWriter, n int) {
			if n == 0 {
				reply(w, http.StatusServiceUnavailable, `{}`)
				return
			}
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>maintenance</html>")
		}, attempts: 2, wantText: "(after 2 attempts)"},
		{name: "hang-up twice", maxRetries: 1, reply: func(w http.ResponseWriter, _ int) { hangUp(w) }, attempts: 2, wantText: "(after 2 attempts)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { tt.reply(w, n) })
			c, err := apikeys.NewClient(apikeys.WithBaseURL(s.URL+basePath), apikeys.WithToken(testToken),
				apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: tt.maxRetries}))
			require.NoError(t, err)
			_, err = c.APIKeys.Get(context.Background(), "client-1")
			require.Error(t, err)
			assert.Equal(t, tt.attempts, s.count())
			assert.Contains(t, err.Error(), tt.wantText)
			if tt.attempts == 1 {
				assert.NotContains(t, err.Error(), "attempts")
			}
			var n int
			var te *apikeys.TransportError
			if errors.As(err, &te) {
				n = te.Attempts
			} else {
				n = factsOf(t, err).attempts
			}
			assert.Equal(t, tt.attempts, n)
		})
	}
}

// TestDebugLogPerReply: with a debug logger, every reply gets a line with
// the operation, attempt, duration, status and request ID, and a failed
// attempt a line with its error; never a header or body.
func TestDebugLogPerReply(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 0:
			hangUp(w)
		case 1:
			w.Header().Set("X-Request-Id", "rid-busy")
			reply(w, http.StatusServiceUnavailable, `{"message":"busy"}`)
		default:
			w.Header().Set("X-Request-Id", "rid-ok")
			reply(w, http.StatusOK, envelope(`{"apikey":`+keyJSON+`}`))
		}
	})
	var logs logBuffer
	c, err := apikeys.NewClient(apikeys.WithBaseURL(s.URL+basePath), apikeys.WithToken(testToken),
		apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 2}), apikeys.WithLogger(debugLogger(&logs)))
	require.NoError(t, err)
	_, err = c.APIKeys.Get(context.Background(), "client-1")
	require.NoError(t, err)

	var replies []map[string]any
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		if rec["msg"] == "apikeys: reply" {
			replies = append(replies, rec)
		}
	}
	require.Len(t, replies, 3, logs.String())
	for i, rec := range replies {
		assert.Equal(t, "APIKeys.Get", rec["op"])
		assert.EqualValues(t, i+1, rec["attempt"])
		assert.Contains(t, rec, "duration")
	}
	assert.Contains(t, replies[0], "error")
	assert.NotContains(t, replies[0], "status")
	assert.EqualValues(t, 503, replies[1]["status"])
	assert.Equal(t, "rid-busy", replies[1]["request_id"])
	assert.EqualValues(t, 200, replies[2]["status"])
	assert.Equal(t, "rid-ok", replies[2]["request_id"])
	assert.NotContains(t, logs.String(), testToken)
	assert.NotContains(t, logs.String(), "message", "no body")
}

// TestErrorHeadersHoldNoCredential: the header an error keeps is masked:
// credential headers by name (a legacy server may set its session cookie)
// and the call's credentials wherever a server echoes them, so that %#v
// of the error or its JSON shows none.
func TestErrorHeadersHoldNoCredential(t *testing.T) {
	const session = "feedhenry=SESSION-5ecret-value"
	tests := []struct {
		name   string
		status int
		ctype  string
		body   string
		call   func(t *testing.T, url string) error
		secret string // the credential the call sent
	}{
		{name: "Platform APIError", status: 403, ctype: "application/json", body: `{}`, call: platformGet, secret: testToken},
		{name: "Platform DecodeError", status: 200, ctype: "text/html", body: "<html></html>", call: platformGet, secret: testToken},
		{name: "legacy APIError", status: 200, ctype: "application/json", body: `{"status":"error","message":"no"}`, call: legacyList, secret: legacyUserKey},
		{name: "TokenError", status: 400, ctype: "application/json", body: `{"error":"invalid_client"}`, call: fetchToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Add("Set-Cookie", session)
				w.Header().Set("X-Echo", r.Header.Get("Authorization")+" "+r.Header.Get("X-FH-AUTH-USER"))
				w.Header().Set("Content-Type", tt.ctype)
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			err := tt.call(t, s.URL)
			require.Error(t, err)
			facts := factsOf(t, err)
			assert.Equal(t, []string{"****"}, facts.header["Set-Cookie"])
			assert.Equal(t, tt.ctype, facts.header.Get("Content-Type"), "other headers are kept")
			printed, jerr := json.Marshal(err)
			require.NoError(t, jerr)
			for _, out := range []string{fmt.Sprintf("%#v", err), fmt.Sprintf("%+v", err), string(printed), fmt.Sprint(facts.header)} {
				assert.NotContains(t, out, "SESSION-5ecret")
				if tt.secret != "" {
					assert.NotContains(t, out, tt.secret)
				}
			}
		})
	}
}

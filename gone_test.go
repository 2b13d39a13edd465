package apikeys_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// worldReply is a 404 (or legacy error) reply as some server in the world
// sends it.
type worldReply struct {
	name  string
	write func(w http.ResponseWriter, r *http.Request)
	// platform and legacy say whether the reply is that API's own answer
	// that the key does not exist: only then may a retried delete count
	// as done.
	platform, legacy bool
}

func sendReply(status int, contentType, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

const nginxHTML404 = "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

// notFoundFromTheWorld are replies a delete can get on its retry during a
// deploy, from a proxy, a default backend or another service, next to the
// APIs' own answers.
func notFoundFromTheWorld() []worldReply {
	return []worldReply{
		{name: "Go http.NotFound", write: http.NotFound},
		{name: "ingress-nginx default backend", write: sendReply(404, "text/plain", "default backend - 404")},
		{name: "nginx HTML 404", write: sendReply(404, "text/html", nginxHTML404)},
		{name: "empty 404", write: sendReply(404, "", "")},
		{name: "empty JSON 404", write: sendReply(404, "application/json", "{}")},
		{name: "JSON with only error", write: sendReply(404, "application/json", `{"error":"Not Found"}`)},
		{name: "Spring Boot JSON 404", write: sendReply(404, "application/json", `{"timestamp":"2026-11-29T12:00:00.000+00:00","status":404,"error":"Not Found","path":"/x"}`)},
		{name: "API gateway JSON 404", write: sendReply(404, "application/json", `{"message":"Not Found"}`)},
		{name: "Express HTML 404", write: sendReply(404, "text/html; charset=utf-8", "<!DOCTYPE html><html><body><pre>Cannot DELETE /x</pre></body></html>")},
		{name: "text naming the key", write: sendReply(404, "text/plain", "API key not found")},
		{name: "JSON naming the environment", write: sendReply(404, "application/json", `{"message":"environment not found"}`)},
		{name: "legacy: domain not found", write: sendReply(404, "application/json", `{"status":"error","message":"domain not found"}`)},
		{name: "legacy: user not found", write: sendReply(200, "application/json", `{"status":"error","message":"user not found"}`)},
		{name: "legacy: bare not found", write: sendReply(200, "application/json", `{"status":"error","msg":["not found"]}`)},
		{name: "legacy: error member only", write: sendReply(404, "application/json", `{"status":"error","error":"not found"}`)},
		{name: "Platform: API key not found", write: sendReply(404, "application/json", `{"message":"API key not found"}`), platform: true, legacy: true},
		{name: "Platform: payload message", write: sendReply(404, "application/json", `{"meta":{"version":"1.0.0"},"payload":{"message":"API key not found"}}`), platform: true},
		{name: "legacy: API key not found, 200", write: sendReply(200, "application/json", `{"status":"error","message":"API key not found"}`), legacy: true},
		{name: "legacy: API key not found, 404", write: sendReply(404, "application/json", `{"status":"error","message":"API key not found"}`), platform: true, legacy: true},
		{name: "legacy: msg array", write: sendReply(200, "application/json", `{"status":"error","msg":["invalid request","Key not found"]}`), legacy: true},
	}
}

// TestDeleteIsGoneOnlyByTheAPIsOwnAnswer: a delete whose first attempt had
// an unknown outcome (a reset after the request was read, or a 502) and
// whose retry is answered "not found" reports success only when that
// answer is the API's own: its "key not found" message. Anything else (Go's
// http.NotFound, a default backend, an HTML page, JSON that names nothing
// or something else) is an error, for Platform and legacy deletes alike.
func TestDeleteIsGoneOnlyByTheAPIsOwnAnswer(t *testing.T) {
	firsts := []struct {
		name  string
		write func(http.ResponseWriter)
	}{
		{name: "reset", write: hangUp},
		{name: "502", write: func(w http.ResponseWriter) { reply(w, http.StatusBadGateway, `{"message":"bad gateway"}`) }},
	}
	deletes := []struct {
		name string
		gone func(worldReply) bool
		call func(ctx context.Context, t *testing.T, base string) error
	}{
		{name: "APIKeys.Delete", gone: func(r worldReply) bool { return r.platform }, call: func(ctx context.Context, t *testing.T, base string) error {
			c, err := apikeys.NewClient(apikeys.WithBaseURL(base+basePath), apikeys.WithToken(testToken),
				apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 3}))
			require.NoError(t, err)
			_, err = c.APIKeys.Delete(ctx, "client-1")
			return err
		}},
		{name: "Legacy.Delete", gone: func(r worldReply) bool { return r.legacy }, call: func(ctx context.Context, t *testing.T, base string) error {
			c, err := apikeys.NewClient(apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: base, Domain: "acme", UserKey: "4a23bd0e3c1f9a8b7c6d5e4f3a2b1c0d9e8fec9e"}),
				apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 3}))
			require.NoError(t, err)
			_, err = c.Legacy.Delete(ctx, "0123456789abcdef0123456789abcdef01234567")
			return err
		}},
	}
	for _, del := range deletes {
		for _, first := range firsts {
			for _, second := range notFoundFromTheWorld() {
				t.Run(del.name+"/"+first.name+"/"+second.name, func(t *testing.T) {
					s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
						if n == 0 {
							first.write(w)
							return
						}
						second.write(w, r)
					})
					var info apikeys.Response
					err := del.call(apikeys.CaptureResponse(t.Context(), &info), t, s.URL)
					assert.Equal(t, 2, s.count(), "one retry")
					if del.gone(second) {
						assert.NoError(t, err, "the API's own answer: the first attempt deleted the key")
						return
					}
					require.Error(t, err, "nothing proves the key is gone")
					assert.False(t, apikeys.IsAmbiguous(err))
				})
			}
		}
	}
}

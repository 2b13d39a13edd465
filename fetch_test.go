package apikeys_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// TestTransportErrorsHideTheQuery: a *TransportError quotes net/http's
// *url.Error, which names the URL: its query (a pre-signed URL's
// signature) and user info never reach the error, for FetchJWKS and for a
// client call redirected to a URL with a query.
func TestTransportErrorsHideTheQuery(t *testing.T) {
	const signature = "X-Amz-Signature=5eCr3tS1gnatur3"
	closed := "http://" + closedAddr(t)
	t.Run("FetchJWKS cannot connect", func(t *testing.T) {
		_, err := apikeys.FetchJWKS(t.Context(), closed+"/jwks.json?X-Amz-Credential=AKIA&"+signature, apikeys.FetchInsecureLoopbackHTTP())
		var te *apikeys.TransportError
		require.ErrorAs(t, err, &te)
		for _, text := range []string{err.Error(), te.Err.Error()} {
			assert.NotContains(t, text, "5eCr3t")
			assert.NotContains(t, text, "AKIA")
			assert.Contains(t, text, "/jwks.json")
		}
	})
	t.Run("a call redirected to a URL with a query", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			http.Redirect(w, r, closed+"/elsewhere?"+signature, http.StatusFound)
		})
		var logs logBuffer
		c, _ := newClient(t, s, apikeys.WithRetry(apikeys.RetryPolicy{}), apikeys.WithLogger(debugLogger(&logs)))
		err := getKey(t.Context(), c)
		var te *apikeys.TransportError
		require.ErrorAs(t, err, &te)
		assert.NotContains(t, err.Error(), "5eCr3t")
		assert.Contains(t, err.Error(), "/elsewhere")
		require.Contains(t, logs.String(), "/elsewhere", "the debug log has the failure")
		assert.NotContains(t, logs.String(), "5eCr3t", "nor does the debug log show the query")
	})
}

// TestFetchJWKSIsBounded: FetchJWKS ends on its own bound (FetchTimeout,
// DefaultFetchTimeout by default) even when the caller's context has
// none, with a retryable *TransportError that is not the caller's
// context.DeadlineExceeded.
func TestFetchJWKSIsBounded(t *testing.T) {
	assert.Equal(t, 30*time.Second, apikeys.DefaultFetchTimeout)
	release := make(chan struct{})
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			select { // headers never come
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = http.NewResponseController(w).Flush()
		select { // the body never ends
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	for _, what := range []string{"headers", "body"} {
		t.Run(what, func(t *testing.T) {
			_, err := apikeys.FetchJWKS(context.Background(), s.URL+"/jwks.json", apikeys.FetchInsecureLoopbackHTTP(), apikeys.FetchTimeout(50*time.Millisecond))
			var te *apikeys.TransportError
			require.ErrorAs(t, err, &te)
			assert.Contains(t, err.Error(), "did not answer within 50ms")
			assert.NotErrorIs(t, err, context.DeadlineExceeded)
			assert.True(t, apikeys.IsRetryable(err))
			var ne net.Error
			assert.True(t, errors.As(err, &ne) && ne.Timeout())
		})
	}
	t.Run("the caller's deadline is the caller's", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := apikeys.FetchJWKS(ctx, s.URL+"/jwks.json", apikeys.FetchInsecureLoopbackHTTP())
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.False(t, apikeys.IsRetryable(err))
	})
	_, err := apikeys.FetchJWKS(context.Background(), s.URL+"/jwks.json", apikeys.FetchTimeout(0))
	var ve *apikeys.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "FetchTimeout", ve.Field)
}

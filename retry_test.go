package apikeys_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// platformOp is one Platform call and the reply that makes it succeed.
type platformOp struct {
	name  string
	class string // "read", "delete" or "create": the rows of the retry table
	ok    string
	call  func(context.Context, *apikeys.Client) error
}

func platformOps() []platformOp {
	name := "n"
	return []platformOp{
		{name: "APIKeys.Get", class: "read", ok: envelope(`{"apikey":` + keyJSON + `}`), call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Get(ctx, "client-1")
			return err
		}},
		{name: "APIKeys.List", class: "read", ok: envelope(`{"apikeys":[]}`), call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.List(ctx, "env-1")
			return err
		}},
		{name: "Environments.List", class: "read", ok: envelope(`{"environments":[]}`), call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.Environments.List(ctx, 1)
			return err
		}},
		{name: "APIKeys.Update", class: "read", ok: envelope(`{"apikey":` + keyJSON + `}`), call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Update(ctx, "client-1", apikeys.UpdateAPIKeyRequest{Name: &name})
			return err
		}},
		{name: "APIKeys.Delete", class: "delete", ok: envelope(`{"message":"deleted"}`), call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Delete(ctx, "client-1")
			return err
		}},
		{name: "APIKeys.Create", class: "create", ok: envelope(`{"apikey":` + keyJSON + `}`), call: func(ctx context.Context, c *apikeys.Client) error {
			_, err := c.APIKeys.Create(ctx, "env-1", apikeys.CreateAPIKeyRequest{Name: "n"})
			return err
		}},
	}
}

// outcome is what a call should end with.
type outcome struct {
	attempts  int   // requests the server sees
	err       error // sentinel the error must match (or errNoSentinel); nil for success
	ambiguous bool
}

// errNoSentinel is the outcome of an *APIError that matches no sentinel.
var errNoSentinel = errors.New("an *APIError matching no sentinel")

// TestRetryTable checks every row of the retry table (DESIGN.md section 4)
// for every Platform call: how many attempts the server sees, whether the
// outcome is flagged ambiguous, and the final typed error.
func TestRetryTable(t *testing.T) {
	type step func(w http.ResponseWriter, okBody string)
	status := func(code int) step {
		return func(w http.ResponseWriter, _ string) { reply(w, code, `{"message":"status `+strconv.Itoa(code)+`"}`) }
	}
	ok := func(w http.ResponseWriter, body string) { reply(w, http.StatusOK, body) }
	reset := func(w http.ResponseWriter, _ string) { hangUp(w) }
	// keyNotFound is the API's own answer for an unknown key.
	keyNotFound := func(w http.ResponseWriter, _ string) {
		reply(w, http.StatusNotFound, `{"message":"API key not found (status 404)"}`)
	}

	success := func(n int) outcome { return outcome{attempts: n} }
	tests := []struct {
		name  string
		steps []step // the last step repeats
		want  map[string]outcome
	}{
		{name: "429 then ok", steps: []step{status(429), ok}, want: map[string]outcome{
			"read": success(2), "delete": success(2), "create": success(2)}},
		{name: "429 twice then ok", steps: []step{status(429), status(429), ok}, want: map[string]outcome{
			"read": success(3), "delete": success(3), "create": success(3)}},
		{name: "500 then ok", steps: []step{status(500), ok}, want: map[string]outcome{
			"read": success(2), "delete": success(2), "create": {attempts: 1, err: apikeys.ErrServer, ambiguous: true}}},
		{name: "502 then ok", steps: []step{status(502), ok}, want: map[string]outcome{
			"read": success(2), "delete": success(2), "create": {attempts: 1, err: apikeys.ErrServer, ambiguous: true}}},
		{name: "503 then ok", steps: []step{status(503), ok}, want: map[string]outcome{
			"read": success(2), "delete": success(2), "create": {attempts: 1, err: apikeys.ErrServer, ambiguous: true}}},
		{name: "504 then ok", steps: []step{status(504), ok}, want: map[string]outcome{
			"read": success(2), "delete": success(2), "create": {attempts: 1, err: apikeys.ErrServer, ambiguous: true}}},
		{name: "reset after send then ok", steps: []step{reset, ok}, want: map[string]outcome{
			"read": success(2), "delete": success(2), "create": {attempts: 1, err: nil, ambiguous: true}}},
		{name: "503 forever", steps: []step{status(503)}, want: map[string]outcome{
			"read": {attempts: 4, err: apikeys.ErrServer, ambiguous: false}, "delete": {attempts: 4, err: apikeys.ErrServer, ambiguous: false}, "create": {attempts: 1, err: apikeys.ErrServer, ambiguous: true}}},
		{name: "429 forever", steps: []step{status(429)}, want: map[string]outcome{
			"read": {attempts: 4, err: apikeys.ErrRateLimited, ambiguous: false}, "delete": {attempts: 4, err: apikeys.ErrRateLimited, ambiguous: false}, "create": {attempts: 4, err: apikeys.ErrRateLimited, ambiguous: false}}},
		{name: "400 is final", steps: []step{status(400)}, want: map[string]outcome{
			"read": {attempts: 1, err: errNoSentinel, ambiguous: false}, "delete": {attempts: 1, err: errNoSentinel, ambiguous: false}, "create": {attempts: 1, err: errNoSentinel, ambiguous: false}}},
		{name: "404 is final", steps: []step{status(404)}, want: map[string]outcome{
			"read": {attempts: 1, err: apikeys.ErrNotFound, ambiguous: false}, "delete": {attempts: 1, err: apikeys.ErrNotFound, ambiguous: false}, "create": {attempts: 1, err: apikeys.ErrNotFound, ambiguous: false}}},
		{name: "401 with a static token is final", steps: []step{status(401)}, want: map[string]outcome{
			"read": {attempts: 1, err: apikeys.ErrUnauthorized, ambiguous: false}, "delete": {attempts: 1, err: apikeys.ErrUnauthorized, ambiguous: false}, "create": {attempts: 1, err: apikeys.ErrUnauthorized, ambiguous: false}}},
		{name: "403 is final", steps: []step{status(403)}, want: map[string]outcome{
			"read": {attempts: 1, err: apikeys.ErrForbidden, ambiguous: false}, "delete": {attempts: 1, err: apikeys.ErrForbidden, ambiguous: false}, "create": {attempts: 1, err: apikeys.ErrForbidden, ambiguous: false}}},
		{name: "reset then key not found: the lost reply was a delete", steps: []step{reset, keyNotFound}, want: map[string]outcome{
			"read": {attempts: 2, err: apikeys.ErrNotFound, ambiguous: false}, "delete": success(2), "create": {attempts: 1, err: nil, ambiguous: true}}},
		{name: "500 then key not found: the lost reply was a delete", steps: []step{status(500), keyNotFound}, want: map[string]outcome{
			"read": {attempts: 2, err: apikeys.ErrNotFound, ambiguous: false}, "delete": success(2), "create": {attempts: 1, err: apikeys.ErrServer, ambiguous: true}}},
		{name: "reset then a 404 that does not name the key", steps: []step{reset, status(404)}, want: map[string]outcome{
			"read": {attempts: 2, err: apikeys.ErrNotFound, ambiguous: false}, "delete": {attempts: 2, err: apikeys.ErrNotFound, ambiguous: false}, "create": {attempts: 1, err: nil, ambiguous: true}}},
		{name: "429 then 404 is not found", steps: []step{status(429), status(404)}, want: map[string]outcome{
			"read": {attempts: 2, err: apikeys.ErrNotFound, ambiguous: false}, "delete": {attempts: 2, err: apikeys.ErrNotFound, ambiguous: false}, "create": {attempts: 2, err: apikeys.ErrNotFound, ambiguous: false}}},
	}
	for _, tt := range tests {
		for _, op := range platformOps() {
			t.Run(tt.name+"/"+op.name, func(t *testing.T) {
				want, found := tt.want[op.class]
				require.True(t, found)
				s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
					tt.steps[min(n, len(tt.steps)-1)](w, op.ok)
				})
				c, _ := newClient(t, s)
				var info apikeys.Response
				err := op.call(apikeys.CaptureResponse(context.Background(), &info), c)

				assert.Equal(t, want.attempts, s.count(), "attempts seen by the server")
				assert.Equal(t, want.attempts, info.Attempts, "attempts reported by CaptureResponse")
				assert.Equal(t, want.ambiguous, apikeys.IsAmbiguous(err), "IsAmbiguous(%v)", err)
				if want.attempts > 0 && want.err == nil && !want.ambiguous {
					assert.NoError(t, err)
					return
				}
				require.Error(t, err)
				switch want.err {
				case nil:
				case errNoSentinel:
					var apiErr *apikeys.APIError
					require.ErrorAs(t, err, &apiErr)
					for _, sentinel := range []error{apikeys.ErrNotFound, apikeys.ErrUnauthorized, apikeys.ErrForbidden, apikeys.ErrConflict, apikeys.ErrRateLimited, apikeys.ErrServer} {
						assert.NotErrorIs(t, err, sentinel)
					}
				default:
					assert.ErrorIs(t, err, want.err)
				}
				if want.ambiguous {
					var ae *apikeys.AmbiguousError
					require.ErrorAs(t, err, &ae)
					assert.Equal(t, op.name, ae.Op)
				}
				var apiErr *apikeys.APIError
				if errors.As(err, &apiErr) {
					// The final error is the last reply, with its body.
					assert.Contains(t, string(apiErr.Body), "status "+strconv.Itoa(apiErr.StatusCode))
					assert.Contains(t, apiErr.Message, "status "+strconv.Itoa(apiErr.StatusCode))
				}
			})
		}
	}
}

// TestConnectionRefused: a dial failure surely never reached the server,
// so even a create is retried, and the outcome is not ambiguous.
func TestConnectionRefused(t *testing.T) {
	addr := closedAddr(t)

	for _, op := range platformOps() {
		t.Run(op.name, func(t *testing.T) {
			c, err := apikeys.NewClient(apikeys.WithBaseURL("http://"+addr+basePath), apikeys.WithToken(testToken),
				apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 2}))
			require.NoError(t, err)
			var info apikeys.Response
			err = op.call(apikeys.CaptureResponse(context.Background(), &info), c)

			var te *apikeys.TransportError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, op.name, te.Op)
			assert.False(t, apikeys.IsAmbiguous(err))
			assert.True(t, apikeys.IsRetryable(err))
			assert.Equal(t, 3, info.Attempts)
		})
	}
}

// TestTimeoutOfCreateIsAmbiguous: a create that timed out after it was
// sent may have been applied; it is not repeated.
func TestTimeoutOfCreateIsAmbiguous(t *testing.T) {
	release := make(chan struct{})
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c, _ := newClient(t, s, apikeys.WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}))

	_, err := c.APIKeys.Create(context.Background(), "env-1", apikeys.CreateAPIKeyRequest{Name: "n"})
	assert.True(t, apikeys.IsAmbiguous(err), "got %v", err)
	assert.Equal(t, 1, s.count())

	_, err = c.APIKeys.Get(context.Background(), "k")
	var te *apikeys.TransportError
	assert.ErrorAs(t, err, &te)
	assert.Equal(t, 5, s.count(), "a read that times out is retried")
}

func TestRetryWaits(t *testing.T) {
	httpDate := fixedNow.Add(7 * time.Second).Format(http.TimeFormat)
	tests := []struct {
		name       string
		retryAfter string
		want       []time.Duration
	}{
		// MinWait 100ms, MaxWait 2s, jitter 0.5: MinWait + 0.5*(min(MaxWait, MinWait<<n) - MinWait).
		{name: "exponential with jitter", retryAfter: "", want: []time.Duration{100 * time.Millisecond, 150 * time.Millisecond, 250 * time.Millisecond}},
		{name: "Retry-After seconds", retryAfter: "1", want: []time.Duration{1050 * time.Millisecond, 1050 * time.Millisecond, 1050 * time.Millisecond}},
		{name: "Retry-After over the cap", retryAfter: "3600", want: []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}},
		// Delay seconds past 2^31 (and past what a Duration holds) are a
		// long wait like any other: capped, never ignored.
		{name: "Retry-After over 2^31 seconds", retryAfter: "2147483649", want: []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}},
		{name: "Retry-After of 30 digits", retryAfter: "999999999999999999999999999999", want: []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}},
		{name: "Retry-After HTTP date over the cap", retryAfter: httpDate, want: []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}},
		{name: "Retry-After date in the past", retryAfter: fixedNow.Add(-time.Hour).Format(http.TimeFormat), want: []time.Duration{50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond}},
		{name: "Retry-After garbage falls back", retryAfter: "soon", want: []time.Duration{100 * time.Millisecond, 150 * time.Millisecond, 250 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				reply(w, http.StatusTooManyRequests, `{}`)
			})
			c, w := newClient(t, s)
			_, err := c.APIKeys.Get(context.Background(), "k")
			assert.ErrorIs(t, err, apikeys.ErrRateLimited)
			assert.Equal(t, tt.want, w.all())
		})
	}
}

func TestBackoff(t *testing.T) {
	p := apikeys.RetryPolicy{MaxRetries: 10, MinWait: time.Second, MaxWait: 20 * time.Second}
	tests := []struct {
		name       string
		n          int
		retryAfter string
		jitter     float64
		want       time.Duration
	}{
		{name: "first, no jitter", n: 0, retryAfter: "", jitter: 0, want: time.Second},
		{name: "first, full jitter", n: 0, retryAfter: "", jitter: 0.999999999, want: time.Second},
		{name: "third, full jitter", n: 2, retryAfter: "", jitter: 1, want: 4 * time.Second},
		{name: "third, half jitter", n: 2, retryAfter: "", jitter: 0.5, want: 2500 * time.Millisecond},
		{name: "capped", n: 10, retryAfter: "", jitter: 1, want: 20 * time.Second},
		{name: "huge attempt number does not overflow", n: 200, retryAfter: "", jitter: 1, want: 20 * time.Second},
		{name: "Retry-After seconds plus jitter", n: 0, retryAfter: "5", jitter: 0.5, want: 5500 * time.Millisecond},
		{name: "Retry-After capped", n: 0, retryAfter: "120", jitter: 0, want: 20 * time.Second},
		{name: "Retry-After date", n: 0, retryAfter: fixedNow.Add(3 * time.Second).Format(http.TimeFormat), jitter: 0, want: 3 * time.Second},
		{name: "Retry-After negative is ignored", n: 2, retryAfter: "-5", jitter: 0, want: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, apikeys.Backoff(p, tt.n, tt.retryAfter, fixedNow, tt.jitter))
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{in: "0", want: 0, ok: true},
		{in: "120", want: 2 * time.Minute, ok: true},
		{in: " 3 ", want: 3 * time.Second, ok: true},
		{in: fixedNow.Add(time.Minute).Format(http.TimeFormat), want: time.Minute, ok: true},
		{in: "Sun, 06 Nov 1994 08:49:37 GMT", want: 0, ok: true}, // in the past
		{in: "", want: 0, ok: false},
		{in: "1.5", want: 0, ok: false},
		{in: "-1", want: 0, ok: false},
		// Delay seconds too large for a Duration saturate (the backoff
		// caps them at MaxWait); they are never dropped.
		{in: "2147483649", want: 2147483649 * time.Second, ok: true},
		{in: "99999999999999999999", want: time.Duration(math.MaxInt64 / int64(time.Second) * int64(time.Second)), ok: true},
		{in: "tomorrow", want: 0, ok: false},
	}
	for _, tt := range tests {
		got, ok := apikeys.ParseRetryAfter(tt.in, fixedNow)
		assert.Equal(t, tt.ok, ok, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

// TestDeadlineBeforeWakeUp: when the wait would outlast the caller's
// deadline the call returns the last reply at once, without waiting.
func TestDeadlineBeforeWakeUp(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "7200")
		reply(w, http.StatusServiceUnavailable, `{"message":"busy"}`)
	})
	c, w := newClient(t, s, apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 3, MinWait: time.Second, MaxWait: 3 * time.Hour}))
	// The deadline is real (the transport dials with it), an hour away on
	// the client's clock, which stands still: the 2 h wait outlasts it.
	now := time.Now()
	apikeys.SetRetryClock(c, w.sleep, func() float64 { return 0.5 }, func() time.Time { return now })
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(time.Hour))
	defer cancel()

	_, err := c.APIKeys.Get(ctx, "k")
	assert.ErrorIs(t, err, apikeys.ErrServer)
	var apiErr *apikeys.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "busy", apiErr.Message)
	assert.Equal(t, 1, s.count())
	assert.Empty(t, w.all(), "no wait may start")
}

// TestDeadlineIsWallClock: a deadline is compared with the real clock, not
// the client's: a clock a day ahead still retries within an hour's deadline.
func TestDeadlineIsWallClock(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			reply(w, http.StatusServiceUnavailable, `{}`)
			return
		}
		reply(w, http.StatusOK, envelope(`{"apikey":`+keyJSON+`}`))
	})
	c, w := newClient(t, s)
	apikeys.SetRetryClock(c, w.sleep, func() float64 { return 0.5 }, func() time.Time { return time.Now().Add(24 * time.Hour) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()

	_, err := c.APIKeys.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, 2, s.count())
	assert.Len(t, w.all(), 1)
}

// TestCancelDuringWait: the wait between attempts ends with the context.
func TestCancelDuringWait(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, http.StatusBadGateway, `{}`) })
	c, _ := newClient(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	apikeys.SetRetryClock(c, func(ctx context.Context, d time.Duration) error {
		cancel() // the caller gives up while the client waits
		<-ctx.Done()
		return ctx.Err()
	}, func() float64 { return 0 }, time.Now)

	_, err := c.APIKeys.Get(ctx, "k")
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, apikeys.IsRetryable(err))
	assert.Equal(t, 1, s.count())

	// A call made with the ended context fails before any I/O.
	_, err = c.APIKeys.Get(ctx, "k")
	assert.ErrorIs(t, err, context.Canceled, "an ended context fails before I/O")
	assert.Equal(t, 1, s.count())
}

func TestMaxRetriesZeroDisablesRetries(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, http.StatusServiceUnavailable, `{}`) })
	c, _ := newClient(t, s, apikeys.WithRetry(apikeys.RetryPolicy{}))
	_, err := c.APIKeys.Get(context.Background(), "k")
	assert.ErrorIs(t, err, apikeys.ErrServer)
	assert.True(t, apikeys.IsRetryable(err))
	assert.Equal(t, 1, s.count())
}

// probingTokenSource makes an HTTP request of its own before returning a
// token, as sources backed by another OAuth library do. Its dial fails.
type probingTokenSource struct{ addr string }

func (p probingTokenSource) Token(ctx context.Context) (*apikeys.Token, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.addr+"/probe", nil)
	if err != nil {
		return nil, err
	}
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_ = resp.Body.Close()
	}
	return &apikeys.Token{AccessToken: testToken}, nil
}

// TestTokenSourceRequestsDoNotMaskASentCreate: the token source's own
// requests must not count as progress (or lack of it) of the create's
// request. Here the create fails in a transport that reports no trace
// events; the source's failed dial must not make it look "never sent".
func TestTokenSourceRequestsDoNotMaskASentCreate(t *testing.T) {
	addr := closedAddr(t)

	var sent int
	transport := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent++
		return nil, errors.New("connection reset by peer")
	})
	c, err := apikeys.NewClient(apikeys.WithBaseURL("http://127.0.0.1:1"+basePath),
		apikeys.WithTokenSource(probingTokenSource{addr: addr}),
		apikeys.WithHTTPClient(&http.Client{Transport: transport}),
		apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 3}))
	require.NoError(t, err)

	_, err = c.APIKeys.Create(context.Background(), "env", apikeys.CreateAPIKeyRequest{Name: "n"})
	assert.True(t, apikeys.IsAmbiguous(err), "got %v", err)
	assert.Equal(t, 1, sent, "a create that may have been sent is not repeated")
}

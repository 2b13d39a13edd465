package apikeys_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// TestMain fails the package if any goroutine outlives the tests: every
// test closes its servers, and idle keep-alive connections end with them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// gateTransport holds each request until release is closed (or the
// request's context ends), after telling entered.
type gateTransport struct {
	base    http.RoundTripper
	entered chan struct{}
	release chan struct{}
}

func (g *gateTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	select {
	case <-g.release:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	return g.base.RoundTrip(req)
}

// newGatedTokenSource starts a fake with a Platform key for a token source whose
// requests pass through a gate. The leak check is registered first, so it
// runs after the fake and the transports are closed.
func newGatedTokenSource(t *testing.T) (*apikeystest.Server, *apikeys.AssertionTokenSource, *gateTransport) {
	t.Helper()
	leakCheck(t)
	srv := apikeystest.NewServer()
	t.Cleanup(srv.Close)
	key, svc := addServiceKey(t, srv, srv.EnvironmentID("Staging"))

	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	gate := &gateTransport{base: tr, entered: make(chan struct{}, 1), release: make(chan struct{})}
	ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{
		ClientID: svc.ID, Key: key, TokenURL: srv.TokenURL, HTTPClient: &http.Client{Transport: gate},
	})
	require.NoError(t, err)
	apikeys.SetTokenSourceWait(ts, (&waits{}).sleep)
	return srv, ts, gate
}

// clientOf returns a client of srv with its own transport, closed at cleanup.
func clientOf(t *testing.T, srv *apikeystest.Server, opts ...apikeys.Option) *apikeys.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := apikeys.NewClient(append([]apikeys.Option{
		apikeys.WithBaseURL(srv.PlatformURL),
		apikeys.WithHTTPClient(&http.Client{Transport: tr}),
	}, opts...)...)
	require.NoError(t, err)
	return c
}

// TestLeakTokenWaitersLeave: every caller of a token fetch leaves while
// it runs (one calling the token source, one a Client call waiting for a
// token). The fetch finishes on its own, its token is cached, and no
// goroutine is left behind.
func TestLeakTokenWaitersLeave(t *testing.T) {
	srv, ts, gate := newGatedTokenSource(t)
	c := clientOf(t, srv, apikeys.WithTokenSource(ts))

	ctx, cancel := context.WithCancel(context.Background())
	tokenErr := make(chan error, 1)
	go func() {
		_, err := ts.Token(ctx)
		tokenErr <- err
	}()
	await(t, gate.entered, "the token request")
	callErr := make(chan error, 1)
	go func() {
		_, err := c.APIKeys.List(ctx, srv.EnvironmentID("Staging"))
		callErr <- err
	}()
	cancel()
	assert.ErrorIs(t, <-tokenErr, context.Canceled)
	err := <-callErr
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, apikeys.IsRetryable(err))
	assert.Zero(t, srv.Count(apikeystest.RouteListAPIKeys), "no call is sent without a token")

	close(gate.release) // the fetch, which nobody waits for any more, goes on
	tok, err := ts.Token(context.Background())
	require.NoError(t, err)
	assert.NotEmpty(t, tok.AccessToken)
	keys, err := c.APIKeys.List(context.Background(), srv.EnvironmentID("Staging"))
	require.NoError(t, err)
	assert.Len(t, keys, 1)
	assert.Equal(t, 1, srv.Count(apikeystest.RouteToken), "the abandoned fetch's token was cached and used")
}

// TestLeakTokenWaiterLeavesFailedFetch: the caller leaves and the fetch
// then fails. Nothing is cached, nothing is left running, and the next
// caller fetches again.
func TestLeakTokenWaiterLeavesFailedFetch(t *testing.T) {
	srv, ts, gate := newGatedTokenSource(t)
	srv.FailNext(apikeystest.RouteToken, 1, http.StatusBadRequest, "")

	ctx, cancel := context.WithCancel(context.Background())
	tokenErr := make(chan error, 1)
	go func() {
		_, err := ts.Token(ctx)
		tokenErr <- err
	}()
	await(t, gate.entered, "the token request")
	cancel()
	assert.ErrorIs(t, <-tokenErr, context.Canceled)
	close(gate.release)
	await(t, srv.Await(apikeystest.RouteToken, 1), "the refused token request")

	// The failed fetch is not cached: this caller either waits for it
	// (and gets its error) or, once it is over, starts a new one.
	_, err := ts.Token(context.Background())
	if err != nil {
		var te *apikeys.TokenError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, http.StatusBadRequest, te.StatusCode)
		_, err = ts.Token(context.Background())
	}
	require.NoError(t, err)
	assert.Equal(t, 2, srv.Count(apikeystest.RouteToken))
	assert.Equal(t, 1, srv.IssuedTokens())
}

// messageSignal is a slog handler that reports each record with msg on ch.
type messageSignal struct {
	msg string
	ch  chan struct{}
}

func (h *messageSignal) Enabled(context.Context, slog.Level) bool { return true }

func (h *messageSignal) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case h.ch <- struct{}{}:
		default:
		}
	}
	return nil
}

func (h *messageSignal) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h *messageSignal) WithGroup(string) slog.Handler { return h }

// TestLeakCallCancelledMidWait: a call cancelled while it waits an hour
// before a retry (the real wait, not an injected one) returns at once with
// the context's error and leaves no goroutine or timer running.
func TestLeakCallCancelledMidWait(t *testing.T) {
	leakCheck(t)
	srv := apikeystest.NewServer()
	t.Cleanup(srv.Close)
	signal := &messageSignal{msg: "apikeys: retrying", ch: make(chan struct{}, 1)}
	c := clientOf(t, srv, apikeys.WithToken(srv.BearerToken),
		apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 3, MinWait: time.Hour, MaxWait: time.Hour}),
		apikeys.WithLogger(slog.New(signal)))

	for _, tc := range []struct {
		name   string
		route  apikeystest.Route
		status int
		call   func(ctx context.Context) error
	}{
		{name: "get after a 503", route: apikeystest.RouteGetAPIKey, status: http.StatusServiceUnavailable, call: func(ctx context.Context) error {
			_, err := c.APIKeys.Get(ctx, "no-such-key")
			return err
		}},
		// A 429 is refused before processing: the create is retried,
		// and cancelling its wait is not ambiguous.
		{name: "create after a 429", route: apikeystest.RouteCreateAPIKey, status: http.StatusTooManyRequests, call: func(ctx context.Context) error {
			_, err := c.APIKeys.Create(ctx, srv.EnvironmentID("Staging"), apikeys.CreateAPIKeyRequest{Name: "n"})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.FailNext(tc.route, 1, tc.status, "")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- tc.call(ctx) }()
			await(t, signal.ch, "the retry decision")
			cancel()
			var err error
			select {
			case err = <-errc:
			case <-time.After(waitGuard):
				t.Fatal("the call did not end with its context")
			}
			assert.ErrorIs(t, err, context.Canceled)
			assert.False(t, apikeys.IsAmbiguous(err), "%v", err)
			assert.False(t, apikeys.IsRetryable(err))
			assert.Equal(t, 1, srv.Count(tc.route))
		})
	}
	assert.Empty(t, srv.APIKeys(), "nothing was created")
}

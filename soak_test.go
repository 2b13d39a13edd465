package apikeys_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// TestConcurrentCallsReuseConnections: goroutines sharing a Client with
// its default transport reuse its connections. At most one connection per
// goroutine is needed (twice that allows for dials that race a connection
// coming back idle); a pool that keeps too few idle connections per host
// opens and closes one for most calls instead.
func TestConcurrentCallsReuseConnections(t *testing.T) {
	srv := apikeystest.NewServer()
	t.Cleanup(srv.Close)
	c, err := apikeys.NewClient(apikeys.WithBaseURL(srv.PlatformURL), apikeys.WithToken(srv.BearerToken))
	require.NoError(t, err)
	const workers, calls = 32, 25
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range calls {
				if _, err := c.Environments.List(context.Background(), srv.OrganizationID()); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, workers*calls, srv.Count(apikeystest.RouteListEnvironments))
	assert.LessOrEqual(t, srv.Connections(), 2*workers, "connections for %d calls", workers*calls)
}

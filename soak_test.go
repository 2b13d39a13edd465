package apikeys_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// The soak: callsInSoak calls from goroutinesInSoak goroutines sharing one
// Client (and one token source) against one fake, about faultsPerCall of
// them preceded by an injected fault (503, 429 or a dropped connection) on
// their route. The schedule of faults is drawn from a seeded generator per
// goroutine, so the same faults are injected on every run; which call meets
// which fault depends on the interleaving, and every call must end either
// in success or in one of the errors a fault can cause.
//
// Measured with -race on 2 cores: about 20 s for the 20,000 calls, within
// the one-minute budget.
const (
	callsInSoak      = 20000
	goroutinesInSoak = 64
	faultsPerCall    = 0.05
	scheduleSeed     = 20261123 // seeds each goroutine's schedule of faults, with its index
	seededKeysPerAPI = 16       // Platform keys and legacy user keys seeded
	createEvery      = 25       // each goroutine creates a key every createEvery calls, and deletes one between
)

// callTally is one goroutine's account of its calls.
type callTally struct {
	outcomes   map[string]int
	faults     map[string]int
	unexpected []string
	platform   map[string]string // name -> ID of keys whose create reported success and that still exist
	legacy     map[string]string // label -> key of user keys created and not deleted
	appKeys    []string          // app keys created, in order
}

func (tl *callTally) record(kind string, create bool, err error) {
	outcome, ok := classifyOutcome(err, create)
	tl.outcomes[kind+": "+outcome]++
	if !ok && len(tl.unexpected) < 5 {
		tl.unexpected = append(tl.unexpected, fmt.Sprintf("%s: %v", kind, err))
	}
}

// classifyOutcome names the result of a call, and says whether a fault of
// the soak can explain it: success; for a create, an ambiguous outcome;
// or, when faults queued up on a route outlast the retries, the last
// fault's 503, 429 or transport error.
func classifyOutcome(err error, create bool) (string, bool) {
	var te *apikeys.TransportError
	var ae *apikeys.APIError
	var le *apikeys.APIError
	switch {
	case err == nil:
		return "ok", true
	case apikeys.IsAmbiguous(err):
		return "ambiguous", create
	case errors.As(err, &ae) && (ae.StatusCode == 503 || ae.StatusCode == 429):
		return fmt.Sprint(ae.StatusCode), apikeys.IsRetryable(err)
	case errors.As(err, &le) && (le.StatusCode == 503 || le.StatusCode == 429):
		return fmt.Sprint(le.StatusCode), apikeys.IsRetryable(err)
	case errors.As(err, &te):
		return "transport", apikeys.IsRetryable(err)
	}
	return "unexpected", false
}

func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak: skipped with -short")
	}
	srv := apikeystest.NewServer()
	t.Cleanup(srv.Close)
	staging := srv.EnvironmentID("Staging")

	key, svc := addServiceKey(t, srv, staging)
	var seededPlatform []apikeystest.APIKey
	for i := range seededKeysPerAPI {
		k, err := srv.AddAPIKey(staging, fmt.Sprintf("seed-%02d", i), nil, "")
		require.NoError(t, err)
		seededPlatform = append(seededPlatform, k)
	}

	// Legacy user keys are seeded through a client of their own, so that
	// every connection of the soak's client is opened during the soak.
	seedTr := &http.Transport{}
	seeder, err := apikeys.NewClient(apikeys.WithLegacy(apikeys.LegacyConfig{
		BaseURL: srv.URL, Domain: srv.LegacyDomain, UserKey: srv.LegacyUserKey}), apikeys.WithHTTPClient(&http.Client{Transport: seedTr}))
	require.NoError(t, err)
	ctx := context.Background()
	var seededUser []*apikeys.LegacyKey
	for i := range seededKeysPerAPI {
		k, err := seeder.Legacy.Create(ctx, apikeys.UserKeys(), fmt.Sprintf("seed-user-%02d", i))
		require.NoError(t, err)
		seededUser = append(seededUser, k)
	}
	seedTr.CloseIdleConnections()

	// The soak's client uses its own default transport, as users get it.
	tsTr := http.DefaultTransport.(*http.Transport).Clone()
	ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{
		ClientID: svc.ID, Key: key, TokenURL: srv.TokenURL, HTTPClient: &http.Client{Transport: tsTr},
	})
	require.NoError(t, err)
	c, err := apikeys.NewClient(
		apikeys.WithBaseURL(srv.PlatformURL),
		apikeys.WithTokenSource(ts),
		apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: srv.URL, Domain: srv.LegacyDomain, UserKey: srv.LegacyUserKey}),
		apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 3, MaxWait: time.Second}),
	)
	require.NoError(t, err)
	apikeys.SetRetryClock(c, func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
		func() float64 { return 0.5 }, time.Now)

	ignore := goleak.IgnoreCurrent()
	connsBefore := srv.Connections()

	start := time.Now()
	tallies := make([]*callTally, goroutinesInSoak)
	var wg sync.WaitGroup
	for w := range goroutinesInSoak {
		tl := &callTally{outcomes: map[string]int{}, faults: map[string]int{}, platform: map[string]string{}, legacy: map[string]string{}}
		tallies[w] = tl
		n := callsInSoak / goroutinesInSoak
		if w < callsInSoak%goroutinesInSoak {
			n++
		}
		wg.Go(func() {
			makeSoakCalls(c, srv, w, n, tl, staging, seededPlatform, seededUser)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	// Every call ended in success or in an error a fault explains.
	outcomes, faults := map[string]int{}, map[string]int{}
	total := 0
	for w, tl := range tallies {
		for k, v := range tl.outcomes {
			outcomes[k] += v
			total += v
		}
		for k, v := range tl.faults {
			faults[k] += v
		}
		assert.Empty(t, tl.unexpected, "goroutine %d", w)
	}
	assert.Equal(t, callsInSoak, total)
	injected := faults["503"] + faults["429"] + faults["drop"]
	conns := srv.Connections() - connsBefore
	t.Logf("%d calls from %d goroutines in %s; %d faults injected (%v); %d connections opened; outcomes %v",
		total, goroutinesInSoak, elapsed.Round(time.Millisecond), injected, faults, conns, outcomes)
	assert.InDelta(t, faultsPerCall*callsInSoak, injected, 0.2*faultsPerCall*callsInSoak)

	// Connections are reused: a dropped connection costs a new one, and a
	// few more open while 64 goroutines overlap.
	assert.Less(t, conns, callsInSoak/10, "connections opened")
	assert.Equal(t, 1, srv.IssuedTokens(), "one token for every goroutine")

	// The server's state is what the successful calls made it.
	wantPlatform := map[string]string{svc.Name: svc.ID}
	for _, k := range seededPlatform {
		wantPlatform[k.Name] = k.ID
	}
	wantLegacy := map[string]string{}
	for _, k := range seededUser {
		wantLegacy[k.Label] = k.Key
	}
	for _, tl := range tallies {
		for name, id := range tl.platform {
			wantPlatform[name] = id
		}
		for label, k := range tl.legacy {
			wantLegacy[label] = k
		}
	}
	gotPlatform := map[string]string{}
	for _, k := range srv.APIKeys() {
		_, dup := gotPlatform[k.Name]
		assert.False(t, dup, "duplicate Platform key name %q", k.Name)
		gotPlatform[k.Name] = k.ID
	}
	assert.Equal(t, wantPlatform, gotPlatform, "Platform keys: seeded + created - deleted")
	gotLegacy := map[string]string{}
	appKeys := map[string][]apikeystest.LegacyKey{}
	for _, k := range srv.LegacyKeys() {
		switch k.KeyType {
		case apikeys.KeyTypeUser:
			_, dup := gotLegacy[k.Label]
			assert.False(t, dup, "duplicate legacy key label %q", k.Label)
			assert.Nil(t, k.Revoked, k.Label)
			gotLegacy[k.Label] = k.Key
		case apikeys.KeyTypeApp:
			appKeys[k.KeyReference] = append(appKeys[k.KeyReference], k)
		}
	}
	assert.Equal(t, wantLegacy, gotLegacy, "legacy user keys: seeded + created - deleted")
	for w, tl := range tallies {
		got := appKeys[fmt.Sprintf("soak-app-%d", w)]
		var keys, active []string
		for _, k := range got {
			keys = append(keys, k.Key)
			if k.Revoked == nil {
				active = append(active, k.Key)
			}
		}
		assert.Equal(t, tl.appKeys, keys, "app keys of goroutine %d: exactly the creates that succeeded", w)
		if len(tl.appKeys) > 0 {
			assert.Equal(t, tl.appKeys[len(tl.appKeys)-1:], active, "the latest app key is the only active one")
		}
	}

	// Listing through the SDK agrees (faults still queued are retried).
	var listed []*apikeys.APIKey
	for range 10 {
		if listed, err = c.APIKeys.List(ctx, staging); err == nil {
			break
		}
	}
	require.NoError(t, err)
	assert.Len(t, listed, len(wantPlatform))

	// No goroutine outlives the calls once idle connections are closed,
	// while the server is still up. The client's transport is its own;
	// it closes its idle connections after a call's final transport
	// failure (retryablehttp does), so end with one: drain the faults
	// still queued on a POST route (net/http never resends a POST on
	// another connection by itself), then drop every attempt.
	validate := func() error {
		_, err := c.Legacy.Validate(ctx, apikeys.KeyTypeUser, seededUser[0].Key)
		return err
	}
	for range 10 {
		if err = validate(); err == nil {
			break
		}
	}
	require.NoError(t, err)
	srv.DropNext(apikeystest.RouteLegacyValidate, 4)
	var te *apikeys.TransportError
	require.ErrorAs(t, validate(), &te)
	tsTr.CloseIdleConnections()
	goleak.VerifyNone(t, ignore)
	assert.Less(t, elapsed, time.Minute)
}

// makeSoakCalls makes n calls, its faults drawn from a generator seeded
// with the soak's seed and its index.
func makeSoakCalls(c *apikeys.Client, srv *apikeystest.Server, w, n int, tl *callTally, staging string,
	seededPlatform []apikeystest.APIKey, seededUser []*apikeys.LegacyKey) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(scheduleSeed, uint64(w)))
	var ownPlatform, ownLegacy []string // names and labels this goroutine created, not yet deleted
	created := 0
	for i := range n {
		type call struct {
			kind   string
			route  apikeystest.Route
			create bool
			do     func() error
		}
		var cl call
		switch pick := rng.IntN(100); {
		case i%createEvery == 0:
			created++
			switch created % 3 {
			case 0:
				name := fmt.Sprintf("soak-%d-%d", w, created)
				cl = call{kind: "APIKeys.Create", route: apikeystest.RouteCreateAPIKey, create: true, do: func() error {
					k, err := c.APIKeys.Create(ctx, staging, apikeys.CreateAPIKeyRequest{Name: name})
					if err == nil {
						tl.platform[name] = k.ID
						ownPlatform = append(ownPlatform, name)
					}
					return err
				}}
			case 1:
				label := fmt.Sprintf("soak-user-%d-%d", w, created)
				cl = call{kind: "Legacy.Create user", route: apikeystest.RouteLegacyCreate, create: true, do: func() error {
					k, err := c.Legacy.Create(ctx, apikeys.UserKeys(), label)
					if err == nil {
						tl.legacy[label] = k.Key
						ownLegacy = append(ownLegacy, label)
					}
					return err
				}}
			default:
				cl = call{kind: "Legacy.Create app", route: apikeystest.RouteLegacyCreate, create: true, do: func() error {
					k, err := c.Legacy.Create(ctx, apikeys.AppKeys(fmt.Sprintf("soak-app-%d", w)), "soak")
					if err == nil {
						tl.appKeys = append(tl.appKeys, k.Key)
					}
					return err
				}}
			}
		case i%createEvery == createEvery/2 && len(ownPlatform) > 0 && created%2 == 0:
			name := ownPlatform[0]
			cl = call{kind: "APIKeys.Delete", route: apikeystest.RouteDeleteAPIKey, create: false, do: func() error {
				_, err := c.APIKeys.Delete(ctx, tl.platform[name])
				if err == nil {
					delete(tl.platform, name)
					ownPlatform = ownPlatform[1:]
				}
				return err
			}}
		case i%createEvery == createEvery/2 && len(ownLegacy) > 0:
			label := ownLegacy[0]
			cl = call{kind: "Legacy.Delete", route: apikeystest.RouteLegacyDelete, create: false, do: func() error {
				_, err := c.Legacy.Delete(ctx, tl.legacy[label])
				if err == nil {
					delete(tl.legacy, label)
					ownLegacy = ownLegacy[1:]
				}
				return err
			}}
		case pick < 25:
			k := seededPlatform[rng.IntN(len(seededPlatform))]
			cl = call{kind: "APIKeys.Get", route: apikeystest.RouteGetAPIKey, create: false, do: func() error {
				got, err := c.APIKeys.Get(ctx, k.ID)
				if err == nil && got.Name != k.Name {
					return fmt.Errorf("got key %q, want %q", got.Name, k.Name)
				}
				return err
			}}
		case pick < 35:
			cl = call{kind: "APIKeys.List", route: apikeystest.RouteListAPIKeys, create: false, do: func() error {
				_, err := c.APIKeys.List(ctx, staging)
				return err
			}}
		case pick < 42:
			cl = call{kind: "Environments.List", route: apikeystest.RouteListEnvironments, create: false, do: func() error {
				envs, err := c.Environments.List(ctx, srv.OrganizationID())
				if err == nil && len(envs) != 3 {
					return fmt.Errorf("%d environments", len(envs))
				}
				return err
			}}
		case pick < 52:
			k := seededPlatform[rng.IntN(len(seededPlatform))]
			jwksURL := fmt.Sprintf("https://keys.example.com/%d.json", w)
			cl = call{kind: "APIKeys.Update", route: apikeystest.RouteUpdateAPIKey, create: false, do: func() error {
				_, err := c.APIKeys.Update(ctx, k.ID, apikeys.UpdateAPIKeyRequest{JWKSURL: &jwksURL})
				return err
			}}
		case pick < 70:
			cl = call{kind: "Legacy.List", route: apikeystest.RouteLegacyList, create: false, do: func() error {
				_, err := c.Legacy.List(ctx, apikeys.UserKeys())
				return err
			}}
		case pick < 85:
			k := seededUser[rng.IntN(len(seededUser))]
			cl = call{kind: "Legacy.Validate", route: apikeystest.RouteLegacyValidate, create: false, do: func() error {
				valid, err := c.Legacy.Validate(ctx, apikeys.KeyTypeUser, k.Key)
				if err == nil && !valid {
					return fmt.Errorf("seeded key %q is not valid", k.Label)
				}
				return err
			}}
		default:
			k := seededUser[rng.IntN(len(seededUser))]
			cl = call{kind: "Legacy.Update", route: apikeystest.RouteLegacyUpdate, create: false, do: func() error {
				_, err := c.Legacy.Update(ctx, k.Key, k.Label) // the same label: the state stays checkable
				return err
			}}
		}
		if rng.Float64() < faultsPerCall {
			switch f := rng.IntN(10); {
			case f < 4:
				srv.FailNext(cl.route, 1, http.StatusServiceUnavailable, "")
				tl.faults["503"]++
			case f < 7:
				srv.FailNext(cl.route, 1, http.StatusTooManyRequests, "1")
				tl.faults["429"]++
			default:
				srv.DropNext(cl.route, 1)
				tl.faults["drop"]++
			}
		}
		tl.record(cl.kind, cl.create, cl.do())
	}
}

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

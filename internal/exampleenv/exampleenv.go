// Package exampleenv connects the example programs to the in-process fake
// of package apikeystest, or to real servers when the APIKEYS_* environment
// variables are set:
//
//	APIKEYS_REGION            Platform region: us (default) or ca; sets both URLs below
//	APIKEYS_BASE_URL          Platform API base URL, for one that is no region's
//	                          (default: the region's)
//	APIKEYS_TOKEN_URL         token endpoint, for one that is no region's (default: the
//	                          region's, or that of the region whose base URL is given)
//	APIKEYS_CLIENT_ID         required for Platform: the ID of a management API key
//	APIKEYS_PRIVATE_KEY_FILE  required for Platform: PEM file with that key's private key
//	                          (read with apikeys.ParseSigningKey)
//	APIKEYS_ENVIRONMENT_ID    required for Platform: the environment to create keys in
//	APIKEYS_ORGANIZATION_ID   optional: the organization whose environments are listed
//	APIKEYS_LEGACY_URL        required for legacy: the host, e.g. https://acme.feedhenry.com
//	APIKEYS_LEGACY_DOMAIN     required for legacy: the tenant domain, e.g. acme
//	APIKEYS_LEGACY_USER_KEY   required for legacy: a user API key (sent as X-FH-AUTH-USER)
//	APIKEYS_LEGACY_APP_ID     optional: an app whose keys an example may create; creating
//	                          an app key revokes the app's active key
//
// Each API is used only when its required variables are set.
package exampleenv

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

// Vars are the variables that switch an example to real servers.
var Vars = []string{
	"APIKEYS_REGION", "APIKEYS_BASE_URL", "APIKEYS_TOKEN_URL", "APIKEYS_CLIENT_ID", "APIKEYS_PRIVATE_KEY_FILE",
	"APIKEYS_ENVIRONMENT_ID", "APIKEYS_ORGANIZATION_ID",
	"APIKEYS_LEGACY_URL", "APIKEYS_LEGACY_DOMAIN", "APIKEYS_LEGACY_USER_KEY", "APIKEYS_LEGACY_APP_ID",
}

// Setup is what an example runs against.
type Setup struct {
	// Platform manages Platform keys; nil when it is not configured.
	Platform *apikeys.Client
	// Legacy manages legacy keys; nil when it is not configured.
	Legacy *apikeys.Client
	// Real says the setup is real servers, not the fake.
	Real bool
	// TokenURL is the token endpoint of the Platform client, for the
	// token sources of the keys an example makes.
	TokenURL string
	// EnvironmentID is where an example makes Platform keys.
	EnvironmentID  string
	OrganizationID int    // 0: unknown
	AppID          string // "": no app keys may be made
	// HTTPClient sends the requests an example makes itself (token requests).
	HTTPClient *http.Client

	close func()
}

// Close ends what the setup started: the fake, and the idle connections.
func (s *Setup) Close() { s.close() }

// Connect returns the fake's setup (started with startFake) unless one of
// Vars is set in getenv; then it returns the real servers' setup.
func Connect(getenv func(string) string, startFake func() *apikeystest.Server) (*Setup, error) {
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment}
	s := &Setup{HTTPClient: &http.Client{Transport: tr, Timeout: time.Minute}, close: tr.CloseIdleConnections}
	for _, v := range Vars {
		if getenv(v) != "" {
			s.Real = true
		}
	}
	if !s.Real {
		srv := startFake()
		c, err := srv.NewClient()
		if err != nil {
			srv.Close()
			return nil, err
		}
		s.Platform, s.Legacy, s.TokenURL = c, c, srv.TokenURL
		s.EnvironmentID, s.OrganizationID, s.AppID = srv.EnvironmentID("Development"), srv.OrganizationID(), "example-app"
		s.close = func() { srv.Close(); tr.CloseIdleConnections() } // Close closes srv.NewClient's connections too
		return s, nil
	}
	if err := s.connectPlatform(getenv); err != nil {
		return nil, err
	}
	if err := s.connectLegacy(getenv); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Setup) connectPlatform(getenv func(string) string) error {
	clientID, keyFile, envID := getenv("APIKEYS_CLIENT_ID"), getenv("APIKEYS_PRIVATE_KEY_FILE"), getenv("APIKEYS_ENVIRONMENT_ID")
	if clientID == "" || keyFile == "" || envID == "" {
		return nil
	}
	pem, err := os.ReadFile(keyFile)
	if err != nil {
		return fmt.Errorf("APIKEYS_PRIVATE_KEY_FILE: %w", err)
	}
	key, err := apikeys.ParseSigningKey(pem, "")
	if err != nil {
		return fmt.Errorf("APIKEYS_PRIVATE_KEY_FILE: %w", err)
	}
	opts := []apikeys.Option{
		apikeys.WithClientAssertion(clientID, key),
		apikeys.WithHTTPClient(s.HTTPClient),
		apikeys.WithUserAgent("apikeys-example"),
	}
	if r := getenv("APIKEYS_REGION"); r != "" {
		opts = append(opts, apikeys.WithRegion(apikeys.Region(r)))
	}
	if u := getenv("APIKEYS_BASE_URL"); u != "" {
		opts = append(opts, apikeys.WithBaseURL(u))
	}
	if u := getenv("APIKEYS_TOKEN_URL"); u != "" {
		opts = append(opts, apikeys.WithTokenURL(u))
	}
	if s.Platform, err = apikeys.NewClient(opts...); err != nil {
		return err
	}
	s.TokenURL = s.Platform.AssertionTokenSource().TokenURL()
	s.EnvironmentID = envID
	if org := getenv("APIKEYS_ORGANIZATION_ID"); org != "" {
		if s.OrganizationID, err = strconv.Atoi(org); err != nil {
			return fmt.Errorf("APIKEYS_ORGANIZATION_ID is not a number")
		}
	}
	return nil
}

func (s *Setup) connectLegacy(getenv func(string) string) error {
	lurl, domain, userKey := getenv("APIKEYS_LEGACY_URL"), getenv("APIKEYS_LEGACY_DOMAIN"), getenv("APIKEYS_LEGACY_USER_KEY")
	if lurl == "" || domain == "" || userKey == "" {
		return nil
	}
	var err error
	s.Legacy, err = apikeys.NewClient(
		apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: lurl, Domain: domain, UserKey: userKey}),
		apikeys.WithHTTPClient(s.HTTPClient),
		apikeys.WithUserAgent("apikeys-example"),
	)
	s.AppID = getenv("APIKEYS_LEGACY_APP_ID")
	return err
}

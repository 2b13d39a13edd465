//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/apikeys-go/apikeys"
)

// These tests build the command once and run it as a separate process, as a user's CI or
// docker-compose does: they read its JSON line, call it with plain net/http and with the SDK,
// drive it through the admin API and stop it with signals.

// guard bounds a wait that must end; it is a failure guard, not a timing assumption.
const guard = 20 * time.Second

// raceEnabled is set by race_test.go: the command is then built with -race too.
var raceEnabled bool

var (
	binDir    string
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "apikeys-fake-test-"); err != nil {
		panic(err)
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		os.RemoveAll(binDir)
		os.Exit(code)
	}))
}

// binary builds the command, once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		gotool, err := exec.LookPath("go") // go test puts its own go first in PATH
		if err != nil {
			buildErr = err
			return
		}
		path := filepath.Join(binDir, "apikeys-fake")
		args := []string{"build", "-o", path}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command(gotool, append(args, ".")...).CombinedOutput()
		if err != nil {
			buildErr = errors.New(err.Error() + "\n" + string(out))
			return
		}
		binPath = path
	})
	require.NoError(t, buildErr, "building the command")
	return binPath
}

// line is the JSON line the command prints.
type line struct {
	BaseURL            string            `json:"baseURL"`
	PlatformURL        string            `json:"platformURL"`
	TokenURL           string            `json:"tokenURL"`
	LegacyURL          string            `json:"legacyURL"`
	LegacyDomain       string            `json:"legacyDomain"`
	AdminURL           string            `json:"adminURL"`
	OrganizationID     int               `json:"organizationId"`
	Environments       map[string]string `json:"environments"`
	BearerToken        string            `json:"bearerToken"`
	LegacyUserKey      string            `json:"legacyUserKey"`
	SessionCookie      string            `json:"sessionCookie"`
	ManagementClientID string            `json:"managementClientId"`
	ManagementKeyID    string            `json:"managementKeyId"`
	ManagementKeyAlg   string            `json:"managementKeyAlg"`
	ManagementKeyFile  string            `json:"managementKeyFile"`
	CertFile           string            `json:"certFile"`
	ListenAddr         string            `json:"listenAddr"`
}

// fake is a running command.
type fake struct {
	t      *testing.T
	cmd    *exec.Cmd
	raw    string // the JSON line as printed
	info   line
	stderr *bytes.Buffer // read only once the process has exited
	done   chan struct{} // closed once the process has exited
	hc     *http.Client  // plain net/http client for the fake (trusts its certificate with -tls)
	tr     *http.Transport
}

// command returns a command running the binary. Built with -race, it reports a race with exit
// code 66, which the tests see; the race runtime's 1 s sleep at exit is turned off.
func command(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	if raceEnabled {
		cmd.Env = append(os.Environ(), "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	}
	return cmd
}

// startFake runs the command with -addr 127.0.0.1:0 and args, and reads its JSON line.
func startFake(t *testing.T, args ...string) *fake {
	t.Helper()
	cmd := command(t, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	f := &fake{t: t, cmd: cmd, stderr: new(bytes.Buffer), done: make(chan struct{})}
	cmd.Stderr = f.stderr
	require.NoError(t, cmd.Start())

	type result struct {
		s   string
		err error
	}
	lines := make(chan result, 1)
	go func() {
		s, err := bufio.NewReader(stdout).ReadString('\n')
		lines <- result{s: s, err: err}
	}()
	var r result
	select {
	case r = <-lines:
	case <-time.After(guard):
		_ = cmd.Process.Kill()
		<-lines
	}
	go func() {
		_ = cmd.Wait()
		close(f.done)
	}()
	t.Cleanup(func() {
		if f.tr != nil {
			f.tr.CloseIdleConnections()
		}
		select {
		case <-f.done:
		default:
			_ = cmd.Process.Kill()
			<-f.done
		}
	})
	if r.err != nil {
		_ = cmd.Process.Kill()
		<-f.done
		t.Fatalf("no JSON line from the command (%v); stderr:\n%s", r.err, f.stderr)
	}
	f.raw = r.s
	dec := json.NewDecoder(strings.NewReader(r.s))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&f.info), "the JSON line: %s", r.s)

	f.tr = &http.Transport{}
	if f.info.CertFile != "" {
		pemBytes, err := os.ReadFile(f.info.CertFile)
		require.NoError(t, err)
		pool := x509.NewCertPool()
		require.True(t, pool.AppendCertsFromPEM(pemBytes), "the certificate file holds a PEM certificate")
		f.tr.TLSClientConfig = &tls.Config{RootCAs: pool}
		f.tr.ForceAttemptHTTP2 = true
	}
	f.hc = &http.Client{Transport: f.tr}
	return f
}

// stop sends sig and returns the exit code, failing the test if the process does not exit.
func (f *fake) stop(sig os.Signal) int {
	f.t.Helper()
	require.NoError(f.t, f.cmd.Process.Signal(sig))
	select {
	case <-f.done:
	case <-time.After(guard):
		f.t.Fatalf("the command did not exit after %v", sig)
	}
	return f.cmd.ProcessState.ExitCode()
}

// reply is a read response.
type reply struct {
	status int
	proto  string
	header http.Header
	body   []byte
}

func (r reply) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

// do sends a request; header is a list of name, value pairs.
func (f *fake) do(method, rawURL, body string, header ...string) reply {
	f.t.Helper()
	r, err := f.try(method, rawURL, body, header...)
	require.NoError(f.t, err)
	return r
}

func (f *fake) try(method, rawURL, body string, header ...string) (reply, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, rawURL, rd)
	if err != nil {
		return reply{}, err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, proto: resp.Proto, header: resp.Header, body: b}, err
}

// platform calls a Platform path with the printed bearer token.
func (f *fake) platform(method, path, body string) reply {
	f.t.Helper()
	return f.do(method, f.info.PlatformURL+path, body,
		"Authorization", "Bearer "+f.info.BearerToken, "Content-Type", "application/json")
}

// legacy calls a legacy operation with the printed user key.
func (f *fake) legacy(op, body string) reply {
	f.t.Helper()
	return f.do(http.MethodPost, f.info.LegacyURL+"/box/srv/1.1/ide/"+f.info.LegacyDomain+"/api/"+op, body,
		"X-FH-AUTH-USER", f.info.LegacyUserKey, "Content-Type", "application/json")
}

// admin calls the admin API.
func (f *fake) admin(method, path, body string) reply {
	f.t.Helper()
	return f.do(method, f.info.AdminURL+path, body, "Content-Type", "application/json")
}

// sdk returns an SDK client wired with the printed credentials only: the management key's
// client ID, its private key file and the token URL for Platform calls; the legacy URL, domain
// and user key for legacy calls.
func (f *fake) sdk(opts ...apikeys.Option) (*apikeys.Client, *apikeys.AssertionTokenSource) {
	f.t.Helper()
	pemBytes, err := os.ReadFile(f.info.ManagementKeyFile)
	require.NoError(f.t, err)
	key, err := apikeys.ParseSigningKey(pemBytes, f.info.ManagementKeyAlg)
	require.NoError(f.t, err)
	require.Equal(f.t, f.info.ManagementKeyID, key.KeyID, "the printed kid is the key's thumbprint")
	ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{
		ClientID: f.info.ManagementClientID, Key: key, TokenURL: f.info.TokenURL, HTTPClient: f.hc,
	})
	require.NoError(f.t, err)
	c, err := apikeys.NewClient(append([]apikeys.Option{
		apikeys.WithBaseURL(f.info.PlatformURL),
		apikeys.WithTokenSource(ts),
		apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: f.info.LegacyURL, Domain: f.info.LegacyDomain, UserKey: f.info.LegacyUserKey}),
		apikeys.WithHTTPClient(f.hc),
	}, opts...)...)
	require.NoError(f.t, err)
	return c, ts
}

var (
	hex40 = regexp.MustCompile(`^[0-9a-f]{40}$`)
	uuid  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// TestJSONLine: the command prints one JSON line with everything a client needs, the
// management key in a 0600 PKCS#8 PEM file; SIGINT stops it with exit code 0 and removes the
// temporary directory.
func TestJSONLine(t *testing.T) {
	f := startFake(t)
	in := f.info
	assert.True(t, strings.HasSuffix(f.raw, "}\n") && strings.Count(f.raw, "\n") == 1, "one line: %q", f.raw)
	base := "http://" + in.ListenAddr
	assert.Regexp(t, `^127\.0\.0\.1:[1-9][0-9]*$`, in.ListenAddr)
	assert.Equal(t, base, in.BaseURL)
	assert.Equal(t, base+"/platform", in.PlatformURL)
	assert.Equal(t, base+"/v2/auth/token", in.TokenURL)
	assert.Equal(t, base, in.LegacyURL)
	assert.Equal(t, "acme", in.LegacyDomain)
	assert.Equal(t, base+"/_fake", in.AdminURL)
	assert.Equal(t, 1, in.OrganizationID)
	require.Len(t, in.Environments, 3)
	for _, flag := range []string{"Production", "Staging", "Development"} {
		assert.Regexp(t, uuid, in.Environments[flag], flag)
	}
	assert.Regexp(t, `^[0-9a-f]{64}$`, in.BearerToken)
	assert.Regexp(t, hex40, in.LegacyUserKey)
	assert.Regexp(t, `^[0-9a-f]{48}$`, in.SessionCookie)
	assert.Regexp(t, uuid, in.ManagementClientID)
	assert.Equal(t, "ES384", in.ManagementKeyAlg)
	assert.NotEmpty(t, in.ManagementKeyID)
	assert.Empty(t, in.CertFile, "no certificate without -tls")

	st, err := os.Stat(in.ManagementKeyFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	assert.Equal(t, "management.pem", filepath.Base(in.ManagementKeyFile))
	pemBytes, err := os.ReadFile(in.ManagementKeyFile)
	require.NoError(t, err)
	block, rest := pem.Decode(pemBytes)
	require.NotNil(t, block)
	assert.Equal(t, "PRIVATE KEY", block.Type)
	assert.Empty(t, rest)
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	assert.IsType(t, &ecdsa.PrivateKey{}, priv)

	// GET /_fake/info has the same members as the line.
	var info map[string]any
	require.NoError(t, json.Unmarshal(f.admin(http.MethodGet, "/info", "").body, &info))
	var all map[string]any
	require.NoError(t, json.Unmarshal([]byte(f.raw), &all))
	for k, v := range info {
		assert.Equal(t, all[k], v, k)
	}
	assert.Len(t, info, 11)

	assert.Equal(t, 0, f.stop(os.Interrupt))
	_, err = os.Stat(filepath.Dir(in.ManagementKeyFile))
	assert.True(t, errors.Is(err, os.ErrNotExist), "the temporary directory is removed at exit: %v", err)
	assert.Contains(t, f.stderr.String(), `msg="apikeys-fake serving"`)
	assert.Contains(t, f.stderr.String(), `msg="apikeys-fake stopped"`)
	assert.NotContains(t, f.stderr.String(), in.BearerToken, "logs hold no credential")
}

// TestPlainHTTP: the Platform, token and legacy APIs with plain net/http and go-jose, no SDK: a
// client in another language does the same.
func TestPlainHTTP(t *testing.T) {
	f := startFake(t)
	r := f.platform(http.MethodGet, "/v1/organizations/1/environments", "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	envs := r.object(t)["payload"].(map[string]any)["environments"].([]any)
	assert.Len(t, envs, 3)

	dev := f.info.Environments["Development"]
	r = f.platform(http.MethodPost, "/v1/environments/"+dev+"/apikeys", `{"name":"svc"}`)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	id := r.object(t)["payload"].(map[string]any)["apikey"].(map[string]any)["id"].(string)
	r = f.platform(http.MethodGet, "/v1/apikeys/"+id, "")
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "svc", r.object(t)["payload"].(map[string]any)["apikey"].(map[string]any)["name"])
	r = f.platform(http.MethodGet, "/v1/environments/"+dev+"/apikeys", "")
	assert.Len(t, r.object(t)["payload"].(map[string]any)["apikeys"], 2, "the management key and svc")
	assert.Equal(t, http.StatusOK, f.platform(http.MethodDelete, "/v1/apikeys/"+id, "").status)
	assert.Equal(t, http.StatusNotFound, f.platform(http.MethodGet, "/v1/apikeys/"+id, "").status)

	// A token flow by hand: a client assertion signed with the printed key file.
	pemBytes, err := os.ReadFile(f.info.ManagementKeyFile)
	require.NoError(t, err)
	block, _ := pem.Decode(pemBytes)
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES384, Key: priv},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", f.info.ManagementKeyID))
	require.NoError(t, err)
	now := time.Now()
	assertion, err := jwt.Signed(signer).Claims(jwt.Claims{
		Issuer: f.info.ManagementClientID, Subject: f.info.ManagementClientID,
		Audience: jwt.Audience{f.info.TokenURL}, IssuedAt: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)), ID: rand.Text(),
	}).Serialize()
	require.NoError(t, err)
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}
	r = f.do(http.MethodPost, f.info.TokenURL, form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	access := r.object(t)["access_token"].(string)
	r = f.do(http.MethodGet, f.info.PlatformURL+"/v1/organizations/1/environments", "", "Authorization", "Bearer "+access)
	assert.Equal(t, http.StatusOK, r.status)

	// Legacy: create, list, validate with the printed user key.
	r = f.legacy("create", `{"type":"user","label":"laptop"}`)
	require.Equal(t, http.StatusOK, r.status)
	created := r.object(t)["apiKey"].(map[string]any)
	assert.Regexp(t, hex40, created["key"])
	assert.NotEmpty(t, r.header.Get("X-FH-REQUEST-ID"))
	list := f.legacy("list", `{"type":"user"}`).object(t)["list"].([]any)
	assert.Equal(t, []any{created}, list)
	assert.Equal(t, true, f.legacy("validate", `{"type":"user","key":"`+created["key"].(string)+`"}`).object(t)["valid"])
	r = f.do(http.MethodPost, f.info.LegacyURL+"/box/srv/1.1/ide/acme/api/list", `{"type":"user"}`,
		"Cookie", "feedhenry="+f.info.SessionCookie, "Content-Type", "application/json")
	assert.Equal(t, http.StatusOK, r.status, "the session cookie authenticates too")

	counts := f.admin(http.MethodGet, "/counts", "").object(t)["counts"].(map[string]any)
	assert.Equal(t, 1.0, counts["Token"])
	assert.Equal(t, 2.0, counts["LegacyList"])
	assert.Equal(t, 0, f.stop(syscall.SIGTERM))
}

// TestSDK: the SDK, configured from the printed credentials only, runs the whole token flow
// and both APIs; the admin API shows the token issued for the printed key.
func TestSDK(t *testing.T) {
	f := startFake(t)
	c, _ := f.sdk()
	ctx := t.Context()
	staging := f.info.Environments["Staging"]

	signing, err := apikeys.GenerateSigningKey(apikeys.ES256)
	require.NoError(t, err)
	jwk, err := signing.JWK()
	require.NoError(t, err)
	key, err := c.APIKeys.Create(ctx, staging, apikeys.CreateAPIKeyRequest{Name: "billing", JWKSet: apikeys.NewJWKSet(jwk)})
	require.NoError(t, err)
	got, err := c.APIKeys.Get(ctx, key.ID)
	require.NoError(t, err)
	assert.Equal(t, "billing", got.Name)
	name := "billing-2"
	_, err = c.APIKeys.Update(ctx, key.ID, apikeys.UpdateAPIKeyRequest{Name: &name})
	require.NoError(t, err)
	list, err := c.APIKeys.List(ctx, staging)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, name, list[0].Name)
	envs, err := c.Environments.List(ctx, f.info.OrganizationID)
	require.NoError(t, err)
	assert.Len(t, envs, 3)

	// The new key gets its own token too.
	ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{ClientID: key.ID, Key: signing, TokenURL: f.info.TokenURL, HTTPClient: f.hc})
	require.NoError(t, err)
	_, err = ts.Token(ctx)
	require.NoError(t, err)
	_, err = c.APIKeys.Delete(ctx, key.ID)
	require.NoError(t, err)

	lk, err := c.Legacy.Create(ctx, apikeys.AppKeys("app-1"), "ci")
	require.NoError(t, err)
	okay, err := c.Legacy.Validate(ctx, apikeys.KeyTypeApp, lk.Key)
	require.NoError(t, err)
	assert.True(t, okay)
	revoked, err := c.Legacy.Revoke(ctx, lk.Key)
	require.NoError(t, err)
	assert.True(t, revoked.IsRevoked())

	var toks struct {
		Tokens []struct {
			ClientID string `json:"clientId"`
			KeyID    string `json:"keyId"`
		} `json:"tokens"`
	}
	require.NoError(t, json.Unmarshal(f.admin(http.MethodGet, "/tokens", "").body, &toks))
	require.Len(t, toks.Tokens, 2)
	assert.Equal(t, f.info.ManagementClientID, toks.Tokens[0].ClientID)
	assert.Equal(t, f.info.ManagementKeyID, toks.Tokens[0].KeyID)
	assert.Equal(t, signing.KeyID, toks.Tokens[1].KeyID)
	assert.Equal(t, 0, f.stop(syscall.SIGTERM))
}

// TestAdminFault: a fault injected through the admin API is seen by the SDK, in the counts and
// in the request log, whose secrets are masked.
func TestAdminFault(t *testing.T) {
	f := startFake(t)
	c, ts := f.sdk(apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 2}))
	ctx := t.Context()
	lk, err := c.Legacy.Create(ctx, apikeys.UserKeys(), "laptop")
	require.NoError(t, err)

	r := f.admin(http.MethodPost, "/faults", `{"route":"CreateAPIKey","kind":"status","status":503,"retryAfter":"1"}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	_, err = c.APIKeys.Create(ctx, f.info.Environments["Staging"], apikeys.CreateAPIKeyRequest{Name: "svc"})
	var apiErr *apikeys.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusServiceUnavailable, apiErr.StatusCode)
	assert.Equal(t, "injected fault: status 503", apiErr.Message)
	assert.True(t, apikeys.IsAmbiguous(err), "a create answered 5xx is not retried: its outcome is unknown")
	_, err = c.APIKeys.Create(ctx, f.info.Environments["Staging"], apikeys.CreateAPIKeyRequest{Name: "svc"})
	require.NoError(t, err, "one fault only")

	counts := f.admin(http.MethodGet, "/counts", "").object(t)["counts"].(map[string]any)
	assert.Equal(t, 2.0, counts["CreateAPIKey"])
	assert.Equal(t, 1.0, counts["Token"])

	r = f.admin(http.MethodGet, "/requests", "")
	require.Equal(t, http.StatusOK, r.status)
	var log struct {
		Requests []struct {
			Route  string              `json:"route"`
			Reason string              `json:"reason"`
			Header map[string][]string `json:"header"`
			Body   string              `json:"body"`
		} `json:"requests"`
	}
	require.NoError(t, json.Unmarshal(r.body, &log))
	var routes []string
	for _, e := range log.Requests {
		routes = append(routes, e.Route)
	}
	assert.Equal(t, []string{"LegacyCreate", "Token", "CreateAPIKey", "CreateAPIKey"}, routes, "admin calls are not logged")
	faulted := log.Requests[2]
	assert.Equal(t, "injected fault", faulted.Reason)
	assert.Equal(t, []string{"Bearer ****"}, faulted.Header["Authorization"])
	assert.Equal(t, []string{"****"}, log.Requests[0].Header["X-Fh-Auth-User"])
	assert.Contains(t, log.Requests[1].Body, "client_assertion=****")

	tok, err := ts.Token(ctx)
	require.NoError(t, err)
	for name, secret := range map[string]string{
		"bearer token": f.info.BearerToken, "user key": f.info.LegacyUserKey,
		"legacy key": lk.Key, "access token": tok.AccessToken,
	} {
		assert.NotContains(t, string(r.body), secret, "the request log shows no %s", name)
	}
	assert.Equal(t, 0, f.stop(syscall.SIGTERM))
}

// answer is a reply and the time it came.
type answer struct {
	reply
	at time.Time
}

// holdInFlight sends a List Environments request that the fake holds for
// latency, and returns once the fake holds it; the answer comes on the
// channel.
func holdInFlight(t *testing.T, f *fake, latency string) <-chan answer {
	t.Helper()
	require.Equal(t, http.StatusCreated,
		f.admin(http.MethodPost, "/faults", `{"route":"ListEnvironments","kind":"latency","latency":"`+latency+`"}`).status)
	done := make(chan answer, 1)
	go func() {
		r, err := f.try(http.MethodGet, f.info.PlatformURL+"/v1/organizations/1/environments", "",
			"Authorization", "Bearer "+f.info.BearerToken)
		assert.NoError(t, err)
		done <- answer{reply: r, at: time.Now()}
	}()
	r := f.admin(http.MethodGet, "/await?route=ListEnvironments&timeout=20s", "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	return done
}

// TestSIGTERMFinishesRequestsInFlight: on SIGTERM a request held by a latency is answered in
// full before the command exits 0.
func TestSIGTERMFinishesRequestsInFlight(t *testing.T) {
	// The latency outlasts, by far, the time from the await to the signal
	// on a loaded machine, and the shutdown timeout outlasts the latency.
	f := startFake(t, "-shutdown-timeout", "30s")
	done := holdInFlight(t, f, "3s")

	signalled := time.Now()
	assert.Equal(t, 0, f.stop(syscall.SIGTERM))
	a := <-done
	assert.Equal(t, http.StatusOK, a.status, "the request in flight was finished: %s", a.body)
	assert.True(t, a.at.After(signalled), "the request was still in flight when the signal was sent")
	assert.Contains(t, f.stderr.String(), `msg="apikeys-fake stopping" signal=terminated timeout=30s`)
	assert.NotContains(t, f.stderr.String(), "cut")
}

// TestShutdownTimeout: a request held longer than -shutdown-timeout does not keep the command
// from exiting 0: it is answered 503 when the timeout passes.
func TestShutdownTimeout(t *testing.T) {
	f := startFake(t, "-shutdown-timeout", "100ms")
	done := holdInFlight(t, f, "1h")

	start := time.Now()
	assert.Equal(t, 0, f.stop(syscall.SIGTERM))
	assert.Less(t, time.Since(start), guard)
	r := <-done
	assert.Equal(t, http.StatusServiceUnavailable, r.status, "%s", r.body)
	assert.Contains(t, f.stderr.String(), "requests still in flight were cut")
}

// TestSecondSignal: a second signal cuts the requests in flight at once, whatever
// -shutdown-timeout, and the command still exits 0.
func TestSecondSignal(t *testing.T) {
	f := startFake(t, "-shutdown-timeout", "1h")
	done := holdInFlight(t, f, "1h")

	require.NoError(t, f.cmd.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, 0, f.stop(os.Interrupt))
	assert.Equal(t, http.StatusServiceUnavailable, (<-done).status)
	assert.Contains(t, f.stderr.String(), "second signal")
}

// TestTLS: with -tls the URLs are https, the printed certificate file is trusted by plain
// net/http and by the SDK, and both speak HTTP/2.
func TestTLS(t *testing.T) {
	f := startFake(t, "-tls")
	assert.True(t, strings.HasPrefix(f.info.BaseURL, "https://127.0.0.1:"), f.info.BaseURL)
	assert.True(t, strings.HasPrefix(f.info.TokenURL, "https://"), f.info.TokenURL)
	assert.True(t, strings.HasPrefix(f.info.AdminURL, "https://"), f.info.AdminURL)
	require.NotEmpty(t, f.info.CertFile)
	assert.Equal(t, filepath.Dir(f.info.ManagementKeyFile), filepath.Dir(f.info.CertFile))
	pemBytes, err := os.ReadFile(f.info.CertFile)
	require.NoError(t, err)
	block, _ := pem.Decode(pemBytes)
	require.NotNil(t, block)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.Contains(t, cert.DNSNames, "localhost")
	require.NoError(t, cert.VerifyHostname("127.0.0.1"))
	require.NoError(t, cert.VerifyHostname("::1"))

	r := f.platform(http.MethodGet, "/v1/organizations/1/environments", "")
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "HTTP/2.0", r.proto)

	c, _ := f.sdk()
	_, err = c.APIKeys.Create(t.Context(), f.info.Environments["Production"], apikeys.CreateAPIKeyRequest{Name: "svc"})
	require.NoError(t, err)
	_, err = c.Legacy.Create(t.Context(), apikeys.UserKeys(), "laptop")
	require.NoError(t, err)
	var log struct {
		Requests []struct {
			Route string `json:"route"`
			Proto string `json:"proto"`
		} `json:"requests"`
	}
	require.NoError(t, json.Unmarshal(f.admin(http.MethodGet, "/requests", "").body, &log))
	require.Len(t, log.Requests, 4)
	for _, e := range log.Requests {
		assert.Equal(t, "HTTP/2.0", e.Proto, e.Route)
	}

	// A client that does not trust the certificate is refused.
	plain := &http.Transport{}
	defer plain.CloseIdleConnections()
	_, err = (&http.Client{Transport: plain}).Get(f.info.BaseURL + "/")
	var unknownAuthority x509.UnknownAuthorityError
	assert.ErrorAs(t, err, &unknownAuthority)
	assert.Equal(t, 0, f.stop(syscall.SIGTERM))
}

// TestPublicURLAndFlags: with -url the printed URLs (and the token aud) use it while the
// command listens on -addr, as in docker-compose; -dir keeps the key file at exit;
// -legacy-domain and -legacy-admin reach the legacy API.
func TestPublicURLAndFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "files")
	f := startFake(t, "-url", "http://fake.test:1234", "-dir", dir, "-legacy-domain", "tenant", "-legacy-admin", "-jwks-cache", "0s")
	assert.Equal(t, "http://fake.test:1234", f.info.BaseURL)
	assert.Equal(t, "http://fake.test:1234/v2/auth/token", f.info.TokenURL)
	assert.Equal(t, "http://fake.test:1234/_fake", f.info.AdminURL)
	assert.Equal(t, "tenant", f.info.LegacyDomain)
	assert.Equal(t, filepath.Join(dir, "management.pem"), f.info.ManagementKeyFile)

	// Every connection goes to the listen address, whatever host a URL names.
	f.tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, f.info.ListenAddr)
	}
	// The SDK takes http for a host other than loopback only when told.
	pemBytes, err := os.ReadFile(f.info.ManagementKeyFile)
	require.NoError(t, err)
	key, err := apikeys.ParseSigningKey(pemBytes, "")
	require.NoError(t, err)
	ts, err := apikeys.NewTokenSource(apikeys.TokenConfig{
		ClientID: f.info.ManagementClientID, Key: key, TokenURL: f.info.TokenURL, HTTPClient: f.hc, InsecureHTTP: true,
	})
	require.NoError(t, err)
	c, err := apikeys.NewClient(apikeys.WithBaseURL(f.info.PlatformURL), apikeys.WithTokenSource(ts), apikeys.WithInsecureHTTP(),
		apikeys.WithHTTPClient(f.hc),
		apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: f.info.LegacyURL, Domain: f.info.LegacyDomain, UserKey: f.info.LegacyUserKey}))
	require.NoError(t, err)
	envs, err := c.Environments.List(t.Context(), 1)
	require.NoError(t, err, "a token whose aud is the public token URL")
	assert.Len(t, envs, 3)
	lk, err := c.Legacy.Create(t.Context(), apikeys.UserKeys(), "laptop")
	require.NoError(t, err)
	assert.Regexp(t, hex40, lk.Secret, "-legacy-admin shows secrets")

	assert.Equal(t, 0, f.stop(syscall.SIGTERM))
	st, err := os.Stat(f.info.ManagementKeyFile)
	require.NoError(t, err, "-dir files are kept at exit")
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}

// TestBadCommandLine: a bad flag exits 2 with a message and the usage, -h exits 0, and an
// address that cannot be listened on exits 1.
func TestBadCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{args: []string{"-nope"}, code: 2, want: "flag provided but not defined: -nope"},
		{args: []string{"extra"}, code: 2, want: `unexpected arguments: ["extra"]`},
		{args: []string{"-jwks-cache", "-1s"}, code: 2, want: "-jwks-cache must not be negative"},
		{args: []string{"-shutdown-timeout", "0s"}, code: 2, want: "-shutdown-timeout must be positive"},
		{args: []string{"-legacy-domain", ""}, code: 2, want: "-legacy-domain must not be empty"},
		{args: []string{"-url", "https://fake.test"}, code: 2, want: "the scheme must be http"},
		{args: []string{"-tls", "-url", "http://fake.test"}, code: 2, want: "the scheme must be https"},
		{args: []string{"-url", "http://fake.test/base"}, code: 2, want: "only a scheme, host and port are allowed"},
		{args: []string{"-url", "http://:8080"}, code: 2, want: "has no host"},
		{args: []string{"-h"}, code: 0, want: "Usage: apikeys-fake [flags]"},
		{args: []string{"-addr", "256.0.0.1:0"}, code: 1, want: "apikeys-fake cannot start"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := command(t, tc.args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if tc.code == 0 {
				require.NoError(t, err)
			} else {
				var exit *exec.ExitError
				require.ErrorAs(t, err, &exit)
				assert.Equal(t, tc.code, exit.ExitCode())
			}
			assert.Contains(t, stderr.String(), tc.want)
			if tc.code == 2 {
				assert.Contains(t, stderr.String(), "Usage: apikeys-fake [flags]")
			}
			assert.Empty(t, stdout.String(), "no JSON line")
		})
	}
}

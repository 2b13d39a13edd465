package apikeystest_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys/apikeystest"
)

func listen(t *testing.T, addr string) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	return l
}

// TestWithListener: the fake serves on the listener it is given, its URL is the listener's
// address, and Close closes the listener.
func TestWithListener(t *testing.T) {
	l := listen(t, "127.0.0.1:0")
	f := start(t, apikeystest.WithListener(l))
	assert.Equal(t, "http://"+l.Addr().String(), f.srv.URL)
	assert.Equal(t, f.srv.URL+"/v2/auth/token", f.srv.TokenURL)
	assert.Equal(t, http.StatusOK, listEnvs(f, f.srv.BearerToken).status)

	f.hc.CloseIdleConnections()
	f.srv.Close()
	_, err := l.Accept()
	assert.ErrorIs(t, err, net.ErrClosed, "Close closed the listener")
}

// TestWithListenerQueuedRequest: a request already waiting on the listener when NewServer
// starts serving it sees the fake's URLs (and the race detector sees no write to them).
func TestWithListenerQueuedRequest(t *testing.T) {
	l := listen(t, "127.0.0.1:0")
	conn, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /_fake/info HTTP/1.1\r\nHost: fake\r\nConnection: close\r\n\r\n")
	require.NoError(t, err)

	f := start(t, apikeystest.WithListener(l), apikeystest.WithAdminAPI())
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var info apikeystest.Info
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&info))
	base := "http://" + l.Addr().String()
	assert.Equal(t, base, info.BaseURL)
	assert.Equal(t, base+"/platform", info.PlatformURL)
	assert.Equal(t, base+"/v2/auth/token", info.TokenURL)
	assert.Equal(t, base+"/_fake", info.AdminURL)
	assert.Equal(t, f.srv.URL, base)
}

// TestWithListenerUnspecifiedAddress: a listener on all interfaces gives a loopback URL.
func TestWithListenerUnspecifiedAddress(t *testing.T) {
	l := listen(t, "0.0.0.0:0")
	f := start(t, apikeystest.WithListener(l))
	_, port, err := net.SplitHostPort(l.Addr().String())
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:"+port, f.srv.URL)
	assert.Equal(t, http.StatusOK, listEnvs(f, f.srv.BearerToken).status)
}

// TestWithPublicURL: the URLs (and so the assertion's aud) use the public URL, while the fake
// listens where it would; a token flow sent to the listener with that aud works, and one with
// the listener's own address as aud is refused.
func TestWithPublicURL(t *testing.T) {
	l := listen(t, "127.0.0.1:0")
	f := start(t, apikeystest.WithListener(l), apikeystest.WithPublicURL("http://fake.test:1234/"))
	assert.Equal(t, "http://fake.test:1234", f.srv.URL)
	assert.Equal(t, "http://fake.test:1234/platform", f.srv.PlatformURL)
	assert.Equal(t, "http://fake.test:1234/v2/auth/token", f.srv.TokenURL)

	// Every request goes to the listener, whatever host the URL names.
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, l.Addr().String())
	}}
	t.Cleanup(tr.CloseIdleConnections)
	f.hc = &http.Client{Transport: tr}

	priv := ecKey(t, elliptic.P384())
	k, err := f.srv.AddAPIKey(f.srv.EnvironmentID("Staging"), "svc", jwkSet(t, map[string]any{"a": priv.Public()}), "")
	require.NoError(t, err)
	r := f.token(tokenForm(sign(t, priv, jose.ES384, "a", claims(f, k.ID))))
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	access, _ := r.object(t)["access_token"].(string)
	assert.Equal(t, http.StatusOK, listEnvs(f, access).status)

	c := claims(f, k.ID)
	c["aud"] = "http://" + l.Addr().String() + "/v2/auth/token"
	r = f.token(tokenForm(sign(t, priv, jose.ES384, "a", c)))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "wrong aud", f.lastReason())
}

// TestWithPublicURLRefusesBadURLs: NewServer panics on a public URL it cannot use, and leaves no
// server running (goleak checks); CheckPublicURL refuses the same URLs.
func TestWithPublicURLRefusesBadURLs(t *testing.T) {
	for _, tc := range []struct {
		url string
		tls bool
	}{
		{url: "fake.test:1234"},
		{url: "https://fake.test"},
		{url: "http://fake.test", tls: true},
		{url: "ftp://fake.test"},
		{url: "http://"},
		{url: "http://fake.test/base"},
		{url: "http://fake.test/?q=1"},
		{url: "http://fake.test/#f"},
		{url: "http://u:p@fake.test"},
		{url: "http://fake.test:80%"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			err := apikeystest.CheckPublicURL(tc.url, tc.tls)
			require.Error(t, err)
			opts := []apikeystest.Option{apikeystest.WithPublicURL(tc.url)}
			if tc.tls {
				opts = append(opts, apikeystest.WithTLS())
			}
			defer func() {
				v := recover()
				require.NotNil(t, v, "NewServer accepted %q", tc.url)
				assert.Equal(t, "apikeystest: WithPublicURL: "+err.Error(), v)
			}()
			srv := apikeystest.NewServer(opts...)
			srv.Close()
		})
	}
	assert.NoError(t, apikeystest.CheckPublicURL("http://fake.test:1234/", false))
	assert.NoError(t, apikeystest.CheckPublicURL("https://fake.test", true))
}

// selfSigned returns a self-signed certificate for host and 127.0.0.1.
func selfSigned(t *testing.T, host string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: host},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{host},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestWithTLSCertificate: the fake serves the given certificate over HTTP/2, Certificate returns
// it, and the fake's own clients trust it.
func TestWithTLSCertificate(t *testing.T) {
	cert := selfSigned(t, "fake.test")
	f := start(t, apikeystest.WithTLSCertificate(cert))
	require.NotNil(t, f.srv.Certificate())
	assert.Equal(t, cert.Certificate[0], f.srv.Certificate().Raw)
	assert.True(t, strings.HasPrefix(f.srv.URL, "https://127.0.0.1:"), f.srv.URL)

	f.hc = f.srv.HTTPClient()
	req, err := http.NewRequest(http.MethodGet, f.srv.PlatformURL+"/v1/organizations/1/environments", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+f.srv.BearerToken)
	resp, err := f.hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "HTTP/2.0", resp.Proto)

	envs, err := f.srv.Client(t).Environments.List(t.Context(), f.srv.OrganizationID())
	require.NoError(t, err)
	assert.Len(t, envs, 3)
}

// heldRequest sends a request held by a latency on ListEnvironments and returns once the fake
// has it; the reply (or error) arrives on the returned channel.
func heldRequest(t *testing.T, f *fixture) <-chan reply {
	t.Helper()
	done := make(chan reply, 1)
	go func() {
		req, err := http.NewRequest(http.MethodGet, f.srv.PlatformURL+"/v1/organizations/1/environments", nil)
		if !assert.NoError(t, err) {
			done <- reply{}
			return
		}
		req.Header.Set("Authorization", "Bearer "+f.srv.BearerToken)
		resp, err := f.hc.Do(req)
		if err != nil {
			done <- reply{status: -1}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- reply{status: resp.StatusCode, body: b}
	}()
	select {
	case <-f.srv.Await(apikeystest.RouteListEnvironments, 1):
	case <-time.After(guard):
		t.Fatal("the request never reached the fake")
	}
	return done
}

// TestShutdownFinishesRequestsInFlight: Shutdown waits for a request held by a latency, which
// is answered in full, and returns nil; the fake accepts no connection after it.
func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	f := start(t)
	f.srv.SetLatency(apikeystest.RouteListEnvironments, 200*time.Millisecond)
	done := heldRequest(t, f)

	ctx, cancel := context.WithTimeout(t.Context(), guard)
	defer cancel()
	require.NoError(t, f.srv.Shutdown(ctx))
	r := <-done
	assert.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Empty(t, f.srv.Requests()[0].Reason)

	_, err := http.Get(f.srv.URL + "/")
	assert.Error(t, err, "the fake no longer listens")
	f.srv.Close() // a no-op now
	require.NoError(t, f.srv.Shutdown(ctx), "a second Shutdown returns at once")
}

// TestShutdownDeadlineEndsLatency: when Shutdown's context ends, a request held by a latency is
// answered 503 at once, and Shutdown returns the context's error.
func TestShutdownDeadlineEndsLatency(t *testing.T) {
	f := start(t)
	f.srv.SetLatency(apikeystest.RouteListEnvironments, time.Hour)
	done := heldRequest(t, f)

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := f.srv.Shutdown(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), guard)
	r := <-done
	assert.Equal(t, http.StatusServiceUnavailable, r.status, "%s", r.body)
	assert.Equal(t, "server closed during latency", f.srv.Requests()[0].Reason)
}

// TestShutdownDeadlineCutsStalledRequests: a request whose client stalls while sending its body
// does not keep Shutdown past its deadline: its connection is closed.
func TestShutdownDeadlineCutsStalledRequests(t *testing.T) {
	f := start(t)
	// With Expect: 100-continue the transport sends the body only once the fake's handler reads
	// it, so the first write to the pipe returns once the request is in the handler.
	tr := &http.Transport{ExpectContinueTimeout: guard}
	t.Cleanup(tr.CloseIdleConnections)
	pr, pw := io.Pipe()
	defer pw.Close()
	req, err := http.NewRequest(http.MethodPost, f.srv.PlatformURL+"/v1/environments/x/apikeys", pr)
	require.NoError(t, err)
	req.ContentLength = 100
	req.Header.Set("Expect", "100-continue")
	req.Header.Set("Content-Type", "application/json")
	done := make(chan error, 1)
	go func() {
		resp, err := tr.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	_, err = pw.Write([]byte(`{"name":`))
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, f.srv.Shutdown(ctx), context.DeadlineExceeded)
	pw.CloseWithError(errors.New("test over"))
	select {
	case err := <-done:
		assert.Error(t, err, "the connection was cut")
	case <-time.After(guard):
		t.Fatal("the client never returned")
	}
	assert.Empty(t, f.srv.Requests(), "the request never got past reading its body")
}

package apikeys_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// testTLS returns a server TLS config for 127.0.0.1 with a fresh
// self-signed certificate, and a client TLS config that trusts it.
func testTLS(t *testing.T, nextProtos ...string) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, NextProtos: nextProtos}
	return server, &tls.Config{RootCAs: pool}
}

// h2Action is what the raw HTTP/2 server does once it has read a whole
// request.
type h2Action int

const (
	h2Answer h2Action = iota // 200 with the configured body
	// h2Reset resets the stream with PROTOCOL_ERROR, as a proxy that
	// chokes on a request after its origin processed it: net/http's HTTP/2
	// transport takes that as "send it again".
	h2Reset
	// h2GoAway sends GOAWAY with last stream ID 0, orphaning the stream it
	// processed, and closes the connection: the transport sends the
	// request again on a new connection.
	h2GoAway
)

// rawH2 is an HTTP/2 server written frame by frame (RFC 9113), so that it
// can misbehave where net/http's server cannot. It reads every request to
// its end (HEADERS, then DATA up to END_STREAM), counts it, and acts.
type rawH2 struct {
	URL      string
	client   *http.Client
	requests atomic.Int32
	act      func(n int) h2Action // n counts from 1
	body     string               // the 200 reply's JSON body
	ln       net.Listener
	wg       sync.WaitGroup
}

func newRawH2(t *testing.T, body string, act func(n int) h2Action) *rawH2 {
	t.Helper()
	serverTLS, clientTLS := testTLS(t, "h2")
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverTLS)
	require.NoError(t, err)
	tr := &http.Transport{TLSClientConfig: clientTLS, ForceAttemptHTTP2: true}
	s := &rawH2{URL: "https://" + ln.Addr().String(), client: &http.Client{Transport: tr}, act: act, body: body, ln: ln}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		tr.CloseIdleConnections()
		s.wg.Wait()
	})
	return s
}

func (s *rawH2) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.serve(c)
		}()
	}
}

// HTTP/2 frame types and flags used here.
const (
	h2Data         = 0x0
	h2Headers      = 0x1
	h2RSTStream    = 0x3
	h2Settings     = 0x4
	h2Ping         = 0x6
	h2GoAwayFrame  = 0x7
	h2Continuation = 0x9

	h2FlagEndStream  = 0x1
	h2FlagAck        = 0x1
	h2FlagEndHeaders = 0x4
	h2FlagPadded     = 0x8

	h2ErrProtocol = 0x1
)

func writeFrame(w io.Writer, typ, flags byte, stream uint32, payload []byte) error {
	var hdr [9]byte
	hdr[0], hdr[1], hdr[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	hdr[3], hdr[4] = typ, flags
	binary.BigEndian.PutUint32(hdr[5:], stream&0x7fffffff)
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

func (s *rawH2) serve(c net.Conn) {
	r := bufio.NewReader(c)
	preface := make([]byte, len("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
	if _, err := io.ReadFull(r, preface); err != nil {
		return
	}
	if writeFrame(c, h2Settings, 0, 0, nil) != nil {
		return
	}
	for {
		var hdr [9]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		n := int(hdr[0])<<16 | int(hdr[1])<<8 | int(hdr[2])
		typ, flags := hdr[3], hdr[4]
		stream := binary.BigEndian.Uint32(hdr[5:]) & 0x7fffffff
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return
		}
		var err error
		switch typ {
		case h2Settings:
			if flags&h2FlagAck == 0 {
				err = writeFrame(c, h2Settings, h2FlagAck, 0, nil)
			}
		case h2Ping:
			if flags&h2FlagAck == 0 {
				err = writeFrame(c, h2Ping, h2FlagAck, 0, payload)
			}
		case h2Headers, h2Continuation, h2Data:
			if flags&h2FlagEndStream == 0 {
				continue // the request goes on: act once it is whole
			}
			if s.respond(c, stream) {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// respond acts on the request of stream, now read whole, and reports
// whether the connection is done.
func (s *rawH2) respond(c net.Conn, stream uint32) bool {
	switch s.act(int(s.requests.Add(1))) {
	case h2Reset:
		var code [4]byte
		binary.BigEndian.PutUint32(code[:], h2ErrProtocol)
		return writeFrame(c, h2RSTStream, 0, stream, code[:]) != nil
	case h2GoAway:
		payload := make([]byte, 8) // last stream ID 0, NO_ERROR
		_ = writeFrame(c, h2GoAwayFrame, 0, 0, payload)
		return true
	}
	// HPACK (RFC 7541): ":status: 200" is static entry 8; content-type
	// (static name 31) is a literal without indexing.
	ct := "application/json"
	block := append([]byte{0x88, 0x0f, 0x10, byte(len(ct))}, ct...)
	if writeFrame(c, h2Headers, h2FlagEndHeaders, stream, block) != nil {
		return true
	}
	return writeFrame(c, h2Data, h2FlagEndStream, stream, []byte(s.body)) != nil
}

// TestHTTP2NeverReplaysACreate: over HTTP/2, a server (or proxy) that
// reads a whole create and then resets the stream, or sends a GOAWAY that
// orphans the stream it processed, must not get the create twice. net/http's
// HTTP/2 transport re-sends such a request by itself when it can rewind
// the body (Request.GetBody); a create is sent once, and its outcome is
// unknown. A read may be re-sent: it changes nothing.
func TestHTTP2NeverReplaysACreate(t *testing.T) {
	const legacyUserKey = "4a23bd0e3c1f9a8b7c6d5e4f3a2b1c0d9e8fec9e"
	calls := []struct {
		name   string
		create bool
		body   string
		call   func(c *apikeys.Client) error
	}{
		{name: "APIKeys.Create", create: true, body: envelope(`{"apikey":` + keyJSON + `}`), call: func(c *apikeys.Client) error {
			_, err := c.APIKeys.Create(t.Context(), "env-1", apikeys.CreateAPIKeyRequest{Name: "billing"})
			return err
		}},
		{name: "Legacy.Create", create: true, body: `{"status":"ok","apiKey":{"label":"ci","keyType":"app","key":"0123456789abcdef0123456789abcdef01234567"}}`, call: func(c *apikeys.Client) error {
			_, err := c.Legacy.Create(t.Context(), apikeys.AppKeys("app-1"), "ci")
			return err
		}},
		{name: "APIKeys.Get", body: envelope(`{"apikey":` + keyJSON + `}`), call: func(c *apikeys.Client) error {
			_, err := c.APIKeys.Get(t.Context(), "client-1")
			return err
		}},
		{name: "Legacy.Update", body: `{"status":"ok","apiKey":{"label":"ci","keyType":"app","key":"0123456789abcdef0123456789abcdef01234567"}}`, call: func(c *apikeys.Client) error {
			_, err := c.Legacy.Update(t.Context(), "0123456789abcdef0123456789abcdef01234567", "ci")
			return err
		}},
	}
	for _, misbehave := range []struct {
		name   string
		action h2Action
	}{
		{name: "RST_STREAM PROTOCOL_ERROR", action: h2Reset},
		{name: "GOAWAY orphaning the stream", action: h2GoAway},
	} {
		for _, call := range calls {
			t.Run(misbehave.name+"/"+call.name, func(t *testing.T) {
				s := newRawH2(t, call.body, func(n int) h2Action {
					if n == 1 {
						return misbehave.action
					}
					return h2Answer
				})
				c, err := apikeys.NewClient(
					apikeys.WithBaseURL(s.URL+basePath),
					apikeys.WithToken(testToken),
					apikeys.WithLegacy(apikeys.LegacyConfig{BaseURL: s.URL, Domain: "acme", UserKey: legacyUserKey}),
					apikeys.WithHTTPClient(s.client),
					apikeys.WithRetry(apikeys.RetryPolicy{MaxRetries: 3}),
				)
				require.NoError(t, err)
				err = call.call(c)
				if !call.create {
					require.NoError(t, err, "a read or update may be sent again")
					assert.Equal(t, int32(2), s.requests.Load())
					return
				}
				assert.Equal(t, int32(1), s.requests.Load(), "the create reached the server once")
				require.Error(t, err)
				assert.True(t, apikeys.IsAmbiguous(err), "the server read the whole create: %v", err)
				assert.False(t, apikeys.IsRetryable(err))
				var te *apikeys.TransportError
				assert.True(t, errors.As(err, &te), "%T", err)
			})
		}
	}
}

// Command apikeys-fake runs the fake of package apikeystest as a server of its own: the
// Platform API, its token endpoint and the legacy API on a real port, with the admin API under
// /_fake/ to inject faults, read the request log, seed state and reset it. Tests in any
// language, command-line clients and services in docker-compose can use it the way Go tests use
// apikeystest.NewServer.
//
//	go run github.com/apikeys-go/apikeys/cmd/apikeys-fake -addr 127.0.0.1:8080
//
// At start it prints one JSON line to stdout with everything a client needs (URLs, IDs, the
// static bearer token, the legacy user key, a management key's client ID and the file holding
// its private key); logs go to stderr. The credentials are the fake's own, random at each start:
// they are secrets of no real system. SIGINT or SIGTERM stops it gracefully: requests in flight
// are finished for up to -shutdown-timeout, then it exits 0. See the README, "Standalone fake
// server", for the flags, the JSON line and the admin API.
package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/apikeys-go/apikeys/apikeystest"
)

func main() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, sigs))
}

// config is the command line.
type config struct {
	addr            string
	publicURL       string
	tls             bool
	jwksCache       time.Duration
	shutdownTimeout time.Duration
	dir             string
	legacyDomain    string
	legacyAdmin     bool
}

const usage = `Usage: apikeys-fake [flags]

Serves the apikeystest fake (Platform API, token endpoint, legacy API, and the admin API
under /_fake/) until SIGINT or SIGTERM. Prints one JSON line with the URLs and credentials
to stdout; logs go to stderr.

Flags:
`

// parseFlags parses and checks the command line.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("apikeys-fake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "`address` to listen on (port 0 picks a free port; \":8080\" listens on every interface)")
	fs.StringVar(&c.publicURL, "url", "", "base `URL` clients reach the fake at, when it is not the listen address (a docker-compose\nservice name, a mapped port); the printed URLs and the token URL that client assertions\nmust name as aud are built from it (default: the listen address, 0.0.0.0 and :: read as 127.0.0.1)")
	fs.BoolVar(&c.tls, "tls", false, "serve HTTPS (HTTP/2 and HTTP/1.1) with a self-signed certificate generated at start,\nwritten to a file whose path is printed (certFile)")
	fs.DurationVar(&c.jwksCache, "jwks-cache", apikeystest.DefaultJWKSCache, "how long a key's fetched jwksURL set is cached (0: fetched for every token request)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long requests in flight may take to finish after SIGINT or SIGTERM")
	fs.StringVar(&c.dir, "dir", "", "`directory` to write the management key (and certificate) to, kept at exit\n(default: a new temporary directory, removed at exit)")
	fs.StringVar(&c.legacyDomain, "legacy-domain", "acme", "legacy tenant `domain` (the {domain} path segment)")
	fs.BoolVar(&c.legacyAdmin, "legacy-admin", false, "legacy replies include each key's secret, as for callers in the admin group")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	fail := func(format string, a ...any) (config, error) {
		err := fmt.Errorf(format, a...)
		fmt.Fprintf(stderr, "apikeys-fake: %v\n", err)
		fs.Usage()
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected arguments: %q", fs.Args())
	case c.jwksCache < 0:
		return fail("-jwks-cache must not be negative")
	case c.shutdownTimeout <= 0:
		return fail("-shutdown-timeout must be positive")
	case c.legacyDomain == "":
		return fail("-legacy-domain must not be empty")
	}
	if c.publicURL != "" {
		if err := apikeystest.CheckPublicURL(c.publicURL, c.tls); err != nil {
			return fail("-url: %v", err)
		}
	}
	return c, nil
}

// run runs the command and returns its exit code: 0 after a stop by signal (or -h), 2 for a bad
// command line, 1 when the fake cannot start.
func run(args []string, stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	c, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	// The standard log package goes through the same handler, so that a line from a library
	// (httptest.Server reports a graceful stop still waiting after 5 s) is a slog line too.
	slog.SetDefault(log)
	if err := serve(c, stdout, log, sigs); err != nil {
		log.Error("apikeys-fake cannot start", "error", err)
		return 1
	}
	return 0
}

// info is the JSON line printed at start: the members of GET /_fake/info, then the
// management key's and the listener's.
type info struct {
	apikeystest.Info
	ManagementClientID string `json:"managementClientId"`
	ManagementKeyID    string `json:"managementKeyId"`
	ManagementKeyAlg   string `json:"managementKeyAlg"`
	ManagementKeyFile  string `json:"managementKeyFile"`
	CertFile           string `json:"certFile,omitempty"`
	ListenAddr         string `json:"listenAddr"`
}

// serve starts the fake, prints the JSON line and serves until a signal, then stops gracefully.
func serve(c config, stdout io.Writer, log *slog.Logger, sigs <-chan os.Signal) error {
	dir := c.dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "apikeys-fake-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}

	l, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	opts := []apikeystest.Option{
		apikeystest.WithListener(l),
		apikeystest.WithAdminAPI(),
		apikeystest.WithJWKSCache(c.jwksCache),
		apikeystest.WithLegacyDomain(c.legacyDomain),
		apikeystest.WithLegacyAdmin(c.legacyAdmin),
	}
	if c.publicURL != "" {
		opts = append(opts, apikeystest.WithPublicURL(c.publicURL))
	}
	var certFile string
	if c.tls {
		cert, certPEM, err := selfSignedCert(certHosts(l.Addr(), c.publicURL), time.Now())
		if err != nil {
			l.Close()
			return err
		}
		certFile = filepath.Join(dir, "cert.pem")
		if err := writeFile(certFile, certPEM, 0o644); err != nil {
			l.Close()
			return err
		}
		opts = append(opts, apikeystest.WithTLSCertificate(cert))
	}
	srv := apikeystest.NewServer(opts...)
	defer srv.Close() // returns at once after Shutdown

	mk, key, err := srv.NewManagementKey()
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key.Signer)
	if err != nil {
		return fmt.Errorf("encoding the management key: %w", err)
	}
	keyFile := filepath.Join(dir, "management.pem")
	if err := writeFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}

	line, err := json.Marshal(info{
		Info:               srv.Info(),
		ManagementClientID: mk.ID, ManagementKeyID: key.KeyID, ManagementKeyAlg: key.Algorithm,
		ManagementKeyFile: keyFile, CertFile: certFile, ListenAddr: l.Addr().String(),
	})
	if err != nil {
		return err
	}
	if _, err := stdout.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("printing the JSON line: %w", err)
	}
	log.Info("apikeys-fake serving", "url", srv.URL, "listen", l.Addr().String(), "admin", srv.AdminURL, "tls", c.tls)

	sig := <-sigs
	log.Info("apikeys-fake stopping", "signal", sig.String(), "timeout", c.shutdownTimeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	go func() { // a second signal stops at once
		select {
		case sig := <-sigs:
			log.Warn("apikeys-fake: second signal, cutting requests in flight", "signal", sig.String())
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("apikeys-fake: requests still in flight were cut", "reason", err.Error())
	}
	log.Info("apikeys-fake stopped")
	return nil
}

// writeFile writes data to a new or truncated file with exactly perm (an existing file keeps
// its mode with os.WriteFile).
func writeFile(name string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

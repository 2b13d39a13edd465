package apikeys

// Fuzz targets for the SDK's decoders and parsers. They live in package
// apikeys to reach the unexported decoders directly, without HTTP: each
// call takes microseconds. `go test ./...` replays the seeds below and
// the corpora under testdata/fuzz/<FuzzName>/; SECURITY.md lists the
// commands that fuzz each target.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// secFuzzNow is the clock of the fuzz targets.
var secFuzzNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// FuzzRetryAfter: parseRetryAfter never panics and never returns a
// negative delay; delay-seconds read exactly; and the backoff built on it
// stays within [0, MaxWait] (and at least MinWait without Retry-After)
// for every valid policy, attempt number and jitter.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "5", " 120 ", "2147483648", "2147483649", "99999999999999999999", "-1", "1.5", "+3",
		"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
		secFuzzNow.Add(90 * time.Second).Format(http.TimeFormat), "tomorrow"} {
		f.Add(s, uint8(0), uint16(32768), int64(500*time.Millisecond), int64(20*time.Second))
	}
	f.Add("", uint8(34), uint16(65535), int64(time.Second+1), int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, v string, n uint8, jit uint16, minWait, maxWait int64) {
		d, ok := parseRetryAfter(v, secFuzzNow)
		if !ok && d != 0 {
			t.Fatalf("parseRetryAfter(%q) = %v, false: want 0", v, d)
		}
		if d < 0 {
			t.Fatalf("parseRetryAfter(%q) = %v: negative", v, d)
		}
		if s := strings.TrimSpace(v); s != "" && strings.Trim(s, "0123456789") == "" {
			secs, err := strconv.ParseInt(s, 10, 64)
			if want := err == nil && secs <= 1<<31; ok != want || (ok && d != time.Duration(secs)*time.Second) {
				t.Fatalf("parseRetryAfter(%q) = %v, %t", v, d, ok)
			}
		}

		// Any policy WithRetry accepts.
		if minWait < 0 || maxWait < minWait {
			minWait, maxWait = int64(500*time.Millisecond), int64(20*time.Second)
		}
		p := RetryPolicy{MaxRetries: 100, MinWait: time.Duration(minWait), MaxWait: time.Duration(maxWait)}
		resp := &http.Response{Header: http.Header{"Retry-After": {v}}}
		jitter := float64(jit) / 65536
		attempt := int(n) % (p.MaxRetries + 1)
		w := p.backoff(attempt, resp, secFuzzNow, jitter)
		if w < 0 || w > p.MaxWait {
			t.Fatalf("backoff(%d, Retry-After %q, jitter %v) with %+v = %v: outside [0, MaxWait]", attempt, v, jitter, p, w)
		}
		if !ok && w < p.MinWait {
			t.Fatalf("backoff(%d, jitter %v) with %+v = %v: under MinWait", attempt, jitter, p, w)
		}
	})
}

// Credentials of the legacy fuzz target: 40 hex characters, like real
// user keys, with letters so that no JSON number can spell them.
const (
	secFuzzUserKey = "4a23bd0e3c1f9a8b7c6d5e4f3a2b1c0d9e8fec9e"
	secFuzzCookie  = "s3ss10n-c00kie-9f8e7d6c"
	secFuzzKey     = "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0" // the key value a call is about
)

// FuzzLegacyDecode: (*legacyConfig).decode never panics on any status,
// content type and body; its errors are a *LegacyError or a
// *DecodeError; a success has status "ok" and the member the call needs;
// and no error text ever holds the user key, the session cookie or the
// full key value the call was about, however the body spells them.
func FuzzLegacyDecode(f *testing.F) {
	for _, s := range []struct {
		status int
		ctype  string
		body   string
	}{
		{200, "application/json", `{"status":"ok","list":[{"label":"ci","keyType":"user","key":"` + secFuzzKey + `","keyReference":"u1","secret":"s","revoked":1425990896789}]}`},
		{200, "application/json", `{"status":"ok","apiKey":{"key":"` + secFuzzKey + `","revoked":"2015-03-10T12:34:56Z"}}`},
		{200, "application/json", `{"status":"ok","valid":true}`},
		{200, "application/json", `{"status":"error","message":"no key ` + secFuzzKey + ` for ` + secFuzzUserKey + `"}`},
		{200, "application/json", `{"status":"error","msg":["not found","` + secFuzzCookie + `"]}`},
		{200, "application/json", `{"status":"error","list":7}`},
		{200, "application/json", `{"status":"ok","list":null}`},
		{200, "application/json", `{"status":"maybe"}`},
		{200, "application/json", `{"status":"ok","apiKey":{"key":"` + secFuzzKey[:20]},
		{200, "text/html", `<html>` + secFuzzUserKey + `</html>`},
		{200, "text/plain", ""},
		{401, "application/json", `{"status":"error","message":"not logged in as ` + secFuzzUserKey + `"}`},
		{404, "text/html", "<h1>Not Found</h1>"},
		{502, "text/html", "<html>" + secFuzzCookie + " " + secFuzzKey + "</html>"},
	} {
		for m := range uint8(3) {
			f.Add(s.status, s.ctype, []byte(s.body), m)
		}
	}
	cfg, err := newLegacyConfig(LegacyConfig{BaseURL: "https://acme.example.com", Domain: "acme",
		UserKey: secFuzzUserKey, SessionCookie: secFuzzCookie}, false)
	if err != nil {
		f.Fatal(err)
	}
	members := []string{memberList, memberAPIKey, memberValid}
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte, m uint8) {
		if status < 100 || status > 999 {
			status = 200 + (status%100+100)%100
		}
		member := members[int(m)%len(members)]
		resp := secFuzzResponse(status, ctype, body)
		resp.Header.Set("X-FH-REQUEST-ID", "req-1")
		rep, err := cfg.decode(resp, 1<<16, member, secFuzzKey)
		if err == nil {
			if rep == nil || rep.Status != "ok" || !rep.has(member) {
				t.Fatalf("decode succeeded without status ok and %s: %+v", member, rep)
			}
			if status < 200 || status > 299 {
				t.Fatalf("decode accepted HTTP %d", status)
			}
			return
		}
		var text string
		switch e := err.(type) {
		case *LegacyError:
			text = e.Error() + e.Message + e.RequestID
			if e.StatusCode != status || len([]rune(e.Message)) > 512 {
				t.Fatalf("bad LegacyError %+v", e)
			}
		case *DecodeError:
			text = e.Error() + e.Excerpt
			if status < 200 || status > 299 || len([]rune(e.Excerpt)) > 64 {
				t.Fatalf("bad DecodeError %+v for HTTP %d", e, status)
			}
		default:
			t.Fatalf("decode error %T %v is neither *LegacyError nor *DecodeError", err, err)
		}
		for _, secret := range []string{secFuzzUserKey, secFuzzCookie, secFuzzKey} {
			if strings.Contains(text, secret) {
				t.Fatalf("error text holds a secret: %q", text)
			}
		}
	})
}

// secFuzzResponse is an in-memory reply.
func secFuzzResponse(status int, ctype string, body []byte) *http.Response {
	h := http.Header{}
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)), Request: &http.Request{Method: http.MethodPost, URL: &url.URL{Scheme: "https", Host: "acme.example.com", Path: "/x"}}}
}

// secFuzzJWKSeeds are the public keys of testdata/jwks/jwks.json, one JSON
// object each, and hand-written odd keys.
func secFuzzJWKSeeds(f *testing.F) [][]byte {
	f.Helper()
	data, err := os.ReadFile("testdata/jwks/jwks.json")
	if err != nil {
		f.Fatal(err)
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		f.Fatal(err)
	}
	seeds := [][]byte{data}
	for _, k := range doc.Keys {
		seeds = append(seeds, k)
	}
	for _, s := range []string{
		`{}`, `[]`, `null`, `{"kty":"oct","kid":"k","k":"c2VjcmV0"}`,
		`{"kty":"EC","kid":"k","crv":"P-256","x":"AA","y":"AA","d":"AA"}`,
		`{"kty":"EC","kid":"k","crv":"secp256k1","x":"AA","y":"AA"}`,
		`{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB","alg":"ES256","use":"enc"}`,
		`{"kty":"OKP","kid":"k","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
		`{"kty":"OKP","kid":"k","crv":"X25519","x":"AA"}`,
		`{"kty":"AKP","kid":"k","alg":"ML-DSA-44","pub":"AA","priv":"AA"}`,
		`{"kty":7,"kid":["k"]}`,
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// secIsPrivateMember reports whether a JWK member name is a private member
// in any letter case: Go's encoding/json, and so go-jose, match member
// names case-insensitively.
func secIsPrivateMember(name string) bool {
	for _, p := range privateMembers {
		if strings.EqualFold(name, p) {
			return true
		}
	}
	return false
}

// FuzzJWK: ParseJWK, the accessors, PublicKey, Thumbprint and Validate
// never panic on any input; a parsed key round-trips byte for byte; a key
// whose PublicKey parses holds no private member in any letter case; and
// a key Validate accepts is a usable public signing key: its public key
// parses, its thumbprint matches NewJWK's kid for the same key and alg,
// and a set of it twice is refused for the duplicate kid.
func FuzzJWK(f *testing.F) {
	for _, s := range secFuzzJWKSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseJWK(data)
		trimmed := bytes.TrimSpace(data)
		if wantOK := len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(trimmed); (err == nil) != wantOK {
			t.Fatalf("ParseJWK error %v, want success %t", err, wantOK)
		}
		if err != nil {
			return
		}
		if raw, _ := k.MarshalJSON(); !bytes.Equal(raw, trimmed) {
			t.Fatalf("MarshalJSON = %s, want %s", raw, trimmed)
		}
		_, _, _, _, _ = k.KeyID(), k.KeyType(), k.Algorithm(), k.Use(), k.Curve()
		_, _ = k.String(), k.LogValue()
		members := k.members()

		pub, perr := k.PublicKey()
		tp, terr := k.Thumbprint()
		if (perr == nil) != (terr == nil) {
			t.Fatalf("PublicKey error %v but Thumbprint error %v", perr, terr)
		}
		if perr == nil {
			for name := range members {
				if secIsPrivateMember(name) {
					t.Fatalf("PublicKey accepted a key with private member %q", name)
				}
			}
			switch pub.(type) {
			case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
			default:
				t.Fatalf("PublicKey returned %T", pub)
			}
		}

		verr := NewJWKSet(k).Validate()
		if verr != nil {
			var se *JWKSetError
			if !errors.As(verr, &se) || len(se.Problems) == 0 {
				t.Fatalf("Validate error %T %v is not a *JWKSetError with problems", verr, verr)
			}
			return
		}
		if perr != nil {
			t.Fatalf("Validate accepted a key whose PublicKey fails: %v", perr)
		}
		if k.KeyID() == "" || (k.Use() != "" && k.Use() != "sig") {
			t.Fatalf("Validate accepted kid %q use %q", k.KeyID(), k.Use())
		}
		nk, err := NewJWK(pub, k.Algorithm())
		if err != nil {
			t.Fatalf("Validate accepted a key NewJWK refuses: %v", err)
		}
		if nk.KeyID() != tp {
			t.Fatalf("Thumbprint %q differs from NewJWK's kid %q", tp, nk.KeyID())
		}
		if NewJWKSet(k, k).Validate() == nil {
			t.Fatalf("Validate accepted a duplicate kid")
		}
	})
}

// FuzzJWKSet: decoding any document into a JWKSet (as APIKey and FetchJWKS
// do) and validating it never panics, and a set Validate accepts has
// unique, non-empty kids and only keys whose public key parses, with no
// private member in any letter case.
func FuzzJWKSet(f *testing.F) {
	for _, s := range secFuzzJWKSeeds(f) {
		f.Add(s)
		f.Add([]byte(`{"keys":[` + string(s) + `,` + string(s) + `]}`))
	}
	f.Add([]byte(`{"keys":null}`))
	f.Add([]byte(`{"keys":[1,"a",null]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var set JWKSet
		if json.Unmarshal(data, &set) != nil {
			return
		}
		err := set.Validate()
		if err != nil {
			var se *JWKSetError
			if !errors.As(err, &se) || len(se.Problems) == 0 {
				t.Fatalf("Validate error %T %v is not a *JWKSetError with problems", err, err)
			}
			return
		}
		kids := map[string]bool{}
		for i, k := range set.Keys {
			if k.KeyID() == "" || kids[k.KeyID()] {
				t.Fatalf("keys[%d]: kid %q missing or repeated", i, k.KeyID())
			}
			kids[k.KeyID()] = true
			if _, err := k.PublicKey(); err != nil {
				t.Fatalf("keys[%d]: accepted, but PublicKey fails: %v", i, err)
			}
			for name := range k.members() {
				if secIsPrivateMember(name) {
					t.Fatalf("keys[%d]: accepted with private member %q", i, name)
				}
			}
		}
		if _, err := JWKSHandler(&set); err != nil {
			t.Fatalf("JWKSHandler refused a valid set: %v", err)
		}
	})
}

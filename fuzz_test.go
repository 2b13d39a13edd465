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
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/apikeys-go/apikeys/internal/jwkmember"
)

// fuzzNow is the clock of the fuzz targets.
var fuzzNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// FuzzRetryAfter: parseRetryAfter never panics and never returns a
// negative delay; delay-seconds read exactly; and the backoff built on it
// stays within [0, MaxWait] (and at least MinWait without Retry-After)
// for every valid policy, attempt number and jitter.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "5", " 120 ", "2147483648", "2147483649", "99999999999999999999", "-1", "1.5", "+3",
		"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
		fuzzNow.Add(90 * time.Second).Format(http.TimeFormat), "tomorrow"} {
		f.Add(s, uint8(0), uint16(32768), int64(500*time.Millisecond), int64(20*time.Second))
	}
	f.Add("", uint8(34), uint16(65535), int64(time.Second+1), int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, v string, n uint8, jit uint16, minWait, maxWait int64) {
		d, ok := parseRetryAfter(v, fuzzNow)
		if !ok && d != 0 {
			t.Fatalf("parseRetryAfter(%q) = %v, false: want 0", v, d)
		}
		if d < 0 {
			t.Fatalf("parseRetryAfter(%q) = %v: negative", v, d)
		}
		if s := strings.TrimSpace(v); s != "" && strings.Trim(s, "0123456789") == "" {
			// Delay seconds are read exactly, and past what a Duration
			// holds they saturate (never dropped: see backoff's cap).
			const maxSecs = math.MaxInt64 / int64(time.Second)
			secs, err := strconv.ParseInt(s, 10, 64)
			if err != nil || secs > maxSecs {
				secs = maxSecs
			}
			if !ok || d != time.Duration(secs)*time.Second {
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
		w := p.backoff(attempt, resp, fuzzNow, jitter)
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
	plantedUserKey = "4a23bd0e3c1f9a8b7c6d5e4f3a2b1c0d9e8fec9e"
	plantedCookie  = "s3ss10n-c00kie-9f8e7d6c"
	plantedKey     = "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0" // the key value a call is about
)

// FuzzLegacyDecode: (*legacyConfig).decode never panics on any status,
// content type and body; its errors are an *APIError (LegacyAPI) or a
// *DecodeError; a success has status "ok" and the member the call needs;
// and no error text ever holds the user key, the session cookie or the
// full key value the call was about, however the body spells them.
func FuzzLegacyDecode(f *testing.F) {
	for _, s := range []struct {
		status int
		ctype  string
		body   string
	}{
		{status: 200, ctype: "application/json", body: `{"status":"ok","list":[{"label":"ci","keyType":"user","key":"` + plantedKey + `","keyReference":"u1","secret":"s","revoked":1425990896789}]}`},
		{status: 200, ctype: "application/json", body: `{"status":"ok","apiKey":{"key":"` + plantedKey + `","revoked":"2015-03-10T12:34:56Z"}}`},
		{status: 200, ctype: "application/json", body: `{"status":"ok","valid":true}`},
		{status: 200, ctype: "application/json", body: `{"status":"error","message":"no key ` + plantedKey + ` for ` + plantedUserKey + `"}`},
		{status: 200, ctype: "application/json", body: `{"status":"error","msg":["not found","` + plantedCookie + `"]}`},
		{status: 200, ctype: "application/json", body: `{"status":"error","list":7}`},
		{status: 200, ctype: "application/json", body: `{"status":"ok","list":null}`},
		{status: 200, ctype: "application/json", body: `{"status":"maybe"}`},
		{status: 200, ctype: "application/json", body: `{"status":"ok","apiKey":{"key":"` + plantedKey[:20]},
		{status: 200, ctype: "text/html", body: `<html>` + plantedUserKey + `</html>`},
		{status: 200, ctype: "text/plain", body: ""},
		{status: 401, ctype: "application/json", body: `{"status":"error","message":"not logged in as ` + plantedUserKey + `"}`},
		{status: 404, ctype: "text/html", body: "<h1>Not Found</h1>"},
		{status: 502, ctype: "text/html", body: "<html>" + plantedCookie + " " + plantedKey + "</html>"},
	} {
		for m := range uint8(3) {
			f.Add(s.status, s.ctype, []byte(s.body), m)
		}
	}
	sec := secrets(nil).add(plantedUserKey, "****").add(plantedCookie, "****").add(plantedKey, maskKey(plantedKey))
	members := []string{memberList, memberAPIKey, memberValid}
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte, m uint8) {
		if status < 100 || status > 999 {
			status = 200 + (status%100+100)%100
		}
		member := members[int(m)%len(members)]
		resp := inMemoryReply(status, ctype, body)
		resp.Header.Set("X-FH-REQUEST-ID", "req-1")
		rep, err := readLegacy(resp, fuzzCall(opLegacyList, 1<<16, sec), member)
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
		case *APIError:
			text = e.Error() + e.Message + e.RequestID + string(e.Body)
			if e.StatusCode != status || e.API != LegacyAPI || len([]rune(e.Message)) > 512 {
				t.Fatalf("bad APIError %+v", e)
			}
		case *DecodeError:
			text = e.Error() + e.Excerpt
			if status < 200 || status > 299 || len([]rune(e.Excerpt)) > 64 {
				t.Fatalf("bad DecodeError %+v for HTTP %d", e, status)
			}
		default:
			t.Fatalf("decode error %T %v is neither *APIError nor *DecodeError", err, err)
		}
		for _, secret := range []string{plantedUserKey, plantedCookie, plantedKey} {
			if strings.Contains(text, secret) {
				t.Fatalf("error text holds a secret: %q", text)
			}
		}
	})
}

// fuzzCall is the state of a call as the readers of replies get it: op,
// a reply cap of limit bytes, the credentials sec sent.
func fuzzCall(op operation, limit int64, sec secrets) *call {
	r := &request{op: op, method: http.MethodPost, url: &url.URL{Scheme: "https", Host: "acme.example.com", Path: "/x"}, secrets: sec}
	return &call{request: r, s: newSender(http.DefaultClient, RetryPolicy{}, limit, "")}
}

// inMemoryReply is a reply held in memory, with no connection behind it.
func inMemoryReply(status int, ctype string, body []byte) *http.Response {
	h := http.Header{}
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)), Request: &http.Request{Method: http.MethodPost, URL: &url.URL{Scheme: "https", Host: "acme.example.com", Path: "/x"}}}
}

// jwkSeeds are the public keys of testdata/jwks/jwks.json, one JSON
// object each, and hand-written odd keys.
func jwkSeeds(f *testing.F) [][]byte {
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
		"{\"kty\":\"OKP\",\"kid\":\"k\xff\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// isPrivateMemberAnyCase reports whether a JWK member name is a private member
// in any letter case: Go's encoding/json matches member names
// case-insensitively (go-jose matches them exactly).
func isPrivateMemberAnyCase(name string) bool {
	for _, p := range jwkmember.Private() {
		if strings.EqualFold(name, p) {
			return true
		}
	}
	return false
}

// jwkMembers returns the members of k by name, as encoding/json decodes them.
func jwkMembers(k JWK) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(k.raw, &m)
	return m
}

// FuzzJWK: ParseJWK, the accessors, PublicKey, Thumbprint and Validate
// never panic on any input; a parsed key round-trips byte for byte; a key
// whose PublicKey parses holds no private member in any letter case; and
// a key Validate accepts is a usable public signing key: its public key
// parses, its thumbprint matches NewJWK's kid for the same key and alg,
// and a set of it twice is refused for the duplicate kid.
func FuzzJWK(f *testing.F) {
	for _, s := range jwkSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseJWK(data)
		trimmed := bytes.TrimSpace(data)
		if wantOK := len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(trimmed) && utf8.Valid(trimmed); (err == nil) != wantOK {
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
		members := jwkMembers(k)

		pub, perr := k.PublicKey()
		tp, terr := k.Thumbprint()
		if (perr == nil) != (terr == nil) {
			t.Fatalf("PublicKey error %v but Thumbprint error %v", perr, terr)
		}
		if perr == nil {
			for name := range members {
				if isPrivateMemberAnyCase(name) {
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
		// A strict verifier reads the key published as the SDK does.
		var jk jose.JSONWebKey
		if err := jk.UnmarshalJSON(k.raw); err != nil || jk.KeyID != k.KeyID() || jk.Algorithm != k.Algorithm() || jk.Use != k.Use() {
			t.Fatalf("Validate accepted a key go-jose reads as kid %q alg %q use %q (error %v)", jk.KeyID, jk.Algorithm, jk.Use, err)
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
// private member in any letter case, in valid UTF-8.
func FuzzJWKSet(f *testing.F) {
	for _, s := range jwkSeeds(f) {
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
			if !utf8.Valid(k.Raw()) {
				t.Fatalf("keys[%d]: accepted, but not valid UTF-8", i)
			}
			if _, err := k.PublicKey(); err != nil {
				t.Fatalf("keys[%d]: accepted, but PublicKey fails: %v", i, err)
			}
			for name := range jwkMembers(k) {
				if isPrivateMemberAnyCase(name) {
					t.Fatalf("keys[%d]: accepted with private member %q", i, name)
				}
			}
		}
		if _, err := JWKSHandler(&set); err != nil {
			t.Fatalf("JWKSHandler refused a valid set: %v", err)
		}
	})
}

// checkEnvelope decodes one reply as T and checks decodeEnvelope's
// contract: a typed error, or a payload the call can use under a
// supported meta.version.
func checkEnvelope[T any](t *testing.T, status int, ctype string, body []byte, limit int64, usable func(T) bool) {
	t.Helper()
	resp := inMemoryReply(status, ctype, body)
	var payload T
	c := fuzzCall(opGetAPIKey, limit, nil)
	err := readEnvelope(resp, c, &payload)
	version := c.version
	if status < 200 || status > 299 {
		var ae *APIError
		if !errors.As(err, &ae) {
			t.Fatalf("readEnvelope(%d) = %T %v, want *APIError", status, err, err)
		}
		if len(ae.Body) > maxErrorBodyBytes || len([]rune(ae.Message)) > 512 || ae.StatusCode != status {
			t.Fatalf("APIError breaks its caps: status %d, body %d bytes, message %d runes", ae.StatusCode, len(ae.Body), len([]rune(ae.Message)))
		}
		if s := statusSentinel(status); s != nil && !errors.Is(err, s) {
			t.Fatalf("APIError %d does not match %v", status, s)
		}
		_ = ae.Error()
		return
	}
	if err != nil {
		var de *DecodeError
		switch {
		case errors.As(err, &de):
			if len([]rune(de.Excerpt)) > 64 || (de.Excerpt != "" && strings.Contains(ctype, "json")) {
				t.Fatalf("DecodeError excerpt %q (content type %q)", de.Excerpt, ctype)
			}
		case errors.Is(err, ErrUnsupportedVersion):
		default:
			t.Fatalf("readEnvelope error %T %v is untyped", err, err)
		}
		_ = err.Error()
		return
	}
	if int64(len(body)) > limit {
		t.Fatalf("decoded a %d-byte body over the %d-byte cap", len(body), limit)
	}
	if major, _, _ := strings.Cut(strings.TrimPrefix(version, "v"), "."); version != "" && major != supportedMajorVersion {
		t.Fatalf("accepted meta.version %q", version)
	}
	if !usable(payload) {
		t.Fatalf("decoded an unusable payload %+v from %q", payload, body)
	}
}

// payloadHasList reports, independently of the decoder, whether body's
// payload has member as a JSON array: what a list reply must carry.
func payloadHasList(body []byte, member string) bool {
	payload, ok := memberDecoded(body, "payload")
	if !ok {
		return false
	}
	list, ok := memberDecoded(payload, member)
	var elems []json.RawMessage
	return ok && json.Unmarshal(list, &elems) == nil && elems != nil
}

// memberDecoded returns the value of the last member of the JSON object obj
// whose name is name in any letter case: the one encoding/json decodes
// into a field. It walks the members in order (a map would lose it).
func memberDecoded(obj []byte, name string) (json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var found json.RawMessage
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		if k, _ := tok.(string); strings.EqualFold(k, name) {
			found = v
		}
	}
	return found, found != nil
}

// FuzzDecodeEnvelope: the Platform reply decoder (decodeEnvelope for 2xx,
// checkResponse otherwise) never panics on any status, content type,
// body and size cap; its errors are typed (*DecodeError, a wrapped
// ErrUnsupportedVersion, *APIError) and within their size caps; a
// success never exceeds the cap, never has an unknown major version, and
// for a single key always carries the key.
func FuzzDecodeEnvelope(f *testing.F) {
	key := `{"id":"client-1","name":"billing","jwksURL":"https://keys.example.com/jwks.json","jwkSet":{"keys":[{"kty":"EC","kid":"k"}]},"environment":{"id":"e1","environmentFlag":"Staging"}}`
	for _, s := range []struct {
		status int
		ctype  string
		body   string
	}{
		{status: 200, ctype: "application/json", body: `{"meta":{"version":"1.0.0"},"payload":{"apikey":` + key + `}}`},
		{status: 200, ctype: "application/json", body: `{"meta":{"version":"1.4.2","totalRecords":1,"pageSize":20},"payload":{"apikeys":[` + key + `,null]}}`},
		{status: 200, ctype: "application/json", body: `{"meta":{"version":"1.0.0"},"payload":{"environments":[{"id":"e","environmentFlag":"Sandbox","organization":{"id":1}}]}}`},
		{status: 200, ctype: "application/json", body: `{"meta":{"version":"1.0.0"},"payload":{"message":"deleted"}}`},
		{status: 200, ctype: "application/json", body: `{"meta":{"version":"1.0.0"},"payload":{}}`},
		{status: 200, ctype: "application/json", body: `{"meta":{"version":"1.0.0"},"payload":null}`},
		{status: 200, ctype: "application/json", body: `null`},
		{status: 200, ctype: "application/json", body: `{"error":"not found"}`},
		{status: 200, ctype: "application/json", body: `{"meta":{"version":"1.0.0","totalRecords":"7","pageSize":1.5},"payload":{"apikeys":[]}}`},
		{status: 200, ctype: "application/json", body: `{"meta":{"version":"2.0.0"},"payload":{"apikey":` + key + `}}`},
		{status: 200, ctype: "application/json", body: `{"meta":{"version":"v1"},"payload":{}}`},
		{status: 200, ctype: "application/json", body: `{"meta":{"version":3},"payload":{"apikey":null}}`},
		{status: 200, ctype: "application/json", body: `{"meta":{"version":"1.0.0"},"payload":{"apikey":{"id":7}}}`},
		{status: 200, ctype: "application/json", body: `{"meta":{"version":"1.0.0"},"payload":{"apikey":` + key[:40]},
		{status: 200, ctype: "text/html", body: "<html><body>Bad gateway</body></html>"},
		{status: 204, ctype: "", body: ""},
		{status: 200, ctype: "application/json", body: " \n"},
		{status: 400, ctype: "application/json", body: `{"message":"name is required","error":"bad_request","error_description":"x"}`},
		{status: 401, ctype: "application/json", body: `{"error":{"code":1}}`},
		{status: 429, ctype: "text/plain", body: "slow down"},
		{status: 503, ctype: "application/json", body: `{"payload":{"message":"down"}}`},
	} {
		f.Add(s.status, s.ctype, []byte(s.body), uint16(0))
	}
	f.Add(200, "application/json", []byte(`{"meta":{"version":"1.0.0"},"payload":{"apikey":`+key+`}}`), uint16(64))
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte, capKiB uint16) {
		if status < 100 || status > 999 {
			status = 200 + (status%100+100)%100
		}
		limit := int64(DefaultMaxResponseBytes)
		if capKiB > 0 {
			limit = int64(capKiB) // a small cap, to reach the oversize path
		}
		checkEnvelope(t, status, ctype, body, limit, func(p apiKeyPayload) bool { return p.APIKey != nil })
		// A list or delete reply is usable only when it carries its member:
		// a missing or null list read as [] would look like "no keys".
		checkEnvelope(t, status, ctype, body, limit, func(p apiKeysPayload) bool {
			return p.APIKeys != nil && payloadHasList(body, "apikeys")
		})
		checkEnvelope(t, status, ctype, body, limit, func(p environmentsPayload) bool {
			for _, e := range p.Environments {
				if e != nil {
					_ = e.Flag.Known()
				}
			}
			return p.Environments != nil && payloadHasList(body, "environments")
		})
		checkEnvelope(t, status, ctype, body, limit, func(p deletePayload) bool {
			return p.Message != nil
		})
	})
}

// FuzzLegacyKeyRevoked: a legacy key whose "revoked" member holds any JSON
// value always decodes (one odd timestamp never fails a whole list), and
// Revoked follows parseRevoked: nil for an active key, the parsed time in
// UTC, or the zero time for a value that cannot be read. (FuzzParseRevoked
// in legacy_test.go fuzzes parseRevoked on its own.)
func FuzzLegacyKeyRevoked(f *testing.F) {
	for _, s := range []string{`1425990896789`, `"1425990896789"`, `1425990896789.5`, `"2015-03-10T12:34:56.789Z"`,
		`"2015-03-10 12:34:56 +0000"`, `"Tue Mar 10 2015 12:34:56 GMT+0000 (Coordinated Universal Time)"`, `"Tue, 10 Mar 2015 12:34:56 GMT"`,
		`null`, `""`, `false`, `true`, `0`, `-0`, `-1`, `1e400`, `253402300799999`, `253402300800000`, `"NaN"`, `{}`, `[1]`, `"\u0031\u0032"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		doc := []byte(`{"label":"ci","keyType":"app","key":"` + plantedKey + `","secret":"s3cr3t-value","revoked":` + string(raw) + `}`)
		var k LegacyKey
		if err := json.Unmarshal(doc, &k); err != nil {
			t.Fatalf("a key with revoked %s does not decode: %v", raw, err)
		}
		want, perr := parseRevoked(raw)
		switch {
		case perr != nil:
			if k.Revoked == nil || !k.Revoked.IsZero() {
				t.Fatalf("unreadable revoked %s gave %v, want the zero time", raw, k.Revoked)
			}
		case want == nil:
			if k.Revoked != nil {
				t.Fatalf("revoked %s gave %v, want nil", raw, k.Revoked)
			}
		default:
			if k.Revoked == nil || !k.Revoked.Equal(*want) || k.Revoked.Location() != time.UTC || k.Revoked.Year() > 9999 {
				t.Fatalf("revoked %s gave %v, want %v in UTC", raw, k.Revoked, want)
			}
		}
		if k.IsRevoked() != (k.Revoked != nil) {
			t.Fatalf("IsRevoked disagrees with Revoked")
		}
		for _, s := range []string{k.String(), k.GoString(), k.LogValue().String()} {
			if strings.Contains(s, plantedKey) || strings.Contains(s, "s3cr3t-value") {
				t.Fatalf("formatted key shows its value or secret: %s", s)
			}
		}
	})
}

// TestDefaultResponseCaps: without WithMaxResponseBytes a client reads
// at most DefaultMaxResponseBytes (8 MiB) of a success reply, Platform or
// legacy; one byte more is a *DecodeError, and an error reply keeps at
// most 64 KiB.
func TestDefaultResponseCaps(t *testing.T) {
	c, err := NewClient(WithLegacy(LegacyConfig{BaseURL: "https://acme.example.com", Domain: "acme", UserKey: plantedUserKey}))
	if err != nil {
		t.Fatal(err)
	}
	limit := c.sender.maxResponseBytes
	if limit != 8<<20 || DefaultMaxResponseBytes != 8<<20 {
		t.Fatalf("default cap %d, want 8 MiB", limit)
	}
	pad := func(prefix, suffix string, size int) []byte {
		return []byte(prefix + strings.Repeat(" ", size-len(prefix)-len(suffix)) + suffix)
	}
	platform := pad(`{"meta":{"version":"1.0.0"},"payload":{"message":"ok"}`, `}`, 8<<20)
	legacy := pad(`{"status":"ok","valid":true`, `}`, 8<<20)
	var p deletePayload
	if err := readEnvelope(inMemoryReply(200, "application/json", platform), fuzzCall(opDeleteAPIKey, limit, nil), &p); err != nil {
		t.Fatalf("an 8 MiB Platform reply: %v", err)
	}
	if _, err := readLegacy(inMemoryReply(200, "application/json", legacy), fuzzCall(opLegacyValidate, limit, nil), memberValid); err != nil {
		t.Fatalf("an 8 MiB legacy reply: %v", err)
	}
	var de *DecodeError
	err = readEnvelope(inMemoryReply(200, "application/json", append(platform, ' ')), fuzzCall(opDeleteAPIKey, limit, nil), &p)
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("8 MiB + 1 Platform reply: %v", err)
	}
	_, err = readLegacy(inMemoryReply(200, "application/json", append(legacy, ' ')), fuzzCall(opLegacyValidate, limit, nil), memberValid)
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("8 MiB + 1 legacy reply: %v", err)
	}
	var ae *APIError
	if !errors.As(readEnvelope(inMemoryReply(500, "text/plain", platform), fuzzCall(opGetAPIKey, limit, nil), &p), &ae) || len(ae.Body) != 64<<10 {
		t.Fatalf("error body kept: %d bytes, want 64 KiB", len(ae.Body))
	}
}

package apikeystest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMaskAuthorization(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{in: "Bearer abc", want: "Bearer ****"},
		{in: "bearer abc", want: "bearer ****"},
		{in: "Bearer\tabc", want: "Bearer ****"},
		{in: "Bearer \t abc def", want: "Bearer ****"},
		{in: "Basic dXNlcjpwYXNz", want: "Basic ****"},
		{in: "abc", want: "****"},
		{in: "Bearer", want: "****"},
		{in: "Bearer ", want: "****"},
		{in: " abc", want: "****"},
		{in: "Bearer-abc def", want: "****"},
		{in: "AWS4-HMAC-SHA256 Credential=x", want: "****"},
		{in: "abc123 def", want: "****"},
		{in: "", want: "****"},
	} {
		assert.Equal(t, tc.want, maskAuthorization(tc.in), "maskAuthorization(%q)", tc.in)
	}
}

// Secrets of the fake in these tests: hex of the lengths randomHex gives (40, 48, 64).
var (
	sec40 = strings.Repeat("0123456789", 4)
	sec48 = strings.Repeat("abcdef", 8)
	sec64 = strings.Repeat("0f1e2d3c", 8)
)

func testSecrets() *secretSet {
	ss := &secretSet{}
	ss.add(sec40, sec48, sec64)
	return ss
}

func TestSecretSetReplace(t *testing.T) {
	ss := testSecrets()
	for _, tc := range []struct{ name, in, want string }{
		{name: "nothing", in: "no secret here", want: "no secret here"},
		{name: "alone", in: sec40, want: "****"},
		{name: "in text", in: "a " + sec48 + " b", want: "a **** b"},
		{name: "inside a longer hex run", in: "00" + sec64 + "ff", want: "00****ff"},
		{name: "two in one run", in: sec40 + sec48, want: "********"},
		{name: "a run of hex that holds none", in: strings.Repeat("a", 200), want: strings.Repeat("a", 200)},
		{name: "prefix only", in: sec40[:39], want: sec40[:39]},
		{name: "in upper case, not the secret", in: strings.ToUpper(sec48), want: strings.ToUpper(sec48)},
		{name: "percent-encoded", in: "/k/" + pctAll(sec40) + "?x", want: "/k/****?x"},
		{name: "percent-encoded in part", in: "t=" + sec48[:5] + pctAll(sec48[5:9]) + sec48[9:] + "&", want: "t=****&"},
		{name: "percent-encoded, cut by another escape", in: pctAll(sec40[:20]) + "%2F" + sec40[20:], want: pctAll(sec40[:20]) + "%2F" + sec40[20:]},
		{name: "a bad escape before it", in: "%" + sec40 + "%4", want: "%****%4"},
	} {
		assert.Equal(t, tc.want, ss.replace(tc.in), tc.name)
	}
}

// TestMaskBody pins the logged form of bodies: only the values named or known are replaced, the
// rest is kept as sent. The external tests check, across routes and spellings, that no secret
// gets through.
func TestMaskBody(t *testing.T) {
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}
	js := http.Header{"Content-Type": {"application/json"}}
	text := http.Header{"Content-Type": {"text/plain"}}
	multi := http.Header{"Content-Type": {"multipart/form-data; boundary=X"}}
	key := strings.Repeat("9876543210", 4) // a legacy key the fake does not know
	jws := "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjIn0.c2ln"
	for _, tc := range []struct {
		name string
		h    http.Header
		body string
		want string
	}{
		{name: "empty", h: js, body: "", want: ""},
		{name: "JSON naming nothing, as sent", h: js, body: `{"b": 1, "a":"x"}`, want: `{"b": 1, "a":"x"}`},
		{name: "secret names as values only, as sent", h: js, body: `{"x":"password","y":["d"]}`, want: `{"x":"password","y":["d"]}`},
		{name: "member order and spacing kept", h: js, body: `{ "z" : 1 , "secret" : "s" , "a" : 2 }`, want: `{ "z" : 1 , "secret" : "****" , "a" : 2 }`},
		{name: "escaped name kept as sent", h: js, body: `{"\u0064":"s"}`, want: `{"\u0064":"****"}`},
		{name: "legacy key, any case, any depth", h: nil, body: `[{"Key":"` + key + `","x":{"KEY":"` + key + `"}}]`,
			want: `[{"Key":"9876…3210","x":{"KEY":"9876…3210"}}]`},
		{name: "short legacy key", h: js, body: `{"key":"abcdefgh"}`, want: `{"key":"****"}`},
		{name: "key that is not a string is looked into", h: js, body: `{"key":{"secret":"s","n":1.50}}`, want: `{"key":{"secret":"****","n":1.50}}`},
		{name: "legacy reply shape", h: js, body: `{"apiKey":{"key":"` + key + `","secret":"` + key + `"},"status":"ok"}`,
			want: `{"apiKey":{"key":"9876…3210","secret":"****"},"status":"ok"}`},
		{name: "credentials whatever their type", h: js, body: `{"client_assertion":{"a":[1,"}"]},"Access_Token":7,"x":"<&>"}`,
			want: `{"client_assertion":"****","Access_Token":"****","x":"<&>"}`},
		{name: "private members at any depth", h: js, body: `{"a":[[{"d":"s","P":"s","oth":[{"r":"s"}],"n":"AA"}]]}`,
			want: `{"a":[[{"d":"****","P":"****","oth":"****","n":"AA"}]]}`},
		{name: "duplicates", h: js, body: `{"d":"s1","d":"s2"}`, want: `{"d":"****","d":"****"}`},
		{name: "escaped quote in the value", h: js, body: `{"secret":"a\"b","x":1}`, want: `{"secret":"****","x":1}`},
		{name: "broken JSON: unterminated", h: js, body: `{"secret":"abc`, want: `{"secret":"****"`},
		{name: "broken JSON: missing comma", h: js, body: `{"a":1 "password":"p"}`, want: `{"a":1 "password":"****"}`},
		{name: "broken JSON: object that does not end", h: js, body: `{"secret":{"a":"b"`, want: `{"secret":"****"`},
		{name: "no value", h: js, body: `{"d":}`, want: `{"d":}`},
		{name: "name-colon in other text", h: text, body: "\"password\": correct horse\nnext", want: "\"password\": \"****\"\nnext"},
		{name: "form, in place", h: form, body: "b=1&client_assertion=" + jws + "&a=2&client_secret=s&client_secret=",
			want: "b=1&client_assertion=****&a=2&client_secret=****&client_secret="},
		{name: "form naming nothing, as sent", h: form, body: "grant_type=client_credentials&scope=a+b", want: "grant_type=client_credentials&scope=a+b"},
		{name: "form that does not parse", h: form, body: "client_assertion=x;y&z=%zz", want: "client_assertion=****&z=%zz"},
		{name: "escaped field name", h: form, body: "client%5Fsecret=s", want: "client%5Fsecret=****"},
		{name: "form key field", h: form, body: "key=" + key, want: "key=9876…3210"},
		{name: "form sent as JSON", h: js, body: "client_secret=s&a=1", want: "client_secret=****&a=1"},
		{name: "JSON holding & and = is not read as a form", h: js, body: `{"u":"h?a=1&password=x"}`, want: `{"u":"h?a=1&password=x"}`},
		{name: "multipart part", h: multi, body: "--X\r\nContent-Disposition: form-data; name=\"client_secret\"\r\n\r\ns3cr3t\r\n--X--\r\n",
			want: "--X\r\nContent-Disposition: form-data; name=\"client_secret\"\r\n\r\n****\r\n--X--\r\n"},
		{name: "multipart naming nothing", h: multi, body: "--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ns\r\n--X--\r\n",
			want: "--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ns\r\n--X--\r\n"},
		{name: "a JWT in text is not the fake's: as sent", h: text, body: "assertion: " + jws, want: "assertion: " + jws},
		{name: "a hex run in text is not the fake's: as sent", h: text, body: "id " + key, want: "id " + key},

		// The fake's own secrets, by value.
		{name: "own secret in text", h: text, body: "token " + sec40 + "\n", want: "token ****\n"},
		{name: "own secret in a plain member", h: js, body: `{"note":"x` + sec48 + `"}`, want: `{"note":"x****"}`},
		{name: "own secret as a member name", h: js, body: `{"` + sec48 + `":1}`, want: `{"****":1}`},
		{name: "own secret spelled with JSON escapes", h: js, body: `{"note":"\u0030` + sec40[1:] + `"}`, want: `{"note":"****"}`},
		{name: "own secret in broken JSON", h: js, body: `{"type":` + sec64, want: `{"type":****`},
		{name: "own secret percent-encoded in a form", h: form, body: "a=1&note=%30" + sec40[1:], want: "a=1&note=****"},
		{name: "own secret as a legacy key: shortened by name", h: js, body: `{"key":"` + sec40 + `"}`, want: `{"key":"0123…6789"}`},
	} {
		assert.Equal(t, tc.want, testSecrets().maskBody(tc.h, []byte(tc.body)), "%s: %q", tc.name, tc.body)
	}
}

// TestMaskBodyTruncated: the log keeps the first 64 KiB, and a secret cut there leaves no part
// of itself.
func TestMaskBodyTruncated(t *testing.T) {
	for _, cut := range []int{1, 20, 39} { // bytes of the secret before the cut
		pad := strings.Repeat("x", maxLoggedBody-cut)
		got := testSecrets().maskBody(nil, []byte(pad+sec40+" tail"))
		assert.Equal(t, pad+"…(truncated)", got, "cut %d", cut)
	}
	got := testSecrets().maskBody(nil, []byte(strings.Repeat("y", maxLoggedBody-40)+sec40+" tail"))
	assert.Equal(t, strings.Repeat("y", maxLoggedBody-40)+"****…(truncated)", got, "a whole secret before the cut")
}

// pctAll percent-encodes every byte of s.
func pctAll(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

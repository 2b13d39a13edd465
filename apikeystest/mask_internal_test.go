package apikeystest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMaskAuthorization(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Bearer abc", "Bearer ****"},
		{"bearer abc", "bearer ****"},
		{"Bearer\tabc", "Bearer ****"},
		{"Bearer \t abc def", "Bearer ****"},
		{"Basic dXNlcjpwYXNz", "Basic ****"},
		{"abc", "****"},
		{"Bearer", "****"},
		{"Bearer ", "****"},
		{" abc", "****"},
		{"Bearer-abc def", "****"},
		{"AWS4-HMAC-SHA256 Credential=x", "****"},
		{"abc123 def", "****"},
		{"", "****"},
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
		{"nothing", "no secret here", "no secret here"},
		{"alone", sec40, "****"},
		{"in text", "a " + sec48 + " b", "a **** b"},
		{"inside a longer hex run", "00" + sec64 + "ff", "00****ff"},
		{"two in one run", sec40 + sec48, "********"},
		{"a run of hex that holds none", strings.Repeat("a", 200), strings.Repeat("a", 200)},
		{"prefix only", sec40[:39], sec40[:39]},
		{"in upper case, not the secret", strings.ToUpper(sec48), strings.ToUpper(sec48)},
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
		{"empty", js, "", ""},
		{"JSON naming nothing, as sent", js, `{"b": 1, "a":"x"}`, `{"b": 1, "a":"x"}`},
		{"secret names as values only, as sent", js, `{"x":"password","y":["d"]}`, `{"x":"password","y":["d"]}`},
		{"member order and spacing kept", js, `{ "z" : 1 , "secret" : "s" , "a" : 2 }`, `{ "z" : 1 , "secret" : "****" , "a" : 2 }`},
		{"escaped name kept as sent", js, `{"\u0064":"s"}`, `{"\u0064":"****"}`},
		{"legacy key, any case, any depth", nil, `[{"Key":"` + key + `","x":{"KEY":"` + key + `"}}]`,
			`[{"Key":"9876…3210","x":{"KEY":"9876…3210"}}]`},
		{"short legacy key", js, `{"key":"abcdefgh"}`, `{"key":"****"}`},
		{"key that is not a string is looked into", js, `{"key":{"secret":"s","n":1.50}}`, `{"key":{"secret":"****","n":1.50}}`},
		{"legacy reply shape", js, `{"apiKey":{"key":"` + key + `","secret":"` + key + `"},"status":"ok"}`,
			`{"apiKey":{"key":"9876…3210","secret":"****"},"status":"ok"}`},
		{"credentials whatever their type", js, `{"client_assertion":{"a":[1,"}"]},"Access_Token":7,"x":"<&>"}`,
			`{"client_assertion":"****","Access_Token":"****","x":"<&>"}`},
		{"private members at any depth", js, `{"a":[[{"d":"s","P":"s","oth":[{"r":"s"}],"n":"AA"}]]}`,
			`{"a":[[{"d":"****","P":"****","oth":"****","n":"AA"}]]}`},
		{"duplicates", js, `{"d":"s1","d":"s2"}`, `{"d":"****","d":"****"}`},
		{"escaped quote in the value", js, `{"secret":"a\"b","x":1}`, `{"secret":"****","x":1}`},
		{"broken JSON: unterminated", js, `{"secret":"abc`, `{"secret":"****"`},
		{"broken JSON: missing comma", js, `{"a":1 "password":"p"}`, `{"a":1 "password":"****"}`},
		{"broken JSON: object that does not end", js, `{"secret":{"a":"b"`, `{"secret":"****"`},
		{"no value", js, `{"d":}`, `{"d":}`},
		{"name-colon in other text", text, "\"password\": correct horse\nnext", "\"password\": \"****\"\nnext"},
		{"form, in place", form, "b=1&client_assertion=" + jws + "&a=2&client_secret=s&client_secret=",
			"b=1&client_assertion=****&a=2&client_secret=****&client_secret="},
		{"form naming nothing, as sent", form, "grant_type=client_credentials&scope=a+b", "grant_type=client_credentials&scope=a+b"},
		{"form that does not parse", form, "client_assertion=x;y&z=%zz", "client_assertion=****&z=%zz"},
		{"escaped field name", form, "client%5Fsecret=s", "client%5Fsecret=****"},
		{"form key field", form, "key=" + key, "key=9876…3210"},
		{"form sent as JSON", js, "client_secret=s&a=1", "client_secret=****&a=1"},
		{"JSON holding & and = is not read as a form", js, `{"u":"h?a=1&password=x"}`, `{"u":"h?a=1&password=x"}`},
		{"multipart part", multi, "--X\r\nContent-Disposition: form-data; name=\"client_secret\"\r\n\r\ns3cr3t\r\n--X--\r\n",
			"--X\r\nContent-Disposition: form-data; name=\"client_secret\"\r\n\r\n****\r\n--X--\r\n"},
		{"multipart naming nothing", multi, "--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ns\r\n--X--\r\n",
			"--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ns\r\n--X--\r\n"},
		{"a JWT in text is not the fake's: as sent", text, "assertion: " + jws, "assertion: " + jws},
		{"a hex run in text is not the fake's: as sent", text, "id " + key, "id " + key},

		// The fake's own secrets, by value.
		{"own secret in text", text, "token " + sec40 + "\n", "token ****\n"},
		{"own secret in a plain member", js, `{"note":"x` + sec48 + `"}`, `{"note":"x****"}`},
		{"own secret as a member name", js, `{"` + sec48 + `":1}`, `{"****":1}`},
		{"own secret spelled with JSON escapes", js, `{"note":"\u0030` + sec40[1:] + `"}`, `{"note":"****"}`},
		{"own secret in broken JSON", js, `{"type":` + sec64, `{"type":****`},
		{"own secret percent-encoded in a form", form, "a=1&note=%30" + sec40[1:], "a=1&note=****"},
		{"own secret as a legacy key: shortened by name", js, `{"key":"` + sec40 + `"}`, `{"key":"0123…6789"}`},
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

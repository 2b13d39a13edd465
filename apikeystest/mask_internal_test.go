package apikeystest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestMentionsSecretName(t *testing.T) {
	tests := []struct {
		body string
		want bool
	}{
		{``, false},
		{`{}`, false},
		{`{"name":"x","kid":"dd"}`, false},
		{`{"d":1}`, true},
		{`{"QI":1}`, true},
		{`{"x":"priv"}`, true}, // values count too
		{`{"\u0044":1}`, true},
		{`{"\u212a":1}`, true}, // KELVIN SIGN folds to "k"
		{`{"\u0070\u0072\u0069\u0076":1}`, true},
		{`{"a\"d\"b":1}`, false}, // escaped quotes stay inside the literal
		{`{"a\\":"d"}`, true},    // an escaped backslash ends before the quote
		{`{"name":"x" "d":1}`, true},
		{`{"name":"x","d`, false}, // unterminated
		{`{"name":"x\`, false},
		{`{"\x":"d"}`, true}, // an invalid escape spoils only its own literal
		{`{"pad":"` + strings.Repeat("a", 1<<20) + `","oth":[]}`, true},
		// Credential members, in any letter case and spelling.
		{`{"Key":"x"}`, true},
		{`{"APIKEY":"x"}`, true},
		{`{"\u017fecret":"x"}`, true}, // LATIN SMALL LETTER LONG S folds to "s"
		{`{"client_assertion":"x"}`, true},
		{`{"Access_Token":"x"}`, true},
		{`{"keys":[],"apikeys":[],"kid":"a","secrets":1}`, false},
		{`{"\u0063\u006c\u0069\u0065\u006e\u0074\u005f\u0061\u0073\u0073\u0065\u0072\u0074\u0069\u006f\u006e":1}`, true},
	}
	for _, tc := range tests {
		name := tc.body
		if len(name) > 40 {
			name = name[:40]
		}
		if got := mentionsSecretName([]byte(tc.body)); got != tc.want {
			t.Errorf("mentionsSecretName(%s) = %v, want %v", name, got, tc.want)
		}
	}
}

// validJSONCorpus holds bodies on both sides of json.Valid, many with long literals (which
// validJSON checks itself).
func validJSONCorpus() []string {
	long := strings.Repeat("a", 100)
	return []string{
		``, ` `, `{}`, `[]`, `"x"`, `1`, `null`, `{"a":1}`, `{"a":1,}`, `{"a" 1}`, `{"a":1} x`,
		`"` + long + `"`, `{"` + long + `":"` + long + `"}`, `{"` + long + `" "b"}`,
		`{"a":"` + long + `\"` + long + `"}`, `{"a":"` + long + `\\"}`, `{"a":"` + long + `\"}`,
		`{"a":"` + long + `\u00e9\/\b\f\n\r\t"}`, `{"a":"` + long + `\u00g9"}`, `{"a":"` + long + `\u00e"}`,
		`{"a":"` + long + `\x"}`, `{"a":"` + long + "\t" + `"}`, `{"a":"` + long + "\x7f\xff" + `"}`,
		`{"a":"` + long + "\n" + `"}`, `{"a":"` + long, `{"a":"` + long + `\`, `["` + long + `",` + `"b",1]`,
		`["` + long + `" "b"]`, `["b","` + long + `"]`, `["b" "` + long + `"]`, `"` + long + `" "` + long + `"`,
	}
}

func TestValidJSON(t *testing.T) {
	for _, body := range validJSONCorpus() {
		if got, want := validJSON([]byte(body)), json.Valid([]byte(body)); got != want {
			t.Errorf("validJSON(%q) = %v, json.Valid says %v", body, got, want)
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, body := range validJSONCorpus() {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if got, want := validJSON(body), json.Valid(body); got != want {
			t.Errorf("validJSON(%q) = %v, json.Valid says %v", body, got, want)
		}
	})
}

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
		if got := maskAuthorization(tc.in); got != tc.want {
			t.Errorf("maskAuthorization(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMaskTokens(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	jws := b64([]byte(`{"alg":"ES256"}`)) + "." + b64([]byte(`{"sub":"c"}`)) + ".c2ln"
	spaced := b64([]byte(` {"alg":"ES256"}`)) + ".." + "c2ln"
	jwe := b64([]byte(`{"alg":"RSA-OAEP","enc":"A256GCM"}`)) + ".a.b.c.d"
	hex32 := strings.Repeat("0123456789abcdeF", 2)
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"nothing here", "nothing here"},
		{jws, "****"},
		{"assertion: " + jws + "\n", "assertion: ****\n"},
		{"a=" + jws + "&b=" + spaced, "a=****&b=****"},
		{jwe, "****"},
		{"https://keys.acme.example.com/jwks", "https://keys.acme.example.com/jwks"},
		{"eyJ.eyJ.x", "eyJ.eyJ.x"}, // too short a header to be one
		{hex32, "****"},
		{hex32[1:], hex32[1:]},
		{"key " + hex32 + hex32 + "!", "key ****!"},
		{"x" + hex32 + "z", "x****z"},
		{"uuid 0bd3c7e9-0e0d-4f4e-9c5c-6a6ab1f0e1aa", "uuid 0bd3c7e9-0e0d-4f4e-9c5c-6a6ab1f0e1aa"},
	} {
		if got := maskTokens(tc.in); got != tc.want {
			t.Errorf("maskTokens(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMaskContent(t *testing.T) {
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}
	js := http.Header{"Content-Type": {"application/json"}}
	key := strings.Repeat("0123456789", 4)
	for _, tc := range []struct {
		name string
		h    http.Header
		body string
		want string
	}{
		{"empty", js, "", ""},
		{"JSON naming nothing, as sent", js, `{"b": 1, "a":"x"}`, `{"b": 1, "a":"x"}`},
		{"JSON with a hex string, as sent", js, `{"id":"` + key + `"}`, `{"id":"` + key + `"}`},
		{"JSON naming a secret only as a value", js, `{"b":1, "a":"key"}`, `{"a":"key","b":1}`},
		{"legacy key, any case, any depth", nil, `[{"Key":"` + key + `","x":{"KEY":"` + key + `"}}]`,
			`[{"Key":"0123…6789","x":{"KEY":"0123…6789"}}]`},
		{"key that is not a string", js, `{"key":{"secret":"s","n":1.50}}`, `{"key":{"n":1.50,"secret":"****"}}`},
		{"legacy reply shape", js, `{"apiKey":{"key":"` + key + `","secret":"` + key + `"},"status":"ok"}`,
			`{"apiKey":{"key":"0123…6789","secret":"****"},"status":"ok"}`},
		{"apiKey string", js, `{"ApiKey":"` + key + `"}`, `{"ApiKey":"0123…6789"}`},
		{"credentials whatever their type", js, `{"client_assertion":{"a":1},"Access_Token":7,"x":"<&>"}`,
			`{"Access_Token":"****","client_assertion":"****","x":"<&>"}`},
		{"private members at any depth", js, `{"a":[[{"d":"s","P":"s","oth":[{"r":"s"}],"n":"AA"}]]}`,
			`{"a":[[{"P":"****","d":"****","n":"AA","oth":"****"}]]}`},
		{"form, in place", form, "b=1&client_assertion=x.y.z&a=2&client_secret=s&client_secret=",
			"b=1&client_assertion=****&a=2&client_secret=****&client_secret="},
		{"form naming nothing, as sent", form, "grant_type=client_credentials&scope=a+b", "grant_type=client_credentials&scope=a+b"},
		{"form that does not parse", form, "client_assertion=x;y&z=%zz", "client_assertion=****&z=%zz"},
		{"escaped field name", form, "client%5Fsecret=s", "client%5Fsecret=****"},
		{"form without its content type", js, "client_secret=s&a=1", "client_secret=****&a=1"},
		{"form with a token under another name", form, "a=" + key, "a=****"},
		{"malformed JSON naming a secret", js, `{"secret":"s"`, "<unparsable body naming a secret member: 13 bytes>"},
		{"malformed JSON naming nothing", js, `{"type":` + key, `{"type":****`},
		{"multipart naming a credential", http.Header{"Content-Type": {"multipart/form-data; boundary=X"}},
			"--X\r\nContent-Disposition: form-data; name=client_secret\r\n\r\ns\r\n--X--\r\n",
			"<multipart form body with a credential field: 69 bytes>"},
		{"multipart naming a credential in quotes", http.Header{"Content-Type": {"multipart/form-data; boundary=X"}},
			"--X\r\nContent-Disposition: form-data; name=\"client_secret\"\r\n\r\ns\r\n--X--\r\n",
			"<unparsable body naming a secret member: 71 bytes>"},
		{"form with a quoted secret name", form, `a=1&b="key"`, "<unparsable body naming a secret member: 11 bytes>"},
		{"multipart naming nothing", http.Header{"Content-Type": {"multipart/form-data; boundary=X"}},
			"--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ns\r\n--X--\r\n",
			"--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ns\r\n--X--\r\n"},
	} {
		if got := maskContent(tc.h, []byte(tc.body)); got != tc.want {
			t.Errorf("%s: maskContent(%q) = %q, want %q", tc.name, tc.body, got, tc.want)
		}
	}
}

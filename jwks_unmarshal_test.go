package apikeys_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apikeys-go/apikeys"
)

// malformedJWKDocs are JSON texts that are not valid JSON, with the broken
// part inside a JWK object, after it, or elsewhere in the document.
var malformedJWKDocs = []string{
	`{"kty":"EC",}`,
	`{"kty":"EC"`,
	`{"kty":"EC" "crv":"P-256"}`,
	`{"kty":01}`,
	`{"kty":"E` + "\x01" + `C"}`,
	`{"kty":"\q"}`,
	`{"kty":tru}`,
	`{"kty":"EC"}}`,
	`{"kty":"EC"} x`,
	`{"kty":"EC"}{}`,
	`{'kty':'EC'}`,
	`{"kty":"EC","x":[1,2,}`,
	`{"kty":"EC","x":{"a":}}`,
	"{\"kty\":\"EC\"\x00}",
}

// jwkSpy records in jwkSpyGot what encoding/json hands an UnmarshalJSON
// method in the places where it hands bytes to (*apikeys.JWK).UnmarshalJSON.
type jwkSpy struct{}

var jwkSpyGot [][]byte

func (*jwkSpy) UnmarshalJSON(data []byte) error {
	jwkSpyGot = append(jwkSpyGot, bytes.Clone(data))
	return nil
}

// jwkSpyDoc mirrors the documents of the test with a jwkSpy for each JWK.
type jwkSpyDoc struct {
	Keys   []jwkSpy `json:"keys"`
	X      jwkSpy   `json:"x"`
	JWKSet struct {
		Keys []jwkSpy `json:"keys"`
	} `json:"jwkSet"`
}

// TestJSONValidatesBeforeJWKUnmarshalJSON checks what JWK.UnmarshalJSON
// relies on: encoding/json (Unmarshal and Decoder.Decode) refuses
// malformed input as a whole, and hands an UnmarshalJSON method only
// complete, valid JSON values, so the method need not run json.Valid
// again. ParseJWK, where bytes come from elsewhere, still checks.
func TestJSONValidatesBeforeJWKUnmarshalJSON(t *testing.T) {
	wrap := map[string]func(string) string{
		"key":    func(k string) string { return k },
		"set":    func(k string) string { return `{"keys":[{"kty":"OKP"},` + k + `]}` },
		"apikey": func(k string) string { return `{"id":"a","name":"n","jwkSet":{"keys":[` + k + `]}}` },
		"after":  func(k string) string { return `{"keys":[{"kty":"OKP"}],"x":` + k + `}` },
	}
	for _, doc := range malformedJWKDocs {
		require.False(t, json.Valid([]byte(doc)), "test input %q must be malformed", doc)
		for name, w := range wrap {
			in := []byte(w(doc))
			require.False(t, json.Valid(in), "%s %q", name, in)

			// Through the SDK's types.
			switch name {
			case "key":
				var k apikeys.JWK
				assert.Error(t, json.Unmarshal(in, &k), "json.Unmarshal into a JWK: %q", in)
				// A Decoder reads a stream of values: after a complete
				// first value ({"kty":"EC"} x), the rest is the next one.
				var k2 apikeys.JWK
				if json.NewDecoder(bytes.NewReader(in)).Decode(&k2) == nil {
					assert.True(t, json.Valid(k2.Raw()), "Decoder into a JWK: %q kept %q", in, k2.Raw())
				}
				_, perr := apikeys.ParseJWK(in)
				assert.Error(t, perr, "ParseJWK: %q", in)
			case "set", "after":
				var s apikeys.JWKSet
				assert.Error(t, json.Unmarshal(in, &s), "json.Unmarshal into a JWKSet: %q", in)
			case "apikey":
				var k apikeys.APIKey
				assert.Error(t, json.Unmarshal(in, &k), "json.Unmarshal into an APIKey: %q", in)
			}

			// What an UnmarshalJSON method in a JWK's place is handed.
			jwkSpyGot = nil
			if name == "key" {
				var one jwkSpy
				assert.Error(t, json.Unmarshal(in, &one))
				_ = json.NewDecoder(bytes.NewReader(in)).Decode(&one)
			} else {
				var mirror jwkSpyDoc
				assert.Error(t, json.Unmarshal(in, &mirror))
				_ = json.NewDecoder(bytes.NewReader(in)).Decode(&mirror)
			}
			for _, b := range jwkSpyGot {
				assert.True(t, json.Valid(b), "%s: UnmarshalJSON was handed invalid JSON %q from %q", name, b, in)
			}
		}
	}

	// Valid input still decodes, and the key keeps its bytes.
	const key = `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"a"}`
	var s apikeys.JWKSet
	require.NoError(t, json.Unmarshal([]byte(`{"keys":[`+key+`, `+key+` ]}`), &s))
	require.Len(t, s.Keys, 2)
	assert.Equal(t, key, string(s.Keys[1].Raw()))
	var k apikeys.JWK
	require.NoError(t, json.NewDecoder(strings.NewReader(" "+key+"\n")).Decode(&k))
	assert.Equal(t, key, string(k.Raw()))
	k, err := apikeys.ParseJWK([]byte("\n" + key + " "))
	require.NoError(t, err)
	assert.Equal(t, key, string(k.Raw()))
}

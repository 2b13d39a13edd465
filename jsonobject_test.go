package apikeys

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// decoderMembers reads the members of a JSON object with encoding/json's
// Decoder, repeats included, as the reference objectMembers must match.
func decoderMembers(data []byte) (names, values []string, ok bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil || m == nil {
		return nil, nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return nil, nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, false
		}
		names, values = append(names, tok.(string)), append(values, string(v))
	}
	return names, values, true
}

// FuzzObjectMembers: objectMembers, readHeader, lastMember,
// repeatedMembers and isBase64URL, which VerifyJWT and Validate use to
// read a JWK or a JWS header in one pass, agree with encoding/json (and
// decodeSegment) on any input: the same members, names decoded the same
// way, in the same order, repeats included; the header a decoded map
// holds under the exact names (as go-jose reads them); the member a
// decoded map holds; the repeats found by folding each name with foldRune
// (case folding as encoding/json matches names); and the segments
// decodeSegment decodes.
func FuzzObjectMembers(f *testing.F) {
	for _, s := range jwkSeeds(f) {
		f.Add(s)
	}
	for _, s := range []string{
		` { "kid" : "a" , "KID":"b", "\u006bid":"c", "` + "\u212a" + `id":"d", "kıd":"e" } `,
		`{"kid":null,"kty":"EC","kid":5,"alg":{"a":[1,"}\"]"]},"use":"s\u00efg","crv":"\ud800","x":-1.5e+3}`,
		"{\"kid\":\"\xff\xfe\",\"k\xffty\":\"RSA\",\"s\u017fig\":true}",
		`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"A":18,"B":[],"b":{}}`,
		`{"b64":false,"crit":["b64"],"alg":"EdDSA"}`,
		`{}`, `{"":""}`, `[{"kid":"a"}]`, `"kid"`, `{"kid":"a"}x`, `{"kid":"a"`,
		`eyJhbGciOiJFZERTQSJ9`, `AB`, `AE`, `ABC`, `ABD`, `A`, `AA==`, "AA\nAA", `A-_9`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		members, ok := objectMembers(nil, data)
		names, values, wantOK := decoderMembers(data)
		if ok != wantOK {
			t.Fatalf("objectMembers ok = %t, encoding/json %t", ok, wantOK)
		}
		gotNames, gotValues := []string{}, []string{}
		for _, m := range members {
			gotNames, gotValues = append(gotNames, m.name), append(gotValues, m.value)
		}
		if ok && (!slices.Equal(gotNames, names) || !slices.Equal(gotValues, values)) {
			t.Fatalf("members %q = %q, encoding/json %q = %q", gotNames, gotValues, names, values)
		}

		var m map[string]json.RawMessage
		_ = json.Unmarshal(data, &m)

		// The header as go-jose reads it: names as spelled, string values.
		str := func(name string) (s string) {
			if v, ok := m[name]; ok && v[0] == '"' {
				_ = json.Unmarshal(v, &s)
			}
			return s
		}
		want := jwkHeader{KeyID: str("kid"), KeyType: str("kty"), Algorithm: str("alg"), Use: str("use"), Curve: str("crv")}
		if h := readHeader(members); h != want {
			t.Fatalf("readHeader = %+v, decoded map %+v", h, want)
		}
		for name, v := range m {
			if got, ok := lastMember(members, name); !ok || got != string(v) {
				t.Fatalf("lastMember(%q) = %q, %t; map holds %q", name, got, ok, v)
			}
		}

		var wantRepeats []string
		first := map[string]string{}
		for _, name := range names {
			folded := strings.Map(foldRune, name)
			prev, seen := first[folded]
			switch {
			case !seen:
				first[folded] = name
			case prev == name:
				wantRepeats = append(wantRepeats, fmt.Sprintf("member %s appears twice", quoted(name)))
			default:
				wantRepeats = append(wantRepeats, fmt.Sprintf("member %s repeats %s in another letter case", quoted(name), quoted(prev)))
			}
		}
		if got := repeatedMembers(members); !slices.Equal(got, wantRepeats) {
			t.Fatalf("repeatedMembers = %q, want %q", got, wantRepeats)
		}

		_, err := decodeSegment(string(data))
		if got := isBase64URL(string(data)); got != (err == nil) {
			t.Fatalf("isBase64URL(%q) = %t, decodeSegment error %v", data, got, err)
		}
	})
}

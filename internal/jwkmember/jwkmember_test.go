package jwkmember

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestPrivate(t *testing.T) {
	want := []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}
	got := Private()
	if !slices.Equal(got, want) {
		t.Fatalf("Private() = %q, want %q", got, want)
	}
	got[0] = "changed"
	if Private()[0] != "d" {
		t.Fatal("Private() returned the package's own slice")
	}
}

func TestIsPrivate(t *testing.T) {
	for _, name := range Private() {
		if !IsPrivate(name) {
			t.Errorf("IsPrivate(%q) = false", name)
		}
	}
	for _, name := range []string{
		"D", "P", "Q", "DP", "Dp", "dQ", "QI", "Qi", "qI", "OTH", "Oth", "K", "PRIV", "Priv",
		"\u212a", // KELVIN SIGN: encoding/json, like strings.EqualFold, folds it to "k"
	} {
		if !IsPrivate(name) {
			t.Errorf("IsPrivate(%q) = false, want true", name)
		}
	}
	for _, name := range []string{
		"", "kid", "kty", "alg", "use", "crv", "n", "e", "x", "y", "pub", "key_ops", "x5c",
		"dd", "d ", " d", "privkey", "oth2", "ki", "pr",
	} {
		if IsPrivate(name) {
			t.Errorf("IsPrivate(%q) = true, want false", name)
		}
	}
}

func TestIn(t *testing.T) {
	tests := []struct {
		name    string
		members string
		want    []string
	}{
		{name: "none", members: `{"kid":"a","kty":"EC","crv":"P-256","x":"AA","y":"AA"}`, want: nil},
		{name: "empty", members: `{}`, want: nil},
		{name: "RSA private key", members: `{"kty":"RSA","n":"AA","e":"AQAB","d":"AA","p":"AA","q":"AA","dp":"AA","dq":"AA","qi":"AA","oth":[]}`,
			want: []string{"d", "p", "q", "dp", "dq", "qi", "oth"}},
		{name: "symmetric", members: `{"kty":"oct","k":"AA"}`, want: []string{"k"}},
		{name: "AKP", members: `{"kty":"AKP","pub":"AA","priv":"AA"}`, want: []string{"priv"}},
		{name: "upper case", members: `{"D":"AA","QI":"AA","OTH":[],"K":"AA","PRIV":"AA"}`, want: []string{"D", "QI", "OTH", "K", "PRIV"}},
		// The lower-case spelling first, then the others sorted, in the order of Private.
		{name: "mixed spellings", members: `{"priv":"AA","Qi":"AA","qI":"AA","qi":"AA","D":"AA","d":"AA","k":"AA"}`,
			want: []string{"d", "D", "qi", "Qi", "qI", "k", "priv"}},
		{name: "kelvin sign", members: `{"\u212a":"AA"}`, want: []string{"\u212a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var raw map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tc.members), &raw); err != nil {
				t.Fatal(err)
			}
			if got := In(raw); !slices.Equal(got, tc.want) {
				t.Errorf("In(RawMessage map) = %q, want %q", got, tc.want)
			}
			var anyMap map[string]any
			if err := json.Unmarshal([]byte(tc.members), &anyMap); err != nil {
				t.Fatal(err)
			}
			if got := In(anyMap); !slices.Equal(got, tc.want) {
				t.Errorf("In(any map) = %q, want %q", got, tc.want)
			}
		})
	}
	if got := In(map[string]int(nil)); got != nil {
		t.Errorf("In(nil) = %q, want nil", got)
	}
}

// TestEncodingJSONMatchesLikeIsPrivate: every spelling IsPrivate accepts is one encoding/json
// decodes into a struct field named by the lower-case member, which is why case matters.
func TestEncodingJSONMatchesLikeIsPrivate(t *testing.T) {
	var v struct {
		D string `json:"d"`
		K string `json:"k"`
	}
	for _, name := range []string{"D", "K", "\u212a"} {
		v.D, v.K = "", ""
		if err := json.Unmarshal([]byte(`{"`+name+`":"x"}`), &v); err != nil {
			t.Fatal(err)
		}
		if v.D+v.K != "x" {
			t.Errorf("encoding/json did not match %q to a private member field", name)
		}
		if !IsPrivate(name) {
			t.Errorf("IsPrivate(%q) = false", name)
		}
	}
}

package apikeystest

import (
	"strings"
	"testing"
)

func TestMentionsPrivateMember(t *testing.T) {
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
	}
	for _, tc := range tests {
		name := tc.body
		if len(name) > 40 {
			name = name[:40]
		}
		if got := mentionsPrivateMember([]byte(tc.body)); got != tc.want {
			t.Errorf("mentionsPrivateMember(%s) = %v, want %v", name, got, tc.want)
		}
	}
}

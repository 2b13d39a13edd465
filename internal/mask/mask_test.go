package mask

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKey(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "empty stays empty", in: "", want: ""},
		{name: "one character", in: "a", want: "****"},
		{name: "eight characters", in: "01234567", want: "****"},
		{name: "nine characters", in: "012345678", want: "0123…5678"},
		{name: "eleven characters (masked in full by the fake before)", in: "0123456789a", want: "0123…789a"},
		{name: "legacy key, 40 hex", in: strings.Repeat("0123456789", 4), want: "0123…6789"},
		{name: "runes, not bytes: eight", in: "éééééééé", want: "****"},
		{name: "runes, not bytes: nine", in: "αβγδεζηθι", want: "αβγδ…ζηθι"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Key(tc.in))
		})
	}
}

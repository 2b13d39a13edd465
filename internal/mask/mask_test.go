package mask

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKey(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty stays empty", "", ""},
		{"one character", "a", "****"},
		{"eight characters", "01234567", "****"},
		{"nine characters", "012345678", "0123…5678"},
		{"eleven characters (masked in full by the fake before)", "0123456789a", "0123…789a"},
		{"legacy key, 40 hex", strings.Repeat("0123456789", 4), "0123…6789"},
		{"runes, not bytes: eight", "éééééééé", "****"},
		{"runes, not bytes: nine", "αβγδεζηθι", "αβγδ…ζηθι"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Key(tc.in))
		})
	}
}

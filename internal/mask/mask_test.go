package mask

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestKey(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "empty stays empty", in: "", want: ""},
		{name: "one character", in: "a", want: "****"},
		{name: "eight characters", in: "01234567", want: "****"},
		{name: "nine characters: 8 shown would be all but one", in: "012345678", want: "****"},
		{name: "eleven characters", in: "0123456789a", want: "****"},
		{name: "fifteen characters", in: "0123456789abcde", want: "****"},
		{name: "sixteen characters: half shown", in: "0123456789abcdef", want: "0123…cdef"},
		{name: "legacy key, 40 hex", in: strings.Repeat("0123456789", 4), want: "0123…6789"},
		{name: "runes, not bytes: fifteen", in: strings.Repeat("é", 15), want: "****"},
		{name: "runes, not bytes: sixteen", in: "αβγδεζηθικλμνξοπ", want: "αβγδ…νξοπ"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Key(tc.in))
		})
	}
}

// TestKeyShowsAtMostHalf: for every length from 0 to 20 runes, a masked key
// shows at most half of its runes, so that most of a short key never
// reaches a log, and a key of 16 runes or more still shows its ends.
func TestKeyShowsAtMostHalf(t *testing.T) {
	const runes = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for n := 0; n <= 20; n++ {
		for _, key := range []string{runes[:n], strings.Repeat("ж", n)} {
			got := Key(key)
			shown := utf8.RuneCountInString(strings.NewReplacer("…", "", "****", "").Replace(got))
			assert.LessOrEqual(t, shown, n/2, "%d runes: %q", n, got)
			if n >= 16 {
				assert.Equal(t, 8, shown, "%d runes: %q", n, got)
			}
		}
	}
}

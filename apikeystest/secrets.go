package apikeystest

import (
	"slices"
	"strconv"
	"strings"
	"sync"
)

// secretSet holds every secret the fake issued or holds. All of them are lower-case hex
// (randomHex), so replace finds them by looking up the substrings of hex runs.
type secretSet struct {
	mu   sync.RWMutex
	set  map[string]bool
	lens []int // the lengths in set, ascending
}

// add records secrets; it must be called before a secret is sent to anyone.
func (ss *secretSet) add(secrets ...string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.set == nil {
		ss.set = map[string]bool{}
	}
	for _, s := range secrets {
		if s == "" || strings.TrimLeft(s, hexDigits) != "" {
			panic("apikeystest: a secret to mask is not lower-case hex: " + s)
		}
		ss.set[s] = true
		if !slices.Contains(ss.lens, len(s)) {
			ss.lens = append(ss.lens, len(s))
			slices.Sort(ss.lens)
		}
	}
}

// replace returns s with every secret of the set in it replaced by "****", whether its digits
// are sent as they are or percent-encoded ("%33" for "3"), in whole or in part: a path, a header
// or a body may carry a secret URL-escaped.
func (ss *secretSet) replace(s string) string {
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	var b strings.Builder
	done := 0 // s[:done] is in b
	var digits []byte
	var at []int // at[k] is where digits[k] starts in s; the last entry is where the run ends
	for i := 0; i < len(s); {
		if _, w := hexAt(s, i); w == 0 {
			i++
			continue
		}
		digits, at = digits[:0], at[:0]
		for i < len(s) {
			c, w := hexAt(s, i)
			if w == 0 {
				break
			}
			digits, at = append(digits, c), append(at, i)
			i += w
		}
		at = append(at, i)
		for k := 0; k < len(digits); k++ { // a secret may sit anywhere in the run
			for _, n := range ss.lens {
				if k+n <= len(digits) && ss.set[string(digits[k:k+n])] {
					b.WriteString(s[done:at[k]])
					b.WriteString(hidden)
					done = at[k+n]
					k += n - 1
					break
				}
			}
		}
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// hexAt returns the lower-case hex digit at s[i], as it is or percent-encoded, and how many
// bytes of s spell it (0 when there is none). i < len(s).
func hexAt(s string, i int) (byte, int) {
	if isLowerHex(s[i]) {
		return s[i], 1
	}
	if s[i] == '%' && i+3 <= len(s) {
		if c, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil && isLowerHex(byte(c)) {
			return byte(c), 3
		}
	}
	return 0, 0
}

// hexDigits are the characters of the fake's secrets.
const hexDigits = "0123456789abcdef"

func isLowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

package apikeystest

import (
	"slices"
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

// replace returns s with every secret of the set in it replaced by "****".
func (ss *secretSet) replace(s string) string {
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	var b strings.Builder
	done := 0 // s[:done] is in b
	for i := 0; i < len(s); {
		if !isLowerHex(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isLowerHex(s[j]) {
			j++
		}
		for k := i; k < j; k++ { // a secret may sit anywhere in the run
			for _, n := range ss.lens {
				if k+n <= j && ss.set[s[k:k+n]] {
					b.WriteString(s[done:k])
					b.WriteString(hidden)
					done = k + n
					k += n - 1
					break
				}
			}
		}
		i = j
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// hexDigits are the characters of the fake's secrets.
const hexDigits = "0123456789abcdef"

func isLowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

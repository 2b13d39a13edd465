// Package mask holds the one rule for showing a legacy API key value
// partly. The SDK (LegacyKey's String, GoString and LogValue, and the
// redaction of reply bodies) and the fake server in apikeystest (its
// request log) both use it, so a key reads the same in both.
package mask

// Key shows a legacy key value as its first and last 4 characters (runes)
// joined by "…", so a person can tell keys apart without the log holding
// them. Those 8 characters are at most half of a key of 16 or more; a
// shorter key would show most of itself (a 9-character one all but one),
// so it reads "****". An empty value stays "" so an unset key shows as
// unset.
func Key(key string) string {
	r := []rune(key)
	switch {
	case len(r) == 0:
		return ""
	case len(r) < 16:
		return "****"
	}
	return string(r[:4]) + "…" + string(r[len(r)-4:])
}

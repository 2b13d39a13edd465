// Package mask holds the one rule for showing a legacy API key value
// partly. The SDK (LegacyKey's String, GoString and LogValue, and the
// redaction of reply bodies) and the fake server in apikeystest (its
// request log) both use it, so a key reads the same in both.
package mask

// Key shows a legacy key value as its first and last 4 characters (runes)
// joined by "…", so a person can tell keys apart without the log holding
// them. A value of 8 characters or fewer would show in full that way, so
// it reads "****"; an empty value stays "" so an unset key shows as unset.
func Key(key string) string {
	r := []rune(key)
	switch {
	case len(r) == 0:
		return ""
	case len(r) <= 8:
		return "****"
	}
	return string(r[:4]) + "…" + string(r[len(r)-4:])
}

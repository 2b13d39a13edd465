package apikeys

import "time"

// BenchSign exposes the client-assertion signing of a token source to the
// benchmarks: one fresh assertion for the time now, as a token fetch signs.
func BenchSign(ts *AssertionTokenSource, now time.Time) (string, error) { return ts.s.sign(now) }

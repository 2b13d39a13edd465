package apikeys

import (
	"net/url"
	"strings"
	"testing"
)

// TestJoinPathMatchesBuilders checks joinPath against the two-builder join
// it replaced, for plain, escaped and legacy-style (RawPath) bases.
func TestJoinPathMatchesBuilders(t *testing.T) {
	ref := func(base *url.URL, segments []string) (string, string) {
		var path, raw strings.Builder
		path.WriteString(base.Path)
		raw.WriteString(base.EscapedPath())
		for _, s := range segments {
			path.WriteByte('/')
			path.WriteString(s)
			raw.WriteByte('/')
			raw.WriteString(url.PathEscape(s))
		}
		return path.String(), raw.String()
	}
	legacy, err := url.Parse("https://h.example.com/box/srv/1.1/ide/my%2Fdomain/api")
	if err != nil {
		t.Fatal(err)
	}
	bases := []*url.URL{
		{Scheme: "https", Host: "h.example.com", Path: "/platform"},
		{Scheme: "https", Host: "h.example.com", Path: ""},
		{Scheme: "https", Host: "h.example.com", Path: "/a b/c?d"},
		{Scheme: "https", Host: "h.example.com", Path: "/x/a/b", RawPath: "/x/a%2Fb"},
		legacy,
	}
	segs := [][]string{
		nil,
		{"v1", "apikeys", "2c6a1f4e-8d3b-4b7a-9e0f-5a1d7c3e9b42"},
		{"v1", "apikeys", "a b?c#d%e"},
		{"v1", "environments", "é/x;y,z", "apikeys"},
		{""},
	}
	for _, b := range bases {
		for _, s := range segs {
			wp, wr := ref(b, s)
			gp, gr := joinPath(b, s)
			if gp != wp || gr != wr {
				t.Errorf("joinPath(%q, %q) = %q, %q; want %q, %q", b.String(), s, gp, gr, wp, wr)
			}
			u1, u2 := *b, *b
			u1.Path, u1.RawPath = wp, wr
			u2.Path, u2.RawPath = gp, gr
			if u1.String() != u2.String() {
				t.Errorf("URL %q, want %q", u2.String(), u1.String())
			}
		}
	}
}

func TestJoinPathAllocs(t *testing.T) {
	base := &url.URL{Scheme: "https", Host: "h.example.com", Path: "/platform"}
	segs := []string{"v1", "apikeys", "2c6a1f4e-8d3b-4b7a-9e0f-5a1d7c3e9b42"}
	if n := testing.AllocsPerRun(100, func() { joinPath(base, segs) }); n > 1 {
		t.Errorf("joinPath allocates %v times, want 1", n)
	}
}

package apikeys

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"testing"
)

// chunkReader returns data in chunks of at most n bytes, with io.EOF on
// the last chunk when eofWithData, and err instead of io.EOF when set.
type chunkReader struct {
	data        []byte
	n           int
	eofWithData bool
	err         error
}

func (r *chunkReader) Read(p []byte) (int, error) {
	end := r.err
	if end == nil {
		end = io.EOF
	}
	if len(r.data) == 0 {
		return 0, end
	}
	k := min(len(p), r.n, len(r.data))
	copy(p, r.data[:k])
	r.data = r.data[k:]
	if len(r.data) == 0 && r.eofWithData {
		return k, end
	}
	return k, nil
}

func (r *chunkReader) Close() error { return nil }

// readBodyBuffer is the bytes.Buffer implementation readBody replaced.
func readBodyBuffer(resp *http.Response, limit int64) ([]byte, bool, error) {
	defer resp.Body.Close()
	size := int64(512)
	if resp.ContentLength > 0 {
		size = min(resp.ContentLength, 1<<20, limit) + 1
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1))
	b := buf.Bytes()
	if int64(len(b)) > limit {
		return b[:limit], true, err
	}
	return b, false, err
}

func TestReadBodyMatchesBuffer(t *testing.T) {
	broken := errors.New("connection reset")
	for _, size := range []int{0, 1, 100, 511, 512, 513, 4096, 100_000} {
		data := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		for _, cl := range []int64{-1, 0, int64(size), int64(size) + 10, int64(size) / 2, math.MaxInt64} {
			for _, limit := range []int64{1, 100, 512, int64(size), int64(size) + 1, 8 << 20} {
				for _, chunk := range []int{1, 7, 1000, 1 << 20} {
					for _, eofWithData := range []bool{false, true} {
						for _, rerr := range []error{nil, broken} {
							if chunk == 1 && size > 4096 {
								continue
							}
							name := fmt.Sprintf("size=%d/cl=%d/limit=%d/chunk=%d/eof=%t/err=%v", size, cl, limit, chunk, eofWithData, rerr)
							mk := func() *http.Response {
								return &http.Response{ContentLength: cl, Body: &chunkReader{data: data, n: chunk, eofWithData: eofWithData, err: rerr}}
							}
							wb, wbig, werr := readBodyBuffer(mk(), limit)
							gb, gbig, gerr := readBody(mk(), limit)
							if !bytes.Equal(gb, wb) || gbig != wbig || !errors.Is(gerr, werr) && gerr != werr {
								t.Fatalf("%s: got %d bytes, %t, %v; want %d bytes, %t, %v", name, len(gb), gbig, gerr, len(wb), wbig, werr)
							}
						}
					}
				}
			}
		}
	}
}

func TestReadBodyHugeLimit(t *testing.T) {
	b, big, err := readBody(&http.Response{ContentLength: 5, Body: &chunkReader{data: []byte("hello"), n: 5}}, math.MaxInt64)
	if string(b) != "hello" || big || err != nil {
		t.Fatalf("got %q, %t, %v", b, big, err)
	}
}

func TestReadBodyOneAllocation(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 450)
	var r chunkReader
	resp := &http.Response{ContentLength: int64(len(data)), Body: &r}
	n := testing.AllocsPerRun(100, func() {
		r = chunkReader{data: data, n: 4096, eofWithData: true}
		if _, _, err := readBody(resp, DefaultMaxResponseBytes); err != nil {
			t.Fatal(err)
		}
	})
	if n > 1 {
		t.Errorf("readBody allocates %v times, want 1", n)
	}
}

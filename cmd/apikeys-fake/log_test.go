package main

import (
	"bufio"
	"bytes"
	"io"
	"log"
	"log/slog"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStandardLogIsSlog: what the standard log package prints while the command runs (such as
// the report httptest.Server prints when a graceful stop takes over 5 s) reaches stderr as a
// slog line like the command's own, not as a bare line between them.
func TestStandardLogIsSlog(t *testing.T) {
	defer func(w io.Writer, flags int, l *slog.Logger) {
		slog.SetDefault(l) // the original default logger: this leaves the log package alone
		log.SetOutput(w)
		log.SetFlags(flags)
	}(log.Writer(), log.Flags(), slog.Default())

	stdout, stdoutW := io.Pipe()
	defer stdout.Close()
	var stderr bytes.Buffer // written by run's goroutine, read once it returned
	sigs := make(chan os.Signal, 1)
	code := make(chan int, 1)
	go func() { code <- run([]string{"-addr", "127.0.0.1:0"}, stdoutW, &stderr, sigs) }()
	_, err := bufio.NewReader(stdout).ReadString('\n') // the JSON line: the fake is serving
	require.NoError(t, err)

	log.Print("blocked in Close\n  a connection")
	sigs <- os.Interrupt
	require.Equal(t, 0, <-code)
	assert.Regexp(t, `(?m)^time=\S+ level=INFO msg="blocked in Close\\n  a connection"$`, stderr.String())
}

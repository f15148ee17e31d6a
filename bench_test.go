package main

import (
	"io"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkNewAll runs `daemongen new --yes --features all` in-process, writing included, to
// profile the command (bench/run measures it as a whole process, against a baseline).
func BenchmarkNewAll(b *testing.B) {
	out := b.TempDir()
	e := &env{stdout: io.Discard, stderr: io.Discard}
	i := 0
	for b.Loop() {
		i++
		if code := run(e, []string{"new", "demo", "--yes", "--features", "all", "-o", filepath.Join(out, strconv.Itoa(i))}); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}

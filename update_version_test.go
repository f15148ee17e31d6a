package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestUpdateRefusesADowngrade: a teammate's older daemongen must not take a project back to
// older templates and lose the record of the newer version; --check does not call that an
// update either. Nothing is written.
func TestUpdateRefusesADowngrade(t *testing.T) {
	asVersion(t, "v1.1.0")
	dir := newProject(t, "signals")
	recordGenerator(t, dir, "v1.2.0")
	before := listTree(t, dir)
	for _, args := range [][]string{{"update"}, {"update", "--check"}, {"update", "--dry-run"}} {
		r := daemongen(t, nil, append(args, "--dir", dir)...)
		if r.code != 1 || !strings.Contains(r.stderr, "newer than this daemongen v1.1.0: use daemongen v1.2.0 or later") {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 refusing the downgrade", args, r.code, r.stderr)
		}
	}
	if d := treeDiff(before, listTree(t, dir)); d != "" {
		t.Errorf("a refused downgrade wrote:\n%s", d)
	}
}

// TestUpdateRefusesANonRegularFile: a FIFO where a generated file goes used to hang update
// (and --dry-run) for ever with the lock held; a directory gave a raw read error.
func TestUpdateRefusesANonRegularFile(t *testing.T) {
	for name, mk := range map[string]func(p string) error{
		"fifo":      func(p string) error { return syscall.Mkfifo(p, 0o644) },
		"directory": func(p string) error { return os.Mkdir(p, 0o755) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := newProject(t, "signals")
			p := filepath.Join(dir, "README.md")
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := mk(p); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"update", "--dry-run"}, {"update"}} {
				done := make(chan result, 1)
				go func() { done <- daemongen(t, nil, append(args, "--dir", dir)...) }()
				select {
				case r := <-done:
					if r.code != 1 || !strings.Contains(r.stderr, "README.md is not a regular file") {
						t.Errorf("%v: exit %d, stderr %q; want exit 1 naming README.md", args, r.code, r.stderr)
					}
				case <-time.After(20 * time.Second):
					t.Fatalf("%v hangs on a %s at README.md", args, name)
				}
			}
		})
	}
}

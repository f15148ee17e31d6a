//go:build unix

package project

import (
	"os"
	"path/filepath"
	"testing"
)

// TestScratchRemovesWhatKilledRunsLeft: a run killed with SIGKILL leaves its scratch directory
// (copies of the user's files) in the temporary directory; the next run removes it, but not
// one a live run holds, nor anything not daemongen's.
func TestScratchRemovesWhatKilledRunsLeft(t *testing.T) {
	tmp := t.TempDir()
	mk := func(name string) string {
		p := filepath.Join(tmp, name)
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "yours"), []byte("secret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := mk(scratchPrefix + "123")
	live := mk(scratchPrefix + "456")
	others := []string{mk(scratchPrefix + "x1"), mk("daemongen-scratch"), mk("notours-789")}
	hold, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	if err := tryLock(hold); err != nil {
		t.Fatal(err)
	}

	removeStaleScratch(tmp)

	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the killed run's %s is still there (%v)", stale, err)
	}
	for _, p := range append(others, live) {
		if _, err := os.Stat(filepath.Join(p, "yours")); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}

	t.Setenv("TMPDIR", tmp)
	dir, release, err := Scratch()
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 || filepath.Dir(dir) != tmp {
		t.Fatalf("Scratch() = %s: %v, %v; want a 0700 directory in $TMPDIR", dir, fi, err)
	}
	removeStaleScratch(tmp) // another run's sweep while this one lives
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("a live scratch directory was swept: %v", err)
	}
	release()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("release left %s (%v)", dir, err)
	}
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/daemongen/daemongen/project"
)

// stepsBeforeCommit returns how many write steps a command takes before its journal is
// committed: a crash at any of them leaves the project as it was, plus whatever debris.
func stepsBeforeCommit(t *testing.T, args ...string) int {
	t.Helper()
	n, commit := 0, 0
	project.StepHook = func(step string) error {
		n++
		if step == "rename "+project.JournalName && commit == 0 {
			commit = n
		}
		return nil
	}
	defer func() { project.StepHook = nil }()
	if r := daemongen(t, nil, args...); r.code != 0 {
		t.Fatalf("%q: exit %d: %s", args, r.code, r.stderr)
	}
	if commit == 0 {
		t.Fatalf("%q: no journal commit among %d steps", args, n)
	}
	return commit
}

// TestCrashBeforeTheCommitLeavesNoDebris: a run killed before its journal is committed leaves
// nothing another command could trip over or inherit: no temporary file, no empty directory.
// The next run, whatever command it is, gives the tree (directories included) it gives on a
// project that was never touched.
func TestCrashBeforeTheCommitLeavesNoDebris(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes daemongen once per write step")
	}
	t.Run("new into an empty directory, then another new", func(t *testing.T) {
		first := func(out string) []string {
			return []string{"new", "demo", "-m", "example.com/demo", "-f", "lock,recovery", "-o", out}
		}
		second := func(out string) []string {
			return []string{"new", "demo", "-m", "example.com/demo", "-f", "signals", "-o", out}
		}
		out := t.TempDir()
		os.Mkdir(filepath.Join(out, "demo"), 0o755)
		steps := stepsBeforeCommit(t, first(out)...)
		ref := t.TempDir()
		os.Mkdir(filepath.Join(ref, "demo"), 0o755)
		if r := daemongen(t, nil, second(ref)...); r.code != 0 {
			t.Fatal(r.stderr)
		}
		want := snapshot(t, ref)
		for n := 1; n < steps; n++ {
			out := t.TempDir()
			os.Mkdir(filepath.Join(out, "demo"), 0o755)
			crashAt(t, n, first(out)...)
			if r := daemongen(t, nil, second(out)...); r.code != 0 {
				t.Fatalf("crash at step %d of %d, then another new: exit %d: %s", n, steps, r.code, r.stderr)
			}
			sameSnapshot(t, fmt.Sprintf("crash at step %d of %d", n, steps), want, snapshot(t, out))
			if t.Failed() {
				return
			}
		}
	})
	t.Run("add, then another add", func(t *testing.T) {
		steps := stepsBeforeCommit(t, "add", "docker", "--dir", newProject(t, "none"))
		ref := newProject(t, "none")
		if r := daemongen(t, nil, "add", "lock", "--dir", ref); r.code != 0 {
			t.Fatal(r.stderr)
		}
		want := snapshot(t, ref)
		for n := 1; n < steps; n++ {
			dir := newProject(t, "none")
			crashAt(t, n, "add", "docker", "--dir", dir)
			if r := daemongen(t, nil, "add", "lock", "--dir", dir); r.code != 0 {
				t.Fatalf("crash at step %d of %d, then another add: exit %d: %s", n, steps, r.code, r.stderr)
			}
			sameSnapshot(t, fmt.Sprintf("crash at step %d of %d", n, steps), want, snapshot(t, dir))
			if t.Failed() {
				return
			}
		}
	})
}

// TestStaleProjectDirectoriesAreRemoved: the hidden .NAME.daemongen-* directories crashed
// new runs leave are removed by the next new in that directory, whatever NAME it creates, and
// by the next add or update of the project beside them; one a live run holds is kept, and a
// dry run removes nothing.
func TestStaleProjectDirectoriesAreRemoved(t *testing.T) {
	out := t.TempDir()
	stale := func(name string) string {
		p := filepath.Join(out, name)
		if err := os.MkdirAll(filepath.Join(p, "cmd"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(p, "cmd", "main.go"), []byte("package main\n"), 0o644)
		return p
	}
	names := func() []string {
		entries, _ := os.ReadDir(out)
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		return got
	}
	stale(".other.daemongen-123")
	stale(".demo.daemongen-456")
	live := stale(".busy.daemongen-789")
	f, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(out, ".notes.daemongen-1"), []byte("a file, not ours\n"), 0o644)
	os.Mkdir(filepath.Join(out, "mine.daemongen-2"), 0o755) // not hidden: not ours either

	before := names()
	if r := daemongen(t, nil, "new", "demo", "--yes", "--dry-run", "-o", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if got := names(); !slices.Equal(got, before) {
		t.Fatalf("a dry run changed %s: %q → %q", out, before, got)
	}
	if r := daemongen(t, nil, "new", "demo", "-m", "example.com/demo", "-f", "none", "-o", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	want := []string{".busy.daemongen-789", ".notes.daemongen-1", "demo", "mine.daemongen-2"}
	if got := names(); !slices.Equal(got, want) {
		t.Fatalf("after new: %q, want %q", got, want)
	}
	stale(".demo.daemongen-999")
	if r := daemongen(t, nil, "add", "lock", "--dir", filepath.Join(out, "demo")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if got := names(); !slices.Equal(got, want) {
		t.Fatalf("after add: %q, want %q", got, want)
	}
	// A new that crashed after making --output's directories (out/a/b) left its temporary
	// directory in out, which was then the nearest existing directory: the re-run, whose
	// nearest directory is out/a/b, removes it too, and only one of that name.
	stale(".deep.daemongen-5")
	stale(".other.daemongen-6")
	os.MkdirAll(filepath.Join(out, "a", "b"), 0o755)
	if r := daemongen(t, nil, "new", "deep", "-m", "example.com/deep", "-f", "none", "-o", filepath.Join(out, "a", "b")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	want = []string{".busy.daemongen-789", ".notes.daemongen-1", ".other.daemongen-6", "a", "demo", "mine.daemongen-2"}
	if got := names(); !slices.Equal(got, want) {
		t.Fatalf("after new in a subdirectory: %q, want %q", got, want)
	}
}

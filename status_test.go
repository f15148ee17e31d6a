package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/project"
)

// TestStatusWaitsForAWriter: status takes the project lock (shared), so it never reads a
// project while add or update is replacing its files; it says it waits.
func TestStatusWaitsForAWriter(t *testing.T) {
	dir := newProject(t, "none")
	lock, err := project.Acquire(context.Background(), dir, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan result, 1)
	go func() { done <- daemongen(t, nil, "status", "--dir", dir) }()
	select {
	case r := <-done:
		lock.Unlock()
		t.Fatalf("status ran while another run held the lock: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	case <-time.After(500 * time.Millisecond):
	}
	lock.Unlock()
	r := <-done
	if r.code != 0 || !strings.Contains(r.stderr, "waiting up to 10s for another daemongen run") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	// Runs that only read wait too.
	for _, args := range [][]string{{"add", "lock", "--dry-run"}, {"update", "--check"}, {"update", "--dry-run"}} {
		lock, err := project.Acquire(context.Background(), dir, time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan result, 1)
		go func() { done <- daemongen(t, nil, append(args, "--dir", dir)...) }()
		select {
		case r := <-done:
			lock.Unlock()
			t.Fatalf("%q ran while another run held the lock: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		case <-time.After(300 * time.Millisecond):
		}
		lock.Unlock()
		if r := <-done; r.code == 2 || !strings.Contains(r.stderr, "waiting up to 10s") {
			t.Fatalf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	// Two readers do not wait for each other.
	shared, err := project.AcquireShared(context.Background(), dir, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Unlock()
	if r := daemongen(t, nil, "status", "--dir", dir); r.code != 0 || r.stderr != "" {
		t.Fatalf("status beside another reader: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestStatusAfterACrashShowsTheProjectRecoveryWillLeave: after a crash past add's commit
// point, status (which writes nothing, so does not complete the change) reports the features
// and edits the project will have once the next run completes it, plus the pending change,
// instead of listing daemongen's own half-applied files as the user's edits.
func TestStatusAfterACrashShowsTheProjectRecoveryWillLeave(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes daemongen")
	}
	ref := editedProject(t)
	commit := stepsBeforeCommit(t, "add", "docker", "--dir", ref)
	_, steps := countSteps(t, "add", "docker", "--dir", editedProject(t))
	wantStatus := daemongen(t, nil, "status", "--dir", ref).stdout
	for _, n := range []int{commit + 1, (commit + steps) / 2, steps - 1} {
		dir := editedProject(t)
		crashAt(t, n, "add", "docker", "--dir", dir)
		before := snapshot(t, dir)
		r := daemongen(t, nil, "status", "--dir", dir)
		label := fmt.Sprintf("crash at step %d of %d", n, steps)
		sameSnapshot(t, label+": status", before, snapshot(t, dir))
		var lines []string
		pending := false
		for _, l := range strings.SplitAfter(r.stdout, "\n") {
			if strings.HasPrefix(l, "pending:") {
				pending = true
				continue
			}
			lines = append(lines, l)
		}
		if got := strings.Join(lines, ""); r.code != 0 || !pending || got != strings.ReplaceAll(wantStatus, ref, dir) {
			t.Errorf("%s: status exit %d\n%s\nwant a pending line and\n%s", label, r.code, r.stdout, wantStatus)
		}
		// A typo writes nothing, not even the completion of the interrupted run.
		if r := daemongen(t, nil, "add", "lok", "--dir", dir); r.code != 2 || !strings.Contains(r.stderr, `did you mean "lock"`) {
			t.Errorf("%s: add lok: exit %d, stderr %q", label, r.code, r.stderr)
		}
		sameSnapshot(t, label+": add with a typo", before, snapshot(t, dir))
		// A dry run cannot show a diff against a half-applied project without completing it.
		if r := daemongen(t, nil, "add", "lock", "--dry-run", "--dir", dir); r.code != 1 || !strings.Contains(r.stderr, "left a change half-applied") {
			t.Errorf("%s: add --dry-run: exit %d, stderr %q", label, r.code, r.stderr)
		}
		sameSnapshot(t, label+": dry run", before, snapshot(t, dir))
	}
}

// TestStatusListsAHandEditedFeatureOnce: a manifest whose feature list repeats a name (edited
// by hand) is shown with each feature once.
func TestStatusListsAHandEditedFeatureOnce(t *testing.T) {
	dir := newProject(t, "signals")
	p := filepath.Join(dir, generator.ManifestName)
	b, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(b), `"features": [`, `"features": ["signals", `, 1)), 0o644)
	r := daemongen(t, nil, "status", "--dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "features:  signals\n") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// T-LCK-1, T-LCK-2, T-LCK-4: a second copy exits 75 at once naming the holder; after kill -9
// the next start gets the lock immediately; the file keeps its inode throughout.
func TestSingleInstance(t *testing.T) {
	lockFile := filepath.Join(t.TempDir(), "demo.lock")
	a := start(t, "--lock-file="+lockFile)
	a.waitLog("ready", 10*time.Second)
	ino := inode(t, lockFile)

	started := time.Now()
	b := start(t, "--lock-file="+lockFile)
	if code := b.wait(5 * time.Second); code != 75 {
		t.Fatalf("second instance exit %d, want 75:\n%s", code, b.dump())
	}
	if took := time.Since(started); took > time.Second {
		t.Errorf("second instance took %s to give up, want < 1s", took)
	}
	r := b.find("another instance is running")
	if r == nil || r["holder_pid"] != fmt.Sprint(a.cmd.Process.Pid) {
		t.Errorf("contention log %v does not name the holder pid %d", r, a.cmd.Process.Pid)
	}

	a.signal(syscall.SIGKILL)
	a.wait(5 * time.Second)
	c := start(t, "--lock-file="+lockFile)
	c.waitLog("ready", 5*time.Second)
	content, _ := os.ReadFile(lockFile)
	if !strings.Contains(string(content), fmt.Sprintf("pid=%d ", c.cmd.Process.Pid)) {
		t.Errorf("lock file %q does not name the new holder %d", content, c.cmd.Process.Pid)
	}
	c.signal(syscall.SIGTERM)
	if code := c.wait(5 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if got := inode(t, lockFile); got != ino {
		t.Errorf("lock file inode changed from %d to %d: it was deleted and recreated", ino, got)
	}
}

// T-LCK-3: a lock file naming a live, unrelated PID (this test process) does not block.
func TestStalePIDDoesNotBlock(t *testing.T) {
	lockFile := filepath.Join(t.TempDir(), "demo.lock")
	if err := os.WriteFile(lockFile, []byte(fmt.Sprintf("pid=%d started=earlier\n", os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	d := start(t, "--lock-file="+lockFile)
	d.waitLog("ready", 10*time.Second)
	d.signal(syscall.SIGTERM)
	if code := d.wait(5 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// T-LCK-5: --lock-wait gives up with 75 after about the wait, logging the wait once.
func TestLockWaitGivesUp(t *testing.T) {
	lockFile := filepath.Join(t.TempDir(), "demo.lock")
	a := start(t, "--lock-file="+lockFile)
	a.waitLog("ready", 10*time.Second)
	started := time.Now()
	b := start(t, "--lock-file="+lockFile, "--lock-wait=1s")
	code := b.wait(10 * time.Second)
	took := time.Since(started)
	if code != 75 || took < time.Second || took > 3*time.Second {
		t.Fatalf("exit %d after %s, want 75 after about 1s", code, took)
	}
	if n := b.count("waiting for instance lock"); n != 1 {
		t.Errorf("%d waiting logs, want 1", n)
	}
}

// T-LCK-7: the lock is released last, right before shutdown complete.
func TestLockReleasedLast(t *testing.T) {
	d := start(t)
	d.waitLog("ready", 10*time.Second)
	d.signal(syscall.SIGTERM)
	if code := d.wait(5 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	n := len(d.logs)
	if n < 2 || d.logs[n-2].msg() != "lock released" || d.logs[n-1].msg() != "shutdown complete" {
		t.Fatalf("last lines are not lock released, shutdown complete:\n%v", d.logs[max(0, n-3):])
	}
}

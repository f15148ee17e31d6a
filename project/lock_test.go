package project

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLockExcludesWaitsAndNamesTheHolder(t *testing.T) {
	dir := t.TempDir()
	first, err := Acquire(context.Background(), dir, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	_, err = Acquire(context.Background(), dir, 100*time.Millisecond, func(s string) { notes = append(notes, s) })
	var busy *BusyError
	if !errors.As(err, &busy) {
		t.Fatalf("second Acquire: err = %v, want BusyError", err)
	}
	pid := "pid " + strconv.Itoa(os.Getpid())
	if !strings.Contains(err.Error(), pid) || !strings.Contains(err.Error(), "100ms") || strings.Contains(err.Error(), "\n") {
		t.Errorf("message %q: want one line naming %s and the time waited", err, pid)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "waiting up to 100ms") {
		t.Errorf("notes = %q, want one announcement of the wait", notes)
	}

	// A waiter gets the lock as soon as the holder lets go.
	go func() {
		time.Sleep(50 * time.Millisecond)
		first.Unlock()
	}()
	second, err := Acquire(context.Background(), dir, 5*time.Second, nil)
	if err != nil {
		t.Fatalf("Acquire after release: %v", err)
	}
	second.Unlock()
	if _, err := os.Stat(filepath.Join(dir, LockName)); err != nil {
		t.Fatalf("the lock file must stay: %v", err)
	}
}

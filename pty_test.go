package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/hinshun/vt10x"
	"github.com/kballard/go-shellquote"
)

// TestMain lets the test binary act as daemongen itself when re-executed by a test, so the
// pseudo-terminal tests drive the real main() without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("DAEMONGEN_TEST_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// screen is daemongen running on a pseudo-terminal of a fixed size, drawn by a terminal
// emulator: assertions see what a person would see, not the raw bytes, so a question that
// is redrawn below its stale copy, or an error left above an accepted answer, shows.
type screen struct {
	t    *testing.T
	ptmx *os.File
	vt   vt10x.Terminal
	done chan error

	mu      sync.Mutex
	lastOut time.Time // when daemongen last wrote to the terminal
}

func startScreen(t *testing.T, cols, rows int, dir string, args ...string) *screen {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DAEMONGEN_TEST_MAIN=1", "TERM=xterm")
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: uint16(rows), Cols: uint16(cols)})
	if err != nil {
		t.Fatal(err)
	}
	// The emulator answers the cursor-position queries survey sends, as a terminal does.
	s := &screen{t: t, ptmx: ptmx, vt: vt10x.New(vt10x.WithSize(cols, rows), vt10x.WithWriter(ptmx)), done: make(chan error, 1)}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		buf := make([]byte, 4096)
		var pending []byte // an incomplete UTF-8 sequence from the previous read
		for {
			n, err := ptmx.Read(buf)
			if n > 0 {
				s.mu.Lock()
				s.lastOut = time.Now()
				s.mu.Unlock()
				pending = append(pending, buf[:n]...)
				w, _ := s.vt.Write(pending)
				pending = append(pending[:0], pending[w:]...)
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		err := cmd.Wait()
		// The child has exited; what it wrote is still in the pty: wait for the copy to drain
		// it (the read fails once the buffer is empty and no process holds the other side).
		select {
		case <-copied:
		case <-time.After(2 * time.Second):
		}
		s.done <- err
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = ptmx.Close()
	})
	return s
}

// text returns the screen, one line per row, trailing blanks trimmed.
func (s *screen) text() string {
	lines := strings.Split(s.vt.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \x00")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// waitFor polls the screen until cond holds on a screen that has stopped changing (survey
// draws an error line and the question again in separate writes), and returns that screen.
func (s *screen) waitFor(what string, cond func(string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if cond(s.text()) {
			s.quiet()
			if txt := s.text(); cond(txt) {
				return txt
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen never showed %s; screen:\n%s", what, s.text())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *screen) waitText(sub string) string {
	s.t.Helper()
	return s.waitFor(fmt.Sprintf("%q", sub), func(txt string) bool { return strings.Contains(txt, sub) })
}

// quiet returns once daemongen has written nothing for 150ms.
func (s *screen) quiet() {
	for {
		s.mu.Lock()
		quiet := time.Since(s.lastOut)
		s.mu.Unlock()
		if quiet >= 150*time.Millisecond {
			return
		}
		time.Sleep(150*time.Millisecond - quiet)
	}
}

// send types keys once daemongen has been quiet for a moment. survey reads the terminal's
// answer to its cursor-position query from the same input as the keys, and drops keys typed
// before that answer: a person never types that fast, a test does.
func (s *screen) send(keys string) {
	s.t.Helper()
	s.quiet()
	if _, err := s.ptmx.WriteString(keys); err != nil {
		s.t.Fatal(err)
	}
}

func (s *screen) exitCode() int {
	s.t.Helper()
	select {
	case err := <-s.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			s.t.Fatal(err)
		}
		return 0
	case <-time.After(15 * time.Second):
		s.t.Fatalf("daemongen did not exit; screen:\n%s", s.text())
		return -1
	}
}

// once fails unless every line starting with prefix appears exactly once on the screen.
func once(t *testing.T, txt string, prefixes ...string) {
	t.Helper()
	for _, p := range prefixes {
		n := 0
		for _, l := range strings.Split(txt, "\n") {
			if strings.HasPrefix(l, p) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%q is on the screen %d times, want once:\n%s", p, n, txt)
		}
	}
}

// noFullLines fails if a line fills the whole width: survey miscounts lines the terminal
// wraps by itself, which is what leaves stale copies of a question behind.
func noFullLines(t *testing.T, txt string, cols int) {
	t.Helper()
	for _, l := range strings.Split(txt, "\n") {
		if len([]rune(l)) >= cols && !strings.Contains(l, "without prompts") {
			t.Fatalf("a prompt line fills the %d-column screen and wraps:\n%s", cols, txt)
		}
	}
}

const (
	keyDown  = "\x1b[B"
	keySpace = " "
	keyEnter = "\r"
)

func TestPromptsFitTheScreen(t *testing.T) {
	for _, size := range []struct{ cols, rows int }{{80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("%dx%d", size.cols, size.rows), func(t *testing.T) {
			dir := t.TempDir()
			s := startScreen(t, size.cols, size.rows, dir, "new", "-o", "out")

			// NAME is asked; a bad one is refused with a reason that disappears once a good
			// one is accepted.
			s.waitText("? Project name:")
			s.send("Bad_Name" + keyEnter)
			txt := s.waitText("invalid NAME")
			once(t, txt, "? Project name:")
			noFullLines(t, txt, size.cols)
			s.send("demo" + keyEnter)

			// "?" help of a text prompt, wrapped to the screen, gone after the answer.
			s.waitText("? Go module path:")
			s.send("?" + keyEnter)
			txt = s.waitText("import path")
			once(t, txt, "? Go module path:")
			noFullLines(t, txt, size.cols)
			s.send("github.com/acme/demo" + keyEnter)

			// The feature list: one line per feature, "?" explains the one under the cursor,
			// and unticking a feature another needs marks it "required by".
			txt = s.waitText("? Features:")
			once(t, txt, "? Features:")
			for _, l := range []string{"batch", "docker", "health", "k8s", "leader", "lock", "recovery", "signals", "systemd"} {
				if !strings.Contains(txt, " "+l+" - ") && !strings.Contains(txt, " "+l+" (required by ") {
					t.Fatalf("feature %s not listed on one line:\n%s", l, txt)
				}
			}
			s.send("?")
			txt = s.waitText("batch: batched reporter: bounded queue")
			once(t, txt, "? Features:")
			noFullLines(t, txt, size.cols)
			s.send(strings.Repeat(keyDown, 8) + keySpace) // untick signals
			txt = s.waitText("signals (required by batch)")
			s.send(strings.Repeat(keyDown, 3) + keySpace) // past the end, round to docker: tick it
			txt = s.waitText("signals (required by batch, docker)")
			once(t, txt, "? Features:")
			noFullLines(t, txt, size.cols)
			if !strings.Contains(txt, "health (required by docker, metrics)") {
				t.Fatalf("health not marked as required by docker:\n%s", txt)
			}
			s.send(keyEnter)
			s.waitText("also adding signals (required by batch, docker)")

			// A setting: a refused answer's reason disappears once a good one is accepted.
			s.waitText("? Shutdown budget:")
			s.send("soon" + keyEnter)
			s.waitText("not a duration")
			s.send("30s" + keyEnter)
			s.waitText("? Admin listener address:")
			s.send(keyEnter)
			s.waitText("? Delivery SLO target (%):")
			s.send(keyEnter)

			if code := s.exitCode(); code != 0 {
				t.Fatalf("exit %d; screen:\n%s", code, s.text())
			}
			final := s.waitText("to do the same without prompts")
			t.Logf("final screen:\n%s", final)
			once(t, final, "? Project name: demo", "? Go module path: github.com/acme/demo",
				"? Features: batch, docker, health, lock, metrics, recovery", "? Shutdown budget: 30s",
				"? Admin listener address: 127.0.0.1:8081")
			for _, stale := range []string{"invalid NAME", "not a duration", "import path", "batched reporter", "[arrows move"} {
				if strings.Contains(final, stale) {
					t.Fatalf("%q is still on the final screen:\n%s", stale, final)
				}
			}
			// The echoed command, unwrapped from the screen, names every answer.
			echo := strings.Join(strings.Split(final[strings.Index(final, "to do the same"):], "\n"), "")
			want := "daemongen new demo --module github.com/acme/demo --features batch,docker,health,lock,metrics,recovery,signals --admin-addr 127.0.0.1:8081 --shutdown-timeout 30s --slo-target 99.9 --output out"
			if !strings.Contains(echo, want) {
				t.Fatalf("echo %q lacks %q", echo, want)
			}
			if _, err := os.Stat(filepath.Join(dir, "out", "demo", "Dockerfile")); err != nil {
				t.Fatal(err)
			}
			if _, err := shellquote.Split(want); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestInterruptAtAPromptWritesNothing(t *testing.T) {
	for _, key := range []struct{ name, key, at string }{
		{"ctrl-c at a text prompt", "\x03", "? Go module path:"},
		{"ctrl-d at a text prompt", "\x04", "? Go module path:"},
		{"ctrl-d at the feature list", "\x04", "? Features:"},
	} {
		t.Run(key.name, func(t *testing.T) {
			dir := t.TempDir()
			s := startScreen(t, 80, 24, dir, "new", "demo")
			s.waitText("? Go module path:")
			if key.at != "? Go module path:" {
				s.send(keyEnter)
				s.waitText(key.at)
			}
			s.send(key.key)
			if code := s.exitCode(); code != 130 {
				t.Fatalf("exit %d, want 130; screen:\n%s", code, s.text())
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("interrupt left %d entries behind", len(entries))
			}
		})
	}
}

package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/daemongen/daemongen/generator"
)

// TestMain lets the test binary act as daemongen itself when re-executed by a test, so the
// pseudo-terminal tests drive the real main() without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("DAEMONGEN_TEST_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// console is daemongen running on a pseudo-terminal.
type console struct {
	t    *testing.T
	ptmx *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func startConsole(t *testing.T, dir string, args ...string) *console {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DAEMONGEN_TEST_MAIN=1", "TERM=xterm")
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 160})
	if err != nil {
		t.Fatal(err)
	}
	c := &console{t: t, ptmx: ptmx, cmd: cmd, done: make(chan error, 1)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			if n > 0 {
				c.mu.Lock()
				c.out.Write(buf[:n])
				c.mu.Unlock()
				// survey asks the terminal where the cursor is; answer as a terminal would.
				if bytes.Contains(buf[:n], []byte("\x1b[6n")) {
					ptmx.Write([]byte("\x1b[1;1R"))
				}
			}
			if err != nil {
				return
			}
		}
	}()
	go func() { c.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		ptmx.Close()
	})
	return c
}

func (c *console) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// expect waits until the output, from offset on, contains s; it returns the new offset.
func (c *console) expect(from int, s string) int {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := c.output()
		if i := strings.Index(out[min(from, len(out)):], s); i >= 0 {
			return from + i + len(s)
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no %q on the terminal within 10s; screen so far:\n%q", s, out[min(from, len(out)):])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *console) send(s string) {
	c.t.Helper()
	time.Sleep(50 * time.Millisecond) // let the prompt switch the terminal to raw mode first
	if _, err := io.WriteString(c.ptmx, s); err != nil {
		c.t.Fatal(err)
	}
}

func (c *console) exitCode() int {
	c.t.Helper()
	select {
	case err := <-c.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			c.t.Fatal(err)
		}
		return 0
	case <-time.After(15 * time.Second):
		c.t.Fatalf("daemongen did not exit; screen:\n%q", c.output())
		return -1
	}
}

func TestPromptsOnATerminal(t *testing.T) {
	dir := t.TempDir()
	c := startConsole(t, dir, "new", "demo")
	at := c.expect(0, "Go module path")
	c.send("Not A Path\r")
	at = c.expect(at, "invalid --module")
	c.send("github.com/acme/demo\r")
	at = c.expect(at, "Features")
	c.send("\r") // accept the default selection
	at = c.expect(at, "Shutdown budget")
	c.send("soon\r")
	at = c.expect(at, "not a duration")
	c.send("30s\r")
	at = c.expect(at, "Admin listener address")
	c.send("\r") // take the default
	at = c.expect(at, "Delivery SLO target")
	c.send("\r")
	c.expect(at, "to do the same without prompts: daemongen new demo --module github.com/acme/demo --features "+
		strings.Join(generator.DefaultFeatures(), ",")+" --admin-addr 127.0.0.1:8081 --shutdown-timeout 30s --slo-target 99.9")
	if code := c.exitCode(); code != 0 {
		t.Fatalf("exit %d; screen:\n%s", code, c.output())
	}
	data, err := os.ReadFile(filepath.Join(dir, "demo", "go.mod"))
	if err != nil || !strings.HasPrefix(string(data), "module github.com/acme/demo\n") {
		t.Fatalf("go.mod = %q, %v", data, err)
	}
}

func TestCtrlCAtAPromptWritesNothing(t *testing.T) {
	dir := t.TempDir()
	c := startConsole(t, dir, "new", "demo")
	c.expect(0, "Go module path")
	c.send("\x03")
	if code := c.exitCode(); code != 130 {
		t.Fatalf("exit %d after Ctrl-C, want 130; screen:\n%q", code, c.output())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("Ctrl-C left %d entries behind", len(entries))
	}
}

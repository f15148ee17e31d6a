// Package e2e builds generated daemons and drives them from outside the process: signals,
// reloads, timing and exit codes, read from the JSON logs a supervisor would see.
package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/internal/projecttest"
)

var (
	buildOnce sync.Once
	binaries  map[string]string // build tag ("" or "chaos") → binary
	buildErr  error
	workDir   string
)

func TestMain(m *testing.M) {
	var err error
	workDir, err = os.MkdirTemp("", "daemongen-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(workDir)
	os.Exit(code)
}

// daemonBinary renders the project with every feature once and builds it twice: as users do,
// and with -tags chaos, which compiles in the fault-injection hooks (see internal/worker).
func daemonBinary(t *testing.T, tags string) string {
	t.Helper()
	projecttest.RequireGo(t)
	buildOnce.Do(func() {
		dir := projecttest.Write(t, workDir, projecttest.Answers(t, "demo", generator.AllFeatures()...))
		binaries = map[string]string{}
		for _, tag := range []string{"", "chaos"} {
			bin := filepath.Join(workDir, "demo-bin"+tag)
			out, err := projecttest.GoCmd(dir, "build", "-tags="+tag, "-o", bin, "./cmd/demo").CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("go build -tags=%q: %v\n%s", tag, err, out)
				return
			}
			binaries[tag] = bin
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binaries[tags]
}

// record is one JSON log line of the daemon.
type record map[string]any

func (r record) msg() string { s, _ := r["msg"].(string); return s }

// daemon is a running instance with its log lines collected as they arrive.
type daemon struct {
	t     *testing.T
	cmd   *exec.Cmd
	mu    sync.Mutex
	logs  []record
	bad   []string // lines that were not JSON
	added chan struct{}
	done  chan struct{}
	err   error // from Wait, valid after done is closed
}

// start runs the daemon in a fresh directory (which is also its XDG_RUNTIME_DIR, so the lock
// file is private), with the admin listener on a free port.
func start(t *testing.T, args ...string) *daemon {
	t.Helper()
	return startWith(t, "", nil, args...)
}

// startChaos runs the chaos build with DEMO_CHAOS set to faults.
func startChaos(t *testing.T, faults string, args ...string) *daemon {
	t.Helper()
	return startWith(t, "chaos", []string{"DEMO_CHAOS=" + faults}, args...)
}

func startWith(t *testing.T, tags string, env []string, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(daemonBinary(t, tags), append([]string{"--admin-addr=127.0.0.1:0"}, args...)...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(append(os.Environ(), "XDG_RUNTIME_DIR="+cmd.Dir), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, cmd: cmd, added: make(chan struct{}, 1), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var r record
			d.mu.Lock()
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				d.bad = append(d.bad, sc.Text())
			} else {
				d.logs = append(d.logs, r)
			}
			d.mu.Unlock()
			select {
			case d.added <- struct{}{}:
			default:
			}
		}
		d.err = cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-d.done
	})
	return d
}

// find returns the first record with msg, or nil.
func (d *daemon) find(msg string) record {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range d.logs {
		if r.msg() == msg {
			return r
		}
	}
	return nil
}

func (d *daemon) count(msg string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, r := range d.logs {
		if r.msg() == msg {
			n++
		}
	}
	return n
}

func (d *daemon) dump() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	b, _ := json.MarshalIndent(d.logs, "", " ")
	return string(b)
}

// waitLog waits until a record with msg has been logged.
func (d *daemon) waitLog(msg string, timeout time.Duration) record {
	d.t.Helper()
	deadline := time.After(timeout)
	for {
		if r := d.find(msg); r != nil {
			return r
		}
		select {
		case <-d.added:
		case <-d.done:
			if r := d.find(msg); r != nil {
				return r
			}
			d.t.Fatalf("daemon exited (%v) without logging %q:\n%s", d.err, msg, d.dump())
		case <-deadline:
			d.t.Fatalf("no %q log within %s:\n%s", msg, timeout, d.dump())
		}
	}
}

func (d *daemon) signal(sig syscall.Signal) {
	d.t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		d.t.Fatalf("sending %s: %v", sig, err)
	}
}

// expectExit sends sig and requires the process to exit with want within the given time; the
// exit code is fatal, the timing an error, so one run reports both.
func (d *daemon) expectExit(sig syscall.Signal, want int, within time.Duration) {
	d.t.Helper()
	sent := time.Now()
	d.signal(sig)
	if code := d.wait(within + 5*time.Second); code != want {
		d.t.Fatalf("exit %d after %s, want %d:\n%s", code, sig, want, d.dump())
	}
	if took := time.Since(sent); took > within {
		d.t.Errorf("%s to exit took %s, want ≤ %s", sig, took, within)
	}
}

// wait waits for the process to exit and returns its exit code, or -1 if a signal killed it.
func (d *daemon) wait(timeout time.Duration) int {
	d.t.Helper()
	select {
	case <-d.done:
	case <-time.After(timeout):
		d.t.Fatalf("daemon still running after %s:\n%s", timeout, d.dump())
	}
	var ee *exec.ExitError
	switch {
	case d.err == nil:
		return 0
	case errors.As(d.err, &ee):
		return ee.ExitCode()
	}
	d.t.Fatal(d.err)
	return 0
}

// eventually polls cond until it holds, failing the test with what after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// adminURL waits for the "listening" log and returns the admin listener's base URL.
func (d *daemon) adminURL() string {
	d.t.Helper()
	r := d.waitLog("listening", 10*time.Second)
	return "http://" + r["addr"].(string)
}

// probe GETs url and returns the status code and body; a connection error gives code 0.
func probe(url string, header ...string) (int, string) {
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var probeClient = &http.Client{Timeout: 2 * time.Second}

func (d *daemon) checkLogsAreJSON() {
	d.t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.bad) > 0 {
		d.t.Errorf("stderr lines that are not JSON: %q", d.bad)
	}
	for _, r := range d.logs {
		for _, key := range []string{"time", "level", "msg", "service", "version", "instance", "pid"} {
			if _, ok := r[key]; !ok {
				d.t.Errorf("log record lacks %q: %v", key, r)
			}
		}
	}
}

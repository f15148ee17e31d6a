package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/internal/projecttest"
)

// notifySocket is a fake systemd: a unixgram socket that records what the daemon sends.
type notifySocket struct {
	path string
	msgs chan notification
}

type notification struct {
	at   time.Time
	text string
}

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	// Unix socket paths are limited to ~108 bytes; t.TempDir() can be longer.
	dir, err := os.MkdirTemp("", "sd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s := &notifySocket{path: path, msgs: make(chan notification, 1000)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			s.msgs <- notification{time.Now(), string(buf[:n])}
		}
	}()
	return s
}

// expect waits for a message starting with prefix, skipping watchdog pings.
func (s *notifySocket) expect(t *testing.T, prefix string) notification {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m := <-s.msgs:
			if strings.HasPrefix(m.text, prefix) {
				return m
			}
			if m.text != "WATCHDOG=1" {
				t.Fatalf("got %q while waiting for %s", m.text, prefix)
			}
		case <-timeout:
			t.Fatalf("no %s notification within 5s", prefix)
		}
	}
}

// The lifecycle as systemd sees it: READY after the ready log, RELOADING/READY around SIGHUP,
// STOPPING on SIGTERM.
func TestSystemdNotifications(t *testing.T) {
	sock := newNotifySocket(t)
	d := startWith(t, "", []string{"NOTIFY_SOCKET=" + sock.path})
	ready := sock.expect(t, "READY=1")
	logged, _ := time.Parse(time.RFC3339Nano, d.waitLog("ready", 5*time.Second)["time"].(string))
	if ready.at.Before(logged) {
		t.Fatalf("READY=1 arrived at %s, before the ready log at %s", ready.at, logged)
	}
	d.signal(syscall.SIGHUP)
	m := sock.expect(t, "RELOADING=1")
	if !regexp.MustCompile(`^RELOADING=1\nMONOTONIC_USEC=\d+$`).MatchString(m.text) {
		t.Errorf("reload notification %q lacks MONOTONIC_USEC", m.text)
	}
	sock.expect(t, "READY=1")
	d.signal(syscall.SIGTERM)
	sock.expect(t, "STOPPING=1")
	if code := d.wait(5 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// The watchdog is pinged at half the interval, and stops when a loop is wedged.
func TestSystemdWatchdog(t *testing.T) {
	sock := newNotifySocket(t)
	d := startWith(t, "chaos", []string{"NOTIFY_SOCKET=" + sock.path, "WATCHDOG_USEC=200000", "DEMO_CHAOS=block"},
		"--worker-interval=50ms", "--heartbeat-timeout=500ms")
	sock.expect(t, "READY=1")
	var pings []time.Time
	deadline := time.After(3 * time.Second)
collect:
	for {
		select {
		case m := <-sock.msgs:
			if m.text == "WATCHDOG=1" {
				pings = append(pings, m.at)
			}
		case <-deadline:
			break collect
		}
	}
	if len(pings) < 3 {
		t.Fatalf("%d watchdog pings, want several before the loop wedged", len(pings))
	}
	// The median gap, not every gap: a busy CI machine may delay one tick.
	var gaps []time.Duration
	for i := 1; i < len(pings); i++ {
		gaps = append(gaps, pings[i].Sub(pings[i-1]))
	}
	slices.Sort(gaps)
	if gap := gaps[len(gaps)/2]; gap < 50*time.Millisecond || gap > 200*time.Millisecond {
		t.Errorf("median ping gap %s, want about 100ms (half of WatchdogSec): %v", gap, gaps)
	}
	if last := time.Since(pings[len(pings)-1]); last < time.Second {
		t.Errorf("still pinging %s ago although the worker has been wedged since start", last)
	}
	if d.find("watchdog ping withheld") == nil {
		t.Error("no log explains why the pings stopped")
	}
}

// The unit passes systemd-analyze verify (with ExecStart pointed at the freshly built binary,
// the one line changed, since verify checks that the command exists) and its exposure score
// is at most 2.0.
func TestSystemdUnitVerifies(t *testing.T) {
	projecttest.RequireGo(t)
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze is required in CI (.ci/run installs the systemd package)")
		}
		t.Skip("systemd-analyze not installed")
	}
	bin := daemonBinary(t, "")
	unit, err := os.ReadFile(filepath.Join(workDir, "demo", "deploy", "systemd", "demo.service"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "demo.service")
	os.WriteFile(path, []byte(strings.Replace(string(unit), "ExecStart=/usr/local/bin/demo", "ExecStart="+bin, 1)), 0o644)
	if out, err := exec.Command(sa, "verify", path).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, _ := exec.Command(sa, "security", "--offline=true", path).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for demo.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure score in:\n%s", out)
	}
	score, _ := strconv.ParseFloat(string(m[1]), 64)
	t.Logf("systemd-analyze security exposure: %.1f", score)
	if score > 2.0 {
		t.Errorf("exposure %.1f, want ≤ 2.0:\n%s", score, out)
	}
}

// TestSystemdBudget: TimeoutStopSec leaves the whole shutdown budget plus 5s, for any budget.
func TestSystemdBudget(t *testing.T) {
	for _, budget := range []string{"1s", "25s", "90s", "1m30s"} {
		a, err := generator.Answers{Name: "demo", Module: "example.com/demo", Go: "1.26", Features: []string{"systemd"},
			Settings: map[string]string{"shutdown-timeout": budget}}.Validate()
		if err != nil {
			t.Fatal(err)
		}
		dir := projecttest.Write(t, t.TempDir(), a)
		unit, _ := os.ReadFile(filepath.Join(dir, "deploy", "systemd", "demo.service"))
		m := regexp.MustCompile(`(?m)^TimeoutStopSec=(\d+)s$`).FindSubmatch(unit)
		if m == nil {
			t.Fatalf("no TimeoutStopSec in unit:\n%s", unit)
		}
		stop, _ := strconv.Atoi(string(m[1]))
		d, _ := time.ParseDuration(budget)
		if time.Duration(stop)*time.Second < d+5*time.Second {
			t.Errorf("budget %s: TimeoutStopSec=%ds < budget + 5s", budget, stop)
		}
	}
}

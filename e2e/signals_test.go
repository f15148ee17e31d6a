package e2e

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// T-SIG-1: SIGTERM after ready stops cleanly and quickly, with the lifecycle in order.
func TestSIGTERMStopsCleanly(t *testing.T) {
	d := start(t, "--worker-interval=5ms")
	d.waitLog("ready", 10*time.Second)
	d.expectExit(syscall.SIGTERM, 0, 2*time.Second) // an idle daemon stops at once
	complete := d.find("shutdown complete")
	if complete == nil || complete["exit_code"] != 0.0 {
		t.Fatalf("shutdown complete = %v, want exit_code 0", complete)
	}
	if r := d.find("signal received"); r == nil || r["signal"] != "SIGTERM" {
		t.Errorf("signal received = %v", r)
	}
	order := []string{"starting", "config loaded", "ready", "signal received", "shutdown started", "workers stopped", "shutdown complete"}
	d.mu.Lock()
	i := 0
	for _, r := range d.logs {
		if i < len(order) && r.msg() == order[i] {
			i++
		}
	}
	d.mu.Unlock()
	if i != len(order) {
		t.Errorf("lifecycle messages out of order; want %q:\n%s", order, d.dump())
	}
	d.checkLogsAreJSON()
}

// T-SIG-4 and T-SIG-5: a second signal during a slow shutdown forces exit 128+n within 1s.
func TestSecondSignalForcesExit(t *testing.T) {
	for _, tt := range []struct {
		sig  syscall.Signal
		code int
	}{
		{syscall.SIGTERM, 143},
		{syscall.SIGINT, 130},
	} {
		t.Run(tt.sig.String(), func(t *testing.T) {
			// The lame-duck delay keeps the shutdown busy long enough for a second signal.
			d := start(t, "--shutdown-delay=10s")
			d.waitLog("ready", 10*time.Second)
			d.signal(tt.sig)
			d.waitLog("shutdown started", 5*time.Second)
			time.Sleep(200 * time.Millisecond)
			d.expectExit(tt.sig, tt.code, time.Second)
			if d.find("second signal, forcing exit") == nil {
				t.Errorf("no forced-exit log:\n%s", d.dump())
			}
			if d.find("shutdown complete") != nil {
				t.Error("a forced exit must skip the orderly shutdown")
			}
		})
	}
}

// T-SIG-7 and T-SIG-8: SIGHUP reloads a valid config (new log level takes effect, same PID)
// and survives an invalid one.
func TestSIGHUPReloadsWithoutExiting(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(cfg, []byte(`{"log_level":"info"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	d := start(t, "--config="+cfg, "--worker-interval=5ms")
	d.waitLog("ready", 10*time.Second)
	if d.find("work done") != nil {
		t.Fatal("debug lines before the reload asked for them")
	}
	if err := os.WriteFile(cfg, []byte(`{"log_level":"debug"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	d.signal(syscall.SIGHUP)
	r := d.waitLog("config reloaded", 5*time.Second)
	if changed, _ := r["changed"].([]any); len(changed) != 1 || changed[0] != "log_level" {
		t.Errorf("changed = %v, want [log_level]", r["changed"])
	}
	d.waitLog("work done", 5*time.Second) // debug level is live without a restart

	if err := os.WriteFile(cfg, []byte(`{"log_level":`), 0o600); err != nil {
		t.Fatal(err)
	}
	d.signal(syscall.SIGHUP)
	d.waitLog("config reload failed", 5*time.Second)
	time.Sleep(100 * time.Millisecond)
	select {
	case <-d.done:
		t.Fatalf("daemon exited after a bad reload:\n%s", d.dump())
	default:
	}
	d.signal(syscall.SIGTERM)
	if code := d.wait(5 * time.Second); code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	d.checkLogsAreJSON()
}

// T-SIG-9: a storm of HUPs is coalesced and never kills the daemon.
func TestHUPStorm(t *testing.T) {
	d := start(t)
	d.waitLog("ready", 10*time.Second)
	for range 100 {
		d.signal(syscall.SIGHUP)
	}
	d.waitLog("config reloaded", 5*time.Second)
	time.Sleep(200 * time.Millisecond)
	d.signal(syscall.SIGTERM)
	if code := d.wait(5 * time.Second); code != 0 {
		t.Fatalf("exit %d after a HUP storm, want 0:\n%s", code, d.dump())
	}
	if n := d.count("config reloaded"); n < 1 || n > 100 {
		t.Errorf("%d reloads for 100 HUPs", n)
	}
}

// T-SIG-10: a HUP during shutdown is ignored and the exit stays clean.
func TestHUPDuringShutdownIsIgnored(t *testing.T) {
	d := start(t, "--shutdown-delay=300ms")
	d.waitLog("ready", 10*time.Second)
	d.signal(syscall.SIGTERM)
	d.waitLog("shutdown started", 5*time.Second)
	d.signal(syscall.SIGHUP)
	if code := d.wait(5 * time.Second); code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, d.dump())
	}
	if d.find("config reloaded") != nil {
		t.Error("a HUP during shutdown triggered a reload")
	}
}

// T-SIG-11: SIGTERM within the first milliseconds never produces an unexpected exit code:
// either the runtime's default action killed the process before the handler was installed,
// or the daemon stopped cleanly.
func TestSIGTERMDuringStartup(t *testing.T) {
	for i := range 20 {
		d := start(t)
		time.Sleep(time.Duration(i%5) * time.Millisecond)
		d.signal(syscall.SIGTERM)
		code := d.wait(10 * time.Second)
		if code != 0 && code != -1 { // -1: killed by the signal itself, before main ran
			t.Fatalf("run %d: exit %d, want 0 or death by SIGTERM:\n%s", i, code, d.dump())
		}
		if code == 0 && d.find("shutdown complete") == nil {
			t.Fatalf("run %d: exit 0 without shutdown complete:\n%s", i, d.dump())
		}
	}
}

// Bad input gets the documented exit codes before anything starts.
func TestUsageAndConfigExitCodes(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"--no-such-flag"}, 64},
		{[]string{"--log-format=xml"}, 78},
		{[]string{"--config=/nonexistent/config.json"}, 78},
	} {
		d := start(t, tt.args...)
		if code := d.wait(10 * time.Second); code != tt.code {
			t.Errorf("%v: exit %d, want %d", tt.args, code, tt.code)
		}
	}
}

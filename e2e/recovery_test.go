package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// T-SUP-1: a single panic is recovered with its stack, the worker resumes, the PID is the same
// process (it never exited), and the stop is clean.
func TestSinglePanicIsRecovered(t *testing.T) {
	d := startChaos(t, "panic-once", "--worker-interval=10ms", "--log-level=debug")
	d.waitLog("ready", 10*time.Second)
	r := d.waitLog("component panicked", 5*time.Second)
	if stack, _ := r["stack"].(string); !strings.Contains(stack, "worker") || r["component"] != "worker" {
		t.Errorf("panic log lacks the worker's stack: %v", r)
	}
	before := d.count("work done")
	eventually(t, 5*time.Second, "the worker to resume after the panic", func() bool { return d.count("work done") >= before+5 })
	d.signal(syscall.SIGTERM)
	if code := d.wait(5 * time.Second); code != 0 {
		t.Fatalf("exit %d, want 0 (one recovered panic is not a failure)", code)
	}
}

// T-SUP-2 and T-SUP-3: a panic loop backs off (visible in the timestamps) and, after three
// backoffs, the daemon shuts down gracefully with exit 70.
func TestPanicLoopBacksOffThenExits70(t *testing.T) {
	d := startChaos(t, "panic", "--worker-interval=5ms", "--restart-backoff=400ms")
	d.waitLog("ready", 10*time.Second)
	code := d.wait(20 * time.Second)
	if code != 70 {
		t.Fatalf("exit %d, want 70:\n%s", code, d.dump())
	}
	if n := d.count("supervisor backoff"); n != 2 {
		t.Errorf("%d backoffs before giving up, want 2 (the third escalates)", n)
	}
	backoff, resume := d.find("supervisor backoff"), d.find("supervisor resume")
	if backoff == nil || resume == nil {
		t.Fatalf("no backoff/resume pair:\n%s", d.dump())
	}
	t0, _ := time.Parse(time.RFC3339Nano, backoff["time"].(string))
	t1, _ := time.Parse(time.RFC3339Nano, resume["time"].(string))
	if gap := t1.Sub(t0); gap < 200*time.Millisecond || gap > 2*time.Second {
		t.Errorf("backoff lasted %s, want 200-400ms (jittered 400ms)", gap)
	}
	if d.find("supervisor giving up") == nil || d.find("shutdown complete") == nil {
		t.Errorf("no graceful escalation:\n%s", d.dump())
	}
}

// T-SUP-5: a component that ignores its context does not hang the shutdown: the daemon exits
// 74 after the budget and names it.
func TestStuckComponentExits74(t *testing.T) {
	d := startChaos(t, "block", "--worker-interval=10ms", "--shutdown-timeout=1s")
	d.waitLog("ready", 10*time.Second)
	time.Sleep(100 * time.Millisecond)               // let the worker wedge
	d.expectExit(syscall.SIGTERM, 74, 3*time.Second) // 1s budget
	r := d.find("components did not stop in time")
	if r == nil || !strings.Contains(r["components"].(string), "worker") {
		t.Errorf("the stuck component is not named: %v", r)
	}
}

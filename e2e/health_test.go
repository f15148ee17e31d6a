package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// T-HC-1: from the moment the listener is up, /readyz is never 200 before "ready" is logged,
// and it is 200 afterwards.
func TestBootSequence(t *testing.T) {
	d := start(t)
	base := d.adminURL()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		code, _ := probe(base + "/readyz")
		if code == 200 {
			// The log line may still be in the pipe; its timestamp says when it was written.
			answered := time.Now()
			logged, _ := time.Parse(time.RFC3339Nano, d.waitLog("ready", 5*time.Second)["time"].(string))
			if logged.After(answered) {
				t.Fatalf("/readyz returned 200 at %s, before the ready log at %s", answered, logged)
			}
			break
		}
		if d.find("ready") != nil {
			break
		}
	}
	d.waitLog("ready", time.Second)
	waitStatus(t, base+"/readyz", 200)
	for _, p := range []string{"/readyz", "/livez", "/startupz", "/healthz"} {
		if code, body := probe(base + p); code != 200 || body != "ok\n" {
			t.Errorf("%s after ready = %d %q", p, code, body)
		}
	}
}

// T-HC-5: on SIGTERM /readyz turns 503 within 100ms while /livez stays 200 through the drain.
// The 100ms is checked against the daemon's own "shutdown started" timestamp, so a test
// process starved of CPU on a busy CI machine cannot turn a correct daemon red.
func TestDrain(t *testing.T) {
	d := start(t, "--shutdown-delay=1s")
	base := d.adminURL()
	d.waitLog("ready", 10*time.Second)
	waitStatus(t, base+"/readyz", 200)
	d.signal(syscall.SIGTERM)
	type answer struct {
		sent time.Time
		code int
		body string
	}
	var answers []answer
	eventually(t, 2*time.Second, "/readyz to fail after SIGTERM", func() bool {
		sent := time.Now()
		code, body := probe(base + "/readyz")
		answers = append(answers, answer{sent, code, body})
		return code == 503
	})
	started, _ := time.Parse(time.RFC3339Nano, d.waitLog("shutdown started", 5*time.Second)["time"].(string))
	for _, a := range answers {
		if a.code == 200 && a.sent.After(started.Add(100*time.Millisecond)) {
			t.Errorf("/readyz answered 200 to a request sent %s after shutdown started", a.sent.Sub(started))
		}
	}
	if last := answers[len(answers)-1]; !strings.Contains(last.body, "[-]shutdown failed") {
		t.Errorf("draining body %q lacks [-]shutdown failed", last.body)
	}
	for time.Since(started) < 800*time.Millisecond {
		if code, body := probe(base + "/livez"); code != 200 {
			t.Fatalf("/livez = %d %q while draining, want 200", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := d.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d after drain, want 0", code)
	}
}

// T-HC-7, T-HC-8, T-HC-9 over real TCP.
func TestProbeFormats(t *testing.T) {
	d := start(t)
	base := d.adminURL()
	d.waitLog("ready", 10*time.Second)
	waitStatus(t, base+"/readyz", 200)

	_, body := probe(base + "/readyz?verbose&exclude=shutdown&exclude=nope")
	for _, want := range []string{"[+]ping ok\n", "[+]shutdown excluded: ok\n", `no matches for "nope"`, "readyz check passed\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("verbose/exclude body lacks %q:\n%s", want, body)
		}
	}
	req, _ := http.NewRequest("GET", base+"/readyz", nil)
	req.Header.Set("Accept", "application/health+json")
	resp, err := probeClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Status    string
		ServiceID string
		Checks    map[string][]map[string]any
	}
	json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "application/health+json" || doc.Status != "pass" || doc.ServiceID != "demo" || len(doc.Checks["worker"]) != 1 {
		t.Errorf("health+json: %s %+v", resp.Header.Get("Content-Type"), doc)
	}
	resp, err = probeClient.Post(base+"/livez", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("POST /livez = %d, want 405", resp.StatusCode)
	}
}

// T-HC-6: a wedged worker loop makes /livez fail, naming the loop.
func TestBlockedLoopFailsLiveness(t *testing.T) {
	d := startChaos(t, "block", "--worker-interval=10ms", "--heartbeat-timeout=300ms")
	base := d.adminURL()
	d.waitLog("ready", 10*time.Second)
	waitStatus(t, base+"/livez", 503)
	if _, body := probe(base + "/livez"); !strings.Contains(body, "[-]worker failed") {
		t.Errorf("/livez body %q does not name the worker", body)
	}
}

// A taken admin port is a start-up failure with exit 71, not a crash later.
func TestAdminPortInUseExits71(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	d := start(t, "--admin-addr="+ln.Addr().String())
	if code := d.wait(10 * time.Second); code != 71 {
		t.Fatalf("exit %d with the admin port taken, want 71:\n%s", code, d.dump())
	}
}

// waitStatus polls url until it answers want. Readiness flips just after the "ready" log line.
func waitStatus(t *testing.T, url string, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := probe(url)
		if code == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %d %q, want %d", url, code, body, want)
		}
		time.Sleep(time.Millisecond)
	}
}

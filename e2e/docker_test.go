package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// healthcheck runs `demo healthcheck` against addr and returns its exit code and how long it took.
func healthcheck(t *testing.T, args ...string) (int, time.Duration) {
	t.Helper()
	cmd := exec.Command(daemonBinary(t, ""), append([]string{"healthcheck"}, args...)...)
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err == nil {
		return 0, took
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), took
	}
	t.Fatal(err)
	return 0, took
}

// The healthcheck subcommand: 0 against a ready daemon, non-zero while it drains (503), once
// it is gone (refused), and against a peer that never answers, within its timeout.
func TestHealthcheckSubcommand(t *testing.T) {
	d := start(t, "--shutdown-delay=2s")
	addr := strings.TrimPrefix(d.adminURL(), "http://")
	d.waitLog("ready", 10*time.Second)
	waitStatus(t, "http://"+addr+"/readyz", 200)
	if code, _ := healthcheck(t, "--admin-addr="+addr); code != 0 {
		t.Fatalf("healthcheck against a ready daemon: exit %d", code)
	}
	d.signal(syscall.SIGTERM)
	waitStatus(t, "http://"+addr+"/readyz", 503)
	if code, _ := healthcheck(t, "--admin-addr="+addr); code == 0 {
		t.Fatal("healthcheck passed while the daemon drains")
	}
	d.wait(10 * time.Second)
	if code, took := healthcheck(t, "--admin-addr="+addr); code == 0 || took > time.Second {
		t.Fatalf("healthcheck against a stopped daemon: exit %d after %s", code, took)
	}

	blackhole, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer blackhole.Close()
	code, took := healthcheck(t, "--admin-addr="+blackhole.Addr().String(), "--timeout=300ms")
	if code == 0 || took < 300*time.Millisecond || took > 2*time.Second {
		t.Fatalf("healthcheck against a silent peer: exit %d after %s, want failure after about 300ms", code, took)
	}
}

// No Docker engine runs here, so the Dockerfile's invariants are checked as text, against the
// binary's real subcommand and port.
func TestDockerfileInvariants(t *testing.T) {
	daemonBinary(t, "")
	root := filepath.Join(workDir, "demo")
	df, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(df)
	lastFrom := strings.LastIndex(text, "\nFROM ")
	final := text[lastFrom:]
	for _, re := range []string{
		`(?m)^FROM --platform=\S+ golang:\S+ AS build$`,       // multi-stage
		`CGO_ENABLED=0 go build -trimpath`,                    // static, trimmed
		`(?m)^ENTRYPOINT \["/demo"\]$`,                        // exec form: the binary is PID 1
		`(?m)^STOPSIGNAL SIGTERM$`,                            // explicit stop signal
		`(?m)^HEALTHCHECK .* CMD \["/demo", "healthcheck"\]$`, // exec form, real subcommand
		`(?m)^EXPOSE 8081$`,
		`(?m)^ENV DEMO_ADMIN_ADDR=:8081$`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("Dockerfile lacks %s", re)
		}
	}
	if !regexp.MustCompile(`(?m)^USER (65532|nonroot)`).MatchString(final) || !strings.Contains(final, "distroless") {
		t.Error("the final stage must be distroless and run as a non-root user")
	}
	if strings.Contains(final, "ENTRYPOINT /") || strings.Contains(final, "CMD /") {
		t.Error("shell-form ENTRYPOINT/CMD: signals would go to a shell, not the daemon")
	}
	compose, err := os.ReadFile(filepath.Join(root, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`stop_grace_period: (\d+)s`).Match(compose) {
		t.Error("compose.yaml has no stop_grace_period")
	}
	if m := regexp.MustCompile(`stop_grace_period: (\d+)s`).FindSubmatch(compose); m != nil && string(m[1]) != "30" {
		t.Errorf("stop_grace_period %ss, want the 25s budget + 5s", m[1])
	}
}

package e2e

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/internal/projecttest"
)

// TestLeaderEtcdFailover renders a project with the etcd leader backend (the covering set
// uses the default, kubernetes) and runs its failover scenarios against a real etcd: exactly
// one leader, SIGTERM and kill -9 handovers, a partition. Under CI=true they run 10 times
// (the acceptance) and a missing etcd fails; elsewhere once, skipped without etcd.
// With metrics, so the scenarios also check the leader gauge and transitions on /metrics.
func TestLeaderEtcdFailover(t *testing.T) {
	projecttest.RequireGo(t)
	if _, err := exec.LookPath("etcd"); err != nil && os.Getenv("CI") != "true" {
		t.Skip("etcd not found in PATH: apt-get install etcd-server to run the etcd failover scenarios")
	}
	runs := 1
	if os.Getenv("CI") == "true" {
		runs = 10
	}
	a, err := generator.Answers{Name: "elect", Module: "example.com/elect", Go: "1.26", Features: []string{"leader", "metrics"},
		Settings: map[string]string{"leader-backend": "etcd"}}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	dir := projecttest.Write(t, t.TempDir(), a)
	start := time.Now()
	out, err := projecttest.GoCmd(dir, "test", "-tags=e2e", "-count="+strconv.Itoa(runs), "-timeout=30m", "-v", "-run=TestLeader", "./e2e").CombinedOutput()
	if err != nil {
		t.Fatalf("go test -tags=e2e -run TestLeader ./e2e: %v\n%s", err, failures(string(out)))
	}
	t.Logf("%d runs of the etcd failover scenarios passed in %s", runs, time.Since(start).Round(time.Second))
}

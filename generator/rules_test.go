package generator_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/daemongen/daemongen/internal/projecttest"
)

// TestPrometheusRulesPassPromtool runs Prometheus's own checker and rule unit tests on the
// generated rules of every covering set with metrics, and with a non-default SLO target (the
// test data scales with the target, so the proof must hold for any of them). leader with
// metrics is run on its own too, with each backend (the runbook section differs), and the
// leader alerts must be among the rules checked: they are the newest, easiest to lose.
func TestPrometheusRulesPassPromtool(t *testing.T) {
	if testing.Short() {
		t.Skip("renders and runs promtool on many projects; skipped with -short")
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is required on CI (.ci/run installs it: apt-get install prometheus)")
		}
		t.Skip("promtool not on PATH; skipping the rule tests (apt-get install prometheus)")
	}
	root := t.TempDir()
	type run struct {
		set             []string
		target, backend string
	}
	var runs []run
	for _, set := range projecttest.Covering() {
		if !slices.Contains(set, "metrics") {
			continue
		}
		for _, target := range []string{"99.9", "95", "99.99"} {
			runs = append(runs, run{set, target, ""})
		}
	}
	for _, backend := range []string{"kubernetes", "etcd"} {
		runs = append(runs, run{[]string{"leader", "metrics"}, "99.9", backend})
	}
	for n, r := range runs {
		a := projecttest.Answers(t, fmt.Sprintf("svc-%d", n), r.set...)
		a.Settings["slo-target"] = r.target
		if r.backend != "" {
			a.Settings["leader-backend"] = r.backend
		}
		dir := filepath.Join(projecttest.Write(t, root, a), "deploy", "prometheus")
		rules, err := os.ReadFile(filepath.Join(dir, "rules.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, alert := range []string{"NoLeader", "LeaderFlapping"} {
			if got, want := strings.Contains(string(rules), alert+"\n"), slices.Contains(a.Features, "leader"); got != want {
				t.Errorf("%v: rules.yaml has %s: %v, want %v", a.Features, alert, got, want)
			}
		}
		for _, args := range [][]string{{"check", "rules", "rules.yaml"}, {"test", "rules", "rules_test.yaml"}} {
			cmd := exec.Command(promtool, args...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%v target %s: promtool %v: %v\n%s", a.Features, r.target, args, err, out)
			}
		}
	}
}

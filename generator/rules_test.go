package generator_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/daemongen/daemongen/internal/projecttest"
)

// TestPrometheusRulesPassPromtool runs Prometheus's own checker and rule unit tests on the
// generated rules of every covering set with metrics, and with a non-default SLO target (the
// test data scales with the target, so the proof must hold for any of them).
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
	n := 0
	for _, set := range projecttest.Covering() {
		if !slices.Contains(set, "metrics") {
			continue
		}
		for _, target := range []string{"99.9", "95", "99.99"} {
			n++
			a := projecttest.Answers(t, fmt.Sprintf("svc-%d", n), set...)
			a.Settings["slo-target"] = target
			dir := filepath.Join(projecttest.Write(t, root, a), "deploy", "prometheus")
			for _, args := range [][]string{{"check", "rules", "rules.yaml"}, {"test", "rules", "rules_test.yaml"}} {
				cmd := exec.Command(promtool, args...)
				cmd.Dir = dir
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("%v target %s: promtool %v: %v\n%s", set, target, args, err, out)
				}
			}
		}
	}
}

// Package e2e runs the out-of-process tests that ship with every generated project (its e2e/
// directory, behind the e2e build tag) for the covering set of feature combinations, and keeps
// the few checks that only daemongen can make, such as how a setting changes the rendered files.
package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/internal/projecttest"
)

// TestGeneratedE2E renders each project of the covering set and runs its own e2e tests, the
// chaos drill included, exactly as `make e2e` does in the project. The projects run one after
// another, because the tests measure timing and a second project would steal their CPU; they
// share the default build cache. Each project's drill table is logged.
func TestGeneratedE2E(t *testing.T) {
	projecttest.RequireGo(t)
	root := t.TempDir()
	began := time.Now()
	for i, set := range projecttest.Covering() {
		t.Run(projecttest.Label(set), func(t *testing.T) {
			dir := projecttest.Write(t, root, projecttest.Answers(t, fmt.Sprintf("p%02d", i), set...))
			start := time.Now()
			out, err := projecttest.GoCmd(dir, "test", "-tags=e2e", "-count=1", "-timeout=20m", "-v", "./e2e").CombinedOutput()
			took := time.Since(start).Round(time.Millisecond)
			if err != nil {
				t.Fatalf("go test -tags=e2e ./e2e (%s): %v\n%s", took, err, failures(string(out)))
			}
			t.Logf("e2e passed in %s%s", took, drillTable(string(out)))
		})
	}
	t.Logf("covering set: %s", time.Since(began).Round(time.Second))
}

// failures keeps the lines of a verbose go test run that matter when it failed: everything but
// the RUN/PASS/PAUSE/CONT bookkeeping of passing tests.
func failures(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		trimmed := strings.TrimSpace(l)
		if strings.HasPrefix(trimmed, "=== ") || strings.HasPrefix(trimmed, "--- PASS") || strings.HasPrefix(trimmed, "--- SKIP") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// drillTable extracts the table TestDrill prints, or "" if the project has no drill.
func drillTable(out string) string {
	i := strings.Index(out, "\nchaos drill\n")
	if i < 0 {
		return ""
	}
	table := out[i:]
	if j := strings.Index(table, "\n--- "); j >= 0 {
		table = table[:j]
	}
	return table
}

// TestSystemdBudget: TimeoutStopSec leaves the whole shutdown budget plus 5s, for any budget
// the user chooses at `new`.
func TestSystemdBudget(t *testing.T) {
	for _, budget := range []string{"1s", "25s", "90s", "1m30s"} {
		a, err := generator.Answers{Name: "demo", Module: "example.com/demo", Go: "1.26", Features: []string{"systemd"},
			Settings: map[string]string{"shutdown-timeout": budget}}.Validate()
		if err != nil {
			t.Fatal(err)
		}
		dir := projecttest.Write(t, t.TempDir(), a)
		unit, err := os.ReadFile(filepath.Join(dir, "deploy", "systemd", "demo.service"))
		if err != nil {
			t.Fatal(err)
		}
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

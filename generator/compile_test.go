package generator_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/internal/projecttest"
)

// TestEveryCombinationBuilds renders every valid feature set and type-checks all of them with
// one `go vet` over a go.work (one process, one build cache).
func TestEveryCombinationBuilds(t *testing.T) {
	projecttest.RequireGo(t)
	root := t.TempDir()
	combos := generator.Combinations()
	patterns := projecttest.Workspace(t, root, combos, func(i int) string { return fmt.Sprintf("c%03d", i) })
	start := time.Now()
	if out, err := projecttest.WorkspaceCmd(root, "go", append([]string{"vet"}, patterns...)...).CombinedOutput(); err != nil {
		t.Fatalf("go vet over %d combinations: %v\n%s", len(combos), err, out)
	}
	t.Logf("go vet: %d combinations in %s", len(combos), time.Since(start).Round(time.Millisecond))
}

// TestGeneratedTestsPassWithRace lints the covering set with staticcheck (and vets its chaos
// build), then runs each project's own tests with -race.
func TestGeneratedTestsPassWithRace(t *testing.T) {
	projecttest.RequireGo(t)
	root := t.TempDir()
	sets := projecttest.Covering()
	name := func(i int) string { return fmt.Sprintf("r%02d", i) }
	patterns := projecttest.Workspace(t, root, sets, name)
	workspace := func(tool string, args ...string) *exec.Cmd { return projecttest.WorkspaceCmd(root, tool, args...) }
	// The fault-injection hooks used by the e2e tests live behind a build tag; check them too.
	if out, err := workspace("go", append([]string{"vet", "-tags", "chaos"}, patterns...)...).CombinedOutput(); err != nil {
		t.Fatalf("go vet -tags chaos: %v\n%s", err, out)
	}
	if sc, err := exec.LookPath("staticcheck"); err == nil {
		start := time.Now()
		if out, err := workspace(sc, patterns...).CombinedOutput(); err != nil {
			t.Errorf("staticcheck: %v\n%s", err, out)
		}
		t.Logf("staticcheck: %d projects in %s", len(sets), time.Since(start).Round(time.Millisecond))
	} else if os.Getenv("DAEMONGEN_REQUIRE_STATICCHECK") != "" {
		t.Fatal("staticcheck is required (DAEMONGEN_REQUIRE_STATICCHECK is set) but not on PATH")
	} else {
		t.Log("staticcheck not on PATH; skipping it (go install honnef.co/go/tools/cmd/staticcheck@v0.8.2)")
	}
	for i, set := range sets {
		t.Run(projecttest.Label(set), func(t *testing.T) {
			dir := filepath.Join(root, name(i))
			projecttest.Go(t, dir, "build", "./...")
			projecttest.Go(t, dir, "test", "-race", "-count=1", "./...")
		})
	}
}

package generator_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/internal/projecttest"
)

// TestEveryCombinationBuilds type-checks the daemon of every valid feature set with one `go
// vet`. A feature's packages (internal/...) render the same in every set that has it, so they
// are checked once, in a project with every feature; what does change with the set, the main
// package with its fragments, is checked per set: each set's cmd/NAME goes into that project
// as cmd/cNNN. The premise is checked too: a file outside cmd/NAME that renders differently in
// some set fails the test, and then the sets need projects of their own again. (Each set's
// go.mod is the merge of its features' modules; the covering set proves those, tidy and
// verified, in TestGeneratedModulesAreTidyAndVerified.)
func TestEveryCombinationBuilds(t *testing.T) {
	projecttest.RequireGo(t)
	root := t.TempDir()
	all := projecttest.Write(t, root, projecttest.Answers(t, "demo", generator.AllFeatures()...))
	shared := readGo(t, all)
	combos := generator.Combinations()
	for i, set := range combos {
		files := readGo(t, projecttest.Write(t, t.TempDir(), projecttest.Answers(t, "demo", set...)))
		for p, content := range files {
			rel, ok := strings.CutPrefix(p, "cmd/demo/")
			if !ok {
				if string(content) != string(shared[p]) {
					t.Fatalf("%s renders differently for %v than with every feature: this test's premise is gone, give each set its own project", p, set)
				}
				continue
			}
			dst := filepath.Join(all, "cmd", fmt.Sprintf("c%03d", i), rel)
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, content, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := time.Now()
	cmd := projecttest.GoCmd(all, "vet", "./...")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go vet over %d combinations: %v\n%s", len(combos), err, out)
	}
	t.Logf("go vet: %d combinations in %s", len(combos), time.Since(start).Round(time.Millisecond))
}

// readGo returns the Go files of the project in dir, by slash path.
func readGo(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
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

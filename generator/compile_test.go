package generator_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/internal/projecttest"
)

// TestEveryCombinationBuilds renders every valid feature set and type-checks all of them with
// one `go vet` over a go.work (one process, one build cache). staticcheck runs on them too.
func TestEveryCombinationBuilds(t *testing.T) {
	projecttest.RequireGo(t)
	root := t.TempDir()
	combos := generator.Combinations()
	var uses, patterns []string
	for i, features := range combos {
		name := fmt.Sprintf("c%03d", i)
		projecttest.Write(t, root, projecttest.Answers(t, name, features...))
		uses = append(uses, "./"+name)
		patterns = append(patterns, "example.com/"+name+"/...")
	}
	work := fmt.Sprintf("go 1.26\n\nuse (\n\t%s\n)\n", strings.Join(uses, "\n\t"))
	if err := os.WriteFile(filepath.Join(root, "go.work"), []byte(work), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	vet := projecttest.GoCmd(root, append([]string{"vet"}, patterns...)...)
	// Workspace mode refuses -mod=mod; the generated projects are standard library only.
	vet.Env = append(vet.Env, "GOWORK="+filepath.Join(root, "go.work"), "GOFLAGS=")
	if out, err := vet.CombinedOutput(); err != nil {
		t.Fatalf("go vet over %d combinations: %v\n%s", len(combos), err, out)
	}
	t.Logf("go vet: %d combinations in %s", len(combos), time.Since(start).Round(time.Millisecond))
	// The fault-injection hooks used by the e2e tests live behind a build tag; check them too.
	vet = projecttest.GoCmd(root, append([]string{"vet", "-tags", "chaos"}, patterns...)...)
	vet.Env = append(vet.Env, "GOWORK="+filepath.Join(root, "go.work"), "GOFLAGS=")
	if out, err := vet.CombinedOutput(); err != nil {
		t.Fatalf("go vet -tags chaos: %v\n%s", err, out)
	}

	sc, err := exec.LookPath("staticcheck")
	if err != nil {
		if os.Getenv("DAEMONGEN_REQUIRE_STATICCHECK") != "" {
			t.Fatal("staticcheck is required (DAEMONGEN_REQUIRE_STATICCHECK is set) but not on PATH")
		}
		t.Log("staticcheck not on PATH; skipping it (go install honnef.co/go/tools/cmd/staticcheck@v0.8.2)")
		return
	}
	for _, dir := range uses {
		cmd := exec.Command(sc, "./...")
		cmd.Dir = filepath.Join(root, dir)
		cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("staticcheck in %s: %v\n%s", dir, err, out)
		}
	}
}

// TestGeneratedTestsPassWithRace runs the generated project's own tests with -race for a
// covering set: no features, each feature alone, the defaults and everything.
func TestGeneratedTestsPassWithRace(t *testing.T) {
	projecttest.RequireGo(t)
	sets := [][]string{{}, generator.DefaultFeatures(), generator.AllFeatures()}
	for _, f := range generator.Catalog {
		sets = append(sets, []string{f.Name})
	}
	seen := map[string]bool{}
	root := t.TempDir()
	for _, set := range sets {
		key := strings.Join(set, ",")
		if seen[key] {
			continue
		}
		seen[key] = true
		label := key
		if label == "" {
			label = "none"
		}
		name := fmt.Sprintf("r%02d", len(seen))
		t.Run(label, func(t *testing.T) {
			dir := projecttest.Write(t, root, projecttest.Answers(t, name, slices.Clone(set)...))
			projecttest.Go(t, dir, "build", "./...")
			projecttest.Go(t, dir, "test", "-race", "-count=1", "./...")
		})
	}
}

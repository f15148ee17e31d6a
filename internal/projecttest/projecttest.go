// Package projecttest renders generated projects for daemongen's slow tests and runs the Go
// toolchain inside them offline, with one shared build cache.
package projecttest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/project"
	"github.com/daemongen/daemongen/templates"
)

// Version stands in for daemongen's version in manifests rendered by tests.
const Version = "v0.0.0-test"

// Answers returns validated answers for a project with the given name and features.
func Answers(t testing.TB, name string, features ...string) generator.Answers {
	t.Helper()
	a, err := generator.Answers{Name: name, Module: "example.com/" + name, Go: "1.26", Features: features}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Covering returns the feature sets whose generated projects are built, linted and tested in
// full: none, each feature alone (with what it requires), the defaults and everything. Every
// set is type-checked by generator's TestEveryCombinationBuilds; these also get staticcheck,
// the chaos build, go test -race and their own e2e tests, which would take too long for all.
func Covering() [][]string {
	sets := [][]string{{}, generator.DefaultFeatures(), generator.AllFeatures()}
	for _, f := range generator.Catalog {
		resolved, _ := generator.Resolve([]string{f.Name})
		sets = append(sets, resolved)
	}
	var out [][]string
	seen := map[string]bool{}
	for _, set := range sets {
		if key := strings.Join(set, ","); !seen[key] {
			seen[key] = true
			out = append(out, set)
		}
	}
	return out
}

// Label names a feature set in test names: "batch,signals", or "none".
func Label(set []string) string {
	if len(set) == 0 {
		return "none"
	}
	return strings.Join(set, ",")
}

// Write renders a into dir/<a.Name> and returns the project directory.
func Write(t testing.TB, dir string, a generator.Answers) string {
	t.Helper()
	cs, err := generator.Render(templates.FS, fstest.MapFS{}, a, append([]string{"base"}, a.Features...), generator.Manifest{}, Version)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, a.Name)
	if err := project.WriteNew(context.Background(), root, cs, false, nil); err != nil {
		t.Fatal(err)
	}
	return root
}

// RequireGo skips the test when there is no go command, or under -short.
func RequireGo(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds generated projects; skipped with -short")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
}

// Go runs the go command in dir offline: GOPROXY=off turns "needs the network" into a clear
// failure, GOFLAGS=-mod=mod lets a project without go.sum build from the module cache, and the
// default GOCACHE is shared by every project a test builds. It fails the test with the output
// on error.
func Go(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := GoCmd(dir, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// GoCmd returns the offline go command without running it.
func GoCmd(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off")
	return cmd
}

// Workspace renders one project per feature set into root, named by name(i), lists them all in
// root/go.work and returns the package patterns that cover them. One go command over the
// workspace type-checks every project in a single process with a shared cache.
func Workspace(t testing.TB, root string, sets [][]string, name func(i int) string) []string {
	t.Helper()
	var uses, patterns []string
	for i, features := range sets {
		n := name(i)
		Write(t, root, Answers(t, n, slices.Clone(features)...))
		uses = append(uses, "./"+n)
		patterns = append(patterns, "example.com/"+n+"/...")
	}
	work := "go 1.26.0\n\nuse (\n\t" + strings.Join(uses, "\n\t") + "\n)\n"
	if err := os.WriteFile(filepath.Join(root, "go.work"), []byte(work), 0o644); err != nil {
		t.Fatal(err)
	}
	return patterns
}

// WorkspaceCmd returns tool (go, staticcheck) run offline over the workspace in root.
// Workspace mode refuses -mod=mod: projects that need modules carry a complete go.sum, and
// their go line (1.26.0, what client_golang's dependencies declare) is why go.work says 1.26.0.
func WorkspaceCmd(root, tool string, args ...string) *exec.Cmd {
	cmd := exec.Command(tool, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=", "GOTOOLCHAIN=local", "GOWORK="+filepath.Join(root, "go.work"))
	return cmd
}

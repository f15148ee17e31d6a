package generator_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/daemongen/daemongen/internal/projecttest"
	"github.com/daemongen/daemongen/templates"
)

// tool finds an external checker on PATH or in GOPATH/bin (where `go install` puts it). When it
// is absent the test is skipped with the command that installs it, except under CI, where a
// missing checker must not turn into a silent pass.
func tool(t *testing.T, name, install string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI; install it with: %s", name, install)
	}
	t.Skipf("%s not found; install it with: %s", name, install)
	return ""
}

const (
	installGolangciLint = "go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0"
	installActionlint   = "go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"
)

var findingRE = regexp.MustCompile(`(?m)^([^\s:]+\.go):(\d+):\d+: (.*)$`)

func golangciLint(t *testing.T, bin, dir string) []string {
	t.Helper()
	cmd := exec.Command(bin, "run", "--allow-parallel-runners", "--output.text.print-issued-lines=false", "--max-issues-per-linter=0", "--max-same-issues=0", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	findings := findingRE.FindAllString(string(out), -1)
	if err != nil && len(findings) == 0 {
		t.Fatalf("golangci-lint in %s: %v\n%s", dir, err, out)
	}
	return findings
}

// TestGeneratedProjectsPassLinters runs golangci-lint with the generated configuration and
// actionlint on the generated workflow, for every project of the covering set.
func TestGeneratedProjectsPassLinters(t *testing.T) {
	projecttest.RequireGo(t)
	lint := tool(t, "golangci-lint", installGolangciLint)
	actionlint := tool(t, "actionlint", installActionlint)
	root := t.TempDir()
	for i, set := range projecttest.Covering() {
		name := fmt.Sprintf("l%02d", i)
		dir := projecttest.Write(t, root, projecttest.Answers(t, name, slices.Clone(set)...))
		label := projecttest.Label(set)
		if out, err := exec.Command(actionlint, filepath.Join(dir, ".github", "workflows", "ci.yml")).CombinedOutput(); err != nil {
			t.Errorf("[%s] actionlint: %v\n%s", label, err, out)
		}
		for _, f := range golangciLint(t, lint, dir) {
			t.Errorf("[%s] golangci-lint: %s", label, f)
		}
	}
}

// TestLintConfigCatchesTheLessons proves that the generated configuration catches each defer
// and cleanup mistake the generated daemon is built to avoid, on a small bad example.
func TestLintConfigCatchesTheLessons(t *testing.T) {
	projecttest.RequireGo(t)
	lint := tool(t, "golangci-lint", installGolangciLint)
	cfg, err := templates.FS.ReadFile("base/files/dot-golangci.yml.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		".golangci.yml": string(cfg),
		"go.mod":        "module example.com/bad\n\ngo 1.26\n",
		"bad.go": `package bad

import (
	"context"
	"os"
	"sync"
	"time"
)

// DeferInLoop: every file stays open until the function returns.
func DeferInLoop(paths []string) error {
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close() // LESSON deferInLoop
	}
	return nil
}

// UncheckedClose: a failed Close or Sync of a written file is lost data.
func UncheckedClose(p string, data []byte) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	f.Sync()  // LESSON errcheck
	f.Close() // LESSON errcheck
	return nil
}

// LostCancel: the context's timer lives on after the function returns.
func LostCancel(parent context.Context) context.Context {
	ctx, _ := context.WithTimeout(parent, time.Second) // LESSON lostcancel
	return ctx
}

type Counter struct {
	mu sync.Mutex
	n  int
}

// CopyLock: the copy's mutex guards nothing.
func CopyLock(c Counter) int { // LESSON copylocks
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Exported, so that "unused" has nothing to say: the findings are the lessons alone.
	findings := strings.Join(golangciLint(t, lint, dir), "\n")
	for i, line := range strings.Split(files["bad.go"], "\n") {
		_, lesson, ok := strings.Cut(line, "// LESSON ")
		if !ok {
			continue
		}
		want := regexp.MustCompile(fmt.Sprintf(`(?m)^bad\.go:%d:\d+: .*%s`, i+1, regexp.QuoteMeta(lesson)))
		if !want.MatchString(findings) {
			t.Errorf("line %d: no %s finding; golangci-lint said:\n%s", i+1, lesson, findings)
		}
	}
}

// TestMakeCheckIsWhatCIRuns keeps `make check` and the CI workflow's steps the same list, so a
// green `make check` on a laptop means a green CI.
func TestMakeCheckIsWhatCIRuns(t *testing.T) {
	root := t.TempDir()
	dir := projecttest.Write(t, root, projecttest.Answers(t, "demo"))
	makefile, err := os.ReadFile(filepath.Join(dir, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^check:(.*)$`).FindSubmatch(makefile)
	if m == nil {
		t.Fatal("no check target in the Makefile")
	}
	check := strings.Fields(string(m[1]))
	workflow, err := os.ReadFile(filepath.Join(dir, ".github", "workflows", "ci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, s := range regexp.MustCompile(`(?m)^\s+- run: make (\S+)$`).FindAllSubmatch(workflow, -1) {
		if string(s[1]) != "build" { // CI also proves the binary builds; check need not
			steps = append(steps, string(s[1]))
		}
	}
	if !slices.Equal(check, steps) {
		t.Fatalf("make check runs %q, CI runs %q", check, steps)
	}
	for _, want := range []string{"permissions:\n  contents: read", "govulncheck", "cache-dependency-path: go.mod"} {
		if !strings.Contains(string(workflow)+string(makefile), want) {
			t.Errorf("workflow or Makefile lacks %q", want)
		}
	}
	// Every action is pinned to a full commit SHA, with the release it is in a comment.
	uses := regexp.MustCompile(`(?m)uses: (\S+)@(\S+)(.*)$`).FindAllStringSubmatch(string(workflow), -1)
	if len(uses) == 0 {
		t.Fatal("no actions in the workflow")
	}
	for _, u := range uses {
		if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(u[2]) || !regexp.MustCompile(`^ # v\d+\.\d+\.\d+$`).MatchString(u[3]) {
			t.Errorf("%s@%s%s: want a full commit SHA and a # vX.Y.Z comment", u[1], u[2], u[3])
		}
	}
}

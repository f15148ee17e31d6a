package generator

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/daemongen/daemongen/templates"
)

// apply writes changes onto an in-memory tree, as Write would on disk.
func apply(tree fstest.MapFS, cs Changes) {
	for _, c := range cs {
		tree[c.Path] = &fstest.MapFile{Data: c.New, Mode: 0o644}
	}
}

func treeOf(cs Changes) fstest.MapFS {
	t := fstest.MapFS{}
	apply(t, cs)
	return t
}

func manifestOf(t *testing.T, tree fstest.MapFS) Manifest {
	t.Helper()
	m, err := DecodeManifest(ManifestName, tree[ManifestName].Data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// addTo renders the features missing from the project in tree, as `daemongen add` does.
func addTo(t *testing.T, tree fstest.MapFS, features ...string) (Changes, error) {
	t.Helper()
	m := manifestOf(t, tree)
	a := m.Answers
	a.Features = append(slices.Clone(a.Features), features...)
	a, err := a.Validate()
	if err != nil {
		return nil, err
	}
	var units []string
	for _, f := range a.Features {
		if !slices.Contains(m.Answers.Features, f) {
			units = append(units, f)
		}
	}
	return Render(templates.FS, tree, a, units, m, testVersion)
}

func sameTree(t *testing.T, want, got fstest.MapFS) {
	t.Helper()
	for p, f := range want {
		g, ok := got[p]
		if !ok {
			t.Errorf("%s missing", p)
			continue
		}
		if !bytes.Equal(f.Data, g.Data) {
			t.Errorf("%s differs:\n%s", p, Changes{{Path: p, Old: f.Data, New: g.Data}}.Diff())
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s is extra", p)
		}
	}
}

// TestAddEqualsNew: for every valid set S and every feature f not in it, `new S` followed by
// `add f` produces byte for byte the tree of `new S+f`, manifest included.
func TestAddEqualsNew(t *testing.T) {
	for _, set := range Combinations() {
		for _, f := range AllFeatures() {
			if slices.Contains(set, f) {
				continue
			}
			t.Run(fmt.Sprintf("%s+%s", strings.Join(append([]string{"base"}, set...), ","), f), func(t *testing.T) {
				tree := treeOf(renderNew(t, answers(t, set...)))
				cs, err := addTo(t, tree, f)
				if err != nil {
					t.Fatal(err)
				}
				apply(tree, cs)
				sameTree(t, treeOf(renderNew(t, answers(t, append(slices.Clone(set), f)...))), tree)
			})
		}
	}
}

// TestAddTwiceChangesNothing: adding a feature that is already there is a no-op.
func TestAddTwiceChangesNothing(t *testing.T) {
	tree := treeOf(renderNew(t, answers(t, AllFeatures()...)))
	m := manifestOf(t, tree)
	cs, err := Render(templates.FS, tree, m.Answers, AllFeatures(), m, testVersion)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 0 {
		var paths []string
		for _, c := range cs {
			paths = append(paths, c.Path)
		}
		t.Fatalf("re-applying every feature changed %q", paths)
	}
}

// userEdits simulates weeks of living in a project: a comment at the end of every Go file, a
// changed literal in main.go, and a line of the user's own right above every marker.
func userEdits(t *testing.T, tree fstest.MapFS) map[string][]string {
	t.Helper()
	added := map[string][]string{}
	for p, f := range tree {
		if p == ManifestName {
			continue
		}
		s := string(f.Data)
		var mine []string
		if strings.HasSuffix(p, ".go") {
			line := "// edited by hand: " + p
			s += "\n" + line + "\n"
			mine = append(mine, line)
		}
		if strings.HasSuffix(p, "cmd/demo/main.go") {
			s = strings.Replace(s, `logger.Info("starting")`, `logger.Info("starting", "edition", "mine")`, 1)
			mine = append(mine, `logger.Info("starting", "edition", "mine")`)
		}
		lines := strings.SplitAfter(s, "\n")
		var out []string
		for _, l := range lines {
			trimmed := strings.TrimSpace(l)
			if strings.Contains(trimmed, "daemongen:") && (strings.HasPrefix(trimmed, "//") || strings.HasPrefix(trimmed, "<!--")) {
				ind := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
				mine = append(mine, userLine(p, trimmed))
				out = append(out, ind+userLine(p, trimmed)+"\n")
			}
			out = append(out, l)
		}
		tree[p] = &fstest.MapFile{Data: []byte(strings.Join(out, "")), Mode: 0o644}
		added[p] = mine
	}
	return added
}

// userLine is a harmless line of the user's, valid wherever a marker stands.
func userLine(path, marker string) string {
	if strings.HasSuffix(path, ".go") {
		return "// mine, above " + strings.TrimPrefix(marker, "// ")
	}
	return "<!-- mine, above " + strings.Trim(marker, "<!-> ") + " -->"
}

// TestAddKeepsEveryEdit: after scripted user edits, adding any feature keeps every edited line
// byte for byte, and taking the inserted lines out again gives back exactly the edited file.
func TestAddKeepsEveryEdit(t *testing.T) {
	for _, f := range AllFeatures() {
		t.Run(f, func(t *testing.T) {
			tree := treeOf(renderNew(t, answers(t)))
			mine := userEdits(t, tree)
			before := fstest.MapFS{}
			for p, file := range tree {
				before[p] = &fstest.MapFile{Data: slices.Clone(file.Data)}
			}
			cs, err := addTo(t, tree, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				if c.Path == ManifestName || c.Old == nil {
					continue
				}
				for _, line := range mine[c.Path] {
					if !bytes.Contains(c.New, []byte(line)) {
						t.Errorf("%s: the user's line %q was lost", c.Path, line)
					}
				}
				newer := string(c.New)
				if c.Path == "go.mod" { // a module may need a newer go line; modules_test.go checks that
					newer = goLine.ReplaceAllString(newer, goLine.FindString(string(c.Old)))
				}
				if got := removeInserted(string(c.Old), newer); got != string(c.Old) {
					t.Errorf("%s: removing the inserted lines does not give back the edited file", c.Path)
				}
			}
		})
	}
}

var goLine = regexp.MustCompile(`(?m)^go .*$`)

// removeInserted drops from new the lines that old does not have (compared after trimming, since
// gofmt may re-align a struct), then puts back old's exact lines, and returns the result.
func removeInserted(old, new string) string {
	oldLines := strings.SplitAfter(old, "\n")
	var out []string
	i := 0
	for _, l := range strings.SplitAfter(new, "\n") {
		if i < len(oldLines) && strings.Join(strings.Fields(l), " ") == strings.Join(strings.Fields(oldLines[i]), " ") {
			out = append(out, oldLines[i])
			i++
		}
	}
	return strings.Join(out, "")
}

// TestAddRefusesWithoutMarker: a deleted marker stops the whole add, and the error says which
// file, which marker and what to paste.
func TestAddRefusesWithoutMarker(t *testing.T) {
	tree := treeOf(renderNew(t, answers(t)))
	main := string(tree["cmd/demo/main.go"].Data)
	tree["cmd/demo/main.go"].Data = []byte(strings.Replace(main, "\t// daemongen:worker\n", "", 1))
	_, err := addTo(t, tree, "recovery")
	if err == nil {
		t.Fatal("add succeeded without its marker")
	}
	for _, want := range []string{"cmd/demo/main.go", "daemongen:worker", "supervisor.Supervise"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestAddRefusesForeignOwnedFile: a feature-owned file that exists with other content is never
// overwritten.
func TestAddRefusesForeignOwnedFile(t *testing.T) {
	tree := treeOf(renderNew(t, answers(t)))
	tree["internal/lock/lock.go"] = &fstest.MapFile{Data: []byte("package lock // mine\n")}
	_, err := addTo(t, tree, "lock")
	if err == nil || !strings.Contains(err.Error(), "internal/lock/lock.go") {
		t.Fatalf("err = %v, want a refusal naming internal/lock/lock.go", err)
	}
}

// TestAddAfterEditsBuilds: a bare project with user edits, grown to every feature by `add`,
// still builds, vets and passes its own tests with -race.
func TestAddAfterEditsBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated project; skipped with -short")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	tree := treeOf(renderNew(t, answers(t)))
	userEdits(t, tree)
	for _, f := range AllFeatures() { // one add per feature, as a user would over weeks
		m := manifestOf(t, tree)
		if slices.Contains(m.Answers.Features, f) {
			continue
		}
		cs, err := addTo(t, tree, f)
		if err != nil {
			t.Fatalf("add %s: %v", f, err)
		}
		apply(tree, cs)
	}
	sameFeatures := manifestOf(t, tree).Answers.Features
	if !slices.Equal(sameFeatures, AllFeatures()) {
		t.Fatalf("features after adding all: %q", sameFeatures)
	}
	dir := t.TempDir()
	for p, f := range tree {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"vet", "./..."}, {"test", "-race", "-count=1", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s after add: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

package generator

import (
	"bytes"
	"flag"
	"go/format"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/diff"
	"github.com/rogpeppe/go-internal/txtar"
)

var update = flag.Bool("update", false, "rewrite golden/*.txtar from the current templates (then review git diff)")

// goldenDir holds one txtar archive per scenario: the whole rendered tree in one reviewable file.
const goldenDir = "../golden"

// scenarios maps a golden file name to the features it renders.
func scenarios() map[string][]string {
	s := map[string][]string{
		"new_none":     {},
		"new_defaults": DefaultFeatures(),
		"new_all":      AllFeatures(),
	}
	for _, f := range Catalog {
		s["new_"+f.Name] = []string{f.Name}
	}
	return s
}

func archive(cs Changes) []byte {
	ar := &txtar.Archive{Comment: []byte("Rendered by generator/golden_test.go; regenerate with: go test ./generator -run TestGolden -update\n")}
	for _, c := range cs {
		ar.Files = append(ar.Files, txtar.File{Name: c.Path, Data: c.New})
	}
	return txtar.Format(ar)
}

// addScenarios maps a golden file name to the diff `daemongen add` produces: each feature added
// to a bare project, and every feature added to a project the user has edited.
func addScenarios(t *testing.T) map[string][]byte {
	out := map[string][]byte{}
	for _, f := range Catalog {
		tree := treeOf(renderNew(t, answers(t)))
		cs, err := addTo(t, tree, f.Name)
		if err != nil {
			t.Fatal(err)
		}
		out["add_"+f.Name+"_to_none"] = cs.Diff()
	}
	tree := treeOf(renderNew(t, answers(t)))
	userEdits(t, tree)
	cs, err := addTo(t, tree, AllFeatures()...)
	if err != nil {
		t.Fatal(err)
	}
	out["add_all_after_edits"] = cs.Diff()
	return out
}

func TestGolden(t *testing.T) {
	for name, features := range scenarios() {
		t.Run(name, func(t *testing.T) {
			cs := renderNew(t, answers(t, features...))
			checkHygiene(t, cs)
			compareGolden(t, filepath.Join(goldenDir, name+".txtar"), archive(cs))
		})
	}
	for name, diff := range addScenarios(t) {
		t.Run(name, func(t *testing.T) {
			compareGolden(t, filepath.Join(goldenDir, name+".diff"), diff)
		})
	}
}

// compareGolden checks got against the golden file at path, or rewrites it with -update.
func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with: go test ./generator -run TestGolden -update)", err)
	}
	if d := diff.Diff(path, want, "rendered", got); d != nil {
		t.Errorf("rendered output differs from %s; if the change is intended, run go test ./generator -run TestGolden -update and review the diff:\n%s", path, d)
	}
}

// TestNoOrphanGoldens fails for a golden file that no scenario produces: it would never be
// checked again.
func TestNoOrphanGoldens(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for name := range scenarios() {
		known[name+".txtar"] = true
	}
	for name := range addScenarios(t) {
		known[name+".diff"] = true
	}
	for _, f := range files {
		if !known[filepath.Base(f)] {
			t.Errorf("%s has no scenario; delete it or add the scenario", f)
		}
	}
	if len(files) < len(known) {
		t.Errorf("%d golden files for %d scenarios; run go test ./generator -run TestGolden -update", len(files), len(known))
	}
}

// checkHygiene holds every rendered file to what a reviewer would demand by hand.
func checkHygiene(t *testing.T, cs Changes) {
	t.Helper()
	for _, c := range cs {
		if bytes.Contains(c.New, []byte("\r")) {
			t.Errorf("%s: CR in output; templates must use LF", c.Path)
		}
		if len(c.New) > 0 && !bytes.HasSuffix(c.New, []byte("\n")) {
			t.Errorf("%s: no final newline", c.Path)
		}
		for i, line := range bytes.Split(c.New, []byte("\n")) {
			if len(bytes.TrimRight(line, " \t")) != len(line) {
				t.Errorf("%s:%d: trailing whitespace", c.Path, i+1)
			}
		}
		if bytes.Contains(c.New, []byte("\n\n\n")) {
			t.Errorf("%s: two blank lines in a row (a template left a gap)", c.Path)
		}
		if strings.HasSuffix(c.Path, ".go") {
			if f, err := format.Source(c.New); err != nil || !bytes.Equal(f, c.New) {
				t.Errorf("%s: not gofmt-clean (%v)", c.Path, err)
			}
		}
		if strings.Contains(string(c.New), "<no value>") {
			t.Errorf("%s: a template printed <no value>", c.Path)
		}
	}
}

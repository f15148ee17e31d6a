package templates

import (
	"go/format"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"
	"text/template"

	"github.com/Masterminds/sprig/v3"

	"github.com/daemongen/daemongen/generator"
)

// TestTemplateHygiene enforces the naming rules: every file is a .tmpl that parses (but a
// feature's modules.mod and modules.sum), no Go source or go.mod hides under templates/, and feature directories match the catalog one to one.
func TestTemplateHygiene(t *testing.T) {
	err := fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		// A feature's modules files (generator/modules.go) sit next to its templates; they are
		// not templates and are never rendered.
		if strings.HasPrefix(p, "features/") && path.Dir(path.Dir(p)) == "features" && strings.HasPrefix(path.Base(p), "modules") &&
			(strings.HasSuffix(p, ".mod") || strings.HasSuffix(p, ".sum")) {
			return nil
		}
		if !strings.HasSuffix(p, ".tmpl") {
			t.Errorf("%s: every template must end in .tmpl", p)
			return nil
		}
		base := path.Base(p)
		if strings.HasPrefix(base, ".") {
			t.Errorf("%s: use a dot- prefix instead of a real dotfile", p)
		}
		src, err := fs.ReadFile(FS, p)
		if err != nil {
			return err
		}
		if _, err := template.New(p).Funcs(sprig.HermeticTxtFuncMap()).Parse(string(src)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		// The generator never runs gofmt on what templates render, so a template without
		// actions must be gofmt-clean as it stands (a quick check here; generator's
		// TestRenderedGoIsGofmtClean checks every render).
		if strings.HasSuffix(p, ".go.tmpl") && !strings.Contains(string(src), "{{") {
			if f, err := format.Source(src); err != nil || string(f) != string(src) {
				t.Errorf("%s has no template actions, so it is copied as it is, but it is not gofmt-clean (%v)", p, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	entries, err := fs.ReadDir(FS, "features")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		dirs = append(dirs, e.Name())
	}
	if !slices.Equal(dirs, generator.AllFeatures()) {
		t.Errorf("feature directories %q do not match the catalog %q", dirs, generator.AllFeatures())
	}
}

// TestInsertsTargetExistingMarkers checks that each fragment names a marker the file it targets
// (a base file or another feature's) has,
// so a typo in a fragment name fails here rather than at a user's `add`.
func TestInsertsTargetExistingMarkers(t *testing.T) {
	for _, f := range generator.AllFeatures() {
		src, err := fs.ReadFile(FS, "features/"+f+"/inserts.tmpl")
		if err != nil {
			continue
		}
		tmpl, err := template.New(f).Funcs(sprig.HermeticTxtFuncMap()).Parse(string(src))
		if err != nil {
			t.Fatal(err)
		}
		for _, def := range tmpl.Templates() {
			if def.Name() == f {
				continue
			}
			target, marker, ok := strings.Cut(def.Name(), " ")
			if !ok {
				t.Errorf("%s: fragment %q is not named \"<path> <marker>\"", f, def.Name())
				continue
			}
			// The target is a base file, or another feature's (metrics' rules.yaml gets batch's
			// alerts when both are there).
			owners := []string{"base"}
			for _, o := range generator.AllFeatures() {
				if o != f {
					owners = append(owners, "features/"+o)
				}
			}
			found := false
			for _, o := range owners {
				src, err := fs.ReadFile(FS, o+"/files/"+target+".tmpl")
				if err != nil {
					continue
				}
				found = true
				if !strings.Contains(string(src), marker) && !definesMarker(t, o, marker) {
					t.Errorf("%s: %s (%s) has no %q marker", f, target, o, marker)
				}
			}
			if !found {
				t.Errorf("%s: fragment for %s, which neither base nor another feature renders", f, target)
			}
		}
	}
}

// definesMarker reports whether one of owner's templates holds marker: a file may get its
// marker from a template it includes ({{ template "metrics rule groups" }}).
func definesMarker(t *testing.T, owner, marker string) bool {
	t.Helper()
	found := false
	err := fs.WalkDir(FS, owner+"/files", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(FS, p)
		if err == nil && strings.Contains(string(src), "define \"") && strings.Contains(string(src), marker) {
			found = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

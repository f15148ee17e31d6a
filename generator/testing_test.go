package generator

import (
	"testing"
	"testing/fstest"

	"github.com/daemongen/daemongen/templates"
)

// testVersion stands in for daemongen's version in rendered manifests, so goldens do not change
// with every release.
const testVersion = "v0.0.0-test"

// answers returns validated answers for a project called demo with the given features.
func answers(t testing.TB, features ...string) Answers {
	t.Helper()
	a, err := Answers{Name: "demo", Module: "example.com/demo", Go: "1.26", Features: features}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// renderNew renders a whole new project from the embedded templates.
func renderNew(t testing.TB, a Answers) Changes {
	t.Helper()
	cs, err := Render(templates.FS, fstest.MapFS{}, a, append([]string{"base"}, a.Features...), Manifest{}, testVersion)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

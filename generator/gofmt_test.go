package generator_test

import (
	"crypto/sha256"
	"go/format"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/internal/projecttest"
	"github.com/daemongen/daemongen/templates"
)

// TestRenderedGoIsGofmtClean proves what formatAll relies on to skip gofmt: every Go file a
// render produces is already as gofmt writes it, for every feature set and for names and
// settings of odd lengths (gofmt aligns on them: a composite literal's values, trailing
// comments). A template or fragment that breaks this fails here, with the line gofmt changes.
func TestRenderedGoIsGofmtClean(t *testing.T) {
	var cases []generator.Answers
	for _, set := range generator.Combinations() {
		cases = append(cases, projecttest.Answers(t, "demo", set...))
	}
	odd := []struct {
		name, module string
		settings     map[string]string
	}{
		{"ab", "a.example/x", map[string]string{"shutdown-timeout": "1s", "admin-addr": ":1", "slo-target": "99"}},
		{"a-daemon-named-long-to-push-columns-out", "github.com/some-organisation/some-team/a-daemon-whose-name-is-long-enough-to-push-columns",
			map[string]string{"shutdown-timeout": "1500ms", "admin-addr": "[::1]:65535", "slo-target": "99.999",
				"leader-backend": "etcd", "leader-lease-duration": "10m", "leader-renew-deadline": "9m", "leader-retry-period": "250ms"}},
		{"x9", "x9.io/x9", map[string]string{"shutdown-timeout": "10m", "admin-addr": "0.0.0.0:8081", "leader-backend": "kubernetes",
			"leader-lease-duration": "3s", "leader-renew-deadline": "1500ms", "leader-retry-period": "100ms"}},
	}
	for _, o := range odd {
		a, err := generator.Answers{Name: o.name, Module: o.module, Go: "1.26", Features: generator.AllFeatures(), Settings: o.settings}.Validate()
		if err != nil {
			t.Fatalf("answers %s: %v", o.name, err)
		}
		cases = append(cases, a)
	}
	checked := map[[32]byte]bool{} // most files render the same in most sets: check each once
	for _, a := range cases {
		changes, err := generator.Render(templates.FS, fstest.MapFS{}, a, append([]string{"base"}, a.Features...), generator.Manifest{}, "test")
		if err != nil {
			t.Fatalf("%s %v: %v", a.Name, a.Features, err)
		}
		for _, c := range changes {
			sum := sha256.Sum256(c.New)
			if !strings.HasSuffix(c.Path, ".go") || checked[sum] {
				continue
			}
			checked[sum] = true
			formatted, err := format.Source(c.New)
			if err != nil {
				t.Errorf("%s (%s, features %v) is not valid Go: %v", c.Path, a.Name, a.Features, err)
				continue
			}
			if string(formatted) != string(c.New) {
				t.Errorf("%s (%s, features %v) is not gofmt-clean; gofmt changes:\n%s", c.Path, a.Name, a.Features, firstDifference(c.New, formatted))
			}
		}
	}
	t.Logf("%d distinct Go files from %d renders", len(checked), len(cases))
}

// firstDifference shows the first line where got and want differ, with its neighbours.
func firstDifference(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < min(len(g), len(w)); i++ {
		if g[i] != w[i] {
			lo, hi := max(0, i-2), min(i+3, len(g), len(w))
			return "rendered:\n" + strings.Join(g[lo:hi], "\n") + "\ngofmt:\n" + strings.Join(w[lo:hi], "\n")
		}
	}
	return "the files differ in length only"
}

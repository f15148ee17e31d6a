package project

import (
	"strings"
	"testing"

	"github.com/daemongen/daemongen/generator"
)

// TestPlanUpdateMergesModulesByMeaning: the user required a module of their own, which sorts
// right next to the template's; the new templates raise the template's version. A line merge
// of go.mod and go.sum conflicts on such neighbours; with the mergers update uses, both sides'
// requirements and sums come through, with or without a base, and nothing conflicts.
func TestPlanUpdateMergesModulesByMeaning(t *testing.T) {
	requireGit(t)
	const (
		modBase = "module example.com/demo\n\ngo 1.26.0\n\nrequire github.com/prometheus/client_golang v1.24.0\n"
		modUser = "module example.com/demo\n\ngo 1.26.0\n\n// ours: alert routing\nrequire (\n\tgithub.com/prometheus/alertmanager v0.28.0\n\tgithub.com/prometheus/client_golang v1.24.0\n)\n"
		modNext = "module example.com/demo\n\ngo 1.26.0\n\nrequire github.com/prometheus/client_golang v1.25.0\n"
		sumBase = "github.com/prometheus/client_golang v1.24.0 h1:old=\ngithub.com/prometheus/client_golang v1.24.0/go.mod h1:oldmod=\n"
		sumUser = "github.com/prometheus/alertmanager v0.28.0 h1:ours=\ngithub.com/prometheus/alertmanager v0.28.0/go.mod h1:oursmod=\n" + sumBase
		sumNext = "github.com/prometheus/client_golang v1.25.0 h1:new=\ngithub.com/prometheus/client_golang v1.25.0/go.mod h1:newmod=\n"
	)
	// The premise: a plain line merge of these go.mod files does conflict.
	if _, conflicts, err := Merge([]byte(modUser), []byte(modBase), []byte(modNext), labels); err != nil || conflicts == 0 {
		t.Fatalf("a line merge of go.mod gave %d conflicts (err %v); the test's premise is gone", conflicts, err)
	}
	base := map[string]string{"go.mod": modBase, "go.sum": sumBase}
	user := map[string]string{"go.mod": modUser, "go.sum": sumUser}
	next := map[string]string{"go.mod": modNext, "go.sum": sumNext}
	for _, withBase := range []bool{true, false} {
		dir, m := writeProject(t, base, user)
		var bases []map[string][]byte
		if withBase {
			bases = append(bases, bytesMap(base))
		}
		p, err := PlanUpdate(Update{Dir: dir, Prev: m, New: bytesMap(next), Bases: bases, Labels: labels,
			Next:    generator.Manifest{Schema: generator.ManifestSchema, Generator: "v2"},
			Mergers: map[string]func(yours, theirs []byte) ([]byte, error){"go.mod": generator.MergeGoMod, "go.sum": generator.MergeSums}})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Conflicts) > 0 || len(p.Kept) > 0 {
			t.Errorf("base %v: conflicts %q, kept %q; want go.mod and go.sum merged", withBase, p.Conflicts, p.Kept)
		}
		got := applied(t, user, p)
		for _, want := range []string{"github.com/prometheus/alertmanager v0.28.0", "github.com/prometheus/client_golang v1.25.0", "// ours: alert routing"} {
			if !strings.Contains(got["go.mod"], want) {
				t.Errorf("base %v: merged go.mod lacks %q:\n%s", withBase, want, got["go.mod"])
			}
		}
		if strings.Contains(got["go.mod"], "client_golang v1.24.0") {
			t.Errorf("base %v: merged go.mod still requires the old version:\n%s", withBase, got["go.mod"])
		}
		for _, want := range []string{"alertmanager v0.28.0 h1:ours=", "alertmanager v0.28.0/go.mod h1:oursmod=", "client_golang v1.25.0 h1:new=", "client_golang v1.25.0/go.mod h1:newmod="} {
			if !strings.Contains(got["go.sum"], want) {
				t.Errorf("base %v: merged go.sum lacks %q:\n%s", withBase, want, got["go.sum"])
			}
		}
	}
}

package generator

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/mod/modfile"

	"github.com/daemongen/daemongen/templates"
)

// TestCatalogModulesMatchModulesMod: `daemongen features` shows Feature.Modules, the renderer
// uses modules.mod; they must name the same direct requirements.
// A feature with ModulesBy lists the direct requirements of all its variants.
func TestCatalogModulesMatchModulesMod(t *testing.T) {
	variants := map[string][]string{"leader": {"kubernetes", "etcd"}}
	for _, f := range Catalog {
		vs, ok := variants[f.Name]
		if ok != (f.ModulesBy != "") {
			t.Fatalf("%s: ModulesBy %q; list its variants in this test", f.Name, f.ModulesBy)
		}
		if !ok {
			vs = []string{""}
		}
		var direct []string
		for _, v := range vs {
			mf, err := FeatureModules(templates.FS, f.Name, v)
			if err != nil {
				t.Fatal(err)
			}
			if mf == nil && v != "" {
				t.Errorf("%s: no modules file for %s=%s", f.Name, f.ModulesBy, v)
				continue
			}
			if mf != nil {
				for _, r := range mf.Require {
					if !r.Indirect {
						direct = append(direct, r.Mod.Path+" "+r.Mod.Version)
					}
				}
			}
		}
		slices.Sort(direct)
		if !slices.Equal(direct, f.Modules) {
			t.Errorf("%s: catalog Modules %q, modules.mod requires %q", f.Name, f.Modules, direct)
		}
	}
}

// TestStdlibOnlyWithoutModules: a project without a module-bringing feature has a go.mod
// without requirements and no go.sum.
func TestStdlibOnlyWithoutModules(t *testing.T) {
	for _, set := range [][]string{{}, {"batch", "lock", "recovery", "signals"}, {"health", "k8s", "signals", "docker", "systemd"}} {
		a := answers(t, set...)
		tree := treeOf(renderNew(t, a))
		if _, ok := tree["go.sum"]; ok {
			t.Errorf("%v: go.sum generated", set)
		}
		if strings.Contains(string(tree["go.mod"].Data), "require") {
			t.Errorf("%v: go.mod requires modules:\n%s", set, tree["go.mod"].Data)
		}
	}
}

// TestAddMetricsKeepsUsersModules: the user's own requirement, replace and comment survive
// `add metrics`, a shared module the user pinned higher keeps the user's version, and the
// user's go.sum lines stay.
func TestAddMetricsKeepsUsersModules(t *testing.T) {
	tree := treeOf(renderNew(t, answers(t, "health")))
	tree["go.mod"].Data = []byte(string(tree["go.mod"].Data) + `
// pinned for the CVE fix
require (
	example.com/mine v1.2.3
	golang.org/x/sys v0.99.0
)

replace example.com/mine => ../mine
`)
	userSum := "example.com/mine v1.2.3 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nexample.com/mine v1.2.3/go.mod h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=\n"
	tree["go.sum"] = &fstest.MapFile{Data: []byte(userSum)}
	cs, err := addTo(t, tree, "metrics")
	if err != nil {
		t.Fatal(err)
	}
	apply(tree, cs)
	f, err := modfile.Parse("go.mod", tree["go.mod"].Data, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range f.Require {
		got[r.Mod.Path] = r.Mod.Version
	}
	for path, v := range map[string]string{
		"example.com/mine": "v1.2.3", "golang.org/x/sys": "v0.99.0", "github.com/prometheus/client_golang": "v1.25.0",
	} {
		if got[path] != v {
			t.Errorf("go.mod requires %s %q, want %q:\n%s", path, got[path], v, tree["go.mod"].Data)
		}
	}
	if len(f.Replace) != 1 || !strings.Contains(string(tree["go.mod"].Data), "// pinned for the CVE fix") {
		t.Errorf("user's replace or comment lost:\n%s", tree["go.mod"].Data)
	}
	sum := string(tree["go.sum"].Data)
	for _, l := range strings.SplitAfter(userSum, "\n") {
		if !strings.Contains(sum, l) {
			t.Errorf("go.sum lost the user's line %q", l)
		}
	}
	if !strings.Contains(sum, "github.com/prometheus/client_golang v1.25.0 h1:") {
		t.Errorf("go.sum lacks client_golang:\n%s", sum)
	}
	// Adding again is a no-op: the merge is idempotent.
	again, err := Render(templates.FS, tree, manifestOf(t, tree).Answers, []string{"metrics"}, manifestOf(t, tree), testVersion)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range again {
		if c.Path == "go.mod" || c.Path == "go.sum" {
			t.Errorf("second add changed %s:\n%s", c.Path, Changes{c}.Diff())
		}
	}
}

// TestBrokenGoModIsRefused: a go.mod the merge cannot parse stops the add with the file's
// name, and nothing is rendered.
func TestBrokenGoModIsRefused(t *testing.T) {
	tree := treeOf(renderNew(t, answers(t, "health")))
	tree["go.mod"].Data = []byte("module example.com/demo\n\nrequire (\n")
	if _, err := addTo(t, tree, "metrics"); err == nil || !strings.Contains(err.Error(), "go.mod") {
		t.Fatalf("add to a broken go.mod: %v", err)
	}
	tree = treeOf(renderNew(t, answers(t, "health")))
	tree["go.sum"] = &fstest.MapFile{Data: []byte("garbage\n")}
	if _, err := addTo(t, tree, "metrics"); err == nil || !strings.Contains(err.Error(), "go.sum") {
		t.Fatalf("add to a broken go.sum: %v", err)
	}
}

func TestMergeSumsSortsLikeTheGoCommand(t *testing.T) {
	a := "m v1.10.0 h1:c=\nm v1.10.0/go.mod h1:d=\n"
	b := "m v1.9.0/go.mod h1:b=\nm v1.9.0 h1:a=\nm v1.10.0 h1:c=\n"
	got, err := MergeSums([]byte(a), []byte(b))
	if err != nil {
		t.Fatal(err)
	}
	want := "m v1.9.0 h1:a=\nm v1.9.0/go.mod h1:b=\nm v1.10.0 h1:c=\nm v1.10.0/go.mod h1:d=\n"
	if string(got) != want {
		t.Fatalf("got\n%swant\n%s", got, want)
	}
}

// TestEveryAlertHasARunbookSection: each runbook_url of rules.yaml points at a heading of
// docs/runbook.md, so a page never lands on a missing section, with metrics alone and with
// every feature that brings alerts of its own.
func TestEveryAlertHasARunbookSection(t *testing.T) {
	for _, tc := range []struct {
		set    []string
		alerts int
	}{{[]string{"metrics"}, 2}, {[]string{"leader", "metrics"}, 5}, {AllFeatures(), 11}} {
		tree := treeOf(renderNew(t, answers(t, tc.set...)))
		rules, runbook := string(tree["deploy/prometheus/rules.yaml"].Data), string(tree["docs/runbook.md"].Data)
		anchors := map[string]bool{}
		for _, l := range strings.Split(runbook, "\n") {
			if h, ok := strings.CutPrefix(l, "## "); ok {
				anchors[strings.ToLower(strings.ReplaceAll(h, " ", "-"))] = true
			}
		}
		n := 0
		for _, l := range strings.Split(rules, "\n") {
			if _, url, ok := strings.Cut(l, "runbook_url: "); ok {
				n++
				_, anchor, _ := strings.Cut(strings.Trim(url, `"`), "#")
				if !anchors[anchor] {
					t.Errorf("%v: runbook_url %s: no such section in docs/runbook.md", tc.set, url)
				}
			}
		}
		if n != tc.alerts {
			t.Errorf("%v: %d alerts with a runbook_url, want %d", tc.set, n, tc.alerts)
		}
	}
}

// TestRulesReadOnlySeriesTheDaemonHas: rules.yaml, its tests and the runbook speak of a
// feature's series exactly when the daemon has the feature: an alert on a series that can never
// exist would be silent forever, and one missing would leave a feature unwatched.
func TestRulesReadOnlySeriesTheDaemonHas(t *testing.T) {
	owners := map[string]string{"_batch_": "batch", "_supervisor_backoff": "recovery", "_config_last_reload_successful": "signals", "_leader": "leader"}
	for _, set := range Combinations() {
		if !slices.Contains(set, "metrics") || (len(set) > 4 && len(set) != len(AllFeatures())) {
			continue // every small set and the full one: enough to see each feature on and off
		}
		tree := treeOf(renderNew(t, answers(t, set...)))
		for _, file := range []string{"deploy/prometheus/rules.yaml", "deploy/prometheus/rules_test.yaml", "deploy/prometheus/operator.yaml", "docs/runbook.md", "docs/slo.md"} {
			text := string(tree[file].Data)
			for series, feature := range owners {
				got, want := strings.Contains(text, "demo"+series), slices.Contains(set, feature)
				if file == "docs/slo.md" && feature != "batch" {
					want = false // the SLO is batch's delivery; the others only alert
				}
				if got != want {
					t.Errorf("%v: %s mentions demo%s: %v, want %v (feature %s)", set, file, series, got, want, feature)
				}
			}
		}
	}
}

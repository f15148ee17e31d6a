package generator

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/daemongen/daemongen/templates"
)

func TestInsert(t *testing.T) {
	src := "func f() {\n\tdo()\n\t// daemongen:actors\n}\n"
	got, err := Insert([]byte(src), "daemongen:actors", "a()\nif x {\n\tb()\n}")
	if err != nil {
		t.Fatal(err)
	}
	want := "func f() {\n\tdo()\n\ta()\n\tif x {\n\t\tb()\n\t}\n\t// daemongen:actors\n}\n"
	if string(got) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	again, err := Insert(got, "daemongen:actors", "a()\nif x {\n\tb()\n}")
	if err != nil || string(again) != want {
		t.Fatalf("second insert changed the file (err %v):\n%s", err, again)
	}
}

// TestInsertSortsImports: an import goes where gofmt would sort it within the marker's group,
// among the template's and the user's own imports (an aliased one included), not at the marker.
func TestInsertSortsImports(t *testing.T) {
	src := "import (\n\t\"os\"\n\n\t\"m/internal/config\"\n\tw \"m/internal/worker\" // ours\n\t// daemongen:imports\n)\n"
	steps := []struct{ spec, want string }{
		{`"m/internal/lock"`, "import (\n\t\"os\"\n\n\t\"m/internal/config\"\n\t\"m/internal/lock\"\n\tw \"m/internal/worker\" // ours\n\t// daemongen:imports\n)\n"},
		{`"m/internal/batch"`, "import (\n\t\"os\"\n\n\t\"m/internal/batch\"\n\t\"m/internal/config\"\n\t\"m/internal/lock\"\n\tw \"m/internal/worker\" // ours\n\t// daemongen:imports\n)\n"},
		{`"m/internal/zeta"`, "import (\n\t\"os\"\n\n\t\"m/internal/batch\"\n\t\"m/internal/config\"\n\t\"m/internal/lock\"\n\tw \"m/internal/worker\" // ours\n\t\"m/internal/zeta\"\n\t// daemongen:imports\n)\n"},
	}
	got := []byte(src)
	for _, s := range steps {
		var err error
		if got, err = Insert(got, "daemongen:imports", s.spec); err != nil {
			t.Fatal(err)
		}
		if string(got) != s.want {
			t.Fatalf("after inserting %s:\n%s\nwant:\n%s", s.spec, got, s.want)
		}
	}
}

func TestInsertMarkerStyles(t *testing.T) {
	for _, tc := range []struct{ src, marker string }{
		{"x\n<!-- daemongen:features -->\n", "daemongen:features"},
		{"x\n# daemongen:targets\n", "daemongen:targets"},
		{"x\n    // daemongen:flags\n", "daemongen:flags"},
	} {
		got, err := Insert([]byte(tc.src), tc.marker, "new")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(got), "new\n") || !strings.Contains(string(got), tc.marker) {
			t.Errorf("Insert(%q) = %q: want the fragment above the kept marker", tc.src, got)
		}
	}
}

func TestInsertMissingMarker(t *testing.T) {
	_, err := Insert([]byte("package main\n// daemongen:actorz\n"), "daemongen:actors", "g.Add(x)")
	var me *MarkerError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v, want *MarkerError", err)
	}
	me.Path = "cmd/demo/main.go"
	for _, want := range []string{"cmd/demo/main.go", "daemongen:actors", "g.Add(x)"} {
		if !strings.Contains(me.Error(), want) {
			t.Errorf("message %q lacks %q", me.Error(), want)
		}
	}
}

func TestParseAndResolveFeatures(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"none", []string{}, ""},
		{"", []string{}, ""},
		{"all", AllFeatures(), ""},
		{" Signals , signals", []string{"signals"}, ""},
		{"signls", nil, `unknown feature "signls"; did you mean "signals"?`},
		{"xyzzy", nil, `unknown feature "xyzzy" (daemongen features lists them)`},
		{"none,signals", nil, `"none" cannot be combined`},
	}
	for _, tt := range tests {
		names, err := ParseFeatures(tt.in)
		if err == nil {
			names, err = Resolve(names)
		}
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: err = %v, want %q", tt.in, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("%q: %v", tt.in, err)
		case !slices.Equal(names, tt.want) && !(len(names) == 0 && len(tt.want) == 0):
			t.Errorf("%q: %q, want %q", tt.in, names, tt.want)
		}
	}
}

func TestCatalogIsSortedAndConsistent(t *testing.T) {
	names := AllFeatures()
	if !slices.IsSorted(names) {
		t.Errorf("Catalog is not sorted by name: %q", names)
	}
	for _, f := range Catalog {
		for _, dep := range slices.Concat(f.Requires, f.Conflicts) {
			if _, ok := Lookup(dep); !ok {
				t.Errorf("%s names unknown feature %q", f.Name, dep)
			}
		}
	}
	combos := Combinations()
	if len(combos) == 0 || len(combos[0]) != 0 {
		t.Fatalf("Combinations must start with the empty set, got %q", combos)
	}
}

func TestValidate(t *testing.T) {
	ok := Answers{Name: "demo", Module: "example.com/demo", Go: "1.26", Features: []string{"signals"}}
	a, err := ok.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if a.Settings["shutdown-timeout"] != "25s" {
		t.Errorf("default setting not filled: %v", a.Settings)
	}
	tests := []struct {
		name   string
		modify func(*Answers)
		want   string
	}{
		{"upper-case name", func(a *Answers) { a.Name = "Demo" }, "invalid NAME \"Demo\""},
		{"name with space", func(a *Answers) { a.Name = "my app" }, "e.g. my-app"},
		{"bad module", func(a *Answers) { a.Module = "Foo Bar" }, `invalid --module "Foo Bar"`},
		{"unknown feature", func(a *Answers) { a.Features = []string{"helth"} }, "unknown feature"},
		{"bad setting", func(a *Answers) { a.Settings = map[string]string{"shutdown-timeout": "soon"} }, "--shutdown-timeout"},
		{"unknown setting", func(a *Answers) { a.Settings = map[string]string{"nope": "1"} }, "no feature has this setting"},
		{"bad go version", func(a *Answers) { a.Go = "go1.26" }, "go version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ok
			tt.modify(&a)
			_, err := a.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestGoDuration(t *testing.T) {
	for in, want := range map[string]string{"25s": "25*time.Second", "2m": "2*time.Minute", "1500ms": "1500*time.Millisecond", "1h": "1*time.Hour"} {
		a := Answers{Settings: map[string]string{"d": in}}
		if got, err := a.GoDuration("d"); err != nil || got != want {
			t.Errorf("GoDuration(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestOutputPath(t *testing.T) {
	for in, want := range map[string]string{
		"cmd/__name__/main.go.tmpl":        "cmd/demo/main.go",
		"dot-gitignore.tmpl":               ".gitignore",
		"dot-github/workflows/ci.yml.tmpl": ".github/workflows/ci.yml",
	} {
		if got := OutputPath(in, "demo"); got != want {
			t.Errorf("OutputPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	a := answers(t, AllFeatures()...)
	first := archive(renderNew(t, a))
	for range 3 {
		if again := archive(renderNew(t, a)); string(again) != string(first) {
			t.Fatal("two renders of the same answers differ")
		}
	}
}

func TestRenderReportsTemplateErrorsWithNameAndLine(t *testing.T) {
	tmpl := fstest.MapFS{"base/files/x.go.tmpl": {Data: []byte("package x\n\nfunc {{ .Name }( {\n")}}
	_, err := Render(tmpl, fstest.MapFS{}, answers(t), []string{"base"}, Manifest{}, testVersion)
	if err == nil || !strings.Contains(err.Error(), "base/files/x.go.tmpl") || !strings.Contains(err.Error(), "3:") {
		t.Fatalf("err = %v, want the template name and a line number", err)
	}
}

func TestRenderRefusesOwnedFileWithOtherContent(t *testing.T) {
	tree := fstest.MapFS{"go.mod": {Data: []byte("module other\n")}}
	_, err := Render(templates.FS, tree, answers(t), []string{"base"}, Manifest{}, testVersion)
	var oe *OwnedFileError
	if !errors.As(err, &oe) || oe.Path != "go.mod" {
		t.Fatalf("err = %v, want an OwnedFileError for go.mod", err)
	}
}

func TestManifestRoundTripAndSchema(t *testing.T) {
	cs := renderNew(t, answers(t, "signals"))
	i := slices.IndexFunc(cs, func(c Change) bool { return c.Path == ManifestName })
	if i < 0 {
		t.Fatal("no manifest rendered")
	}
	m, err := DecodeManifest(ManifestName, cs[i].New)
	if err != nil {
		t.Fatal(err)
	}
	if m.Answers.Name != "demo" || len(m.Files) != len(cs)-1 {
		t.Errorf("manifest: %+v, want demo and a hash for each of the %d other files", m.Answers, len(cs)-1)
	}
	for _, bad := range []string{`{}`, `{"schema":99}`, `{"schema":1,"extra":true}`, `not json`} {
		if _, err := DecodeManifest("x.json", []byte(bad)); err == nil {
			t.Errorf("DecodeManifest(%s) accepted it", bad)
		}
	}
}

func TestSameWords(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"health    *health.Config", "health *health.Config", true},
		{"\thealth: health.Flags(fs),\n", "health:\thealth.Flags(fs),", true},
		{"a b", "ab", false},
		{"ab", "a b", false},
		{"abc", "ab", false},
		{"", "  \t", true},
		{"x", "", false},
	} {
		if got := sameWords(tt.a, tt.b); got != tt.want {
			t.Errorf("sameWords(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// A template without actions is copied verbatim, but once a fragment lands in it, it must be
// formatted like any other Go file.
// What templates render is written as it comes, never reformatted (templates are written as
// gofmt writes them; TestRenderedGoIsGofmtClean proves it), while a user's file that receives
// the same fragment is gofmt'd, as the user's gofmt would.
func TestOnlyUserFilesAreFormatted(t *testing.T) {
	tmpl := fstest.MapFS{
		"base/files/x.go.tmpl":        {Data: []byte("package x\n\ntype T struct {\n\ta int\n\t// daemongen:fields\n}\n")},
		"features/extra/inserts.tmpl": {Data: []byte(`{{ define "x.go daemongen:fields" }}longer string{{ end }}`)},
	}
	x := func(cs Changes) string {
		return string(cs[slices.IndexFunc(cs, func(c Change) bool { return c.Path == "x.go" })].New)
	}
	cs, err := Render(tmpl, fstest.MapFS{}, answers(t), []string{"base", "extra"}, Manifest{}, testVersion)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := x(cs), "package x\n\ntype T struct {\n\ta int\n\tlonger string\n\t// daemongen:fields\n}\n"; got != want {
		t.Errorf("rendered x.go =\n%s\nwant it as the templates wrote it:\n%s", got, want)
	}
	user := fstest.MapFS{"x.go": {Data: []byte("package x\n\ntype T struct {\n\ta int\n\t// daemongen:fields\n}\n")}}
	cs, err = Render(tmpl, user, answers(t), []string{"extra"}, Manifest{}, testVersion)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := x(cs), "package x\n\ntype T struct {\n\ta      int\n\tlonger string\n\t// daemongen:fields\n}\n"; got != want {
		t.Errorf("the user's x.go after the insertion =\n%s\nwant it gofmt'd:\n%s", got, want)
	}
}

// A fragment for a file another feature owns goes in when that file is created, whichever of
// the two features is rendered first or added later, and is left out without the owner; a
// fragment for a file nobody creates is still an error.
func TestFragmentForAnotherFeaturesFile(t *testing.T) {
	tmpl := fstest.MapFS{
		"base/files/a.txt.tmpl":              {Data: []byte("a\n")},
		"features/metrics/files/r.yaml.tmpl": {Data: []byte("rules:\n  # daemongen:rules\n")},
		"features/batch/inserts.tmpl":        {Data: []byte(`{{ define "r.yaml daemongen:rules" }}- batch{{ end }}`)},
		"features/recovery/inserts.tmpl":     {Data: []byte(`{{ define "r.yaml daemongen:rules" }}- recovery{{ end }}`)},
		"features/signals/inserts.tmpl":      {Data: []byte(`{{ define "nowhere.txt daemongen:x" }}x{{ end }}`)},
	}
	render := func(tree fstest.MapFS, features []string, units ...string) fstest.MapFS {
		t.Helper()
		a := answers(t)
		a.Features = features
		cs, err := Render(tmpl, tree, a, units, Manifest{}, testVersion)
		if err != nil {
			t.Fatal(err)
		}
		out := fstest.MapFS{}
		for p, f := range tree {
			out[p] = f
		}
		for _, c := range cs {
			out[c.Path] = &fstest.MapFile{Data: c.New}
		}
		return out
	}
	want := "rules:\n  - batch\n  - recovery\n  # daemongen:rules\n"
	all := []string{"batch", "metrics", "recovery"}
	if got := string(render(fstest.MapFS{}, all, "base", "batch", "metrics", "recovery")["r.yaml"].Data); got != want {
		t.Errorf("new: r.yaml =\n%s\nwant\n%s", got, want)
	}
	// metrics added last: the fragments of the features already there go in.
	tree := render(fstest.MapFS{}, []string{"batch", "recovery"}, "base", "batch", "recovery")
	if _, ok := tree["r.yaml"]; ok {
		t.Fatal("r.yaml created without the feature that owns it")
	}
	if got := string(render(tree, all, "metrics")["r.yaml"].Data); got != want {
		t.Errorf("add metrics: r.yaml =\n%s\nwant\n%s", got, want)
	}
	// batch added last: its fragment goes above recovery's, in catalog order.
	tree = render(fstest.MapFS{}, []string{"metrics", "recovery"}, "base", "metrics", "recovery")
	if got := string(render(tree, all, "batch")["r.yaml"].Data); got != want {
		t.Errorf("add batch: r.yaml =\n%s\nwant\n%s", got, want)
	}
	a := answers(t)
	a.Features = []string{"signals"}
	if _, err := Render(tmpl, fstest.MapFS{}, a, []string{"base", "signals"}, Manifest{}, testVersion); err == nil || !strings.Contains(err.Error(), "nowhere.txt") {
		t.Errorf("fragment for a file nobody creates: err = %v, want one naming nowhere.txt", err)
	}
}

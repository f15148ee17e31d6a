package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/daemongen/daemongen/generator"
)

// newProject generates a project with the given features and returns its directory.
func newProject(t *testing.T, features string) string {
	t.Helper()
	out := t.TempDir()
	if r := daemongen(t, nil, "new", "demo", "-m", "example.com/demo", "-f", features, "-o", out); r.code != 0 {
		t.Fatalf("new: exit %d: %s", r.code, r.stderr)
	}
	return filepath.Join(out, "demo")
}

func TestAddFromInsideTheProject(t *testing.T) {
	dir := newProject(t, "none")
	t.Chdir(filepath.Join(dir, "internal")) // found by searching upward, like git
	r := daemongen(t, nil, "add", "batch")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"also adding signals (required by batch)", "created internal/batch/batch.go", "updated cmd/demo/main.go", "added batch, signals"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	before := listTree(t, dir)
	r = daemongen(t, nil, "add", "batch", "batch")
	if r.code != 0 || !strings.HasSuffix(r.stdout, " already has batch; nothing to do\n") {
		t.Fatalf("second add: exit %d, %q; want batch named once", r.code, r.stdout)
	}
	if after := listTree(t, dir); len(after) != len(before) {
		t.Fatal("adding an enabled feature changed the tree")
	}
}

func TestAddDryRunShowsDiffAndWritesNothing(t *testing.T) {
	dir := newProject(t, "none")
	before := listTree(t, dir)
	r := daemongen(t, nil, "add", "health", "--dir", dir, "--dry-run", "--admin-addr", "127.0.0.1:9090")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"--- a/cmd/demo/main.go", "+\th, err := startHealth(g, logger, opts.health)", `"127.0.0.1:9090"`, "+++ b/internal/health/health.go"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry-run diff lacks %q", want)
		}
	}
	after := listTree(t, dir)
	for p, content := range before {
		if string(after[p]) != string(content) {
			t.Errorf("--dry-run changed %s", p)
		}
	}
	if len(after) != len(before) {
		t.Error("--dry-run created files")
	}
}

func TestAddRefusals(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		args  []string
		code  int
		want  []string
	}{
		{"outside a project", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, generator.ManifestName)) },
			[]string{"add", "lock"}, 2, []string{"not inside a daemongen project", ".daemongen.json"}},
		{"corrupted manifest", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, generator.ManifestName), []byte("{not json"), 0o644)
		}, []string{"add", "lock"}, 2, []string{"not a daemongen manifest"}},
		{"manifest from a newer daemongen", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, generator.ManifestName), []byte(`{"schema": 99}`), 0o644)
		}, []string{"add", "lock"}, 2, []string{"schema 99 is newer", "upgrade daemongen"}},
		{"marker deleted", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "cmd", "demo", "main.go")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, []byte(strings.Replace(string(b), "\t// daemongen:startup\n", "", 1)), 0o644)
		}, []string{"add", "lock"}, 1, []string{"cmd/demo/main.go", "daemongen:startup", "paste these lines by hand", "lock.Acquire("}},
		{"feature-owned file exists", func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, "internal", "lock"), 0o755)
			os.WriteFile(filepath.Join(dir, "internal", "lock", "lock.go"), []byte("package lock\n"), 0o644)
		}, []string{"add", "lock"}, 1, []string{"internal/lock/lock.go already exists", "move it aside"}},
		{"unknown feature", func(*testing.T, string) {}, []string{"add", "lok"}, 2, []string{`did you mean "lock"`}},
		{"no feature", func(*testing.T, string) {}, []string{"add"}, 2, []string{"name at least one feature"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := newProject(t, "none")
			tt.setup(t, dir)
			before := listTree(t, dir)
			t.Chdir(dir)
			r := daemongen(t, nil, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d: %s", r.code, tt.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			after := listTree(t, dir)
			if len(after) != len(before) {
				t.Errorf("a refused add changed the number of files: %d → %d", len(before), len(after))
			}
			for p, content := range before {
				if string(after[p]) != string(content) {
					t.Errorf("a refused add changed %s", p)
				}
			}
		})
	}
}

func TestStatusReportsEdits(t *testing.T) {
	dir := newProject(t, "signals")
	r := daemongen(t, nil, "status", "--dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "features:  signals") || !strings.Contains(r.stdout, "as daemongen wrote them") {
		t.Fatalf("status: exit %d\n%s", r.code, r.stdout)
	}
	p := filepath.Join(dir, "internal", "worker", "worker.go")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, append(b, []byte("// mine\n")...), 0o644)
	os.Remove(filepath.Join(dir, "Makefile"))
	r = daemongen(t, nil, "status", "--dir", dir)
	if !strings.Contains(r.stdout, "internal/worker/worker.go") || !strings.Contains(r.stdout, "Makefile (deleted)") {
		t.Fatalf("status misses the edits:\n%s", r.stdout)
	}
	r = daemongen(t, nil, "add", "lock", "--dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "you have changed 2 generated file(s)") {
		t.Fatalf("add does not mention the user's edits: exit %d\n%s", r.code, r.stdout)
	}
}

// TestAddSettingsFlags: a settings flag on add is applied when its feature is being added and
// refused (exit 2, nothing written) otherwise; never silently ignored.
func TestAddSettingsFlags(t *testing.T) {
	dir := newProject(t, "none")
	r := daemongen(t, nil, "add", "docker", "--dir", dir, "--admin-addr", ":9090")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "Dockerfile")); !strings.Contains(string(b), "EXPOSE 9090") {
		t.Fatalf("--admin-addr :9090 did not reach the Dockerfile:\n%s", b)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"add", "k8s", "--admin-addr", ":7070"}, "--admin-addr belongs to health, which the project already has"},
		{[]string{"add", "lock", "--shutdown-timeout", "30s"}, "--shutdown-timeout belongs to the base project"},
		{[]string{"add", "health", "--admin-addr", ":7070"}, "--admin-addr belongs to health, which the project already has"}, // nothing else to do
		{[]string{"add", "lock", "--admin-addr", "garbage"}, "--admin-addr configures health, which this add does not add"},
	} {
		if tt.args[1] == "lock" && strings.Contains(tt.want, "does not add") {
			dir = newProject(t, "none") // a project without health
		}
		before := listTree(t, dir)
		r := daemongen(t, nil, append(tt.args, "--dir", dir)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
		if after := listTree(t, dir); len(after) != len(before) {
			t.Errorf("%q: a refused add changed the tree", tt.args)
		}
	}
}

// TestAddUsesTheModulePathOfGoMod: after `go mod edit -module`, add imports the project's
// packages by the path go.mod declares, and records it.
func TestAddUsesTheModulePathOfGoMod(t *testing.T) {
	dir := newProject(t, "none")
	gomod := filepath.Join(dir, "go.mod")
	b, _ := os.ReadFile(gomod)
	os.WriteFile(gomod, []byte(strings.Replace(string(b), "module example.com/demo", "module github.com/acme/demo", 1)), 0o644)
	r := daemongen(t, nil, "add", "lock", "--dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "github.com/acme/demo") {
		t.Fatalf("exit %d, stdout %q, stderr %q: want a note naming the module of go.mod", r.code, r.stdout, r.stderr)
	}
	main, _ := os.ReadFile(filepath.Join(dir, "cmd", "demo", "main.go"))
	if !strings.Contains(string(main), `"github.com/acme/demo/internal/lock"`) {
		t.Fatal("add imported the lock package by the manifest's old module path")
	}
	m, _ := os.ReadFile(filepath.Join(dir, generator.ManifestName))
	if !strings.Contains(string(m), `"module": "github.com/acme/demo"`) {
		t.Fatal("the manifest does not record the module path of go.mod")
	}
}

// TestConcurrentAddsLoseNothing: two adds on one project at once (docker ‖ k8s) end, every
// time, with both features, each file as `new` with both would write it, manifest included.
func TestConcurrentAddsLoseNothing(t *testing.T) {
	want := listTree(t, newProject(t, "docker,k8s"))
	for i := range 20 {
		dir := newProject(t, "none")
		var wg sync.WaitGroup
		results := make([]result, 2)
		for j, f := range []string{"docker", "k8s"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[j] = daemongen(t, nil, "add", f, "--dir", dir)
			}()
		}
		wg.Wait()
		for j, r := range results {
			if r.code != 0 {
				t.Fatalf("run %d, add %d: exit %d: %s", i, j, r.code, r.stderr)
			}
		}
		got := listTree(t, dir)
		for p, content := range want {
			if !bytes.Equal(got[p], content) {
				t.Fatalf("run %d: %s differs from new -f docker,k8s:\n%s", i, p, generator.Changes{{Path: p, Old: content, New: got[p]}}.Diff())
			}
		}
		for p := range got {
			if _, ok := want[p]; !ok {
				t.Fatalf("run %d: extra file %s", i, p)
			}
		}
	}
}

// TestStatusKeepsEditsAfterAdds: the manifest records what daemongen would generate, not the
// merge with the user's edits, so edits stay reported after any number of adds, and files
// the user did not touch stay unreported.
func TestStatusKeepsEditsAfterAdds(t *testing.T) {
	dir := newProject(t, "none")
	for _, p := range []string{"cmd/demo/main.go", "README.md"} {
		full := filepath.Join(dir, filepath.FromSlash(p))
		b, _ := os.ReadFile(full)
		os.WriteFile(full, append(b, "\n// mine\n"...), 0o644) // a comment in Go, a line in Markdown
	}
	for _, f := range []string{"lock", "health", "batch"} {
		if r := daemongen(t, nil, "add", f, "--dir", dir); r.code != 0 {
			t.Fatalf("add %s: exit %d: %s", f, r.code, r.stderr)
		}
		r := daemongen(t, nil, "status", "--dir", dir)
		want := "changed since generated (2):\n  README.md\n  cmd/demo/main.go\n"
		if !strings.HasSuffix(r.stdout, want) {
			t.Fatalf("status after add %s:\n%s\nwant it to end with:\n%s", f, r.stdout, want)
		}
	}
}

// TestAddRespectsFileMetadata: add updates a symlinked README.md where it lives (inside the
// project: a link out of it is refused, see project's tests), keeps its CRLF line endings and
// keeps main.go's 0600 mode.
func TestAddRespectsFileMetadata(t *testing.T) {
	dir := newProject(t, "none")
	readme := filepath.Join(dir, "README.md")
	b, _ := os.ReadFile(readme)
	os.Mkdir(filepath.Join(dir, "docs"), 0o755)
	real := filepath.Join(dir, "docs", "README.md")
	os.WriteFile(real, []byte(strings.ReplaceAll(string(b), "\n", "\r\n")), 0o644)
	os.Remove(readme)
	os.Symlink(real, readme)
	main := filepath.Join(dir, "cmd", "demo", "main.go")
	os.Chmod(main, 0o600)
	if r := daemongen(t, nil, "add", "lock", "--dir", dir); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if fi, _ := os.Lstat(readme); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("README.md is no longer a symlink")
	}
	got, _ := os.ReadFile(real)
	if !strings.Contains(string(got), "`--lock-file`") || strings.Count(string(got), "\n") != strings.Count(string(got), "\r\n") {
		t.Errorf("the link's target did not get the fragment with CRLF endings:\n%q", got)
	}
	if fi, _ := os.Stat(main); fi.Mode().Perm() != 0o600 {
		t.Errorf("main.go mode %v, want 0600", fi.Mode().Perm())
	}
}

// TestPastingTheMissingFragmentLetsAddFinish: after a marker is deleted, doing what the
// refusal says (pasting the printed lines where the marker stood) lets the same add finish.
func TestPastingTheMissingFragmentLetsAddFinish(t *testing.T) {
	dir := newProject(t, "none")
	p := filepath.Join(dir, "cmd", "demo", "main.go")
	b, _ := os.ReadFile(p)
	const marker = "\t// daemongen:startup\n"
	at := strings.Index(string(b), marker)
	os.WriteFile(p, []byte(strings.Replace(string(b), marker, "", 1)), 0o644)
	r := daemongen(t, nil, "add", "lock", "--dir", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "where the marker stood") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")[1:]
	var paste strings.Builder
	for _, l := range lines {
		paste.WriteString(strings.TrimPrefix(l, "\t") + "\n")
	}
	edited, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(string(edited[:at])+paste.String()+string(edited[at:])), 0o644)
	if r := daemongen(t, nil, "add", "lock", "--dir", dir); r.code != 0 {
		t.Fatalf("after pasting %q where the marker stood: exit %d: %s", paste.String(), r.code, r.stderr)
	}
	if m, _ := os.ReadFile(filepath.Join(dir, ".daemongen.json")); !strings.Contains(string(m), `"lock"`) {
		t.Fatal("lock was not recorded")
	}
}

// TestAddRefusesAnUnusableModulePathInGoMod: a go.mod module path daemongen cannot import by
// is named as go.mod's, exit 2, nothing written.
func TestAddRefusesAnUnusableModulePathInGoMod(t *testing.T) {
	dir := newProject(t, "none")
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module demo\n\ngo 1.26\n"), 0o644)
	before := listTree(t, dir)
	r := daemongen(t, nil, "add", "lock", "--dir", dir)
	if r.code != 2 || !strings.Contains(r.stderr, `go.mod declares module "demo"`) {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if after := listTree(t, dir); len(after) != len(before) {
		t.Fatal("a refused add wrote files")
	}
}

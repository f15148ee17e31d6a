package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/diff"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/internal/projecttest"
	"github.com/daemongen/daemongen/project"
)

// The templates of "daemongen v1.0.0", built from a copy of this module with these changes,
// relative to the running tree (v1.1.0):
//   - README.md and .gitignore: one line reworded (v1.1.0 changed them);
//   - internal/leaktest/leaktest.go: a trailing comment v1.1.0 removed;
//   - OLDNOTES.md and OLDEDITED.md: files v1.1.0 no longer generates;
//   - .golangci.yml: not generated yet (v1.1.0 adds it).
const (
	oldVersion, newVersion = "v1.0.0", "v1.1.0"
	readmeOld              = "It only uses the Go standard library."
	readmeNew              = "It uses only the Go standard library."
	ignoreOld              = "# Build output (make build)"
	ignoreNew              = "# Build outputs (make build)"
	leakOld                = "\n// An old trailing comment.\n"
)

// oldModule writes the v1.0.0 copy of the module into dir and returns it.
func oldModule(t *testing.T, dir string) string {
	t.Helper()
	src := filepath.Join(dir, "src")
	wd, _ := os.Getwd()
	err := filepath.WalkDir(wd, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(wd, p)
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "golden" || d.Name() == "bench") {
			return filepath.SkipDir
		}
		if d.IsDir() || !d.Type().IsRegular() || rel == "daemongen" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		os.MkdirAll(filepath.Join(src, filepath.Dir(rel)), 0o755)
		return os.WriteFile(filepath.Join(src, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	tf := filepath.Join(src, "templates", "base", "files")
	edit := func(rel, from, to string) {
		p := filepath.Join(tf, rel)
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte(from)) {
			t.Fatalf("%s no longer holds %q: update the test's v1.0.0 changes", rel, from)
		}
		os.WriteFile(p, bytes.Replace(b, []byte(from), []byte(to), 1), 0o644)
	}
	edit("README.md.tmpl", readmeNew, readmeOld)
	edit("dot-gitignore.tmpl", ignoreNew, ignoreOld)
	edit("internal/leaktest/leaktest.go.tmpl", "return id\n}\n", "return id\n}\n"+leakOld)
	os.WriteFile(filepath.Join(tf, "OLDNOTES.md.tmpl"), []byte("Notes for {{ .Name }}.\n"), 0o644)
	os.WriteFile(filepath.Join(tf, "OLDEDITED.md.tmpl"), []byte("More notes for {{ .Name }}.\n"), 0o644)
	if err := os.Remove(filepath.Join(tf, "dot-golangci.yml.tmpl")); err != nil {
		t.Fatal(err)
	}
	return src
}

func buildDaemongen(t *testing.T, src, v, out string) string {
	t.Helper()
	cmd := exec.Command("go", "build", "-ldflags", "-X main.version="+v, "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building daemongen %s: %v\n%s", v, err, b)
	}
	return out
}

func requireGoAndGit(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds daemongen binaries; skipped with -short")
	}
	for _, c := range []string{"go", "git"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("no %s on PATH", c)
		}
	}
}

// generateOld renders a project with the old binary and returns its directory.
func generateOld(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out := t.TempDir()
	cmd := exec.Command(bin, append([]string{"new", "demo", "--yes", "-o", out}, args...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("daemongen %s new: %v\n%s", oldVersion, err, b)
	}
	return filepath.Join(out, "demo")
}

// asVersion runs the in-process daemongen as version v.
func asVersion(t *testing.T, v string) {
	old := version
	version = v
	t.Cleanup(func() { version = old })
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func appendFile(t *testing.T, p, s string) {
	t.Helper()
	writeFile(t, p, readFile(t, p)+s)
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func manifestOf(t *testing.T, dir string) generator.Manifest {
	t.Helper()
	m, err := generator.DecodeManifest("m", []byte(readFile(t, filepath.Join(dir, generator.ManifestName))))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// recordGenerator rewrites the project's manifest as if daemongen version v had generated it.
func recordGenerator(t *testing.T, dir, v string) {
	t.Helper()
	m := manifestOf(t, dir)
	m.Generator = v
	enc, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, generator.ManifestName), string(enc))
}

// treeDiff is the unified diff from one tree to another, in update --dry-run's format.
func treeDiff(before, after map[string][]byte) string {
	var paths []string
	for p := range before {
		paths = append(paths, p)
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	var b strings.Builder
	for _, p := range paths {
		o, inOld := before[p]
		n, inNew := after[p]
		from, to := "a/"+p, "b/"+p
		if !inOld {
			from = "/dev/null"
		}
		if !inNew {
			to = "/dev/null"
		}
		b.Write(diff.Diff(from, o, to, n))
	}
	return b.String()
}

// userEdits makes the edits every scenario starts from, on a v1.0.0 project.
func userEdits(t *testing.T, dir string) {
	t.Helper()
	appendFile(t, filepath.Join(dir, "README.md"), "\n## Our runbook\n\nPage the on-call.\n") // merges cleanly
	writeFile(t, filepath.Join(dir, ".gitignore"), strings.Replace(readFile(t, filepath.Join(dir, ".gitignore")), ignoreOld, "# Build outputs (make build; make dist too)", 1))
	appendFile(t, filepath.Join(dir, "cmd/demo/main.go"), "\n// Our comment.\n") // template unchanged
	appendFile(t, filepath.Join(dir, "OLDEDITED.md"), "Ours now.\n")             // template gone, edited
	if err := os.Remove(filepath.Join(dir, "Makefile")); err != nil {            // deleted by the user
		t.Fatal(err)
	}
}

func TestUpdate(t *testing.T) {
	requireGoAndGit(t)
	work := t.TempDir()
	src := oldModule(t, work)
	old := buildDaemongen(t, src, oldVersion, filepath.Join(work, "daemongen-"+oldVersion))
	asVersion(t, newVersion)
	pristine, err := renderProject(manifestOf(t, generateOld(t, old)).Answers, newVersion)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("merge", func(t *testing.T) {
		dir := generateOld(t, old)
		userEdits(t, dir)
		before := listTree(t, dir)

		// The dry run exits as the real run will: 1, a conflict is left in .gitignore.
		dry := daemongen(t, nil, "update", "--dir", dir, "--base-from", old, "--dry-run")
		if dry.code != 1 || !strings.Contains(dry.stderr, "1 file(s) with conflicts would be left to resolve: .gitignore") {
			t.Fatalf("--dry-run: exit %d: %s", dry.code, dry.stderr)
		}
		if got := listTree(t, dir); treeDiff(before, got) != "" {
			t.Fatalf("--dry-run wrote:\n%s", treeDiff(before, got))
		}

		r := daemongen(t, nil, "update", "--dir", dir, "--base-from", old)
		if r.code != 1 || !strings.Contains(r.stderr, "1 file(s) with conflicts left to resolve: .gitignore") {
			t.Fatalf("exit %d, stderr %q, want 1 and the conflict in .gitignore listed", r.code, r.stderr)
		}
		after := listTree(t, dir)
		if d := treeDiff(before, after); d != dry.stdout {
			t.Errorf("--dry-run printed a diff other than what update did:\n--- dry-run\n%s\n--- update\n%s", dry.stdout, d)
		}
		readme := string(after["README.md"])
		if !strings.Contains(readme, readmeNew) || strings.Contains(readme, readmeOld) || !strings.Contains(readme, "Page the on-call.") {
			t.Errorf("README.md did not merge the template's change and the user's section:\n%s", readme)
		}
		wantConflict := "<<<<<<< yours\n# Build outputs (make build; make dist too)\n||||||| base (daemongen v1.0.0)\n" + ignoreOld + "\n=======\n" + ignoreNew + "\n>>>>>>> daemongen v1.1.0\n"
		if !strings.Contains(string(after[".gitignore"]), wantConflict) {
			t.Errorf(".gitignore lacks the diff3 conflict block %q:\n%s", wantConflict, after[".gitignore"])
		}
		if string(after["internal/leaktest/leaktest.go"]) != string(pristine["internal/leaktest/leaktest.go"]) {
			t.Error("the unedited internal/leaktest/leaktest.go is not the new render")
		}
		if !strings.HasSuffix(string(after["cmd/demo/main.go"]), "\n// Our comment.\n") {
			t.Error("the edit of cmd/demo/main.go (template unchanged) is gone")
		}
		if _, ok := after["OLDNOTES.md"]; ok {
			t.Error("OLDNOTES.md, unedited and no longer generated, is still there")
		}
		if !strings.HasSuffix(string(after["OLDEDITED.md"]), "Ours now.\n") {
			t.Error("OLDEDITED.md, edited and no longer generated, was not kept")
		}
		if string(after[".golangci.yml"]) != string(pristine[".golangci.yml"]) {
			t.Error(".golangci.yml, newly generated, was not created")
		}
		if _, ok := after["Makefile"]; ok {
			t.Error("the Makefile the user deleted is back")
		}
		m := manifestOf(t, dir)
		if m.Generator != newVersion || !slices.Equal(m.Deleted, []string{"Makefile"}) {
			t.Errorf("manifest generator %q, deleted %q; want %s and [Makefile]", m.Generator, m.Deleted, newVersion)
		}
		for p, c := range pristine {
			if h := m.Files[p]; p != "Makefile" && h != hashOf(c) {
				t.Errorf("manifest hash of %s is not the new pristine render's", p)
			}
		}
		if _, ok := m.Files["OLDEDITED.md"]; ok {
			t.Error("the manifest still tracks OLDEDITED.md, which is the user's now")
		}

		// Unresolved markers: refused, nothing written.
		r = daemongen(t, nil, "update", "--dir", dir)
		if r.code != 1 || !strings.Contains(r.stderr, "conflicts unresolved in .gitignore") {
			t.Fatalf("update over unresolved markers: exit %d, %q", r.code, r.stderr)
		}
		// The weekly --check job must not stay green while markers are in the tree, and status
		// says where they are.
		if r := daemongen(t, nil, "update", "--dir", dir, "--check"); r.code != 1 || !strings.Contains(r.stderr, "conflicts unresolved in .gitignore") {
			t.Errorf("--check over unresolved markers: exit %d, %q; want 1 naming .gitignore", r.code, r.stderr)
		}
		if r := daemongen(t, nil, "status", "--dir", dir); r.code != 0 || !strings.Contains(r.stdout, "conflicts: unresolved in .gitignore") {
			t.Errorf("status over unresolved markers: exit %d, %q; want the conflict in .gitignore listed", r.code, r.stdout)
		}
		// Resolved: the next update is a no-op, and --check says current.
		writeFile(t, filepath.Join(dir, ".gitignore"), strings.Replace(string(pristine[".gitignore"]), ignoreNew, "# Build outputs (make build; make dist too)", 1))
		resolved := listTree(t, dir)
		r = daemongen(t, nil, "update", "--dir", dir)
		if r.code != 0 || !strings.Contains(r.stdout, "nothing to do") {
			t.Fatalf("second update: exit %d, %q %q", r.code, r.stdout, r.stderr)
		}
		if d := treeDiff(resolved, listTree(t, dir)); d != "" {
			t.Errorf("a second update changed files:\n%s", d)
		}
		if r := daemongen(t, nil, "update", "--dir", dir, "--check"); r.code != 0 {
			t.Errorf("--check after update: exit %d, %q", r.code, r.stderr)
		}

		// An answer changed through a flag: re-rendered through the same merge.
		r = daemongen(t, nil, "update", "--dir", dir, "--shutdown-timeout", "40s")
		if r.code != 0 {
			t.Fatalf("update --shutdown-timeout: exit %d: %s", r.code, r.stderr)
		}
		readme = readFile(t, filepath.Join(dir, "README.md"))
		if !strings.Contains(readme, "40s") || !strings.Contains(readme, "Page the on-call.") {
			t.Errorf("README.md after --shutdown-timeout 40s lacks the new value or the user's section:\n%s", readme)
		}
		if m := manifestOf(t, dir); m.Answers.Settings["shutdown-timeout"] != "40s" {
			t.Errorf("manifest records shutdown-timeout %q", m.Answers.Settings["shutdown-timeout"])
		}
		if r := daemongen(t, nil, "update", "--dir", dir, "--check"); r.code != 0 {
			t.Errorf("--check after the answer change: exit %d, %q", r.code, r.stderr)
		}
		// A project of the previous release, edited and updated, builds and passes its tests.
		projecttest.Go(t, dir, "vet", "./...")
		projecttest.Go(t, dir, "test", "-count=1", "./...")
	})

	t.Run("check", func(t *testing.T) {
		dir := generateOld(t, old)
		before := listTree(t, dir)
		r := daemongen(t, nil, "update", "--dir", dir, "--check")
		if r.code != 1 || !strings.Contains(r.stderr, "an update is available (daemongen v1.0.0 → v1.1.0)") || !strings.Contains(r.stderr, ".golangci.yml (new)") {
			t.Fatalf("--check on a v1.0.0 project: exit %d, %q", r.code, r.stderr)
		}
		if d := treeDiff(before, listTree(t, dir)); d != "" {
			t.Fatalf("--check wrote:\n%s", d)
		}
		// Unedited project: the update is exactly the new render.
		if r := daemongen(t, nil, "update", "--dir", dir, "--base-from", old); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		got := listTree(t, dir)
		delete(got, generator.ManifestName)
		if d := treeDiff(pristine, got); d != "" {
			t.Errorf("an unedited project updated differs from a new one:\n%s", d)
		}
		if r := daemongen(t, nil, "update", "--dir", dir, "--check"); r.code != 0 {
			t.Errorf("--check after update: exit %d, %q", r.code, r.stderr)
		}
	})

	t.Run("rej", func(t *testing.T) {
		dir := generateOld(t, old)
		userEdits(t, dir)
		edited := readFile(t, filepath.Join(dir, ".gitignore"))
		r := daemongen(t, nil, "update", "--dir", dir, "--base-from", old, "--conflict=rej")
		if r.code != 1 {
			t.Fatalf("exit %d, want 1: %s", r.code, r.stderr)
		}
		if got := readFile(t, filepath.Join(dir, ".gitignore")); got != edited {
			t.Errorf(".gitignore is not kept as the user's:\n%s", got)
		}
		rej := readFile(t, filepath.Join(dir, ".gitignore.rej"))
		if !strings.Contains(rej, "-"+ignoreOld+"\n") || !strings.Contains(rej, "+"+ignoreNew+"\n") {
			t.Errorf(".gitignore.rej does not hold the template's change:\n%s", rej)
		}
		if !strings.Contains(readFile(t, filepath.Join(dir, "README.md")), readmeNew) {
			t.Error("with --conflict=rej, the clean merge of README.md was not applied")
		}
		if r := daemongen(t, nil, "update", "--dir", dir); r.code != 1 || !strings.Contains(r.stderr, ".gitignore.rej") {
			t.Errorf("update with a .rej left: exit %d, %q", r.code, r.stderr)
		}
	})

	t.Run("no base", func(t *testing.T) {
		dir := generateOld(t, old)
		userEdits(t, dir)
		t.Setenv("GOPROXY", "off")
		t.Setenv("GOFLAGS", "-mod=mod")
		before := listTree(t, dir)
		r := daemongen(t, nil, "update", "--dir", dir)
		// Exit 1: work is left (the kept files hold the old templates' lines).
		if r.code != 1 || !strings.Contains(r.stderr, "no base:") || !strings.Contains(r.stderr, "2 edited file(s) not updated (no base): .gitignore, README.md") {
			t.Fatalf("exit %d, stderr %q: want 1, 'no base:' and the files left", r.code, r.stderr)
		}
		after := listTree(t, dir)
		for _, p := range []string{"README.md", ".gitignore", "cmd/demo/main.go", "OLDEDITED.md"} {
			if !bytes.Equal(before[p], after[p]) {
				t.Errorf("%s, edited, was changed without a base", p)
			}
		}
		if string(after["internal/leaktest/leaktest.go"]) != string(pristine["internal/leaktest/leaktest.go"]) {
			t.Error("the unedited leaktest.go was not updated")
		}
		if !strings.Contains(r.stdout, "no base to merge with: .gitignore, README.md") {
			t.Errorf("the files left unmerged are not listed: %q", r.stdout)
		}
		// The running daemongen is no base for a project of v1.0.0: named, nothing written.
		before = listTree(t, dir)
		wrong := filepath.Join(t.TempDir(), "daemongen-wrong")
		writeFile(t, wrong, "#!/bin/sh\nif [ \"$1\" = version ]; then echo 'daemongen v1.1.0 (commit x, go1.26)'; exit 0; fi\nexit 1\n")
		os.Chmod(wrong, 0o755)
		if r := daemongen(t, nil, "update", "--dir", dir, "--base-from", wrong); r.code != 1 || !strings.Contains(r.stderr, "is daemongen v1.1.0, but the project was generated by daemongen v1.0.0") {
			t.Errorf("update with the wrong base binary: exit %d, %q", r.code, r.stderr)
		}
		if d := treeDiff(before, listTree(t, dir)); d != "" {
			t.Errorf("update with the wrong base binary wrote:\n%s", d)
		}
		// A later update with a base still merges them: the manifest kept their old hashes.
		r = daemongen(t, nil, "update", "--dir", dir, "--base-from", old)
		if r.code != 1 || !strings.Contains(readFile(t, filepath.Join(dir, "README.md")), readmeNew) {
			t.Errorf("update with a base after a 2-way one: exit %d %q; README merged: %v", r.code, r.stderr, strings.Contains(readFile(t, filepath.Join(dir, "README.md")), readmeNew))
		}
	})

	t.Run("after add", func(t *testing.T) {
		dir := generateOld(t, old, "-f", "signals")
		cmd := exec.Command(old, "add", "health", "--yes", "--dir", dir)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("daemongen %s add health: %v\n%s", oldVersion, err, b)
		}
		appendFile(t, filepath.Join(dir, "README.md"), "\nOurs.\n")
		if r := daemongen(t, nil, "update", "--dir", dir, "--base-from", old); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		readme := readFile(t, filepath.Join(dir, "README.md"))
		if !strings.Contains(readme, readmeNew) || !strings.HasSuffix(readme, "\nOurs.\n") {
			t.Errorf("README.md after add + update:\n%s", readme)
		}
		m := manifestOf(t, dir)
		want, err := renderProject(m.Answers, newVersion)
		if err != nil {
			t.Fatal(err)
		}
		got := listTree(t, dir)
		for p, c := range want {
			if p != "README.md" && !bytes.Equal(got[p], c) {
				t.Errorf("%s differs from a new project with signals and health", p)
			}
		}
	})

	// A crash at any write step: the next update completes the change (its recovery), and the
	// project is exactly what an uninterrupted update leaves.
	t.Run("crash", func(t *testing.T) {
		args := func(dir string) []string {
			return []string{"update", "--dir", dir, "--base-from", old, "--shutdown-timeout", "40s"}
		}
		edited := func() string {
			dir := generateOld(t, old)
			userEdits(t, dir)
			return dir
		}
		ref := edited()
		_, steps := countSteps(t, args(ref)...)
		// The reference and the re-runs are the test binary as daemongen, one version.
		ref = edited()
		child := func(dir string) {
			cmd := exec.Command(os.Args[0], args(dir)...)
			cmd.Env = append(os.Environ(), "DAEMONGEN_TEST_MAIN=1")
			if out, err := cmd.CombinedOutput(); err != nil && !bytes.Contains(out, []byte("conflicts")) {
				t.Fatalf("update: %v\n%s", err, out)
			}
		}
		child(ref)
		want := listTree(t, ref)
		t.Logf("update: %d write steps, each one crashed at", steps)
		for n := 1; n <= steps; n++ {
			dir := edited()
			crashAt(t, n, args(dir)...)
			child(dir)
			label := fmt.Sprintf("crash at step %d of %d", n, steps)
			sameFiles(t, label, want, listTree(t, dir))
			if l := leftovers(t, dir); len(l) > 0 {
				t.Errorf("%s: left %q", label, l)
			}
			if t.Failed() {
				return
			}
		}
	})

	t.Run("module proxy", func(t *testing.T) {
		if _, err := exec.Command("go", "version").Output(); err != nil {
			t.Skip(err)
		}
		proxy := filepath.Join(work, "proxy")
		modProxy(t, proxy, src, oldVersion)
		cache := strings.TrimSpace(string(must(exec.Command("go", "env", "GOMODCACHE").Output())))
		// The old daemongen comes from the file proxy; its dependencies from the module cache,
		// itself laid out as a proxy: no network. A module cache of the test's own, so the fake
		// v1.0.0 never lands in the user's.
		t.Setenv("GOPROXY", "file://"+proxy+",file://"+filepath.Join(cache, "cache", "download"))
		t.Setenv("GOMODCACHE", filepath.Join(work, "modcache"))
		t.Setenv("GOSUMDB", "off")
		t.Setenv("GOFLAGS", "-mod=mod -modcacherw")
		t.Setenv("GOTOOLCHAIN", "local")
		dir := generateOld(t, old)
		userEdits(t, dir)
		r := daemongen(t, nil, "update", "--dir", dir)
		if r.code != 1 || strings.Contains(r.stderr, "no base") {
			t.Fatalf("exit %d, stderr %q: want the conflict in .gitignore, with a base", r.code, r.stderr)
		}
		if !strings.Contains(readFile(t, filepath.Join(dir, "README.md")), readmeNew) {
			t.Error("README.md was not merged with the base from the module proxy")
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// modProxy lays out a GOPROXY directory serving the module in src as version v.
func modProxy(t *testing.T, proxy, src, v string) {
	t.Helper()
	dir := filepath.Join(proxy, "github.com", "daemongen", "daemongen", "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, v+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	if err := modzip.CreateFromDir(f, module.Version{Path: modulePath, Version: v}, src); err != nil {
		t.Fatal(err)
	}
	f.Close()
	info, _ := json.Marshal(map[string]string{"Version": v, "Time": "2026-01-01T00:00:00Z"})
	writeFile(t, filepath.Join(dir, v+".info"), string(info))
	writeFile(t, filepath.Join(dir, v+".mod"), readFile(t, filepath.Join(src, "go.mod")))
	writeFile(t, filepath.Join(dir, "list"), v+"\n")
}

func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Usage errors (a --base-from that is no executable among them) exit 2 and a base that fails
// to render exits 1; none of them writes anything. No binaries are
// built, so these run with -short.
func TestUpdateRefusals(t *testing.T) {
	out := t.TempDir()
	if r := daemongen(t, nil, "new", "demo", "--yes", "-f", "signals", "-o", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	dir := filepath.Join(out, "demo")
	writeFile(t, filepath.Join(out, "fake-daemongen"), "#!/bin/sh\necho 'fake base: cannot render' >&2\nexit 3\n")
	writeFile(t, filepath.Join(out, "stuck-daemongen"), "#!/bin/sh\n[ \"$1\" = version ] && exit 1\nexec sleep 600\n")
	for _, f := range []string{"fake-daemongen", "stuck-daemongen"} {
		if err := os.Chmod(filepath.Join(out, f), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	defer func(d time.Duration) { baseFromTimeout = d }(baseFromTimeout)
	baseFromTimeout = time.Second
	t.Chdir(out)
	before := listTree(t, dir)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--conflict", "theirs"}, 2, "--conflict must be merge or rej"},
		{[]string{"--check", "--dry-run"}, 2, "do not go together"},
		{[]string{"--admin-addr", ":9000"}, 2, "configures health, which the project does not have"},
		{[]string{"--shutdown-timeout", "forever"}, 2, "shutdown"},
		{[]string{"extra"}, 2, "received 1"},
		{[]string{"--base-from", filepath.Join(out, "no-such-daemongen"), "--shutdown-timeout", "40s"}, 2, "not an executable file"},
		{[]string{"--base-from", "no-such-daemongen", "--shutdown-timeout", "40s"}, 2, "no such command on PATH"},
		{[]string{"--base-from", filepath.Join(dir, "go.mod"), "--shutdown-timeout", "40s"}, 2, "not an executable file"},
		// A relative path is the user's, not the temporary directory's the base renders in:
		// the script runs (and fails, which is exit 1 with its message).
		{[]string{"--base-from", "./fake-daemongen", "--shutdown-timeout", "40s"}, 1, "rendering the base failed (exit status 3): fake base: cannot render"},
		// A base that never finishes is stopped: the project lock is not held for ever.
		{[]string{"--base-from", "./stuck-daemongen", "--shutdown-timeout", "40s"}, 1, "rendering the base did not finish within 1s"},
	} {
		r := daemongen(t, nil, append([]string{"update", "--dir", dir}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("update %v: exit %d, stderr %q; want %d and one line with %q", tc.args, r.code, r.stderr, tc.code, tc.msg)
		}
		if d := treeDiff(before, listTree(t, dir)); d != "" {
			t.Fatalf("update %v wrote:\n%s", tc.args, d)
		}
	}
	if r := daemongen(t, nil, "update", "--dir", t.TempDir()); r.code != 2 {
		t.Errorf("update outside a project: exit %d, %q", r.code, r.stderr)
	}
	// A different file of the user's where a newly generated file goes: refused, nothing written.
	m := manifestOf(t, dir)
	delete(m.Files, "internal/signals/signals.go")
	enc, _ := m.Encode()
	writeFile(t, filepath.Join(dir, generator.ManifestName), string(enc))
	appendFile(t, filepath.Join(dir, "internal/signals/signals.go"), "// mine\n")
	before = listTree(t, dir)
	r := daemongen(t, nil, "update", "--dir", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "internal/signals/signals.go already exists with different content") {
		t.Errorf("untracked file in the way: exit %d, %q", r.code, r.stderr)
	}
	if d := treeDiff(before, listTree(t, dir)); d != "" {
		t.Fatalf("a refused update wrote:\n%s", d)
	}
}

// With the same daemongen, an update is a no-op, and an answer changed through a flag goes
// through the merge: an edit of the user's in a file it changes survives. Runs with -short.
func TestUpdateSameVersionAnswerChange(t *testing.T) {
	requireGitOnly(t)
	out := t.TempDir()
	if r := daemongen(t, nil, "new", "demo", "--yes", "-f", "k8s", "-o", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	dir := filepath.Join(out, "demo")
	before := listTree(t, dir)
	if r := daemongen(t, nil, "update", "--dir", dir); r.code != 0 || !strings.Contains(r.stdout, "nothing to do") {
		t.Fatalf("no-op update: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if d := treeDiff(before, listTree(t, dir)); d != "" {
		t.Fatalf("a no-op update wrote:\n%s", d)
	}
	dep := filepath.Join(dir, "deploy/k8s/deployment.yaml")
	writeFile(t, dep, "# ours\n"+readFile(t, dep))
	if r := daemongen(t, nil, "update", "--dir", dir, "--check", "--shutdown-timeout", "40s"); r.code != 1 || !strings.Contains(r.stderr, "run daemongen update with the same flags") {
		t.Errorf("--check with a changed answer: exit %d, %q; want 1 and the flags named as the cause", r.code, r.stderr)
	}
	if r := daemongen(t, nil, "update", "--dir", dir, "--shutdown-timeout", "40s"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	got := readFile(t, dep)
	if !strings.HasPrefix(got, "# ours\n") || !strings.Contains(got, "terminationGracePeriodSeconds: 50") || strings.Contains(got, "25s") {
		t.Errorf("deployment.yaml after --shutdown-timeout 40s:\n%s", got)
	}

	// A write that fails (a full disk, a read-only file) writes nothing, and stdout must not
	// read as if it had: no per-file "updated" lines before the error.
	before = listTree(t, dir)
	project.StepHook = func(step string) error {
		if strings.HasPrefix(step, "stage ") {
			return errors.New("no space left on device (injected)")
		}
		return nil
	}
	r := daemongen(t, nil, "update", "--dir", dir, "--shutdown-timeout", "50s")
	project.StepHook = nil
	if r.code == 0 || !strings.Contains(r.stderr, "no space left on device") {
		t.Fatalf("a failed write: exit %d, %q; want the error", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("a failed update printed, on stdout:\n%s", r.stdout)
	}
	if d := treeDiff(before, listTree(t, dir)); d != "" {
		t.Errorf("a failed update wrote:\n%s", d)
	}
}

func requireGitOnly(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git on PATH")
	}
}

// update takes the project lock: while another run holds it, update waits and writes nothing;
// once released, it proceeds.
func TestUpdateWaitsForTheLock(t *testing.T) {
	requireGitOnly(t)
	out := t.TempDir()
	if r := daemongen(t, nil, "new", "demo", "--yes", "-f", "signals", "-o", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	dir := filepath.Join(out, "demo")
	lock, err := project.Acquire(context.Background(), dir, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := listTree(t, dir)
	done := make(chan result)
	go func() { done <- daemongen(t, nil, "update", "--dir", dir, "--shutdown-timeout", "40s") }()
	select {
	case r := <-done:
		t.Fatalf("update ran while the project was locked: exit %d, %q", r.code, r.stderr)
	case <-time.After(500 * time.Millisecond):
	}
	if d := treeDiff(before, listTree(t, dir)); d != "" {
		t.Fatalf("update wrote while the project was locked:\n%s", d)
	}
	lock.Unlock()
	if r := <-done; r.code != 0 || !strings.Contains(r.stderr, "waiting") {
		t.Fatalf("update after the lock was released: exit %d, stderr %q", r.code, r.stderr)
	}
	if m := manifestOf(t, dir); m.Answers.Settings["shutdown-timeout"] != "40s" {
		t.Error("the update did not happen after the lock was released")
	}
}

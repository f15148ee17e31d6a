package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/project"
)

// readOnly makes dir impossible to create, rename or remove entries in until the test ends:
// chmod for a normal user; for root, which chmod does not stop, the immutable attribute.
func readOnly(t *testing.T, dir string) {
	t.Helper()
	if os.Getuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return
	}
	if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("running as root, and chattr +i (to make %s read-only for root) failed: %v %s", dir, err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", dir).Run() })
}

// snapshot lists every entry below dir (directories and links included) with its type,
// target or content, so a comparison sees an empty directory or a link appear; the lock file
// is left out (a refused add may have created it: it means nothing once unlocked).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, p)
		switch {
		case err != nil:
			out[rel] = "error " + err.Error()
		case d.Name() == project.LockName:
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "link " + target
		case d.IsDir():
			out[rel] = "dir"
		default:
			b, _ := os.ReadFile(p)
			out[rel] = string(b)
		}
		return nil
	})
	return out
}

func sameSnapshot(t *testing.T, label string, before, after map[string]string) {
	t.Helper()
	for p, v := range after {
		if w, ok := before[p]; !ok {
			t.Errorf("%s: %s appeared", label, p)
		} else if w != v {
			t.Errorf("%s: %s changed", label, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("%s: %s disappeared", label, p)
		}
	}
}

// TestDryRunRefusesWhatTheRealRunRefuses: for every way the disk can make new, add or update
// fail, --dry-run fails first with the same one-line message and exit code as the real run,
// neither writes anything, and the message is a reason, not a raw system call error.
func TestDryRunRefusesWhatTheRealRunRefuses(t *testing.T) {
	project := func(t *testing.T, out string) string {
		if r := daemongen(t, nil, "new", "demo", "-m", "example.com/demo", "-f", "none", "-o", out); r.code != 0 {
			t.Fatalf("new: %s", r.stderr)
		}
		return filepath.Join(out, "demo")
	}
	newArgs := func(out string, extra ...string) []string {
		return append([]string{"new", "demo", "--yes", "-o", out}, extra...)
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, out string) []string
		code  int
		want  string
	}{
		{"new: a dangling symlink as the target", func(t *testing.T, out string) []string {
			os.Symlink("nowhere", filepath.Join(out, "demo"))
			return newArgs(out)
		}, 1, "is a symbolic link to nowhere, which does not exist"},
		{"new: a symlink loop as the target", func(t *testing.T, out string) []string {
			os.Symlink("demo", filepath.Join(out, "demo"))
			return newArgs(out)
		}, 1, "is a symbolic link that loops"},
		{"new: a file as the target", func(t *testing.T, out string) []string {
			os.WriteFile(filepath.Join(out, "demo"), []byte("mine\n"), 0o644)
			return newArgs(out)
		}, 1, "is a file, not a directory"},
		{"new: --output is a file", func(t *testing.T, out string) []string {
			os.WriteFile(filepath.Join(out, "f"), []byte("mine\n"), 0o644)
			return newArgs(filepath.Join(out, "f"))
		}, 2, "invalid --output"},
		{"new: --output below a file", func(t *testing.T, out string) []string {
			os.WriteFile(filepath.Join(out, "f"), []byte("mine\n"), 0o644)
			return newArgs(filepath.Join(out, "f", "sub"))
		}, 2, "invalid --output"},
		{"new: --output is a symlink loop", func(t *testing.T, out string) []string {
			os.Symlink("loop", filepath.Join(out, "loop"))
			return newArgs(filepath.Join(out, "loop"))
		}, 2, "invalid --output"},
		{"new: --output is a dangling symlink", func(t *testing.T, out string) []string {
			os.Symlink("/nonexistent/dir", filepath.Join(out, "link"))
			return newArgs(filepath.Join(out, "link", "sub"))
		}, 1, "link is a symbolic link to /nonexistent/dir, which does not exist"},
		{"new: read-only parent", func(t *testing.T, out string) []string {
			readOnly(t, out)
			return newArgs(out)
		}, 1, "cannot write in " + "OUT"},
		{"new: read-only empty target", func(t *testing.T, out string) []string {
			os.Mkdir(filepath.Join(out, "demo"), 0o755)
			readOnly(t, filepath.Join(out, "demo"))
			return newArgs(out)
		}, 1, "cannot write in " + filepath.Join("OUT", "demo")},
		{"new --force: a file where a directory goes", func(t *testing.T, out string) []string {
			os.Mkdir(filepath.Join(out, "demo"), 0o755)
			os.WriteFile(filepath.Join(out, "demo", "cmd"), []byte("mine\n"), 0o644)
			return newArgs(out, "--force")
		}, 1, "cmd is a file where daemongen needs a directory"},
		{"new --force: a directory where a file goes", func(t *testing.T, out string) []string {
			os.MkdirAll(filepath.Join(out, "demo", "Makefile"), 0o755)
			return newArgs(out, "--force")
		}, 1, "Makefile is a directory where daemongen writes a file"},
		{"new --force: a read-only directory inside", func(t *testing.T, out string) []string {
			os.MkdirAll(filepath.Join(out, "demo", "internal"), 0o755)
			readOnly(t, filepath.Join(out, "demo", "internal"))
			return newArgs(out, "--force")
		}, 1, "cannot write in " + filepath.Join("OUT", "demo", "internal")},
		{"add: read-only internal/", func(t *testing.T, out string) []string {
			dir := project(t, out)
			readOnly(t, filepath.Join(dir, "internal"))
			return []string{"add", "health", "--yes", "--dir", dir}
		}, 1, "cannot write in " + filepath.Join("OUT", "demo", "internal")},
		{"add: read-only project directory", func(t *testing.T, out string) []string {
			dir := project(t, out)
			readOnly(t, dir)
			return []string{"add", "health", "--yes", "--dir", dir}
		}, 1, "cannot write in " + filepath.Join("OUT", "demo") + ":"},
		{"add: read-only directory of a file it updates", func(t *testing.T, out string) []string {
			dir := project(t, out)
			readOnly(t, filepath.Join(dir, "cmd", "demo"))
			return []string{"add", "recovery", "--dir", dir}
		}, 1, "cannot write in " + filepath.Join("OUT", "demo", "cmd", "demo")},
		{"add: a dangling symlink where a file is created", func(t *testing.T, out string) []string {
			dir := project(t, out)
			os.MkdirAll(filepath.Join(dir, "internal", "supervisor"), 0o755)
			os.Symlink("/nonexistent/x", filepath.Join(dir, "internal", "supervisor", "supervisor.go"))
			return []string{"add", "recovery", "--dir", dir}
		}, 1, "internal/supervisor/supervisor.go is a symbolic link to /nonexistent/x, which does not exist"},
		{"add: a file where a directory goes", func(t *testing.T, out string) []string {
			dir := project(t, out)
			os.WriteFile(filepath.Join(dir, "internal", "supervisor"), []byte("mine\n"), 0o644)
			return []string{"add", "recovery", "--dir", dir}
		}, 1, "internal/supervisor is a file where daemongen needs a directory"},
		{"add: a hard-linked file it updates", func(t *testing.T, out string) []string {
			dir := project(t, out)
			os.Link(filepath.Join(dir, "cmd", "demo", "main.go"), filepath.Join(out, "copy.go"))
			return []string{"add", "recovery", "--dir", dir}
		}, 1, "cmd/demo/main.go has 2 hard links"},
		{"update: a hard-linked file it updates", func(t *testing.T, out string) []string {
			requireGitOnly(t)
			dir := project(t, out)
			os.Link(filepath.Join(dir, "README.md"), filepath.Join(out, "copy.md"))
			return []string{"update", "--shutdown-timeout", "40s", "--dir", dir}
		}, 1, "README.md has 2 hard links"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			args := tt.setup(t, out)
			want := strings.ReplaceAll(tt.want, "OUT", out)
			before := snapshot(t, out)
			dry := daemongen(t, nil, append(args, "--dry-run")...)
			sameSnapshot(t, "dry run", before, snapshot(t, out))
			real := daemongen(t, nil, args...)
			sameSnapshot(t, "real run", before, snapshot(t, out))
			if real.code != tt.code || !strings.Contains(real.stderr, want) {
				t.Fatalf("real run: exit %d, stderr %q; want exit %d and %q", real.code, real.stderr, tt.code, want)
			}
			if dry.code != real.code || dry.stderr != real.stderr {
				t.Errorf("dry run: exit %d, stderr %q; want what the real run said", dry.code, dry.stderr)
			}
			if strings.Count(strings.TrimSpace(real.stderr), "\n") != 0 {
				t.Errorf("the reason spans several lines:\n%s", real.stderr)
			}
			if strings.Contains(real.stderr, ".daemongen-") {
				t.Errorf("the message names a temporary file: %s", real.stderr)
			}
		})
	}
}

// TestBrokenManifestIsInvalidInput: a .daemongen.json that cannot be read as a manifest is
// invalid input (exit 2) for every command that reads it, as for new --answers, whether its
// JSON or its values are wrong; the message is one line naming the file.
func TestBrokenManifestIsInvalidInput(t *testing.T) {
	dir := newProject(t, "none")
	p := filepath.Join(dir, generator.ManifestName)
	good, _ := os.ReadFile(p)
	for name, body := range map[string]string{
		"empty":          "",
		"not JSON":       "{not json",
		"an array":       "[]",
		"trailing data":  string(good) + "x",
		"schema string":  strings.Replace(string(good), `"schema": 2`, `"schema": "2"`, 1),
		"unknown field":  strings.Replace(string(good), `"schema": 2`, `"schema": 2, "extra": 1`, 1),
		"a BOM":          "\ufeff" + string(good),
		"newer schema":   strings.Replace(string(good), `"schema": 2`, `"schema": 9`, 1),
		"bad name value": strings.Replace(string(good), `"name": "demo"`, `"name": "Demo Two"`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{
				{"status", "--dir", dir},
				{"add", "lock", "--dir", dir},
				{"add", "lock", "--dir", dir, "--dry-run"},
				{"update", "--check", "--dir", dir},
				{"new", "--answers", p, "--yes", "-o", t.TempDir()},
			} {
				r := daemongen(t, nil, args...)
				named := args[0] == "new" || strings.Contains(r.stderr, p) // new names the value, which a flag may have given
				if r.code != 2 || !named || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
					t.Errorf("%q: exit %d, stderr %q; want exit 2 and one line naming %s", args, r.code, r.stderr, p)
				}
			}
		})
	}
}

// TestConcurrentNewOfTheSameName: when another run creates the directory while this one
// builds the project, this one says so in one line and leaves nothing behind.
func TestConcurrentNewOfTheSameName(t *testing.T) {
	out := t.TempDir()
	dir := filepath.Join(out, "demo")
	project.StepHook = func(step string) error {
		if step == "rename the project into place" {
			os.Mkdir(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "theirs"), []byte("x\n"), 0o644)
		}
		return nil
	}
	defer func() { project.StepHook = nil }()
	r := daemongen(t, nil, "new", "demo", "--yes", "-o", out)
	project.StepHook = nil
	if r.code != 1 || !strings.Contains(r.stderr, dir+" appeared while daemongen was creating it") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if l := leftovers(t, out); len(l) > 0 {
		t.Errorf("left %q", l)
	}
	if got := snapshot(t, dir); len(got) != 2 {
		t.Errorf("the other run's directory now holds %v", got)
	}
}

// TestNonCanonicalSettingsAreRefused: a setting is written into deployment files and the
// README verbatim, so it must be written plainly; a value Go would parse but no one would write
// (a sign, a leading zero, units out of order) is refused with the plain form to use, and no
// suggestion repeats the invalid input.
func TestNonCanonicalSettingsAreRefused(t *testing.T) {
	tests := []struct {
		flag, value, suggest string
	}{
		{"--shutdown-timeout", "+5s", "use 5s"},
		{"--shutdown-timeout", "5.s", "use 5s"},
		{"--shutdown-timeout", "30s1m", "use 1m30s"},
		{"--shutdown-timeout", "1s500ms", "use 1.5s"},
		{"--shutdown-timeout", "05s", "use 5s"},
		{"--shutdown-timeout", "60s0ms", "use 1m"},
		{"--memory-limit", "0128MiB", "use 128MiB"},
		{"--memory-limit", "+256MiB", "use 256MiB"},
		{"--memory-limit", "0MiB", "out of range"},
		{"--module", "example.com/con", "example.com/"},
		{"--module", "example.com/xx/v0", "example.com/"},
	}
	for _, tt := range tests {
		t.Run(tt.flag+"="+tt.value, func(t *testing.T) {
			t.Chdir(t.TempDir())
			r := daemongen(t, nil, "new", "demo", "-m", "example.com/demo", "-f", "k8s", tt.flag, tt.value)
			if r.code != 2 || !strings.Contains(r.stderr, tt.suggest) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q; want exit 2 and %q", r.code, r.stderr, tt.suggest)
			}
			for _, lead := range []string{"use ", "try " + tt.flag + " "} {
				if i := strings.LastIndex(r.stderr, lead); i >= 0 {
					if got, _, _ := strings.Cut(strings.TrimSpace(r.stderr[i+len(lead):]), " "); strings.TrimRight(got, ";,)") == tt.value {
						t.Errorf("the suggestion repeats the invalid input: %s", r.stderr)
					}
				}
			}
		})
	}
	// The plain forms are accepted as they are.
	for _, v := range []string{"5s", "1m30s", "1.5s", "1500ms", "10m", "1m"} {
		out := t.TempDir()
		if r := daemongen(t, nil, "new", "demo", "-m", "example.com/demo", "-f", "k8s", "--shutdown-timeout", v, "-o", out); r.code != 0 {
			t.Errorf("--shutdown-timeout %s: exit %d: %s", v, r.code, r.stderr)
		}
	}
}

// TestEmptyFeatureListsAreRefused: an empty --features (a variable that expanded to nothing)
// or an empty add argument is a usage error, not "none" or "nothing to do".
func TestEmptyFeatureListsAreRefused(t *testing.T) {
	dir := newProject(t, "none")
	for _, args := range [][]string{
		{"new", "demo", "--yes", "-f", "", "-o", t.TempDir()},
		{"new", "demo", "--yes", "-f", " , ", "-o", t.TempDir()},
		{"add", "", "--dir", dir},
	} {
		r := daemongen(t, nil, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "empty") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2", args, r.code, r.stderr)
		}
	}
}

// TestNewDryRunRefusesAHalfAppliedDirectory: with a journal in the target, the real run first
// completes that change; a dry run cannot know the outcome without writing, so it says so.
func TestNewDryRunRefusesAHalfAppliedDirectory(t *testing.T) {
	out := t.TempDir()
	dir := filepath.Join(out, "demo")
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(dir, project.JournalName), []byte(`{"entries": []}`), 0o644)
	before := snapshot(t, out)
	r := daemongen(t, nil, "new", "demo", "--yes", "--dry-run", "-o", out)
	if r.code != 1 || !strings.Contains(r.stderr, "left a change half-applied in "+dir) {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	sameSnapshot(t, "dry run", before, snapshot(t, out))
	if r := daemongen(t, nil, "new", "demo", "--yes", "-o", out); r.code != 0 {
		t.Fatalf("the real run: exit %d: %s", r.code, r.stderr)
	}
}

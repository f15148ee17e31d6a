package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/project"
	"github.com/daemongen/daemongen/prompts"
)

// result is what one in-process daemongen invocation produced.
type result struct {
	code           int
	stdout, stderr string
}

func daemongen(t *testing.T, p prompts.Prompter, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, interactive: p != nil, prompter: p}
	code := run(e, args)
	return result{code, out.String(), errb.String()}
}

func listTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == project.LockName {
			return nil // add's lock file: never deleted, empty of meaning once unlocked
		}
		files[rel], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestNewWithDefaults(t *testing.T) {
	out := t.TempDir()
	r := daemongen(t, nil, "new", "demo", "--yes", "-o", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "created "+filepath.Join(out, "demo")) {
		t.Errorf("stdout = %q", r.stdout)
	}
	data, err := os.ReadFile(filepath.Join(out, "demo", generator.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	m, err := generator.DecodeManifest("manifest", data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Answers.Module != "example.com/demo" || strings.Join(m.Answers.Features, ",") != strings.Join(generator.DefaultFeatures(), ",") {
		t.Errorf("answers = %+v, want the defaults", m.Answers)
	}
}

func TestNewErrors(t *testing.T) {
	nonEmpty := t.TempDir()
	os.MkdirAll(filepath.Join(nonEmpty, "demo"), 0o755)
	os.WriteFile(filepath.Join(nonEmpty, "demo", "keep.txt"), []byte("mine\n"), 0o644)

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"existing non-empty directory", []string{"new", "demo", "--yes", "-o", nonEmpty}, 1, "not empty; choose another name or --output, or pass --force"},
		{"invalid name", []string{"new", "My App", "--yes"}, 2, `invalid NAME "My App"`},
		{"invalid module path", []string{"new", "demo", "--yes", "-m", "Foo Bar"}, 2, `invalid --module "Foo Bar"`},
		{"unknown feature", []string{"new", "demo", "-f", "signls", "-m", "example.com/demo"}, 2, `unknown feature "signls"; did you mean "signals"?`},
		{"no terminal without --yes", []string{"new", "demo"}, 2, "--module is required when not running on a terminal (or pass --yes"},
		{"no terminal, module given", []string{"new", "demo", "-m", "example.com/demo"}, 2, "--features is required"},
		{"bad setting", []string{"new", "demo", "--yes", "--shutdown-timeout", "soon"}, 2, `invalid --shutdown-timeout "soon"`},
		{"missing name", []string{"new", "--yes"}, 2, "NAME is required"},
		{"too many args", []string{"new", "a", "b"}, 2, "accepts between 0 and 1 arg"},
		{"unknown flag", []string{"new", "demo", "--nope"}, 2, "unknown flag: --nope"},
		{"unknown command", []string{"nwe"}, 2, "unknown command"},
		{"missing answers file", []string{"new", "demo", "--answers", "/nonexistent.json"}, 2, "--answers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wd := t.TempDir()
			t.Chdir(wd)
			r := daemongen(t, nil, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tt.code, tt.want)
			}
			if entries, _ := os.ReadDir(wd); len(entries) != 0 {
				t.Errorf("a failed run wrote %d entries into the working directory", len(entries))
			}
		})
	}
	if got := listTree(t, filepath.Join(nonEmpty, "demo")); len(got) != 1 {
		t.Errorf("the refused directory now holds %d files", len(got))
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	out := t.TempDir()
	r := daemongen(t, nil, "new", "demo", "--yes", "--dry-run", "-o", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"--- /dev/null", "+++ b/cmd/demo/main.go", "+++ b/.daemongen.json"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry-run output lacks %q", want)
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Fatalf("--dry-run wrote %d entries", len(entries))
	}
}

func TestAnswersReplayIsByteIdentical(t *testing.T) {
	first, second := t.TempDir(), t.TempDir()
	if r := daemongen(t, nil, "new", "svc", "-m", "github.com/acme/svc", "-f", "signals", "--shutdown-timeout", "40s", "-o", first); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	manifest := filepath.Join(first, "svc", generator.ManifestName)
	if r := daemongen(t, nil, "new", "--answers", manifest, "-o", second); r.code != 0 {
		t.Fatalf("replay exit %d: %s", r.code, r.stderr)
	}
	a, b := listTree(t, filepath.Join(first, "svc")), listTree(t, filepath.Join(second, "svc"))
	if len(a) != len(b) {
		t.Fatalf("%d files, replay %d", len(a), len(b))
	}
	for p, content := range a {
		if !bytes.Equal(content, b[p]) {
			t.Errorf("%s differs after replay", p)
		}
	}
	if !strings.Contains(string(a["internal/lifecycle/group.go"]), "40*time.Second") {
		t.Error("--shutdown-timeout 40s did not reach the generated default")
	}
}

func TestForceAddsIntoExistingDirectory(t *testing.T) {
	out := t.TempDir()
	dir := filepath.Join(out, "demo")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "NOTES.md"), []byte("mine\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module mine\n"), 0o644)
	r := daemongen(t, nil, "new", "demo", "--yes", "--force", "-o", out)
	if r.code != 1 || !strings.Contains(r.stderr, "go.mod") {
		t.Fatalf("exit %d, stderr %q: want a refusal naming go.mod", r.code, r.stderr)
	}
	if got := listTree(t, dir); len(got) != 2 || string(got["go.mod"]) != "module mine\n" {
		t.Fatalf("refused --force changed the directory: %d files", len(got))
	}
	os.Remove(filepath.Join(dir, "go.mod"))
	if r := daemongen(t, nil, "new", "demo", "--yes", "--force", "-o", out); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := listTree(t, dir); string(got["NOTES.md"]) != "mine\n" || got["cmd/demo/main.go"] == nil {
		t.Fatal("--force lost the user's file or did not add the project")
	}
}

// scripted is a Prompter that replays answers and records what was asked.
type scripted struct {
	inputs   map[string]string // message prefix → answer
	features []string
	asked    []string
	err      error
}

func (s *scripted) Input(message, _, def string, validate func(string) error) (string, error) {
	s.asked = append(s.asked, message)
	if s.err != nil {
		return "", s.err
	}
	for prefix, v := range s.inputs {
		if strings.HasPrefix(message, prefix) {
			if validate != nil {
				if err := validate(v); err != nil {
					return "", err
				}
			}
			return v, nil
		}
	}
	return def, nil
}

func (s *scripted) MultiSelect(message, _ string, _ []prompts.Option, _ []string) ([]string, error) {
	s.asked = append(s.asked, message)
	return s.features, s.err
}

func TestInteractiveAsksOnlyWhatFlagsDidNotSay(t *testing.T) {
	out := t.TempDir()
	p := &scripted{inputs: map[string]string{"Go module path": "github.com/acme/demo", "Shutdown budget": "30s"}, features: []string{"signals"}}
	r := daemongen(t, p, "new", "demo", "-o", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if len(p.asked) != 3 {
		t.Errorf("asked %q, want module, features and the shutdown budget", p.asked)
	}
	want := "daemongen new demo --module github.com/acme/demo --features signals --shutdown-timeout 30s"
	if !strings.Contains(r.stdout, want) {
		t.Errorf("stdout lacks the equivalent command line %q:\n%s", want, r.stdout)
	}

	p = &scripted{}
	r = daemongen(t, p, "new", "demo2", "-m", "example.com/x", "-f", "none", "--shutdown-timeout", "10s", "-o", out)
	if r.code != 0 || len(p.asked) != 0 {
		t.Fatalf("exit %d, asked %q: want no prompt when flags answer everything", r.code, p.asked)
	}
}

func TestInterruptedPromptWritesNothing(t *testing.T) {
	out := t.TempDir()
	r := daemongen(t, &scripted{err: prompts.ErrInterrupted}, "new", "demo", "-o", out)
	if r.code != 130 {
		t.Fatalf("exit %d, want 130", r.code)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Fatal("an interrupted run wrote files")
	}
}

func TestFeaturesAndVersion(t *testing.T) {
	r := daemongen(t, nil, "features")
	if r.code != 0 || !strings.Contains(r.stdout, "signals") || !strings.Contains(r.stdout, "standard library only") {
		t.Fatalf("features: exit %d\n%s", r.code, r.stdout)
	}
	r = daemongen(t, nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "daemongen ") {
		t.Fatalf("version: exit %d %q", r.code, r.stdout)
	}
}

func TestCompletionOffersFeatureNames(t *testing.T) {
	r := daemongen(t, nil, "__complete", "new", "demo", "--features", "signals,s")
	if r.code != 0 || !strings.Contains(r.stdout, "signals,systemd") || strings.Contains(r.stdout, "signals,signals") {
		t.Fatalf("completion: exit %d\n%s", r.code, r.stdout)
	}
	r = daemongen(t, nil, "completion", "bash")
	if r.code != 0 || !strings.Contains(r.stdout, "bash completion") {
		t.Fatalf("completion bash: exit %d", r.code)
	}
}

// TestRefusedInputsWriteNothing: every refused input exits 2 with a one-line reason and leaves
// the working directory empty.
func TestRefusedInputsWriteNothing(t *testing.T) {
	answers := func(t *testing.T, body string) string {
		p := filepath.Join(t.TempDir(), "answers.json")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const good = `{"schema": 1, "generator": "v1", "answers": {"name": "demo", "module": "example.com/demo", "go": "1.26", "features": [], "settings": {"shutdown-timeout": "25s"}}}`
	tests := []struct {
		name string
		args func(t *testing.T) []string
		want string
	}{
		{"name vendor", func(*testing.T) []string { return []string{"new", "vendor", "--yes"} }, `invalid NAME "vendor"`},
		{"name testdata", func(*testing.T) []string { return []string{"new", "testdata", "--yes"} }, `invalid NAME "testdata"`},
		{"windows name", func(*testing.T) []string { return []string{"new", "com1", "--yes"} }, `invalid NAME "com1"`},
		{"module with vendor", func(*testing.T) []string { return []string{"new", "demo", "--yes", "-m", "example.com/vendor/demo"} }, `invalid --module "example.com/vendor/demo"`},
		{"quote in admin-addr", func(*testing.T) []string { return []string{"new", "demo", "--yes", "--admin-addr", `a"b:80`} }, `invalid --admin-addr`},
		{"port 0 with docker", func(*testing.T) []string {
			return []string{"new", "demo", "-m", "example.com/demo", "-f", "docker", "--admin-addr", ":0"}
		}, "port 0"},
		{"setting of a feature not chosen", func(*testing.T) []string {
			return []string{"new", "demo", "-m", "example.com/demo", "-f", "signals", "--admin-addr", "garbage"}
		}, "--admin-addr configures health"},
		{"old go in answers", func(t *testing.T) []string {
			return []string{"new", "--answers", answers(t, strings.Replace(good, `"1.26"`, `"1.0"`, 1))}
		}, `invalid go version "1.0"`},
		{"go newer than the toolchain in answers", func(t *testing.T) []string {
			return []string{"new", "--answers", answers(t, strings.Replace(good, `"1.26"`, `"1.99"`, 1))}
		}, `invalid go version "1.99"`},
		{"trailing garbage in answers", func(t *testing.T) []string { return []string{"new", "--answers", answers(t, good+"garbage")} }, "follows the JSON document"},
		{"negative schema", func(t *testing.T) []string {
			return []string{"new", "--answers", answers(t, strings.Replace(good, `"schema": 1`, `"schema": -1`, 1))}
		}, "schema -1"},
		{"unknown key in answers", func(t *testing.T) []string {
			return []string{"new", "--answers", answers(t, strings.Replace(good, `"go":`, `"golang": "1.26", "go":`, 1))}
		}, "golang"},
		{"answers without module", func(t *testing.T) []string {
			return []string{"new", "--answers", answers(t, strings.Replace(good, `"module": "example.com/demo", `, "", 1))}
		}, "has no module"},
		{"manifest path outside the project", func(t *testing.T) []string {
			return []string{"new", "--answers", answers(t, strings.Replace(good, `}}}`, `}}, "files": {"../../etc/hostname": "00"}}`, 1))}
		}, "../../etc/hostname"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args(t)
			wd := t.TempDir()
			t.Chdir(wd)
			r := daemongen(t, nil, args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 and %q", r.code, r.stderr, tt.want)
			}
			if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("the reason spans several lines:\n%s", r.stderr)
			}
			if entries, _ := os.ReadDir(wd); len(entries) != 0 {
				t.Errorf("a refused run wrote %d entries", len(entries))
			}
		})
	}
}

// TestYesFillsWhatTheAnswersFileLacks: --yes completes an answers file the way it completes
// flags: default module and features.
func TestYesFillsWhatTheAnswersFileLacks(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "answers.json")
	os.WriteFile(p, []byte(`{"schema": 1, "answers": {"name": "demo"}}`), 0o644)
	t.Chdir(dir)
	r := daemongen(t, nil, "new", "--answers", p, "--yes")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "demo", generator.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	m, err := generator.DecodeManifest("m", data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Answers.Module != "example.com/demo" || strings.Join(m.Answers.Features, ",") != strings.Join(generator.DefaultFeatures(), ",") || m.Answers.Go == "" {
		t.Fatalf("answers = %+v, want the defaults filled in", m.Answers)
	}
}

// TestDryRunFailsLikeTheRealRun: --dry-run refuses what the real run refuses, and a run into a
// directory already holding the project says nothing was written instead of "created".
func TestDryRunFailsLikeTheRealRun(t *testing.T) {
	out := t.TempDir()
	dir := filepath.Join(out, "demo")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module mine\n"), 0o644)
	args := []string{"new", "demo", "--yes", "-o", out}
	for _, extra := range [][]string{nil, {"--force"}} {
		real := daemongen(t, nil, append(args, extra...)...)
		dry := daemongen(t, nil, append(append(args, extra...), "--dry-run")...)
		if real.code == 0 || dry.code != real.code || dry.stderr != real.stderr {
			t.Errorf("%q: real run exit %d %q, dry run exit %d %q: want the same refusal", extra, real.code, real.stderr, dry.code, dry.stderr)
		}
	}
	os.Remove(filepath.Join(dir, "go.mod"))
	if r := daemongen(t, nil, args...); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, extra := range [][]string{nil, {"--force"}, {"--dry-run"}} {
		r := daemongen(t, nil, append(args, extra...)...)
		if r.code != 0 || !strings.Contains(r.stdout, "already holds this project") || strings.Contains(r.stdout, "created") {
			t.Errorf("%q into the identical project: exit %d, stdout %q", extra, r.code, r.stdout)
		}
	}
}

// TestStatusRefusesPathsOutsideTheProject: a manifest naming ../../etc/hostname is refused,
// not hashed.
func TestStatusRefusesPathsOutsideTheProject(t *testing.T) {
	out := t.TempDir()
	if r := daemongen(t, nil, "new", "demo", "-m", "example.com/demo", "-f", "none", "-o", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	p := filepath.Join(out, "demo", generator.ManifestName)
	b, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(b), `"files": {`, `"files": {"../../etc/hostname": "00",`, 1)), 0o644)
	r := daemongen(t, nil, "status", "--dir", filepath.Join(out, "demo"))
	if r.code == 0 || !strings.Contains(r.stderr, `"../../etc/hostname" is not a path inside the project`) {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestCreatedFitsEightyColumns: with the longest name and every feature, the lines new prints
// fit an 80-column terminal (a short project keeps the one-line form).
func TestCreatedFitsEightyColumns(t *testing.T) {
	t.Chdir(t.TempDir())
	name := "a" + strings.Repeat("b", 39)
	r := daemongen(t, nil, "new", name, "--yes", "-f", "all")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if len(l) > 80 {
			t.Errorf("%d columns: %s", len(l), l)
		}
	}
	if !strings.Contains(r.stdout, "created "+name+" (") || !strings.Contains(r.stdout, "\nfeatures: batch, docker") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	r = daemongen(t, nil, "new", "demo", "-m", "example.com/demo", "-f", "signals")
	if !strings.HasPrefix(r.stdout, "created demo (") || !strings.Contains(r.stdout, " files; features: signals)\n") {
		t.Errorf("a short project's line changed:\n%s", r.stdout)
	}
}

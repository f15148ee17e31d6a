package main

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kballard/go-shellquote"

	"github.com/daemongen/daemongen/prompts"
)

// user answers prompts like a person at a terminal: an answer the validator refuses is shown
// its reason and asked again, as survey does, with the next scripted answer.
type user struct {
	inputs   map[string][]string // question prefix → answers in the order typed
	features []string
	asked    []string
	refused  []string // validation errors shown
	notes    []string
}

func (u *user) Input(message, _, def string, validate func(string) error) (string, error) {
	u.asked = append(u.asked, message)
	for prefix, answers := range u.inputs {
		if !strings.HasPrefix(message, prefix) {
			continue
		}
		for len(answers) > 0 {
			v := answers[0]
			answers = answers[1:]
			u.inputs[prefix] = answers
			if v == "" {
				v = def
			}
			if err := validate(v); err != nil {
				u.refused = append(u.refused, err.Error())
				continue
			}
			return v, nil
		}
	}
	return def, nil
}

func (u *user) MultiSelect(message, _ string, _ []prompts.Option, _ []string) ([]string, error) {
	u.asked = append(u.asked, message)
	return u.features, nil
}

func (u *user) Note(message string) { u.notes = append(u.notes, message) }

func TestNameIsAskedOnATerminalAndItsDirectoryCheckedAtOnce(t *testing.T) {
	out := t.TempDir()
	if err := os.MkdirAll(filepath.Join(out, "taken", "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	u := &user{inputs: map[string][]string{"Project name": {"Bad Name", "taken", "fresh"}}, features: []string{"lock"}}
	r := daemongen(t, u, "new", "-o", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if len(u.refused) != 2 || !strings.Contains(u.refused[1], "not empty") {
		t.Fatalf("refused %q; want the bad name, then the taken directory, refused at the name prompt", u.refused)
	}
	if u.asked[0] != "Project name" || u.asked[3] == "Project name" {
		t.Fatalf("asked %q; want the name first and its directory checked before the next question", u.asked)
	}
	if _, err := os.Stat(filepath.Join(out, "fresh", "go.mod")); err != nil {
		t.Fatal(err)
	}

	// Without a terminal a missing NAME stays a usage error.
	if r := daemongen(t, nil, "new", "-o", out, "--yes"); r.code != 2 || !strings.Contains(r.stderr, "NAME is required") {
		t.Fatalf("no terminal: exit %d %q", r.code, r.stderr)
	}
}

func TestTakenDirectoryIsReportedBeforeAnyQuestion(t *testing.T) {
	out := t.TempDir()
	if err := os.MkdirAll(filepath.Join(out, "demo", "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	u := &user{}
	r := daemongen(t, u, "new", "demo", "-o", out)
	if r.code == 0 || !strings.Contains(r.stderr, "not empty") || len(u.asked) != 0 {
		t.Fatalf("exit %d, asked %q, stderr %q; want a refusal before any question", r.code, u.asked, r.stderr)
	}
	if err := os.WriteFile(filepath.Join(out, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r = daemongen(t, u, "new", "file", "-o", out)
	if r.code == 0 || !strings.Contains(r.stderr, "not a directory") || len(u.asked) != 0 {
		t.Fatalf("exit %d, asked %q, stderr %q", r.code, u.asked, r.stderr)
	}
}

func TestImpliedFeaturesAreAnnounced(t *testing.T) {
	out := t.TempDir()
	r := daemongen(t, nil, "new", "demo", "--yes", "-f", "batch,docker", "-o", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"also adding health (required by docker)\n", "also adding signals (required by batch, docker)\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	// On a terminal the prompt announces them, before the settings they bring are asked.
	u := &user{features: []string{"docker"}}
	r = daemongen(t, u, "new", "demo2", "-m", "example.com/demo2", "-o", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !slices.Equal(u.notes, []string{"also adding health (required by docker)", "also adding signals (required by docker)"}) {
		t.Errorf("notes %q", u.notes)
	}
	if strings.Contains(r.stdout, "also adding") {
		t.Errorf("announced twice:\n%s", r.stdout)
	}
}

// TestEchoedCommandReproducesTheProject runs the printed command and compares both trees byte
// for byte: the echo is only useful if it says everything the prompts collected.
func TestEchoedCommandReproducesTheProject(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sub dir") // a path that needs quoting
	u := &user{
		inputs:   map[string][]string{"Project name": {"demo"}, "Go module path": {"github.com/acme/demo"}, "Shutdown budget": {"40s"}, "Admin listener address": {":9090"}},
		features: []string{"batch", "health"},
	}
	r := daemongen(t, u, "new", "-o", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	first := listTree(t, filepath.Join(out, "demo"))
	_, line, ok := strings.Cut(r.stdout, "to do the same without prompts: ")
	if !ok {
		t.Fatalf("no equivalent command:\n%s", r.stdout)
	}
	args, err := shellquote.Split(strings.TrimSpace(line))
	if err != nil || args[0] != "daemongen" {
		t.Fatalf("echo %q: %v", line, err)
	}
	if err := os.Rename(filepath.Join(out, "demo"), filepath.Join(out, "first")); err != nil {
		t.Fatal(err)
	}
	r2 := daemongen(t, nil, args[1:]...) // no terminal: the command must need no prompt
	if r2.code != 0 {
		t.Fatalf("echoed command %q: exit %d: %s", line, r2.code, r2.stderr)
	}
	second := listTree(t, filepath.Join(out, "demo"))
	if !maps.EqualFunc(first, second, bytes.Equal) {
		t.Fatalf("echoed command %q rendered a different project", line)
	}
}

func TestAddEchoesItsCommand(t *testing.T) {
	dir := newProject(t, "none")
	u := &user{inputs: map[string][]string{"Admin listener address": {":9999"}}}
	r := daemongen(t, u, "add", "health", "--dir", dir)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := "to do the same without prompts: daemongen add health --admin-addr :9999 --dir " + shellquote.Join(dir) + "\n"
	if !strings.Contains(r.stdout, want) {
		t.Fatalf("stdout lacks %q:\n%s", want, r.stdout)
	}
}

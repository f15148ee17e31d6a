package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/daemongen/daemongen/generator"
)

// completions returns the candidates daemongen's __complete offers (descriptions dropped) and
// the directive number it ends with.
func completions(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	r := daemongen(t, nil, append([]string{"__complete"}, args...)...)
	if r.code != 0 {
		t.Fatalf("__complete %q: exit %d %s", args, r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var out []string
	for _, l := range lines[:len(lines)-1] {
		name, _, _ := strings.Cut(l, "\t")
		out = append(out, name)
	}
	return out, lines[len(lines)-1]
}

func TestFeatureCompletionOffersNoDuplicates(t *testing.T) {
	got, directive := completions(t, "new", "demo", "--features", "signals,batch,")
	if slices.Contains(got, "signals,batch,signals") || slices.Contains(got, "signals,batch,batch") || slices.Contains(got, "signals,batch,none") {
		t.Fatalf("offered %q", got)
	}
	if !slices.Contains(got, "signals,batch,health") {
		t.Fatalf("offered %q, want the remaining features", got)
	}
	if directive != ":6" { // NoSpace | NoFileComp
		t.Fatalf("directive %s", directive)
	}
}

func TestNoFileCompletionForNamesAndAddresses(t *testing.T) {
	for _, args := range [][]string{
		{"new", ""},
		{"new", "demo", "--module", ""},
		{"new", "demo", "--admin-addr", ""},
		{"new", "demo", "--shutdown-timeout", ""},
		{"add", "health", "--admin-addr", ""},
	} {
		if got, directive := completions(t, args...); directive != ":4" || len(got) != 0 {
			t.Errorf("__complete %q: %q %s, want nothing and no file completion (:4)", args, got, directive)
		}
	}
	if _, directive := completions(t, "new", "demo", "--output", ""); directive != ":16" {
		t.Errorf("--output completes %s, want directories only (:16)", directive)
	}
}

func TestAddCompletesOnlyFeaturesTheProjectLacks(t *testing.T) {
	dir := newProject(t, "signals")
	got, _ := completions(t, "add", "--dir", dir, "batch", "")
	if slices.Contains(got, "signals") || slices.Contains(got, "batch") || !slices.Contains(got, "health") {
		t.Fatalf("offered %q; want neither the project's signals nor the batch already named", got)
	}
}

func TestCompletionRejectsUnknownShells(t *testing.T) {
	for _, args := range [][]string{{"completion", "tcsh"}, {"completion"}} {
		if r := daemongen(t, nil, args...); r.code != 2 || !strings.Contains(r.stderr, "bash, zsh, fish, powershell") {
			t.Errorf("%q: exit %d %q, want a usage error naming the shells", args, r.code, r.stderr)
		}
	}
	for _, sh := range completionShells {
		if r := daemongen(t, nil, "completion", sh); r.code != 0 || len(r.stdout) < 100 {
			t.Errorf("completion %s: exit %d", sh, r.code)
		}
	}
}

// TestBashCompletionAfterAComma sources the generated script in a real bash and runs the
// completion function as bash would on <Tab>: bash 5.2's printf %q escapes commas, which once
// made every completion after the first comma disappear.
func TestBashCompletionAfterAComma(t *testing.T) {
	// cobra's script relies on the bash-completion package (_get_comp_words_by_ref), as every
	// distribution's bash does once completion is set up; .ci/run installs it.
	const bashCompletion = "/usr/share/bash-completion/bash_completion"
	bash, err := exec.LookPath("bash")
	if _, serr := os.Stat(bashCompletion); err != nil || serr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("bash and %s are required under CI", bashCompletion)
		}
		t.Skipf("needs bash and %s (apt-get install bash-completion)", bashCompletion)
	}
	r := daemongen(t, nil, "completion", "bash")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	script := filepath.Join(t.TempDir(), "daemongen.bash")
	if err := os.WriteFile(script, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	complete := func(line string) []string {
		t.Helper()
		// COMP_TYPE 9 is a plain <Tab>; the words are split as bash would for this line.
		cmd := exec.Command(bash, "-c", `source `+bashCompletion+`; source "$1"; shift
COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_TYPE=9
__start_daemongen 2>/dev/null
printf '%s\n' "${COMPREPLY[@]}"`, "bash", script, os.Args[0])
		cmd.Args = append(cmd.Args, strings.Fields(line)...)
		if strings.HasSuffix(line, " ") {
			cmd.Args = append(cmd.Args, "")
		}
		cmd.Env = append(os.Environ(), "DAEMONGEN_TEST_MAIN=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			got = append(got, strings.TrimSpace(strings.SplitN(l, "  (", 2)[0]))
		}
		return got
	}
	if v, _ := exec.Command(bash, "-c", "echo $BASH_VERSION").Output(); len(v) > 0 {
		t.Logf("bash %s", strings.TrimSpace(string(v)))
	}
	if got := complete("new demo --features signals,ba"); !slices.Equal(got, []string{"signals,batch"}) {
		t.Fatalf("after a comma: %q, want [signals,batch]", got)
	}
	if got := complete("new demo --features signals,"); len(got) != len(generator.Catalog)-1 || slices.Contains(got, "signals,signals") {
		t.Fatalf("after a trailing comma: %q, want the %d other features", got, len(generator.Catalog)-1)
	}
}

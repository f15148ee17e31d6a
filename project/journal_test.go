package project

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/daemongen/daemongen/generator"
)

// interrupted leaves dir as a crash right after the journal's commit would: the journal in
// place, no file replaced yet, a staged temporary file lying around.
func interrupted(t *testing.T, dir string, cs generator.Changes) {
	t.Helper()
	j, err := stageJournal(dir, cs)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.commit(nil); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, tempPrefix+"123"), []byte("staged"), 0o644)
}

func TestRecoverCompletesTheJournal(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("old a\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.txt"), []byte("new b\n"), 0o644) // already replaced
	cs := generator.Changes{
		{Path: "a.txt", Old: []byte("old a\n"), New: []byte("new a\n")},
		{Path: "b.txt", Old: []byte("old b\n"), New: []byte("new b\n")},
		{Path: "sub/c.txt", New: []byte("c\n")},
		{Path: generator.ManifestName, New: []byte("{}\n")},
	}
	interrupted(t, dir, cs)
	done, err := Recover(dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(done, ",") != "a.txt,sub/c.txt,"+generator.ManifestName {
		t.Errorf("Recover reports %q as completed", done)
	}
	got := readTree(t, dir)
	want := map[string]string{"a.txt": "new a\n", "b.txt": "new b\n", "sub/c.txt": "c\n", generator.ManifestName: "{}\n"}
	if len(got) != len(want) {
		t.Fatalf("tree = %v, want %v (no journal, no temporary file)", got, want)
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s = %q, want %q", p, got[p], w)
		}
	}
}

// A file changed between the crash and the next run: recovery stops, says which file, and
// keeps the journal rather than overwrite the change.
func TestRecoverRefusesAFileChangedSince(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("old a\n"), 0o644)
	interrupted(t, dir, generator.Changes{{Path: "a.txt", Old: []byte("old a\n"), New: []byte("new a\n")}})
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("edited meanwhile\n"), 0o644)
	_, err := Recover(dir)
	var re *RecoveryError
	if !errors.As(err, &re) || re.Path != "a.txt" {
		t.Fatalf("err = %v, want a RecoveryError naming a.txt", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(b) != "edited meanwhile\n" {
		t.Fatal("recovery overwrote the edit")
	}
	if _, err := os.Stat(filepath.Join(dir, JournalName)); err != nil {
		t.Fatal("the journal is gone")
	}
	// The message's command gets the content the interrupted run was writing.
	if _, err := exec.LookPath("jq"); err != nil {
		t.Skip("no jq on PATH to run the command the message gives")
	}
	_, command, _ := strings.Cut(err.Error(), "\n\t")
	command, _, _ = strings.Cut(command, "\n")
	if out, err := exec.Command("sh", "-c", command).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", command, err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.txt.daemongen-new")); string(b) != "new a\n" {
		t.Errorf("the command %s gave %q, want the journal's new content", command, b)
	}
}

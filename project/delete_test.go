package project

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/daemongen/daemongen/generator"
)

// Apply removes a file marked Delete, after the writes and before the manifest, and refuses
// one that no longer holds Old.
func TestApplyDeletes(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "gone.txt"), []byte("old\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("k1\n"), 0o644)
	cs := generator.Changes{
		{Path: generator.ManifestName, New: []byte("{}\n")},
		{Path: "gone.txt", Old: []byte("old\n"), Delete: true},
		{Path: "keep.txt", Old: []byte("k1\n"), New: []byte("k2\n")},
	}
	if err := Apply(dir, cs); err != nil {
		t.Fatal(err)
	}
	if got := readTree(t, dir); len(got) != 2 || got["keep.txt"] != "k2\n" {
		t.Fatalf("tree = %v, want keep.txt and the manifest only", got)
	}
	os.WriteFile(filepath.Join(dir, "edited.txt"), []byte("edited\n"), 0o644)
	err := Apply(dir, generator.Changes{{Path: "edited.txt", Old: []byte("old\n"), Delete: true}})
	var ce *ChangedError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want ChangedError", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "edited.txt")); string(b) != "edited\n" {
		t.Fatal("a file that changed was deleted")
	}
}

// A directory a deletion left empty goes too, up to the first that still holds something; a
// symlink to a directory is the user's and stays, even when what it points to is empty.
func TestApplyRemovesDirectoriesLeftEmpty(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real")
	os.MkdirAll(target, 0o755)
	if err := os.Symlink("real", filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"old/sub/gone.go", "shared/gone.go", "shared/ours.txt", "linked/gone.go"} {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("old\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var cs generator.Changes
	for _, f := range []string{"old/sub/gone.go", "shared/gone.go", "linked/gone.go"} {
		cs = append(cs, generator.Change{Path: f, Old: []byte("old\n"), Delete: true})
	}
	if err := Apply(dir, cs); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "old")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old/, empty after the deletion, is still there (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "shared", "ours.txt")); err != nil {
		t.Errorf("shared/ours.txt: %v", err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "linked")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink linked/ was removed (%v)", err)
	}
	if _, err := os.Stat(target); err != nil {
		t.Errorf("the symlink's target: %v", err)
	}
}

// A failure after a removal puts the removed file back.
func TestApplyRestoresADeletedFileOnFailure(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "gone.txt"), []byte("old\n"), 0o644)
	StepHook = func(step string) error {
		if step == "rename "+generator.ManifestName || step == "link "+generator.ManifestName {
			return errors.New("disk full")
		}
		return nil
	}
	defer func() { StepHook = nil }()
	err := Apply(dir, generator.Changes{
		{Path: generator.ManifestName, New: []byte("{}\n")},
		{Path: "gone.txt", Old: []byte("old\n"), Delete: true},
	})
	if err == nil {
		t.Fatal("Apply reported success")
	}
	if got := readTree(t, dir); len(got) != 1 || got["gone.txt"] != "old\n" {
		t.Fatalf("tree = %v, want gone.txt restored and nothing else", got)
	}
}

// Recovery completes a removal, skips one already done, and refuses a file changed since.
func TestRecoverCompletesARemoval(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("old a\n"), 0o644)
	interrupted(t, dir, generator.Changes{
		{Path: "a.txt", Old: []byte("old a\n"), Delete: true},
		{Path: "b.txt", Old: []byte("old b\n"), Delete: true}, // already removed
	})
	if _, err := Recover(dir); err != nil {
		t.Fatal(err)
	}
	if got := readTree(t, dir); len(got) != 0 {
		t.Fatalf("tree = %v, want empty", got)
	}
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("edited\n"), 0o644)
	interrupted(t, dir, generator.Changes{{Path: "a.txt", Old: []byte("old a\n"), Delete: true}})
	var re *RecoveryError
	if _, err := Recover(dir); !errors.As(err, &re) {
		t.Fatalf("err = %v, want RecoveryError", err)
	}
}

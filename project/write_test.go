package project

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/daemongen/daemongen/generator"
)

func sample() generator.Changes {
	return generator.Changes{{Path: "a.txt", New: []byte("a\n")}, {Path: "dir/b.txt", New: []byte("b\n")}}
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == LockName {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWriteNewCreatesTreeAndLeavesNoTemp(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "proj")
	if err := WriteNew(context.Background(), dir, sample(), false, nil); err != nil {
		t.Fatal(err)
	}
	got := readTree(t, dir)
	if got["a.txt"] != "a\n" || got["dir/b.txt"] != "b\n" || len(got) != 2 {
		t.Fatalf("tree = %v", got)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 1 {
		t.Fatalf("parent holds %d entries, want only the project (no temporary directory left)", len(entries))
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o755 {
		t.Errorf("project directory mode %v, want 0755", fi.Mode().Perm())
	}
}

func TestWriteNewIntoEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := WriteNew(context.Background(), dir, sample(), false, nil); err != nil {
		t.Fatal(err)
	}
	if len(readTree(t, dir)) != 2 {
		t.Fatal("files not written into the empty directory")
	}
}

func TestWriteNewRefusesNonEmpty(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "mine.txt"), []byte("keep\n"), 0o644)
	err := WriteNew(context.Background(), dir, sample(), false, nil)
	if !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("err = %v, want ErrNotEmpty", err)
	}
	if got := readTree(t, dir); len(got) != 1 || got["mine.txt"] != "keep\n" {
		t.Fatalf("directory changed: %v", got)
	}
}

func TestWriteNewForceAddsButNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "mine.txt"), []byte("keep\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a\n"), 0o644) // identical: fine
	if err := WriteNew(context.Background(), dir, sample(), true, nil); err != nil {
		t.Fatal(err)
	}
	if got := readTree(t, dir); len(got) != 3 || got["mine.txt"] != "keep\n" || got["dir/b.txt"] != "b\n" {
		t.Fatalf("tree = %v", got)
	}

	dir = t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("user edit\n"), 0o644)
	err := WriteNew(context.Background(), dir, sample(), true, nil)
	var ee *ExistingFilesError
	if !errors.As(err, &ee) || len(ee.Paths) != 1 || ee.Paths[0] != "a.txt" {
		t.Fatalf("err = %v, want ExistingFilesError naming a.txt", err)
	}
	if got := readTree(t, dir); len(got) != 1 || got["a.txt"] != "user edit\n" {
		t.Fatalf("a refused --force still wrote: %v", got)
	}
}

func TestWriteNewFailureLeavesNothing(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "proj")
	bad := generator.Changes{{Path: "a.txt", New: []byte("a\n")}, {Path: "a.txt/b.txt", New: []byte("b\n")}} // a.txt cannot be a directory too
	if err := WriteNew(context.Background(), dir, bad, false, nil); err == nil {
		t.Fatal("WriteNew succeeded with an impossible tree")
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Fatalf("a failed write left %d entries behind", len(entries))
	}
}

func TestWriteChangesAppliesAndChecksOldContent(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "shared.txt"), []byte("v1\n"), 0o644)
	cs := generator.Changes{
		{Path: generator.ManifestName, New: []byte("{}\n")},
		{Path: "new/owned.txt", New: []byte("mine\n")},
		{Path: "shared.txt", Old: []byte("v1\n"), New: []byte("v2\n")},
	}
	if err := Apply(dir, cs); err != nil {
		t.Fatal(err)
	}
	got := readTree(t, dir)
	if got["shared.txt"] != "v2\n" || got["new/owned.txt"] != "mine\n" || got[generator.ManifestName] != "{}\n" || len(got) != 3 {
		t.Fatalf("tree = %v", got)
	}
}

// A file edited between `add` reading it and writing: nothing is written at all.
func TestWriteChangesRefusesConcurrentEdit(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "shared.txt"), []byte("edited meanwhile\n"), 0o644)
	cs := generator.Changes{
		{Path: "a-new.txt", New: []byte("x\n")},
		{Path: "shared.txt", Old: []byte("v1\n"), New: []byte("v2\n")},
	}
	err := Apply(dir, cs)
	var ce *ChangedError
	if !errors.As(err, &ce) || ce.Path != "shared.txt" {
		t.Fatalf("err = %v, want ChangedError for shared.txt", err)
	}
	if got := readTree(t, dir); len(got) != 1 || got["shared.txt"] != "edited meanwhile\n" {
		t.Fatalf("a refused write changed the tree: %v", got)
	}
	// A file that appeared where add meant to create one is refused the same way.
	os.WriteFile(filepath.Join(dir, "a-new.txt"), []byte("user's\n"), 0o644)
	if err := Apply(dir, generator.Changes{{Path: "a-new.txt", New: []byte("x\n")}}); !errors.As(err, &ce) {
		t.Fatalf("err = %v, want ChangedError", err)
	}
}

// A rename that fails midway restores what was already replaced.
func TestWriteChangesRestoresOnFailure(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("old a\n"), 0o644)
	cs := generator.Changes{
		{Path: generator.ManifestName, New: []byte("{}\n")},
		{Path: "a.txt", Old: []byte("old a\n"), New: []byte("new a\n")},
		{Path: "b.txt", New: []byte("b\n")},
	}
	renames := 0
	StepHook = func(step string) error {
		if strings.HasPrefix(step, "rename ") || strings.HasPrefix(step, "link ") {
			if renames++; renames == 3 { // a.txt and b.txt are in place; the manifest fails
				return errors.New("disk full")
			}
		}
		return nil
	}
	defer func() { StepHook = nil }()
	if err := Apply(dir, cs); err == nil {
		t.Fatal("WriteChanges reported success")
	}
	got := readTree(t, dir)
	if got["a.txt"] != "old a\n" || len(got) != 1 {
		t.Fatalf("tree after a failed write = %v, want only the old a.txt (no temporary files)", got)
	}
}

// TestWriteNewSyncsBeforeTheRename: the new project's content is made durable before its name
// appears, so a power loss cannot leave a project of empty files.
func TestWriteNewSyncsBeforeTheRename(t *testing.T) {
	var steps []string
	StepHook = func(s string) error { steps = append(steps, s); return nil }
	defer func() { StepHook = nil }()
	if err := WriteNew(context.Background(), filepath.Join(t.TempDir(), "a", "p"), sample(), false, nil); err != nil {
		t.Fatal(err)
	}
	sync, rename := slices.Index(steps, "sync the project"), slices.Index(steps, "rename the project into place")
	if sync < 0 || rename < 0 || sync > rename || sync < len(sample()) {
		t.Fatalf("steps %q: want every write, then the sync, then the rename", steps)
	}
}

package project

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/daemongen/daemongen/generator"
)

// A symlinked file is updated where it lives (inside the project): the link stays a link.
func TestApplyUpdatesSymlinkTargets(t *testing.T) {
	dir := t.TempDir()
	elsewhere := filepath.Join(dir, "docs")
	os.Mkdir(elsewhere, 0o755)
	real := filepath.Join(elsewhere, "README.md")
	os.WriteFile(real, []byte("old\n"), 0o644)
	os.Symlink(real, filepath.Join(dir, "README.md"))
	if err := Apply(dir, generator.Changes{{Path: "README.md", Old: []byte("old\n"), New: []byte("new\n")}}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "README.md")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("README.md is no longer a symlink (%v)", err)
	}
	if b, _ := os.ReadFile(real); string(b) != "new\n" {
		t.Fatalf("the link's target holds %q", b)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 1 {
		t.Fatalf("the target's directory holds %d entries, want 1 (no temporary file)", len(entries))
	}
}

// A file's mode (0600, or executable) survives an update.
func TestApplyKeepsMode(t *testing.T) {
	dir := t.TempDir()
	for name, mode := range map[string]os.FileMode{"secret.txt": 0o600, "run.sh": 0o755} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("old\n"), mode)
		os.Chmod(p, mode) // whatever the umask
		if err := Apply(dir, generator.Changes{{Path: name, Old: []byte("old\n"), New: []byte("new\n")}}); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v after update, want %v", name, fi.Mode().Perm(), mode)
		}
	}
}

// new into an existing empty directory writes into it: the directory (its inode, mode and
// setgid bit) stays, and a symlink to an empty directory stays a symlink.
func TestWriteNewKeepsAnExistingEmptyDirectory(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "proj")
	os.Mkdir(dir, 0o750)
	os.Chmod(dir, 0o750|os.ModeSetgid)
	before, _ := os.Stat(dir)
	t.Chdir(dir) // a shell standing in the target
	if err := WriteNew(context.Background(), dir, sample(), false, nil); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(dir)
	if !os.SameFile(before, after) || after.Mode() != before.Mode() {
		t.Fatalf("the directory was replaced: mode %v → %v, same inode %v", before.Mode(), after.Mode(), os.SameFile(before, after))
	}
	if wd, _ := os.Getwd(); wd != dir {
		t.Fatalf("working directory %q", wd)
	}
	if got := readTree(t, "."); got["a.txt"] != "a\n" || got["dir/b.txt"] != "b\n" {
		t.Fatalf("tree = %v", got)
	}

	target := filepath.Join(parent, "target")
	os.Mkdir(target, 0o755)
	link := filepath.Join(parent, "link")
	os.Symlink(target, link)
	if err := WriteNew(context.Background(), link, sample(), false, nil); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the symlink to an empty directory was replaced by a directory")
	}
	if got := readTree(t, target); got["a.txt"] != "a\n" {
		t.Fatalf("the link's target holds %v", got)
	}
}

// A writable empty directory in a read-only parent can be filled.
func TestWriteNewIntoEmptyDirectoryOfReadOnlyParent(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "proj")
	os.Mkdir(dir, 0o755)
	os.Chmod(parent, 0o555)
	defer os.Chmod(parent, 0o755)
	if err := WriteNew(context.Background(), dir, sample(), false, nil); err != nil {
		t.Fatal(err)
	}
}

// A failed write leaves no directory it created, in the project or above it.
func TestFailedWritesLeaveNoEmptyDirectories(t *testing.T) {
	dir := t.TempDir()
	StepHook = func(step string) error {
		if strings.HasPrefix(step, "link deep/er/c.txt") {
			return errors.New("disk full")
		}
		return nil
	}
	defer func() { StepHook = nil }()
	cs := generator.Changes{{Path: "a.txt", New: []byte("a\n")}, {Path: "deep/er/c.txt", New: []byte("c\n")}}
	if err := Apply(dir, cs); err == nil {
		t.Fatal("Apply succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a failed Apply left %d entries", len(entries))
	}

	StepHook = func(step string) error {
		if step == "rename the project into place" {
			return errors.New("disk full")
		}
		return nil
	}
	base := t.TempDir()
	if err := WriteNew(context.Background(), filepath.Join(base, "new", "parent", "proj"), sample(), false, nil); err == nil {
		t.Fatal("WriteNew succeeded")
	}
	if entries, _ := os.ReadDir(base); len(entries) != 0 {
		t.Fatalf("a failed WriteNew left %d entries (parents it created)", len(entries))
	}
}

// Error messages name the project's files, never daemongen's temporary ones.
func TestErrorsNameNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "ro"), 0o755)
	os.WriteFile(filepath.Join(dir, "ro", "f.txt"), []byte("old\n"), 0o644)
	StepHook = func(step string) error {
		if step == "rename ro/f.txt" {
			return &os.LinkError{Op: "rename", Old: filepath.Join(dir, "ro", ".daemongen-123"), New: "x", Err: syscall.EACCES}
		}
		return nil
	}
	defer func() { StepHook = nil }()
	err := Apply(dir, generator.Changes{{Path: "ro/f.txt", Old: []byte("old\n"), New: []byte("new\n")}})
	if err == nil || strings.Contains(err.Error(), ".daemongen-") || !strings.Contains(err.Error(), "ro/f.txt") {
		t.Fatalf("err = %v: want one naming ro/f.txt and no temporary file", err)
	}
}

// A symbolic link that leads out of the project (a file's, or a directory's on the way) is
// refused, with nothing written anywhere: a repository could commit README.md -> ~/.bashrc.
func TestApplyRefusesLinksOutOfTheProject(t *testing.T) {
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o644)
	for name, setup := range map[string]func(dir string) (rel string){
		"file link": func(dir string) string {
			os.Symlink(victim, filepath.Join(dir, "README.md"))
			return "README.md"
		},
		"directory link": func(dir string) string {
			os.Symlink(outside, filepath.Join(dir, "docs"))
			return "docs/victim"
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			rel := setup(dir)
			err := Apply(dir, generator.Changes{{Path: rel, Old: []byte("precious\n"), New: []byte("pwned\n")}})
			var oe *OutsideError
			if !errors.As(err, &oe) {
				t.Fatalf("Apply = %v, want an OutsideError", err)
			}
			if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
				t.Fatalf("the file outside the project now holds %q", b)
			}
		})
	}
}

// A journal is replayed only if every path stays inside the project; nothing is replayed
// otherwise (a journal committed to a repository next to a symlinked directory).
func TestRecoverRefusesAJournalLeadingOutside(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	os.Symlink(outside, filepath.Join(dir, "evil"))
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("old\n"), 0o644)
	j := `{"entries":[{"path":"a.txt","old":"b2xkCg==","new":"bmV3Cg=="},{"path":"evil/pwned.sh","old":null,"new":"ZWNobyBwd25lZAo="}]}`
	if err := os.WriteFile(filepath.Join(dir, JournalName), []byte(j), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Recover(dir); err == nil || !strings.Contains(err.Error(), "leads outside the project") {
		t.Fatalf("Recover = %v, want a refusal naming the path leading outside", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "pwned.sh")); err == nil {
		t.Error("the journal wrote outside the project")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(b) != "old\n" {
		t.Errorf("a.txt was replayed (%q) although the journal was refused", b)
	}
}

// An edit saved while Apply stages its files (big files take seconds) is found by the check
// right before the commit point: refused, the edit kept, no temporary file left.
func TestApplyRechecksBeforeTheCommitPoint(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "README.md")
	os.WriteFile(p, []byte("old\n"), 0o644)
	StepHook = func(s string) error {
		if s == "check the files again" {
			os.WriteFile(p, []byte("old\nsaved while daemongen was writing\n"), 0o644)
		}
		return nil
	}
	defer func() { StepHook = nil }()
	err := Apply(dir, generator.Changes{{Path: "README.md", Old: []byte("old\n"), New: []byte("new\n")}})
	var ce *ChangedError
	if !errors.As(err, &ce) {
		t.Fatalf("Apply = %v, want a ChangedError", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old\nsaved while daemongen was writing\n" {
		t.Fatalf("README.md holds %q: the edit was lost", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the project holds %d entries after the refusal, want README.md alone", len(entries))
	}
}

// The lock file is daemongen's: one that is a symlink (committed to a repository, say) is
// refused, and what it points at is never written.
func TestAcquireRefusesASymlinkedLockFile(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o644)
	os.Symlink(victim, filepath.Join(dir, LockName))
	for name, acquire := range map[string]func() (*Lock, error){
		"exclusive": func() (*Lock, error) { return Acquire(context.Background(), dir, time.Second, nil) },
		"shared":    func() (*Lock, error) { return AcquireShared(context.Background(), dir, time.Second, nil) },
	} {
		if l, err := acquire(); err == nil || !strings.Contains(err.Error(), "is not a plain file") {
			l.Unlock()
			t.Errorf("%s: err = %v, want a refusal of the symlinked lock file", name, err)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("the lock file's target now holds %q", b)
	}
}

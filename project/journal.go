package project

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kballard/go-shellquote"

	"github.com/daemongen/daemongen/generator"
)

// JournalName is the intent journal: while it exists, a change to the project was decided and
// may be partly applied. It holds every file's old and new content, so the next run can finish
// the change exactly, whatever point the interrupted one reached.
const JournalName = ".daemongen.journal"

type journal struct {
	Entries []journalEntry `json:"entries"`
}

type journalEntry struct {
	Path string `json:"path"`
	Old  []byte `json:"old"` // null: the file did not exist
	New  []byte `json:"new"`
	// Delete: the file is removed; Old is what it held.
	Delete bool `json:"delete,omitempty"`
}

// stageJournal stages the journal of changes; committing the returned file (renaming it into
// place, after it is synced) is the commit point of the whole change.
func stageJournal(dir string, changes generator.Changes) (staged, error) {
	var j journal
	for _, c := range changes {
		j.Entries = append(j.Entries, journalEntry{Path: c.Path, Old: c.Old, New: c.New, Delete: c.Delete})
	}
	data, err := json.Marshal(j)
	if err != nil {
		return staged{}, err
	}
	tmp, err := stage(dir, JournalName, data, 0o644, nil)
	if err != nil {
		return staged{}, fmt.Errorf("writing the journal: %w", err)
	}
	return staged{rel: JournalName, tmp: tmp, final: filepath.Join(dir, JournalName)}, nil
}

func removeJournal(dir string) error {
	if err := step("remove the journal"); err != nil {
		return err
	}
	// Not synced: if the removal is lost, the next run finds a completed journal and removes it.
	if err := os.Remove(filepath.Join(dir, JournalName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// RecoveryError reports a journal that cannot be completed because a file changed since the
// interrupted run.
type RecoveryError struct {
	Dir, Path string
	Delete    bool // the interrupted run was removing Path
}

func (e *RecoveryError) Error() string {
	journal := filepath.Join(e.Dir, JournalName)
	if e.Delete {
		return fmt.Sprintf("an interrupted daemongen run left %s half-changed, and %s, which it was removing, has changed since, so it cannot be completed safely; keep or remove %s yourself, then delete %s",
			e.Dir, e.Path, e.Path, journal)
	}
	// The journal holds contents as base64 in JSON: give the command that extracts the one
	// to compare, rather than point at the journal.
	path, _ := json.Marshal(e.Path)
	extract := shellquote.Join("jq", "-r", ".entries[] | select(.path == "+string(path)+") | .new", journal) +
		" | base64 -d > " + shellquote.Join(filepath.Join(e.Dir, filepath.FromSlash(e.Path))+".daemongen-new")
	return fmt.Sprintf("an interrupted daemongen run left %s half-changed, and %s has changed since, so it cannot be completed safely; get the content it was writing with\n\t%s\nmerge that into %s by hand, then delete %s",
		e.Dir, e.Path, extract, e.Path, journal)
}

// Recover completes a change an interrupted run left in the journal of the project in dir and
// removes the temporary files of interrupted runs (in the project, and the hidden temporary
// directories a crashed new of it left beside it); it returns the files it wrote. The caller
// holds the project lock, so no other run is writing. A file that already has its new content
// is skipped; one that still has its old content (or is still absent) is written; anything
// else stops recovery.
func Recover(dir string) (completed []string, err error) {
	data, err := os.ReadFile(filepath.Join(dir, JournalName))
	removeStaleSiblings(filepath.Dir(dir), filepath.Base(dir))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		removeTemps(dir, nil)
		return nil, nil
	case err != nil:
		return nil, err
	}
	var j journal
	if err := json.Unmarshal(data, &j); err != nil {
		// Never happens through daemongen: the journal is renamed into place only when complete.
		return nil, fmt.Errorf("%s is not a daemongen journal (%v); remove it if no daemongen run is active", filepath.Join(dir, JournalName), err)
	}
	// Every path is checked before anything is replayed: a journal committed to a repository
	// with a symlinked directory must not write outside the project, not even partly.
	for _, e := range j.Entries {
		if !generator.ValidPath(e.Path) && e.Path != generator.ManifestName {
			return nil, fmt.Errorf("%s: path %q is outside the project; remove the journal", filepath.Join(dir, JournalName), e.Path)
		}
		if target, out := leadsOutside(dir, e.Path); out {
			return nil, fmt.Errorf("%s: path %q leads outside the project (to %s) through a symbolic link; nothing was replayed: remove the journal", filepath.Join(dir, JournalName), e.Path, target)
		}
	}
	var dirs []string
	for _, e := range j.Entries {
		p := filepath.Join(dir, filepath.FromSlash(e.Path))
		if target, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(target))
		}
		got, err := os.ReadFile(p)
		exists := err == nil
		switch {
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return nil, err
		case e.Delete && !exists:
			continue
		case e.Delete && bytes.Equal(got, e.Old):
			if err := removeFile(p); err != nil {
				return nil, fmt.Errorf("completing the interrupted removal of %s: %w", e.Path, err)
			}
			completed = append(completed, e.Path)
		case e.Delete:
			return nil, &RecoveryError{Dir: dir, Path: e.Path, Delete: true}
		case exists && bytes.Equal(got, e.New):
			continue
		case !exists && e.Old == nil, exists && e.Old != nil && bytes.Equal(got, e.Old):
			if err := putFile(dir, e.Path, exists, e.New, nil); err != nil {
				return nil, fmt.Errorf("completing the interrupted change of %s: %w", e.Path, unwrapLink(err))
			}
			completed = append(completed, e.Path)
		default:
			return nil, &RecoveryError{Dir: dir, Path: e.Path}
		}
	}
	removeTemps(dir, dirs)
	if err := removeJournal(dir); err != nil {
		return completed, err
	}
	for _, e := range j.Entries {
		if e.Delete { // as Apply does after an uninterrupted run
			removeEmptyParents(dir, e.Path)
		}
	}
	return completed, nil
}

// removeTemps deletes daemongen's temporary files (tempPrefix) anywhere in the project but .git,
// and in extra directories (where symlinked files really live).
func removeTemps(dir string, extra []string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && p != dir && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), tempPrefix) {
			if step("remove %s", d.Name()) == nil {
				os.Remove(p)
			}
		}
		return nil
	})
	for _, d := range extra {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if !e.IsDir() && strings.HasPrefix(e.Name(), tempPrefix) {
				os.Remove(filepath.Join(d, e.Name()))
			}
		}
	}
}

// Pending returns what the interrupted change recorded in dir's journal will leave once the
// next writing run completes it, for the files it covers: the new content, or nil for a file
// it removes. ok is false when there is no journal. A file holding neither the old nor the new
// content is left out (recovery will refuse it; it stays as it is). Pending writes nothing:
// it is for status, which reports the project as the user will find it without changing it.
func Pending(dir string) (files map[string][]byte, ok bool, err error) {
	data, err := os.ReadFile(filepath.Join(dir, JournalName))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	var j journal
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, false, fmt.Errorf("%s is not a daemongen journal (%v); remove it if no daemongen run is active", filepath.Join(dir, JournalName), err)
	}
	files = map[string][]byte{}
	for _, e := range j.Entries {
		if !generator.ValidPath(e.Path) && e.Path != generator.ManifestName {
			return nil, false, fmt.Errorf("%s: path %q is outside the project; remove the journal", filepath.Join(dir, JournalName), e.Path)
		}
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(e.Path)))
		exists := err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, false, err
		}
		switch {
		case e.Delete && (!exists || bytes.Equal(got, e.Old)):
			files[e.Path] = nil
		case e.Delete:
		case exists && bytes.Equal(got, e.New), !exists && e.Old == nil, exists && e.Old != nil && bytes.Equal(got, e.Old):
			files[e.Path] = e.New
		}
	}
	return files, true, nil
}

package generator

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotEmpty is returned when a new project's directory exists and is not empty.
var ErrNotEmpty = errors.New("directory exists and is not empty")

// ExistingFilesError lists files --force would have to overwrite; it never does.
type ExistingFilesError struct {
	Dir   string
	Paths []string
}

func (e *ExistingFilesError) Error() string {
	return fmt.Sprintf("%s: %d file(s) already exist with different content and were left alone: %s; move them aside and run again (nothing was written)",
		e.Dir, len(e.Paths), strings.Join(e.Paths, ", "))
}

// WriteNew creates a new project in dir. The tree is built in a temporary sibling directory and
// renamed into place, so a failure at any point leaves no half-written project. dir must not
// exist, or be empty. With force, a non-empty dir is accepted: files that exist with identical
// content are skipped, any that differ make WriteNew fail before it writes anything, and the rest
// are added one by one, each staged and renamed.
func WriteNew(dir string, changes Changes, force bool) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// The common case: build aside, then one rename.
	case err != nil:
		return err
	case len(entries) == 0:
		// os.Rename refuses to replace a directory, even an empty one. os.Remove deletes only an
		// empty directory, so nothing the user put there in the meantime can be lost.
		if err := os.Remove(dir); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
	case !force:
		return fmt.Errorf("%s: %w; choose another name or --output, or pass --force to add files without overwriting any", dir, ErrNotEmpty)
	default:
		return writeInto(dir, changes)
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".daemongen-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // a no-op after the rename succeeded
	made := map[string]bool{}
	for _, c := range changes {
		// Plain writes: nobody can see the temporary directory until the final rename.
		p := filepath.Join(tmp, filepath.FromSlash(c.Path))
		if d := filepath.Dir(p); !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			made[d] = true
		}
		if err := os.WriteFile(p, c.New, 0o644); err != nil {
			return err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp creates 0700
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("moving the new project into place: %w", err)
	}
	return nil
}

// writeInto adds files to an existing directory without overwriting anything that differs.
func writeInto(dir string, changes Changes) error {
	var conflicts []string
	var todo Changes
	for _, c := range changes {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(c.Path)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			todo = append(todo, c)
		case err != nil:
			return err
		case !bytes.Equal(got, c.New):
			conflicts = append(conflicts, c.Path)
		}
	}
	if len(conflicts) > 0 {
		return &ExistingFilesError{Dir: dir, Paths: conflicts}
	}
	var created []string
	for _, c := range todo {
		p := filepath.Join(dir, filepath.FromSlash(c.Path))
		if err := writeFile(p, c.New, true); err != nil {
			for _, q := range created {
				os.Remove(q)
			}
			return err
		}
		created = append(created, p)
	}
	return nil
}

// writeFile writes content to a temporary file beside p and moves it into place, so p is either
// absent or complete. With noClobber the move is a hard link, which fails if p appeared in the
// meantime, instead of a rename, which would replace it.
func writeFile(p string, content []byte, noClobber bool) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".daemongen-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		os.Remove(f.Name())
		return err
	}
	if !noClobber {
		return os.Rename(f.Name(), p)
	}
	defer os.Remove(f.Name())
	return os.Link(f.Name(), p)
}

// ChangedError reports a file that changed on disk after add read it.
type ChangedError struct{ Path string }

func (e *ChangedError) Error() string {
	return fmt.Sprintf("%s changed while daemongen was working (or since it was read); nothing was written: run the command again", e.Path)
}

// WriteChanges applies changes to the existing project in dir, all or nothing as far as a
// process can promise: every target is checked to still hold the content it had when rendering
// read it, every new content is staged beside its target, the targets are checked again, and
// only then renamed into place, the manifest last. If a rename fails, the files already
// replaced get their old content back. After a crash midway, running the same add again
// completes it: rendering skips what is already there.
func WriteChanges(dir string, changes Changes) error {
	check := func(c Change) error {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(c.Path)))
		switch {
		case errors.Is(err, fs.ErrNotExist) && c.Old == nil:
			return nil
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return err
		case err != nil || c.Old == nil || !bytes.Equal(got, c.Old):
			return &ChangedError{Path: c.Path}
		}
		return nil
	}
	for _, c := range changes {
		if err := check(c); err != nil {
			return err
		}
	}
	// The manifest goes last: until it is renamed, the project still says it lacks the feature.
	ordered := make(Changes, 0, len(changes))
	var manifest *Change
	for i, c := range changes {
		if c.Path == ManifestName {
			manifest = &changes[i]
			continue
		}
		ordered = append(ordered, c)
	}
	if manifest != nil {
		ordered = append(ordered, *manifest)
	}
	staged := make([]string, len(ordered))
	cleanup := func() {
		for _, s := range staged {
			if s != "" {
				os.Remove(s)
			}
		}
	}
	for i, c := range ordered {
		p := filepath.Join(dir, filepath.FromSlash(c.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			cleanup()
			return err
		}
		s, err := stage(filepath.Dir(p), c.New)
		if err != nil {
			cleanup()
			return err
		}
		staged[i] = s
	}
	for _, c := range ordered {
		if err := check(c); err != nil {
			cleanup()
			return err
		}
	}
	for i, c := range ordered {
		p := filepath.Join(dir, filepath.FromSlash(c.Path))
		if err := renameFile(staged[i], p); err != nil {
			restore(dir, ordered[:i])
			staged = staged[i:]
			cleanup()
			return fmt.Errorf("replacing %s: %w (the files already replaced were restored)", c.Path, err)
		}
	}
	return nil
}

// renameFile is os.Rename; tests replace it to fail midway.
var renameFile = os.Rename

// restore puts back the old content of changes already applied.
func restore(dir string, applied Changes) {
	for _, c := range applied {
		p := filepath.Join(dir, filepath.FromSlash(c.Path))
		if c.Old == nil {
			os.Remove(p)
			continue
		}
		writeFile(p, c.Old, false)
	}
}

// stage writes content to a new temporary file in dir and returns its name.
func stage(dir string, content []byte) (string, error) {
	f, err := os.CreateTemp(dir, ".daemongen-*")
	if err != nil {
		return "", err
	}
	_, werr := f.Write(content)
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(f.Name(), 0o644)); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

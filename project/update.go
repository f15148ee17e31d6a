package project

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/daemongen/daemongen/generator"
)

// Update is what `daemongen update` needs to plan the update of the project in Dir.
type Update struct {
	Dir  string
	Prev generator.Manifest // as read from Dir
	// Next is the manifest to record (Generator and Answers set; Files and Deleted are filled in
	// by Plan). New is the pristine render of Next.Answers by the running daemongen, manifest
	// excluded.
	Next generator.Manifest
	New  map[string][]byte
	// Bases are candidate renders of what daemongen last wrote (the recorded version with the
	// recorded answers, obtained however possible). For each file, the first candidate whose
	// content has the hash the manifest recorded is the base of its merge; a file no candidate
	// matches has no base, and an edit of it is never overwritten (a 2-way update).
	Bases  []map[string][]byte
	Labels Labels
	Rej    bool // a conflicting file stays as the user's, the template's change goes to FILE.rej
	// Mergers merge files with a structure of their own (go.mod, go.sum) by meaning instead of
	// by lines: a line merge of go.sum conflicts as soon as the user's modules sort next to the
	// template's. They need no base and leave no conflicts.
	Mergers map[string]func(yours, theirs []byte) ([]byte, error)
}

// Action is what the update does to one file.
type Action struct {
	Path, What string
}

// Plan is an update decided but not yet written.
type Plan struct {
	Changes   generator.Changes // for Apply, the manifest included
	Actions   []Action          // every file the update touches or deliberately leaves, sorted
	Conflicts []string          // files left with conflict markers, or with a FILE.rej
	Kept      []string          // edited files that could not be updated: no base to merge with
}

// UntrackedFileError reports a file the new templates produce that exists with other content
// and that daemongen never wrote: update does not overwrite it, as add does not.
type UntrackedFileError struct{ Path string }

func (e *UntrackedFileError) Error() string {
	return fmt.Sprintf("%s already exists with different content and daemongen did not write it, but this daemongen generates it: move it aside (or merge it by hand) and run again (nothing was written)", e.Path)
}

// PlanUpdate decides, per file, what the update does:
//   - unchanged by the user (hash as recorded) → the new render;
//   - the user's version equals the new render → nothing;
//   - the template's output unchanged (base = new) → the user's version stays;
//   - a file with a Merger (go.mod, go.sum) → merged by it, with or without a base;
//   - otherwise a 3-way merge of the user's version, the base and the new render; conflicts
//     are written as diff3 markers, or with Rej the file stays and the change goes to FILE.rej;
//   - no base for an edited file → it stays as it is (listed; the manifest keeps the old hash,
//     so a later update with a base can still merge it);
//   - no longer generated → deleted if unedited, kept and listed if edited;
//   - newly generated → created, unless a different untracked file is in the way (refused);
//   - deleted by the user → stays deleted and is recorded in the manifest.
func PlanUpdate(u Update) (Plan, error) {
	var p Plan
	next := u.Next
	next.Files = map[string]string{}
	deleted := map[string]bool{}
	for _, d := range u.Prev.Deleted {
		deleted[d] = true
	}
	paths := map[string]bool{}
	for k := range u.New {
		paths[k] = true
	}
	for k := range u.Prev.Files {
		paths[k] = true
	}
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		n, generated := u.New[path]
		recorded, tracked := u.Prev.Files[path]
		user, err := readRegular(filepath.Join(u.Dir, filepath.FromSlash(path)), path)
		exists := err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return p, err
		}
		act := func(what string) { p.Actions = append(p.Actions, Action{path, what}) }
		if !generated {
			switch {
			case !exists: // gone from both: nothing to do
			case sum(user) == recorded:
				// Deleted only when a base proves daemongen generated it: a manifest entry
				// alone (hand-edited, or a bad git merge of it) is no reason to delete a file.
				if _, ok := baseOf(u.Bases, path, recorded); !ok {
					act("kept: no longer generated, and no base shows daemongen generated it (yours now)")
					continue
				}
				p.Changes = append(p.Changes, generator.Change{Path: path, Old: user, Delete: true})
				act("deleted (no longer generated)")
			default:
				act("kept: no longer generated, and edited by you (now yours)")
			}
			continue
		}
		switch {
		case deleted[path] && exists && !bytes.Equal(user, n):
			act("left alone: you deleted it once and it is back with other content (yours now)")
			continue
		case !exists && (deleted[path] || tracked):
			if !deleted[path] {
				act("stays deleted (you deleted it; recorded, so later updates leave it out too)")
			}
			continue // recorded in Deleted below, not in Files
		case !exists:
			p.Changes = append(p.Changes, generator.Change{Path: path, New: n})
			act("created")
		case bytes.Equal(user, n):
		case !tracked && inSomeBase(u.Bases, path, user):
			// The manifest lost it (a hand edit, a bad git merge of the manifest), but it is
			// byte for byte what daemongen generated: not the user's, so it is updated.
			p.Changes = append(p.Changes, generator.Change{Path: path, Old: user, New: n})
			act("updated (missing from the manifest, but as daemongen generated it)")
		case !tracked:
			return p, &UntrackedFileError{Path: path}
		case sum(user) == recorded:
			p.Changes = append(p.Changes, generator.Change{Path: path, Old: user, New: n})
			act("updated")
		case u.Mergers[path] != nil:
			merged, err := u.Mergers[path](user, n)
			if err != nil {
				return p, fmt.Errorf("merging %s: %w", path, err)
			}
			if !bytes.Equal(merged, user) {
				p.Changes = append(p.Changes, generator.Change{Path: path, Old: user, New: merged})
				act("merged (by meaning: your requirements and the template's)")
			}
		default:
			base, ok := baseOf(u.Bases, path, recorded)
			switch {
			case !ok:
				next.Files[path] = recorded
				p.Kept = append(p.Kept, path)
				act("kept as you edited it: no base to merge with (not updated)")
				continue
			case bytes.Equal(base, n): // the template did not change this file
			case bytes.Equal(user, toCRLF(n)) && crlf(user): // new, with the user's line endings
			default:
				// A checkout with CRLF line endings (git autocrlf) is not an edit of every
				// line: merge against base and new with the user's line endings. A file with
				// both is merged with the ending most of its lines have, the others converted
				// to it; otherwise each line whose ending differs from base's would conflict.
				mine, theirs := user, n
				switch {
				case mostlyCRLF(user) && !crlf(base):
					mine, base, theirs = toCRLF(user), toCRLF(base), toCRLF(n)
				case crlf(user) && !crlf(base):
					mine = bytes.ReplaceAll(user, []byte("\r\n"), []byte("\n"))
				}
				merged, conflicts, err := Merge(mine, base, theirs, u.Labels)
				if err != nil {
					return p, fmt.Errorf("merging %s: %w", path, err)
				}
				switch {
				case conflicts == 0:
					if !bytes.Equal(merged, user) {
						p.Changes = append(p.Changes, generator.Change{Path: path, Old: user, New: merged})
						act("merged")
					}
				case u.Rej:
					rej := diff.Diff(u.Labels.Base+"/"+path, base, u.Labels.Theirs+"/"+path, n)
					p.Changes = append(p.Changes, generator.Change{Path: path + ".rej", New: rej})
					p.Conflicts = append(p.Conflicts, path)
					act(fmt.Sprintf("conflict: kept as yours, the template's change is in %s.rej", path))
				default:
					p.Changes = append(p.Changes, generator.Change{Path: path, Old: user, New: merged})
					p.Conflicts = append(p.Conflicts, path)
					act(fmt.Sprintf("conflict (%d): resolve the markers", conflicts))
				}
			}
		}
		next.Files[path] = sum(n)
	}
	// With edited files kept for want of a base, the project still holds the recorded
	// version's lines: it stays recorded as that version, so add keeps asking for the update
	// to be completed and a later update with that version's binary as base merges them.
	if len(p.Kept) > 0 {
		next.Generator = u.Prev.Generator
	}
	// A file stays recorded as deleted while daemongen generates it.
	next.Deleted = nil
	for _, path := range slices.Sorted(maps.Keys(u.New)) {
		_, inFiles := next.Files[path]
		if !inFiles {
			next.Deleted = append(next.Deleted, path)
		}
	}
	enc, err := next.Encode()
	if err != nil {
		return p, err
	}
	old, err := os.ReadFile(filepath.Join(u.Dir, generator.ManifestName))
	if err != nil {
		return p, err
	}
	if !bytes.Equal(old, enc) {
		p.Changes = append(p.Changes, generator.Change{Path: generator.ManifestName, Old: old, New: enc})
	}
	slices.SortFunc(p.Changes, func(x, y generator.Change) int { return strings.Compare(x.Path, y.Path) })
	return p, nil
}

// Outdated lists what an update would bring, judged by content alone (no base needed, so it
// works offline): files whose pristine render differs from the recorded hash, files newly
// generated, and files no longer generated. Files the user deleted are not counted.
func Outdated(prev generator.Manifest, next map[string][]byte) []string {
	var out []string
	for path, n := range next {
		h, ok := prev.Files[path]
		switch {
		case slices.Contains(prev.Deleted, path):
		case !ok:
			out = append(out, path+" (new)")
		case h != sum(n):
			out = append(out, path)
		}
	}
	for path := range prev.Files {
		if _, ok := next[path]; !ok {
			out = append(out, path+" (no longer generated)")
		}
	}
	slices.Sort(out)
	return out
}

// UnresolvedConflicts lists the recorded files that still hold conflict markers or have a
// FILE.rej beside them, left by a previous update.
func UnresolvedConflicts(dir string, m generator.Manifest) []string {
	var out []string
	for _, path := range slices.Sorted(maps.Keys(m.Files)) {
		p := filepath.Join(dir, filepath.FromSlash(path))
		if b, err := readRegular(p, path); err == nil && HasConflictMarkers(b) {
			out = append(out, path)
		}
		if rejFromUpdate(p + ".rej") {
			out = append(out, path+".rej")
		}
	}
	return out
}

// rejFromUpdate reports whether p is a FILE.rej an update wrote: its diff header names the
// base render, "base (daemongen VERSION)". A .rej of the user's own (patch(1) leaves them) is
// not an update's conflict.
func rejFromUpdate(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 1024)
	n, _ := io.ReadFull(f, head)
	return bytes.Contains(head[:n], []byte("base (daemongen "))
}

// inSomeBase reports whether content is what one of the base renders has at path.
func inSomeBase(bases []map[string][]byte, path string, content []byte) bool {
	for _, b := range bases {
		if c, ok := b[path]; ok && bytes.Equal(c, content) {
			return true
		}
	}
	return false
}

func baseOf(bases []map[string][]byte, path, recorded string) ([]byte, bool) {
	for _, b := range bases {
		if c, ok := b[path]; ok && sum(c) == recorded {
			return c, true
		}
	}
	return nil, false
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func crlf(b []byte) bool { return bytes.Contains(b, []byte("\r\n")) }

// mostlyCRLF reports whether more of b's lines end in CRLF than in a bare LF.
func mostlyCRLF(b []byte) bool {
	n := bytes.Count(b, []byte("\r\n"))
	return n > bytes.Count(b, []byte("\n"))-n
}

func toCRLF(b []byte) []byte {
	return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
}

// readRegular reads a project file, refusing anything but a regular file (or a link to one):
// reading a FIFO would block for ever, with the project lock held.
func readRegular(p, rel string) ([]byte, error) {
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		// A dangling symlink is not a file the user deleted: update would record it so.
		if target, lerr := os.Readlink(p); lerr == nil {
			return nil, fmt.Errorf("%s is a symbolic link to %s, which does not exist, where daemongen generates a file: fix or remove the link and run again (nothing was written)", rel, target)
		}
	}
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s) where daemongen generates one: move it aside and run again (nothing was written)", rel, fi.Mode().Type())
	}
	return os.ReadFile(p)
}

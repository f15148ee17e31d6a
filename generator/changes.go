package generator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"strings"

	"github.com/rogpeppe/go-internal/diff"
)

// Change is one file the render wants on disk.
type Change struct {
	Path string // slash-separated, relative to the project root
	Old  []byte // content read before rendering; nil for a new file
	New  []byte
	// Delete removes the file (which holds Old) instead of writing New: update deletes the
	// unedited files a newer daemongen no longer generates.
	Delete bool
}

// Changes is sorted by Path so that output, plans and golden files are deterministic.
type Changes []Change

// Diff returns a unified diff of every change, as `--dry-run` prints it.
func (cs Changes) Diff() []byte {
	var b bytes.Buffer
	for _, c := range cs {
		oldName, newName := "a/"+c.Path, "b/"+c.Path
		if c.Old == nil {
			oldName = "/dev/null"
		}
		if c.Delete {
			newName = "/dev/null"
		}
		b.Write(diff.Diff(oldName, c.Old, newName, c.New))
	}
	return b.Bytes()
}

// ManifestName is the file, at the root of every generated project, that records its answers.
const ManifestName = ".daemongen.json"

// ManifestSchema is bumped on any incompatible change to the manifest; older daemongen
// versions refuse manifests with a newer schema instead of guessing.
//
// Schema 2 (schema 1 recorded the hash of what add wrote, its merge with the user's edits, so
// an edited file looked pristine after the next add): Files holds the hash of the pristine
// render, what daemongen generates for the recorded answers. A schema-1 manifest is migrated
// by the next add: every file that add touches gets its pristine hash, and generated files
// the manifest lacks (left out by an interrupted add) are filled in.
const ManifestSchema = 2

// Manifest is stored as .daemongen.json in every generated project. It is also a valid
// --answers file: `daemongen new --answers .daemongen.json` reproduces the project.
type Manifest struct {
	Schema    int               `json:"schema"`
	Generator string            `json:"generator"` // daemongen version that last wrote the project
	Answers   Answers           `json:"answers"`
	Files     map[string]string `json:"files,omitempty"` // path → sha256 of the pristine render for Answers
	// Deleted lists generated files the user deleted; update does not bring them back. An
	// optional field (omitted when empty), so schema 2 is kept: manifests without it read the
	// same, and a daemongen that predates it refuses a manifest holding it (unknown field)
	// rather than resurrecting those files.
	Deleted []string `json:"deleted,omitempty"`
}

// Encode returns the manifest as indented JSON with a final newline.
func (m Manifest) Encode() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// DecodeManifest parses a manifest or answers file strictly: one JSON document, no unknown
// keys, a schema this daemongen knows, and file paths that stay inside the project.
func DecodeManifest(name string, data []byte) (Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("%s: not a daemongen manifest: %w", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return m, fmt.Errorf("%s: not a daemongen manifest: something follows the JSON document (offset %d)", name, dec.InputOffset())
	}
	switch {
	case m.Schema == 0:
		return m, fmt.Errorf("%s: no \"schema\" field; is this a .daemongen.json file?", name)
	case m.Schema < 0:
		return m, fmt.Errorf("%s: schema %d is not a daemongen schema (1 to %d)", name, m.Schema, ManifestSchema)
	case m.Schema > ManifestSchema:
		return m, fmt.Errorf("%s: schema %d is newer than this daemongen understands (%d); upgrade daemongen", name, m.Schema, ManifestSchema)
	}
	for p, h := range m.Files {
		if !ValidPath(p) {
			return m, fmt.Errorf("%s: file %q is not a path inside the project", name, p)
		}
		// Another value would match no content, so every file would pass as the user's edit.
		if len(h) != sha256.Size*2 || strings.Trim(h, "0123456789abcdef") != "" {
			return m, fmt.Errorf("%s: file %q has hash %q, not a SHA-256 in lower-case hex; restore the file from version control", name, p, h)
		}
	}
	for _, p := range m.Deleted {
		if !ValidPath(p) {
			return m, fmt.Errorf("%s: deleted file %q is not a path inside the project", name, p)
		}
	}
	return m, nil
}

// ValidPath reports whether p is a clean, slash-separated path inside the project: no "..",
// no leading slash, no backslash or drive letter, not the manifest itself.
func ValidPath(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	// .git and daemongen's own files (manifest, lock, journal) are never a generated file: a
	// hand-edited or badly merged manifest must not make update delete .git/config.
	return fs.ValidPath(p) && p != "." && first != ".git" && !strings.HasPrefix(first, ".daemongen") && !strings.ContainsAny(p, "\\:")
}

// manifest returns the manifest of a render on top of prev. A file the render touched gets
// the hash of the pristine render (the whole project rendered afresh for the answers), so an
// edit of the user's stays visible to status after any number of adds; except that a file
// the user had not edited (its hash still matched) gets the hash of what is written, which
// is the same when prev was written by this daemongen and keeps an unedited file unedited
// when it was written by an older one. Files the render did not touch keep their hash.
func (r *renderer) manifest(prev Manifest, generatorVersion string) (Manifest, error) {
	m := Manifest{Schema: ManifestSchema, Generator: generatorVersion, Answers: r.data, Files: map[string]string{}, Deleted: prev.Deleted}
	maps.Copy(m.Files, prev.Files)
	var pristine map[string][]byte
	render := func() error {
		if pristine != nil {
			return nil
		}
		units := append([]string{"base"}, r.data.Features...)
		cs, err := Render(r.tmpl, emptyFS{}, r.data, units, Manifest{}, generatorVersion)
		if err != nil {
			return fmt.Errorf("rendering the pristine project: %w", err)
		}
		pristine = map[string][]byte{}
		for _, c := range cs {
			pristine[c.Path] = c.New
		}
		return nil
	}
	for p, content := range r.current {
		old, existed := r.old[p]
		switch h, known := prev.Files[p]; {
		case !existed && !known, known && existed && h == hash(old):
			m.Files[p] = hash(content)
		default:
			if err := render(); err != nil {
				return m, err
			}
			if pc, ok := pristine[p]; ok {
				m.Files[p] = hash(pc)
			}
		}
	}
	if prev.Schema == 1 { // migrate: fill the hashes an interrupted schema-1 add left out
		if err := render(); err != nil {
			return m, err
		}
		for p, pc := range pristine {
			if _, ok := m.Files[p]; !ok && p != ManifestName {
				m.Files[p] = hash(pc)
			}
		}
	}
	return m, nil
}

// emptyFS is the tree a pristine render starts from.
type emptyFS struct{}

func (emptyFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

func hash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

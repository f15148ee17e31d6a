package generator

import (
	"bytes"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"text/template"
)

// A few files depend on which other features a project has: with `lock`, the Kubernetes
// Deployment runs one replica with the Recreate strategy, because the lock guards one pod's
// filesystem only. Their templates ask `.Has "feature"`. When `add` brings a feature, such a
// file of a feature the project already has must change too, or `new S+f` and `new S` then
// `add f` would differ. These files are the dependents of an add.

// Merger merges the user's version of a file (yours) with a new render (theirs), both derived
// from base, and returns the result and how many conflicts it left. The CLI passes a real
// 3-way merge (git merge-file); the generator itself never invents one.
type Merger func(yours, base, theirs []byte) (merged []byte, conflicts int, err error)

// DependentEditError reports a file the user edited that adding a feature must change, when
// the edit and the change cannot be merged (or no merger was given).
type DependentEditError struct {
	Path, Unit string
	Conflicts  int
}

func (e *DependentEditError) Error() string {
	if e.Conflicts > 0 {
		return fmt.Sprintf("%s: your edits conflict with the change %s needs in it (%d conflicting place(s)); nothing was written: undo your edits there (or move the file aside and merge it by hand after the add) and run again", e.Path, e.Unit, e.Conflicts)
	}
	return fmt.Sprintf("%s: you edited it and %s needs to change it; nothing was written", e.Path, e.Unit)
}

// RenderMerging is Render with a merger for dependents the user edited (see Merger).
func RenderMerging(tmpl, tree fs.FS, a Answers, units []string, prev Manifest, generatorVersion string, merge Merger) (Changes, error) {
	return render(tmpl, tree, a, units, prev, generatorVersion, merge)
}

// dependents re-renders the feature-dependent files of the units the project already has
// (base and prev's features not being added now) whose output changes with the new feature
// set. A file still as it was rendered for prev's answers is replaced; one the user edited is
// merged; one the user deleted stays deleted.
func (r *renderer) dependents(prev Manifest, units []string, merge Merger) error {
	if prev.Answers.Name == "" {
		return nil // a new project: every unit is being rendered afresh
	}
	before := r.data
	before.Features = prev.Answers.Features
	present := append([]string{"base"}, before.Features...)
	for _, unit := range present {
		if slices.Contains(units, unit) {
			continue
		}
		dir := unitDir(unit) + "/files"
		if _, err := fs.Stat(r.tmpl, dir); err != nil {
			continue // a unit of fragments only
		}
		err := fs.WalkDir(r.tmpl, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			src, err := fs.ReadFile(r.tmpl, p)
			if err != nil {
				return err
			}
			if !bytes.Contains(src, []byte(".Has ")) {
				return nil // only templates that ask about features can depend on them
			}
			out := OutputPath(strings.TrimPrefix(p, dir+"/"), r.data.Name)
			base, err := r.executeWith(unit, p, before)
			if err != nil {
				return err
			}
			theirs, err := r.executeWith(unit, p, r.data)
			if err != nil {
				return err
			}
			if bytes.Equal(base, theirs) {
				return nil
			}
			yours, ok, err := r.load(out)
			if bytes.Contains(yours, []byte("\r\n")) && !bytes.Contains(base, []byte("\r\n")) {
				// A checkout with CRLF line endings (git autocrlf) is not an edit of every line.
				base, theirs = withCRLF(base), withCRLF(theirs)
			}
			switch {
			case err != nil:
				return err
			case !ok:
				return nil // the user deleted it: it stays deleted
			case bytes.Equal(yours, base):
				r.store(out, theirs)
				return nil
			case bytes.Equal(yours, theirs):
				return nil
			case merge == nil:
				return &DependentEditError{Path: out, Unit: strings.Join(units, ", ")}
			}
			merged, conflicts, err := merge(yours, base, theirs)
			if err != nil {
				return fmt.Errorf("%s: %w", out, err)
			}
			if conflicts > 0 {
				return &DependentEditError{Path: out, Unit: strings.Join(units, ", "), Conflicts: conflicts}
			}
			r.store(out, merged)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// executeWith runs one template with other answers than the render's. It runs in a set of
// all the unit's file templates, parsed apart from the render's own set, because a template
// may use another one's definitions. Go output is formatted here, since the two renders are
// compared with each other and with the file on disk.
func (r *renderer) executeWith(unit, tmplPath string, a Answers) ([]byte, error) {
	set, err := r.fileSet(unit)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := set.ExecuteTemplate(&buf, tmplPath, a); err != nil {
		return nil, err
	}
	return formatIfGo(OutputPath(tmplPath, a.Name), tmplPath, buf.Bytes())
}

// fileSet parses every file template of unit into one set (cached).
func (r *renderer) fileSet(unit string) (*template.Template, error) {
	if t, ok := r.fileSets[unit]; ok {
		return t, nil
	}
	t := template.New(unit).Option("missingkey=error").Funcs(funcs())
	dir := unitDir(unit) + "/files"
	err := fs.WalkDir(r.tmpl, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(r.tmpl, p)
		if err != nil {
			return err
		}
		_, err = t.New(p).Parse(string(src))
		return err
	})
	if err != nil {
		return nil, err
	}
	if r.fileSets == nil {
		r.fileSets = map[string]*template.Template{}
	}
	r.fileSets[unit] = t
	return t, nil
}

func withCRLF(b []byte) []byte {
	return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
}

package generator

import (
	"bytes"
	"errors"
	"fmt"
	"go/version"
	"io/fs"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// A feature whose generated code imports third-party modules keeps two files next to its
// templates, both produced by `go mod tidy` in a scratch project holding exactly the feature's
// imports (never written by hand: a go.sum line is a hash of real content):
//
//	modules.mod  a go.mod whose require blocks are what the feature needs, direct and indirect
//	modules.sum  the matching go.sum lines
//
// The renderer merges them into the project's go.mod (with golang.org/x/mod/modfile, so the
// user's own requirements, replaces and comments survive) and go.sum. `new` and `add` run the
// same merge on the same input, which keeps `new S+f` equal to `new S` then `add f`. A project
// without such features keeps a go.mod without requirements and no go.sum.
const (
	modulesMod = "modules.mod"
	modulesSum = "modules.sum"
)

// ModuleError reports a go.mod or go.sum of the project that cannot be merged.
type ModuleError struct {
	Path string
	Err  error
}

func (e *ModuleError) Error() string {
	return fmt.Sprintf("%s: %v; fix it (go mod tidy) or add the requirement by hand and run again", e.Path, e.Err)
}

func (e *ModuleError) Unwrap() error { return e.Err }

// FeatureModules returns the parsed modules.mod of a feature, or nil for a
// standard-library-only feature. Its go line is the lowest Go version its modules accept.
func FeatureModules(tmpl fs.FS, feature string) (*modfile.File, error) {
	data, err := fs.ReadFile(tmpl, unitDir(feature)+"/"+modulesMod)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return modfile.Parse(unitDir(feature)+"/"+modulesMod, data, nil)
}

// modules merges the modules of every rendered unit into go.mod and go.sum.
func (r *renderer) modules(units []string) error {
	var reqs []*modfile.Require
	var sums []byte
	goVersion := ""
	for _, unit := range units {
		mf, err := FeatureModules(r.tmpl, unit)
		if err != nil {
			return err
		}
		if mf == nil {
			continue
		}
		if mf.Go != nil && version.Compare("go"+mf.Go.Version, "go"+goVersion) > 0 {
			goVersion = mf.Go.Version
		}
		sum, err := fs.ReadFile(r.tmpl, unitDir(unit)+"/"+modulesSum)
		if err != nil {
			return fmt.Errorf("feature %s has %s but no %s: %w", unit, modulesMod, modulesSum, err)
		}
		reqs = append(reqs, mf.Require...)
		sums = append(sums, sum...)
	}
	if len(reqs) == 0 {
		return nil
	}
	gomod, ok, err := r.load("go.mod")
	if err != nil {
		return err
	}
	if !ok {
		return &ModuleError{Path: "go.mod", Err: errors.New("missing")}
	}
	merged, err := MergeRequires(gomod, goVersion, reqs)
	if err != nil {
		return &ModuleError{Path: "go.mod", Err: err}
	}
	r.store("go.mod", merged)
	gosum, _, err := r.load("go.sum")
	if err != nil {
		return err
	}
	merged, err = MergeSums(gosum, sums)
	if err != nil {
		return &ModuleError{Path: "go.sum", Err: err}
	}
	r.store("go.sum", merged)
	return nil
}

// MergeRequires adds reqs to the go.mod in data and raises its go line to at least goVersion
// (what the modules declare; the go command would raise it anyway). A module the file already requires keeps the
// higher of the two versions and becomes direct if either says so; everything else in the file
// (the user's requirements, replace and exclude directives, comments) is kept. Requirements
// are laid out as go mod tidy does: one block of direct ones, one of indirect ones.
func MergeRequires(data []byte, goVersion string, reqs []*modfile.Require) ([]byte, error) {
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return nil, err
	}
	changed := false
	if goVersion != "" && (f.Go == nil || version.Compare("go"+goVersion, "go"+f.Go.Version) > 0) {
		if err := f.AddGoStmt(goVersion); err != nil {
			return nil, err
		}
		changed = true
	}
	byPath := map[string]*modfile.Require{}
	var all []*modfile.Require
	for _, r := range f.Require {
		c := *r
		byPath[r.Mod.Path] = &c
		all = append(all, &c)
	}
	for _, r := range reqs {
		old, ok := byPath[r.Mod.Path]
		if !ok {
			c := &modfile.Require{Mod: r.Mod, Indirect: r.Indirect}
			byPath[r.Mod.Path] = c
			all = append(all, c)
			changed = true
			continue
		}
		if semver.Compare(r.Mod.Version, old.Mod.Version) > 0 {
			old.Mod.Version, changed = r.Mod.Version, true
		}
		if old.Indirect && !r.Indirect {
			old.Indirect, changed = false, true
		}
	}
	if !changed {
		return data, nil
	}
	f.SetRequireSeparateIndirect(all)
	f.Cleanup()
	return modfile.Format(f.Syntax), nil
}

// MergeSums returns the union of two go.sum files, sorted as the go command writes them.
// A line that is not "module version hash" is an error: silently dropping it would hide a
// corrupted file.
func MergeSums(a, b []byte) ([]byte, error) {
	type line struct {
		mod  module.Version
		hash string
	}
	seen := map[line]bool{}
	var mods []module.Version
	hashes := map[module.Version][]string{}
	for _, data := range [][]byte{a, b} {
		for i, l := range strings.Split(string(data), "\n") {
			if strings.TrimSpace(l) == "" {
				continue
			}
			fields := strings.Fields(l)
			if len(fields) != 3 {
				return nil, fmt.Errorf("line %d: %q is not \"module version hash\"", i+1, l)
			}
			k := line{module.Version{Path: fields[0], Version: fields[1]}, fields[2]}
			if seen[k] {
				continue
			}
			seen[k] = true
			if _, ok := hashes[k.mod]; !ok {
				mods = append(mods, k.mod)
			}
			hashes[k.mod] = append(hashes[k.mod], k.hash)
		}
	}
	module.Sort(mods) // the order of cmd/go's modfetch.WriteGoSum
	var buf bytes.Buffer
	for _, m := range mods {
		hs := hashes[m]
		slices.Sort(hs)
		for _, h := range hs {
			fmt.Fprintf(&buf, "%s %s %s\n", m.Path, m.Version, h)
		}
	}
	return buf.Bytes(), nil
}

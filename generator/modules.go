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
//
// A feature whose imports depend on a setting (leader's backend) names that setting in
// Feature.ModulesBy and keeps one pair per value: modules-<value>.mod and modules-<value>.sum.

// ModuleError reports a go.mod or go.sum of the project that cannot be merged.
type ModuleError struct {
	Path string
	Err  error
}

func (e *ModuleError) Error() string {
	return fmt.Sprintf("%s: %v; fix it (go mod tidy) or add the requirement by hand and run again", e.Path, e.Err)
}

func (e *ModuleError) Unwrap() error { return e.Err }

// FeatureModules returns the parsed modules file of a feature, or nil for a
// standard-library-only feature. Its go line is the lowest Go version its modules accept.
// variant is the value of the feature's ModulesBy setting ("" for a feature without one).
func FeatureModules(tmpl fs.FS, feature, variant string) (*modfile.File, error) {
	name := modulesFile(feature, variant, ".mod")
	data, err := fs.ReadFile(tmpl, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return modfile.Parse(name, data, nil)
}

// modulesFile names a feature's modules file: modules<ext>, or modules-<variant><ext> for a
// feature whose modules depend on a setting (Feature.ModulesBy).
func modulesFile(feature, variant, ext string) string {
	if variant != "" {
		return unitDir(feature) + "/modules-" + variant + ext
	}
	return unitDir(feature) + "/modules" + ext
}

// moduleVariant returns the value of unit's ModulesBy setting in a, or "".
func moduleVariant(unit string, a Answers) string {
	if f, ok := Lookup(unit); ok && f.ModulesBy != "" {
		return a.Settings[f.ModulesBy]
	}
	return ""
}

// modules merges the modules of every rendered unit into go.mod and go.sum.
func (r *renderer) modules(units []string) error {
	var reqs []*modfile.Require
	var sums []byte
	goVersion := ""
	for _, unit := range units {
		variant := moduleVariant(unit, r.data)
		mf, err := FeatureModules(r.tmpl, unit, variant)
		if err != nil {
			return err
		}
		if mf == nil {
			continue
		}
		if mf.Go != nil && version.Compare("go"+mf.Go.Version, "go"+goVersion) > 0 {
			goVersion = mf.Go.Version
		}
		sum, err := fs.ReadFile(r.tmpl, modulesFile(unit, variant, ".sum"))
		if err != nil {
			return fmt.Errorf("feature %s has %s but no .sum file: %w", unit, modulesFile(unit, variant, ".mod"), err)
		}
		reqs = append(reqs, mf.Require...)
		sums = append(sums, sum...)
	}
	drop, pairSums, err := r.pairSums(units)
	if err != nil {
		return err
	}
	sums = append(sums, pairSums...)
	if len(reqs) == 0 && len(pairSums) == 0 {
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
	merged = dropLines(merged, drop)
	r.store("go.sum", merged)
	return nil
}

// pairSums handles two module-bringing features whose graphs meet: together, MVS selects
// higher versions of shared dependencies, and go mod tidy drops go.sum lines that each alone
// needs. The feature with ModulesBy then keeps modules-<variant>+<other>.sum, the go.sum of
// a project with both (again from go mod tidy). When a render completes such a pair (one of
// the two is among units, the other is already there or also among units), pairSums returns
// that file and the lines of the two features' own .sum files it does not hold, which the
// caller removes. The result depends only on the final feature set, so new ≡ add still holds.
func (r *renderer) pairSums(units []string) (map[string]bool, []byte, error) {
	drop := map[string]bool{}
	var keep []byte
	for _, f := range r.data.Features {
		variant := moduleVariant(f, r.data)
		if variant == "" {
			continue
		}
		for _, o := range r.data.Features {
			if o == f || !(slices.Contains(units, f) || slices.Contains(units, o)) {
				continue
			}
			pair, err := fs.ReadFile(r.tmpl, unitDir(f)+"/modules-"+variant+"+"+o+".sum")
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			inPair := map[string]bool{}
			for _, l := range strings.Split(string(pair), "\n") {
				inPair[l] = true
			}
			for _, own := range []string{modulesFile(f, variant, ".sum"), modulesFile(o, moduleVariant(o, r.data), ".sum")} {
				data, err := fs.ReadFile(r.tmpl, own)
				if err != nil && !errors.Is(err, fs.ErrNotExist) {
					return nil, nil, err
				}
				for _, l := range strings.Split(string(data), "\n") {
					if l != "" && !inPair[l] {
						drop[l] = true
					}
				}
			}
			keep = append(keep, pair...)
		}
	}
	return drop, keep, nil
}

// dropLines removes the given lines from a go.sum.
func dropLines(sum []byte, drop map[string]bool) []byte {
	if len(drop) == 0 {
		return sum
	}
	var out []string
	for _, l := range strings.SplitAfter(string(sum), "\n") {
		if !drop[strings.TrimSuffix(l, "\n")] {
			out = append(out, l)
		}
	}
	return []byte(strings.Join(out, ""))
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

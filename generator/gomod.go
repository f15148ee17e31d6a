package generator

import "golang.org/x/mod/modfile"

// MergeGoMod brings the requirements and go line of a new render's go.mod (theirs) into the
// user's (yours), as add does: the user's own requirements, replaces and comments stay, a
// higher version wins, and a requirement the templates no longer need is left for go mod tidy.
// update uses it instead of a line merge, which conflicts as soon as the user's requirements
// sort next to the template's.
func MergeGoMod(yours, theirs []byte) ([]byte, error) {
	f, err := modfile.Parse("go.mod", theirs, nil)
	if err != nil {
		return nil, err
	}
	goVersion := ""
	if f.Go != nil {
		goVersion = f.Go.Version
	}
	return MergeRequires(yours, goVersion, f.Require)
}

// RaisedRequires lists the requirements of the go.mod in old whose version is higher in new,
// as "path vOLD → vNEW": a version the user pinned that a feature needs raised (minimal version
// selection would raise it at build time anyway) is reported, never raised silently.
func RaisedRequires(old, new []byte) []string {
	of, err := modfile.Parse("go.mod", old, nil)
	if err != nil {
		return nil
	}
	nf, err := modfile.Parse("go.mod", new, nil)
	if err != nil {
		return nil
	}
	after := map[string]string{}
	for _, r := range nf.Require {
		after[r.Mod.Path] = r.Mod.Version
	}
	var out []string
	for _, r := range of.Require {
		if v, ok := after[r.Mod.Path]; ok && v != r.Mod.Version {
			out = append(out, r.Mod.Path+" "+r.Mod.Version+" → "+v)
		}
	}
	return out
}

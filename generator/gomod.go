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

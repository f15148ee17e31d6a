package project

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
)

// Labels name the three sides of a merge in the conflict markers, so that a conflict reads
// "<<<<<<< yours", "||||||| base (daemongen v1.2.0)", "=======", ">>>>>>> daemongen v1.3.0".
type Labels struct{ Yours, Base, Theirs string }

// Merge is a 3-way line merge of yours and theirs, both derived from base, by git merge-file
// --diff3: a real, well-kept merge implementation, whose markers editors and git mergetool
// recognise. It returns the merged content, with diff3-style conflict blocks where both
// sides changed the same lines, and how many conflicts it left.
func Merge(yours, base, theirs []byte, l Labels) (merged []byte, conflicts int, err error) {
	dir, release, err := Scratch()
	if err != nil {
		return nil, 0, err
	}
	defer release()
	names := [3]string{filepath.Join(dir, "yours"), filepath.Join(dir, "base"), filepath.Join(dir, "theirs")}
	for i, b := range [3][]byte{yours, base, theirs} {
		if err := os.WriteFile(names[i], b, 0o600); err != nil {
			return nil, 0, err
		}
	}
	cmd := exec.Command("git", "merge-file", "--diff3", "-p", "-L", l.Yours, "-L", l.Base, "-L", l.Theirs, names[0], names[1], names[2])
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	// git merge-file exits with the number of conflicts (capped at 127), negative on error.
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stdout.Bytes(), 0, nil
	case errors.As(err, &exit) && exit.ExitCode() > 0 && exit.ExitCode() < 128:
		return stdout.Bytes(), exit.ExitCode(), nil
	case errors.Is(err, exec.ErrNotFound):
		return nil, 0, errors.New("merging needs git (git merge-file), which is not on PATH; install git and run again")
	}
	return nil, 0, fmt.Errorf("git merge-file: %v: %s", err, bytes.TrimSpace(stderr.Bytes()))
}

// HasConflictMarkers reports whether content holds a marker line of the kind update writes
// (see its Labels): any one of them, so a block whose resolution stopped halfway (one marker
// line deleted, the others left) still counts. Other tools' markers (git's "<<<<<<< HEAD") do
// not: a README may show a git conflict, and update must not refuse for ever because of it.
func HasConflictMarkers(content []byte) bool {
	for line := range bytes.Lines(content) {
		if slices.ContainsFunc(updateMarkers, func(m string) bool { return bytes.HasPrefix(line, []byte(m)) }) {
			return true
		}
	}
	return false
}

// updateMarkers begin the marker lines update writes; "=======" alone is left out, because
// Markdown underlines headings with it.
var updateMarkers = []string{"<<<<<<< yours", "||||||| base (daemongen ", ">>>>>>> daemongen "}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/daemongen/daemongen/generator"
)

// TestUpdateRefusesADowngrade: a teammate's older daemongen must not take a project back to
// older templates and lose the record of the newer version; --check does not call that an
// update either. Nothing is written.
func TestUpdateRefusesADowngrade(t *testing.T) {
	asVersion(t, "v1.1.0")
	dir := newProject(t, "signals")
	p := filepath.Join(dir, generator.ManifestName)
	m := manifestOf(t, dir)
	m.Generator = "v1.2.0"
	enc, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, enc, 0o644); err != nil {
		t.Fatal(err)
	}
	before := listTree(t, dir)
	for _, args := range [][]string{{"update"}, {"update", "--check"}, {"update", "--dry-run"}} {
		r := daemongen(t, nil, append(args, "--dir", dir)...)
		if r.code != 1 || !strings.Contains(r.stderr, "newer than this daemongen v1.1.0: use daemongen v1.2.0 or later") {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 refusing the downgrade", args, r.code, r.stderr)
		}
	}
	if d := treeDiff(before, listTree(t, dir)); d != "" {
		t.Errorf("a refused downgrade wrote:\n%s", d)
	}
}

package project

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/daemongen/daemongen/generator"
)

var labels = Labels{Yours: "yours", Base: "base (daemongen v1)", Theirs: "daemongen v2"}

func requireGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git on PATH")
	}
}

// writeProject writes files and a manifest recording base's hashes into a new directory.
func writeProject(t *testing.T, base, user map[string]string, deleted ...string) (string, generator.Manifest) {
	t.Helper()
	dir := t.TempDir()
	m := generator.Manifest{Schema: generator.ManifestSchema, Generator: "v1", Files: map[string]string{}, Deleted: deleted}
	for p, c := range base {
		m.Files[p] = sum([]byte(c))
	}
	for p, c := range user {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	enc, _ := m.Encode()
	os.WriteFile(filepath.Join(dir, generator.ManifestName), enc, 0o644)
	return dir, m
}

func bytesMap(m map[string]string) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}

// applied is the project after plan, computed in memory.
func applied(t *testing.T, user map[string]string, plan Plan) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, v := range user {
		out[k] = v
	}
	for _, c := range plan.Changes {
		if c.Path == generator.ManifestName {
			continue
		}
		if got, ok := out[c.Path]; (c.Old == nil && ok) || (c.Old != nil && got != string(c.Old)) {
			t.Fatalf("change of %s does not start from the file on disk", c.Path)
		}
		if c.Delete {
			delete(out, c.Path)
		} else {
			out[c.Path] = string(c.New)
		}
	}
	return out
}

func plan(t *testing.T, dir string, m generator.Manifest, base, next map[string]string, rej bool) Plan {
	t.Helper()
	var bases []map[string][]byte
	if base != nil {
		bases = append(bases, bytesMap(base))
	}
	p, err := PlanUpdate(Update{Dir: dir, Prev: m, New: bytesMap(next), Bases: bases, Labels: labels, Rej: rej,
		Next: generator.Manifest{Schema: generator.ManifestSchema, Generator: "v2"}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlanUpdatePerFileRules(t *testing.T) {
	requireGit(t)
	base := map[string]string{
		"unedited":    "a\nb\n",
		"same-as-new": "a\n",
		"tmpl-same":   "x\n",
		"merge":       "1\n2\n3\n4\n5\n",
		"conflict":    "1\n2\n3\n",
		"gone":        "g\n",
		"gone-edited": "g\n",
		"deleted":     "d\n",
	}
	user := map[string]string{
		"unedited":    "a\nb\n",
		"same-as-new": "b\n",
		"tmpl-same":   "x\nmine\n",
		"merge":       "1\nmine\n3\n4\n5\n",
		"conflict":    "1\nmine\n3\n",
		"gone":        "g\n",
		"gone-edited": "g\nmine\n",
	}
	next := map[string]string{
		"unedited":    "a\nb\nc\n",
		"same-as-new": "b\n",
		"tmpl-same":   "x\n",
		"merge":       "1\n2\n3\n4\nnew\n",
		"conflict":    "1\ntheirs\n3\n",
		"added":       "new file\n",
		"deleted":     "d2\n",
	}
	dir, m := writeProject(t, base, user)
	p := plan(t, dir, m, base, next, false)
	got := applied(t, user, p)
	want := map[string]string{
		"unedited":    "a\nb\nc\n",
		"same-as-new": "b\n",
		"tmpl-same":   "x\nmine\n",
		"merge":       "1\nmine\n3\n4\nnew\n",
		"conflict":    "1\n<<<<<<< yours\nmine\n||||||| base (daemongen v1)\n2\n=======\ntheirs\n>>>>>>> daemongen v2\n3\n",
		"gone-edited": "g\nmine\n",
		"added":       "new file\n",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("files after update: %v", slices.Sorted(maps.Keys(got)))
	}
	if !slices.Equal(p.Conflicts, []string{"conflict"}) {
		t.Errorf("conflicts = %v", p.Conflicts)
	}
	var next2 generator.Manifest
	for _, c := range p.Changes {
		if c.Path == generator.ManifestName {
			next2, _ = generator.DecodeManifest("m", c.New)
		}
	}
	if !slices.Equal(next2.Deleted, []string{"deleted"}) || next2.Files["merge"] != sum([]byte(next["merge"])) || next2.Files["gone-edited"] != "" {
		t.Errorf("manifest: deleted %v, files %v", next2.Deleted, next2.Files)
	}

	// With rej: the conflicting file stays, its change is in conflict.rej.
	p = plan(t, dir, m, base, next, true)
	got = applied(t, user, p)
	if got["conflict"] != user["conflict"] || !strings.Contains(got["conflict.rej"], "-2\n+theirs\n") || got["merge"] != want["merge"] {
		t.Errorf("rej: conflict=%q rej=%q merge=%q", got["conflict"], got["conflict.rej"], got["merge"])
	}

	// No base: edited files are never overwritten; unedited ones are updated.
	p = plan(t, dir, m, nil, next, false)
	got = applied(t, user, p)
	for _, k := range []string{"merge", "conflict", "tmpl-same"} {
		if got[k] != user[k] {
			t.Errorf("no base: %s = %q, want the user's %q", k, got[k], user[k])
		}
	}
	if got["unedited"] != next["unedited"] || !slices.Equal(p.Kept, []string{"conflict", "merge", "tmpl-same"}) {
		t.Errorf("no base: unedited = %q, kept = %v", got["unedited"], p.Kept)
	}
}

// A base whose hash is not the recorded one is not used: merging against the wrong base
// could revert the user's edits.
func TestPlanUpdateIgnoresABaseWithTheWrongHash(t *testing.T) {
	requireGit(t)
	base := map[string]string{"f": "1\n2\n3\n"}
	user := map[string]string{"f": "1\nmine\n3\n"}
	dir, m := writeProject(t, base, user)
	p := plan(t, dir, m, map[string]string{"f": "1\nmine\n3\nx\n"}, map[string]string{"f": "1\n2\n3\nnew\n"}, false)
	if got := applied(t, user, p); got["f"] != user["f"] || !slices.Equal(p.Kept, []string{"f"}) {
		t.Errorf("f = %q, kept %v", got["f"], p.Kept)
	}
}

// A dangling symlink or a symlink to a directory where a file is generated is refused, not
// taken for a file the user deleted (which update would record, leaving the file out for good).
func TestPlanUpdateRefusesASymlinkThatIsNoFile(t *testing.T) {
	for name, link := range map[string]string{"dangling": "nowhere.go", "to a directory": "sub"} {
		t.Run(name, func(t *testing.T) {
			dir, m := writeProject(t, map[string]string{"f.go": "1\n"}, map[string]string{"f.go": "1\n"})
			os.Mkdir(filepath.Join(dir, "sub"), 0o755)
			os.Remove(filepath.Join(dir, "f.go"))
			if err := os.Symlink(link, filepath.Join(dir, "f.go")); err != nil {
				t.Fatal(err)
			}
			p, err := PlanUpdate(Update{Dir: dir, Prev: m, New: map[string][]byte{"f.go": []byte("2\n")}, Labels: labels,
				Next: generator.Manifest{Schema: generator.ManifestSchema, Generator: "v2"}})
			if err == nil || !strings.Contains(err.Error(), "f.go") {
				t.Fatalf("err = %v (actions %v), want a refusal naming f.go", err, p.Actions)
			}
		})
	}
}

// A generated file missing from the manifest (hand-edited away) that is byte for byte the base
// render is daemongen's, not the user's: updated, not refused.
func TestPlanUpdateAdoptsAnUntrackedFileEqualToTheBase(t *testing.T) {
	base := map[string]string{"f": "1\n"}
	dir, m := writeProject(t, base, base)
	delete(m.Files, "f")
	p := plan(t, dir, m, base, map[string]string{"f": "2\n"}, false)
	if got := applied(t, base, p); got["f"] != "2\n" {
		t.Errorf("f = %q, want the new render", got["f"])
	}
}

func TestPlanUpdateRefusesAnUntrackedFileInTheWay(t *testing.T) {
	dir, m := writeProject(t, map[string]string{}, map[string]string{"new.go": "mine\n"})
	_, err := PlanUpdate(Update{Dir: dir, Prev: m, New: map[string][]byte{"new.go": []byte("theirs\n")}})
	var ue *UntrackedFileError
	if !errors.As(err, &ue) || ue.Path != "new.go" {
		t.Fatalf("err = %v, want UntrackedFileError", err)
	}
}

func TestHasConflictMarkers(t *testing.T) {
	for in, want := range map[string]bool{
		"a\n<<<<<<< yours\nb\n=======\nc\n>>>>>>> daemongen v2\n": true,
		"<<<<<<< x\n":                    false,
		">>>>>>> x\n<<<<<<< y\n":         false,
		"a <<<<<<< b\n>>>>>>> c\n":       false,
		"// <<<<<<< quoted\n>>>>>>> x\n": false,
		// A resolution that stopped halfway: any one marker line update writes still counts.
		"a\n||||||| base (daemongen v1)\nb\n=======\nc\n>>>>>>> daemongen v2\n": true,
		"a\n<<<<<<< yours\nb\n":       true,
		"c\n>>>>>>> daemongen v2\r\n": true,
		"Title\n=======\n":            false,
		// Another tool's conflict, shown in a README: not update's to refuse on.
		"```\n<<<<<<< HEAD\nmine\n=======\ntheirs\n>>>>>>> feature\n```\n": false,
	} {
		if got := HasConflictMarkers([]byte(in)); got != want {
			t.Errorf("HasConflictMarkers(%q) = %v", in, got)
		}
	}
}

// UnresolvedConflicts lists the files with update's markers and the FILE.rej an update wrote,
// not a .rej of the user's own (patch(1) leaves them), which no update left.
func TestUnresolvedConflictsOnlyUpdates(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.go":         "x\n<<<<<<< yours\ny\n",
		"b.go":         "fine\n",
		"b.go.rej":     "--- base (daemongen v1.0.0)/b.go\n+++ daemongen v1.1.0/b.go\n@@ -1 +1 @@\n-old\n+new\n",
		"Makefile":     "all:\n",
		"Makefile.rej": "--- Makefile\n+++ Makefile\n@@ -1 +1 @@\n-x\n+y\n",
	}
	m := generator.Manifest{Files: map[string]string{}}
	for p, c := range files {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(p, ".rej") {
			m.Files[p] = "0"
		}
	}
	if got := UnresolvedConflicts(dir, m); !slices.Equal(got, []string{"a.go", "b.go.rej"}) {
		t.Errorf("UnresolvedConflicts = %q, want [a.go b.go.rej]", got)
	}
}

// TestUpdateNeverDropsAnEdit is the property test: random files, random user edits, random
// template changes; after the update every line the user or the template added is in the
// file (merged or inside a conflict block), and every line either one removed is gone from
// the merged text outside conflict blocks. Files are lines unique across all three versions,
// so presence is unambiguous.
func TestUpdateNeverDropsAnEdit(t *testing.T) {
	requireGit(t)
	cases := 300
	if testing.Short() {
		cases = 200
	}
	r := rand.New(rand.NewPCG(1, 2))
	conflicts, merged := 0, 0
	for i := range cases {
		base, user, next := map[string]string{}, map[string]string{}, map[string]string{}
		type change struct{ added, removed []string }
		userCh, tmplCh := map[string]change{}, map[string]change{}
		for f := range 3 {
			name := fmt.Sprintf("f%d", f)
			lines := make([]string, 5+r.IntN(30))
			for j := range lines {
				lines[j] = fmt.Sprintf("base-%d-%d", f, j)
			}
			base[name] = join(lines)
			u, ua, ur := mutate(r, lines, "user", r.IntN(3) > 0)
			n, na, nr := mutate(r, lines, "tmpl", r.IntN(3) > 0)
			user[name], next[name] = join(u), join(n)
			userCh[name], tmplCh[name] = change{ua, ur}, change{na, nr}
		}
		dir, m := writeProject(t, base, user)
		p := plan(t, dir, m, base, next, false)
		got := applied(t, user, p)
		conflicts += len(p.Conflicts)
		for name := range base {
			clean, inConflict := split(got[name])
			all := clean + inConflict
			for who, ch := range map[string]change{"user": userCh[name], "template": tmplCh[name]} {
				for _, l := range ch.added {
					if !strings.Contains(all, l+"\n") {
						t.Fatalf("case %d, %s: the %s's line %q was dropped\nbase:\n%s\nuser:\n%s\nnew:\n%s\ngot:\n%s", i, name, who, l, base[name], user[name], next[name], got[name])
					}
				}
				for _, l := range ch.removed {
					if strings.Contains(clean, l+"\n") {
						t.Fatalf("case %d, %s: the %s removed %q, yet it is in the merged text\nbase:\n%s\nuser:\n%s\nnew:\n%s\ngot:\n%s", i, name, who, l, base[name], user[name], next[name], got[name])
					}
				}
			}
			if inConflict == "" && got[name] != user[name] {
				merged++
			}
		}
	}
	t.Logf("%d cases, %d files with conflicts, %d files merged or replaced cleanly", cases, conflicts, merged)
	if conflicts == 0 || merged == 0 {
		t.Fatal("the random cases never exercised both clean merges and conflicts")
	}
}

func join(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// mutate applies up to three random edits (replace, insert, delete) to a copy of lines when
// edit is set, and returns the result with the lines it added and removed.
func mutate(r *rand.Rand, lines []string, who string, edit bool) (out, added, removed []string) {
	out = slices.Clone(lines)
	if !edit {
		return out, nil, nil
	}
	for k := range 1 + r.IntN(3) {
		if len(out) == 0 {
			break
		}
		j := r.IntN(len(out))
		l := fmt.Sprintf("%s-%d-%d", who, k, r.Int())
		switch r.IntN(3) {
		case 0: // replace
			if strings.HasPrefix(out[j], "base-") {
				removed = append(removed, out[j])
			} else {
				added = slices.DeleteFunc(added, func(a string) bool { return a == out[j] })
			}
			out[j] = l
			added = append(added, l)
		case 1: // insert
			out = slices.Insert(out, j, l)
			added = append(added, l)
		case 2: // delete
			if strings.HasPrefix(out[j], "base-") {
				removed = append(removed, out[j])
			} else {
				added = slices.DeleteFunc(added, func(a string) bool { return a == out[j] })
			}
			out = slices.Delete(out, j, j+1)
		}
	}
	return out, added, removed
}

// split separates a merged file into the text outside conflict blocks and the text inside.
func split(s string) (clean, conflict string) {
	var c, k bytes.Buffer
	in := false
	for _, l := range strings.SplitAfter(s, "\n") {
		switch {
		case strings.HasPrefix(l, "<<<<<<< "):
			in = true
		case strings.HasPrefix(l, ">>>>>>> "):
			in = false
		case in:
			k.WriteString(l)
		default:
			c.WriteString(l)
		}
	}
	return c.String(), k.String()
}

// A file with both line endings (some lines converted by hand) merges with the ending most of
// its lines have, instead of conflicting wherever its endings differ from the base's.
func TestPlanUpdateMergesMixedLineEndings(t *testing.T) {
	requireGit(t)
	base := map[string]string{"f": "1\n2\n3\n4\n5\n6\n"}
	next := map[string]string{"f": "1\n2\n3\n4\n5\nnew\n"}
	for name, tc := range map[string]struct{ user, want string }{
		"mostly LF":   {"1\r\nmine\n3\n4\n5\n6\n", "1\nmine\n3\n4\n5\nnew\n"},
		"mostly CRLF": {"1\r\nmine\r\n3\r\n4\r\n5\n6\r\n", "1\r\nmine\r\n3\r\n4\r\n5\r\nnew\r\n"},
	} {
		t.Run(name, func(t *testing.T) {
			user := map[string]string{"f": tc.user}
			dir, m := writeProject(t, base, user)
			p := plan(t, dir, m, base, next, false)
			if got := applied(t, user, p); got["f"] != tc.want || len(p.Conflicts) != 0 {
				t.Errorf("f = %q, conflicts %v; want %q", got["f"], p.Conflicts, tc.want)
			}
		})
	}
}

// A file checked out with CRLF line endings merges line by line, keeping CRLF, instead of
// conflicting on every line.
func TestPlanUpdateKeepsCRLF(t *testing.T) {
	requireGit(t)
	base := map[string]string{"f": "1\n2\n3\n4\n"}
	user := map[string]string{"f": "1\r\nmine\r\n3\r\n4\r\n"}
	dir, m := writeProject(t, base, user)
	p := plan(t, dir, m, base, map[string]string{"f": "1\n2\n3\nnew\n"}, false)
	if got := applied(t, user, p); got["f"] != "1\r\nmine\r\n3\r\nnew\r\n" || len(p.Conflicts) != 0 {
		t.Errorf("f = %q, conflicts %v", got["f"], p.Conflicts)
	}
}

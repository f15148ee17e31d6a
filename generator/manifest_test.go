package generator

import (
	"strings"
	"testing"
)

// TestSchema1ManifestIsMigrated: a schema-1 manifest that lacks hashes (as an interrupted add
// left them) becomes, after the next add, exactly the schema-2 manifest of a new project.
func TestSchema1ManifestIsMigrated(t *testing.T) {
	tree := treeOf(renderNew(t, answers(t, "signals")))
	m := manifestOf(t, tree)
	m.Schema = 1
	delete(m.Files, "README.md")
	delete(m.Files, "internal/worker/worker.go")
	enc, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	tree[ManifestName].Data = enc
	cs, err := addTo(t, tree, "lock")
	if err != nil {
		t.Fatal(err)
	}
	apply(tree, cs)
	sameTree(t, treeOf(renderNew(t, answers(t, "signals", "lock"))), tree)
}

func TestDecodeManifestIsStrict(t *testing.T) {
	good := `{"schema": 2, "answers": {"name": "demo"}, "files": {"a/b.go": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}`
	if _, err := DecodeManifest("m", []byte(good)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		good + "{}", good + "x", `{"schema": 0}`, `{"schema": -1}`, `{"schema": 3}`, `{"schema": 2, "extra": 1}`,
		strings.Replace(good, "a/b.go", "../x", 1), strings.Replace(good, "a/b.go", "/etc/passwd", 1),
		strings.Replace(good, "a/b.go", `a\\b`, 1), strings.Replace(good, "a/b.go", "a/./b", 1),
		strings.Replace(good, "a/b.go", "C:/x", 1), strings.Replace(good, "a/b.go", ".daemongen.json", 1),
		// A hash that is no SHA-256 would make every file look edited, without a word.
		strings.Replace(good, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "xyz", 1), strings.Replace(good, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "", 1),
		strings.Replace(good, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", strings.ToUpper("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), 1),
	} {
		if _, err := DecodeManifest("m", []byte(bad)); err == nil {
			t.Errorf("DecodeManifest accepted %s", bad)
		}
	}
}

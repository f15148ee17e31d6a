package main

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAddLockMergesTheUsersDeployment: adding lock to a k8s project makes the Deployment
// single-replica; an edit of the user's elsewhere in that file survives (a real git
// merge-file), and an edit of the same lines is refused with nothing written.
func TestAddLockMergesTheUsersDeployment(t *testing.T) {
	const deployment = "deploy/k8s/deployment.yaml"
	edit := func(t *testing.T, dir, old, new string) {
		t.Helper()
		p := filepath.Join(dir, deployment)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), old) {
			t.Fatalf("%s has no %q", deployment, old)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("merged", func(t *testing.T) {
		dir := newProject(t, "k8s")
		edit(t, dir, "terminationGracePeriodSeconds: 35", "terminationGracePeriodSeconds: 50")
		r := daemongen(t, nil, "add", "lock", "--dir", dir)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		b, _ := os.ReadFile(filepath.Join(dir, deployment))
		for _, want := range []string{"\n  replicas: 1\n", "type: Recreate", "terminationGracePeriodSeconds: 50"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("merged Deployment lacks %q:\n%s", want, b)
			}
		}
		if !strings.Contains(r.stdout, "merged your edits into "+deployment) {
			t.Errorf("stdout does not say the Deployment was merged:\n%s", r.stdout)
		}
		if st := daemongen(t, nil, "status", "--dir", dir); !strings.Contains(st.stdout, deployment) {
			t.Errorf("status no longer reports the user's edit of %s:\n%s", deployment, st.stdout)
		}
	})

	t.Run("conflict refused", func(t *testing.T) {
		dir := newProject(t, "k8s")
		edit(t, dir, "\n  replicas: 2\n", "\n  replicas: 3\n")
		before := listTree(t, dir)
		r := daemongen(t, nil, "add", "lock", "--dir", dir)
		if r.code != 1 || !strings.Contains(r.stderr, deployment) || !strings.Contains(r.stderr, "nothing was written") {
			t.Fatalf("exit %d, stderr %q; want exit 1 naming %s and saying nothing was written", r.code, r.stderr, deployment)
		}
		if after := listTree(t, dir); !maps.EqualFunc(before, after, func(a, b []byte) bool { return string(a) == string(b) }) {
			t.Error("a refused add changed the project")
		}
	})
}

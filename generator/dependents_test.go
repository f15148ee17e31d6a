package generator

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/daemongen/daemongen/templates"
)

const deployment = "deploy/k8s/deployment.yaml"

// TestLockMakesTheDeploymentSingleInstance: the lock feature promises one instance, and its
// flock guards one pod's filesystem; two replicas or a rolling update's overlap would break
// the promise, so with lock the Deployment runs one replica, replaced with Recreate.
func TestLockMakesTheDeploymentSingleInstance(t *testing.T) {
	for _, tc := range []struct {
		features         []string
		replicas, absent string
		strategy         string
	}{
		{[]string{"k8s"}, "replicas: 2", "replicas: 1", "type: RollingUpdate"},
		{[]string{"k8s", "lock"}, "replicas: 1", "replicas: 2", "type: Recreate"},
	} {
		tree := treeOf(renderNew(t, answers(t, tc.features...)))
		d := string(tree[deployment].Data)
		if !strings.Contains(d, "\n  "+tc.replicas+"\n") || strings.Contains(d, "\n  "+tc.absent+"\n") || !strings.Contains(d, tc.strategy) {
			t.Errorf("%v: want %q and %q in the Deployment, not %q:\n%s", tc.features, tc.replicas, tc.strategy, tc.absent, d)
		}
		if tc.strategy == "type: Recreate" && strings.Contains(d, "rollingUpdate") {
			t.Errorf("%v: a Recreate Deployment must not carry rollingUpdate parameters (the API server refuses them):\n%s", tc.features, d)
		}
	}
}

// TestAddChangesDependentFiles covers the three states a dependent file can be in when a
// feature is added: as generated (replaced), deleted by the user (stays deleted), edited
// (refused without a merger, merged with one, refused on a conflict) — and nothing else is
// touched in the refused cases, because Render returns no changes at all.
func TestAddChangesDependentFiles(t *testing.T) {
	fresh := func() fstest.MapFS { return treeOf(renderNew(t, answers(t, "k8s"))) }
	want := treeOf(renderNew(t, answers(t, "k8s", "lock")))[deployment].Data

	t.Run("unedited is replaced", func(t *testing.T) {
		tree := fresh()
		cs, err := addTo(t, tree, "lock")
		if err != nil {
			t.Fatal(err)
		}
		apply(tree, cs)
		if !bytes.Equal(tree[deployment].Data, want) {
			t.Errorf("Deployment after add lock:\n%s\nwant:\n%s", tree[deployment].Data, want)
		}
		if h := manifestOf(t, tree).Files[deployment]; h != hash(want) {
			t.Errorf("manifest hash of the Deployment %s, want the new render's %s", h, hash(want))
		}
	})

	t.Run("CRLF checkout is not an edit", func(t *testing.T) {
		tree := fresh()
		crlf := bytes.ReplaceAll(tree[deployment].Data, []byte("\n"), []byte("\r\n"))
		tree[deployment] = &fstest.MapFile{Data: crlf, Mode: 0o644}
		cs, err := addTo(t, tree, "lock") // no merger: an edit would be refused
		if err != nil {
			t.Fatal(err)
		}
		apply(tree, cs)
		if got, want := tree[deployment].Data, bytes.ReplaceAll(want, []byte("\n"), []byte("\r\n")); !bytes.Equal(got, want) {
			t.Errorf("Deployment after add lock to a CRLF checkout:\n%q\nwant the new render with CRLF:\n%q", got, want)
		}
	})

	t.Run("deleted stays deleted", func(t *testing.T) {
		tree := fresh()
		delete(tree, deployment)
		cs, err := addTo(t, tree, "lock")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.Path == deployment {
				t.Fatalf("add brought back the Deployment the user deleted")
			}
		}
	})

	edit := func(tree fstest.MapFS, old, new string) {
		d := string(tree[deployment].Data)
		if !strings.Contains(d, old) {
			t.Fatalf("Deployment has no %q to edit", old)
		}
		tree[deployment] = &fstest.MapFile{Data: []byte(strings.Replace(d, old, new, 1)), Mode: 0o644}
	}

	t.Run("edited without a merger is refused", func(t *testing.T) {
		tree := fresh()
		edit(tree, "terminationGracePeriodSeconds: 35", "terminationGracePeriodSeconds: 60")
		_, err := addTo(t, tree, "lock")
		var de *DependentEditError
		if !errors.As(err, &de) || de.Path != deployment {
			t.Fatalf("err = %v, want a DependentEditError for %s", err, deployment)
		}
	})

	t.Run("edited is merged", func(t *testing.T) {
		tree := fresh()
		edit(tree, "terminationGracePeriodSeconds: 35", "terminationGracePeriodSeconds: 60")
		var calls int
		merger := func(yours, base, theirs []byte) ([]byte, int, error) {
			calls++
			if !bytes.Contains(yours, []byte("Seconds: 60")) || !bytes.Contains(base, []byte("\n  replicas: 2\n")) || !bytes.Equal(theirs, want) {
				t.Errorf("merger got the wrong sides")
			}
			return []byte("merged\n"), 0, nil
		}
		cs, err := addWith(t, tree, merger, "lock")
		if err != nil {
			t.Fatal(err)
		}
		apply(tree, cs)
		if calls != 1 || string(tree[deployment].Data) != "merged\n" {
			t.Errorf("merger called %d times, Deployment %q; want one call and its result written", calls, tree[deployment].Data)
		}
		// The manifest keeps the pristine render's hash, so status still shows the user's edit.
		if h := manifestOf(t, tree).Files[deployment]; h != hash(want) {
			t.Errorf("manifest hash of the merged Deployment %s, want the pristine render's %s", h, hash(want))
		}
	})

	t.Run("a conflict is refused", func(t *testing.T) {
		tree := fresh()
		edit(tree, "\n  replicas: 2\n", "\n  replicas: 3\n")
		merger := func(yours, base, theirs []byte) ([]byte, int, error) { return yours, 2, nil }
		cs, err := addWith(t, tree, merger, "lock")
		var de *DependentEditError
		if !errors.As(err, &de) || de.Conflicts != 2 || cs != nil {
			t.Fatalf("err = %v, changes %d; want a DependentEditError with 2 conflicts and no changes", err, len(cs))
		}
		if !strings.Contains(err.Error(), "nothing was written") {
			t.Errorf("the refusal does not say that nothing was written: %v", err)
		}
	})
}

// addWith is addTo with a merger for dependents.
func addWith(t *testing.T, tree fstest.MapFS, merge Merger, features ...string) (Changes, error) {
	t.Helper()
	m := manifestOf(t, tree)
	a := m.Answers
	a.Features = append(a.Features, features...)
	a, err := a.Validate()
	if err != nil {
		return nil, err
	}
	return RenderMerging(templates.FS, tree, a, features, m, testVersion, merge)
}

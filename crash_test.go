package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/daemongen/daemongen/project"
)

// When DAEMONGEN_CRASH_AT=N is set in a re-executed test binary (DAEMONGEN_TEST_MAIN=1, see
// TestMain), daemongen ends at its Nth write step the way a crash or kill -9 would: os.Exit
// runs no deferred cleanup and no rollback.
//
// DAEMONGEN_SIGINT_AT=N sends the process SIGINT (Ctrl-C) at its Nth write step instead.
func init() {
	if n, err := strconv.Atoi(os.Getenv("DAEMONGEN_SIGINT_AT")); err == nil {
		count := 0
		project.StepHook = func(string) error {
			if count++; count == n {
				syscall.Kill(os.Getpid(), syscall.SIGINT)
			}
			return nil
		}
		return
	}
	n, err := strconv.Atoi(os.Getenv("DAEMONGEN_CRASH_AT"))
	if err != nil {
		return
	}
	count := 0
	project.StepHook = func(step string) error {
		if count++; count == n {
			fmt.Fprintf(os.Stderr, "crashing at step %d: %s\n", n, step)
			os.Exit(99)
		}
		return nil
	}
}

// countSteps runs daemongen in-process and returns its exit code and number of write steps.
func countSteps(t *testing.T, args ...string) (result, int) {
	t.Helper()
	n := 0
	project.StepHook = func(string) error { n++; return nil }
	defer func() { project.StepHook = nil }()
	r := daemongen(t, nil, args...)
	return r, n
}

// crashAt runs daemongen in a child process that dies at write step n.
func crashAt(t *testing.T, n int, args ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "DAEMONGEN_TEST_MAIN=1", "DAEMONGEN_CRASH_AT="+strconv.Itoa(n))
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 99 {
		t.Fatalf("crash at step %d: %v, want exit 99 (the crash)\n%s", n, err, out)
	}
}

// leftovers lists daemongen's temporary files and directories and its journal below dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && (strings.Contains(d.Name(), ".daemongen-") || d.Name() == project.JournalName) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func sameFiles(t *testing.T, label string, want, got map[string][]byte) {
	t.Helper()
	for p, w := range want {
		if g, ok := got[p]; !ok || string(g) != string(w) {
			t.Errorf("%s: %s differs from the uninterrupted run (present: %v)", label, p, ok)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: extra file %s", label, p)
		}
	}
}

// editedProject is a project with edits of the user's in a file add will change.
func editedProject(t *testing.T) string {
	t.Helper()
	dir := newProject(t, "none")
	readme := filepath.Join(dir, "README.md")
	b, _ := os.ReadFile(readme)
	os.WriteFile(readme, append(b, "\nmine\n"...), 0o644)
	return dir
}

// TestAddCrashAtEveryStep kills add at every write step in turn; running the same add again
// must give exactly the project and manifest of an uninterrupted add, with no temporary files.
func TestAddCrashAtEveryStep(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes daemongen once per write step")
	}
	ref := editedProject(t)
	r, steps := countSteps(t, "add", "docker", "--dir", ref)
	if r.code != 0 || steps < 10 {
		t.Fatalf("uninterrupted add: exit %d, %d steps: %s", r.code, steps, r.stderr)
	}
	t.Logf("add docker: %d write steps, each one crashed at", steps)
	want := listTree(t, ref)
	wantStatus := daemongen(t, nil, "status", "--dir", ref).stdout
	for n := 1; n <= steps; n++ {
		dir := editedProject(t)
		crashAt(t, n, "add", "docker", "--dir", dir)
		if r := daemongen(t, nil, "add", "docker", "--dir", dir); r.code != 0 {
			t.Fatalf("re-run after a crash at step %d: exit %d: %s", n, r.code, r.stderr)
		}
		label := fmt.Sprintf("crash at step %d of %d", n, steps)
		sameFiles(t, label, want, listTree(t, dir))
		if l := leftovers(t, dir); len(l) > 0 {
			t.Errorf("%s: left %q", label, l)
		}
		if got := daemongen(t, nil, "status", "--dir", dir).stdout; got != strings.ReplaceAll(wantStatus, ref, dir) {
			t.Errorf("%s: status\n%s\nwant\n%s", label, got, wantStatus)
		}
		if t.Failed() {
			return
		}
	}
}

// TestNewCrashAtEveryStep does the same for new: into a fresh directory, into an existing
// empty one, and with --force into one holding a file of the user's.
func TestNewCrashAtEveryStep(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes daemongen once per write step")
	}
	for _, tc := range []struct {
		name  string
		setup func(dir string)
		flags []string
	}{
		{"fresh", func(string) {}, nil},
		{"empty directory", func(dir string) { os.Mkdir(dir, 0o755) }, nil},
		{"force", func(dir string) {
			os.Mkdir(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "NOTES.md"), []byte("mine\n"), 0o600)
		}, []string{"--force"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := func(out string) []string {
				return append([]string{"new", "demo", "-m", "example.com/demo", "-f", "signals", "-o", out}, tc.flags...)
			}
			out := t.TempDir()
			tc.setup(filepath.Join(out, "demo"))
			r, steps := countSteps(t, args(out)...)
			if r.code != 0 {
				t.Fatalf("uninterrupted new: exit %d: %s", r.code, r.stderr)
			}
			want := listTree(t, filepath.Join(out, "demo"))
			t.Logf("%d write steps, each one crashed at", steps)
			for n := 1; n <= steps; n++ {
				out := t.TempDir()
				tc.setup(filepath.Join(out, "demo"))
				crashAt(t, n, args(out)...)
				if r := daemongen(t, nil, args(out)...); r.code != 0 {
					t.Fatalf("re-run after a crash at step %d of %d: exit %d: %s", n, steps, r.code, r.stderr)
				}
				label := fmt.Sprintf("crash at step %d of %d", n, steps)
				sameFiles(t, label, want, listTree(t, filepath.Join(out, "demo")))
				if l := leftovers(t, out); len(l) > 0 {
					t.Errorf("%s: left %q", label, l)
				}
				if t.Failed() {
					return
				}
			}
		})
	}
}

// TestCtrlCWhileWritingFinishesTheWrite: Ctrl-C while new or add writes is ignored for those
// milliseconds, so the run completes instead of leaving work half done.
func TestCtrlCWhileWritingFinishesTheWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes daemongen")
	}
	out := t.TempDir()
	_, steps := countSteps(t, "new", "demo", "-m", "example.com/demo", "-f", "signals", "-o", out)
	want := listTree(t, filepath.Join(out, "demo"))
	for _, n := range []int{1, steps / 2, steps} {
		for _, force := range []bool{false, true} {
			out := t.TempDir()
			args := []string{"new", "demo", "-m", "example.com/demo", "-f", "signals", "-o", out}
			if force {
				os.Mkdir(filepath.Join(out, "demo"), 0o755)
				args = append(args, "--force")
			}
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(os.Environ(), "DAEMONGEN_TEST_MAIN=1", "DAEMONGEN_SIGINT_AT="+strconv.Itoa(n))
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("Ctrl-C at step %d (force %v): %v\n%s", n, force, err, b)
			}
			sameFiles(t, fmt.Sprintf("Ctrl-C at step %d (force %v)", n, force), want, listTree(t, filepath.Join(out, "demo")))
			if l := leftovers(t, out); len(l) > 0 {
				t.Errorf("Ctrl-C at step %d: left %q", n, l)
			}
		}
	}
}

// TestConcurrentAddProcesses: the same race as TestConcurrentAddsLoseNothing between two
// daemongen processes, as two terminals would run them.
func TestConcurrentAddProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes daemongen")
	}
	want := listTree(t, newProject(t, "docker,k8s"))
	for i := range 10 {
		dir := newProject(t, "none")
		var cmds []*exec.Cmd
		var outs []*strings.Builder
		for _, f := range []string{"docker", "k8s"} {
			cmd := exec.Command(os.Args[0], "add", f, "--dir", dir)
			cmd.Env = append(os.Environ(), "DAEMONGEN_TEST_MAIN=1")
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmds, outs = append(cmds, cmd), append(outs, &out)
		}
		for j, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				t.Fatalf("run %d, add %d: %v\n%s", i, j, err, outs[j])
			}
		}
		sameFiles(t, fmt.Sprintf("run %d", i), want, listTree(t, dir))
		if t.Failed() {
			return
		}
	}
}

// TestCtrlCStopsTheLockWait: new into an existing directory whose lock another run holds
// waits, and Ctrl-C stops the wait at once (exit 130), writing nothing.
func TestCtrlCStopsTheLockWait(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes daemongen")
	}
	out := t.TempDir()
	dir := filepath.Join(out, "demo")
	os.Mkdir(dir, 0o755)
	lock, err := project.Acquire(context.Background(), dir, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	cmd := exec.Command(os.Args[0], "new", "demo", "-m", "example.com/demo", "-f", "none", "-o", out)
	cmd.Env = append(os.Environ(), "DAEMONGEN_TEST_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The child says when it starts waiting; only then is Ctrl-C sure to find it waiting.
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if err != nil || !strings.Contains(line, "waiting up to 10s for another daemongen run") {
		t.Fatalf("child's first line on stderr: %q, %v", line, err)
	}
	start := time.Now()
	cmd.Process.Signal(os.Interrupt)
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 || time.Since(start) > 5*time.Second {
		t.Fatalf("after Ctrl-C: %v after %s, want exit 130 at once", err, time.Since(start))
	}
	if got := listTree(t, dir); len(got) != 0 {
		t.Fatalf("an interrupted wait wrote %d files", len(got))
	}
}

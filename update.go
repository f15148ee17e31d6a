package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing/fstest"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/mod/semver"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/project"
	"github.com/daemongen/daemongen/templates"
)

// modulePath is daemongen's own module, fetched at a recorded version to render an update's base.
const modulePath = "github.com/daemongen/daemongen"

type updateOptions struct {
	dir, baseFrom, conflict string
	dryRun, check           bool
	settingFlags            map[string]*string
}

// leftError is an update that completed but left work for the user (conflicts) or, with
// --check, found the project outdated: exit 1 without being a failure to run.
type leftError struct{ msg string }

func (e leftError) Error() string { return e.msg }

func newUpdateCmd(e *env) *cobra.Command {
	opts := updateOptions{settingFlags: map[string]*string{}}
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Bring this daemongen's templates into a generated project, merging your edits",
		Long: `Bring the running daemongen's templates into a project an older daemongen generated
(found through .daemongen.json, searching upward, or --dir), keeping your edits.

update renders the project the recorded daemongen version generated (the base: through the
Go toolchain and module proxy, "go run ` + modulePath + `@VERSION", or --base-from an older
daemongen binary) and what this daemongen generates, both with the recorded answers, then
per file: a file you did not edit is replaced; a file whose template did not change is left
alone; otherwise your edits and the template's change are merged (git merge-file --diff3).
Where both changed the same lines the file gets conflict markers (or, with --conflict=rej,
stays as yours and the template's change goes to FILE.rej). Without a base, an edited file
is never overwritten. Settings flags change a recorded answer through the same merge.

Exit status: 0 updated (or already current), 1 conflicts left or, with --check, an update is
available or conflicts are unresolved, 2 usage error.`,
		Example: `  daemongen update --check
  daemongen update --dry-run
  daemongen update --shutdown-timeout 40s
  daemongen update --base-from ./daemongen-v1.2.0`,
		Args: argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runUpdate(e, cmd, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.dir, "dir", "", "project directory (default: the nearest directory upward holding .daemongen.json)")
	f.BoolVar(&opts.dryRun, "dry-run", false, "print the plan and the unified diff, and write nothing")
	f.BoolVar(&opts.check, "check", false, "write nothing; exit 0 when the project is current, 1 when an update is available or conflicts are unresolved")
	f.StringVar(&opts.baseFrom, "base-from", "", "render the base with this daemongen binary (the version that generated the project) instead of fetching it")
	f.StringVar(&opts.conflict, "conflict", "merge", "how to leave a conflict: merge (markers in the file) or rej (file kept as yours, change in FILE.rej)")
	for _, s := range generator.AllSettings() {
		// No default shown: the value in effect is the recorded answer, not the catalog's default.
		opts.settingFlags[s.Key] = f.String(s.Key, "", "change the recorded answer: "+s.Prompt+". "+s.Help)
	}
	registerSettingCompletions(cmd)
	_ = cmd.RegisterFlagCompletionFunc("dir", dirsOnly)
	_ = cmd.RegisterFlagCompletionFunc("conflict", cobra.FixedCompletions([]string{"merge", "rej"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runUpdate(e *env, cmd *cobra.Command, opts updateOptions) error {
	if opts.conflict != "merge" && opts.conflict != "rej" {
		return usageErrorf("--conflict must be merge or rej, not %q", opts.conflict)
	}
	if opts.check && opts.dryRun {
		return usageErrorf("--check and --dry-run do not go together: --check only answers whether an update is available")
	}
	if opts.baseFrom != "" {
		bin, err := baseBinary(opts.baseFrom)
		if err != nil {
			return err
		}
		opts.baseFrom = bin
	}
	dir, err := findProject(opts.dir)
	if err != nil {
		return err
	}
	writes := !opts.dryRun && !opts.check
	if opts.dryRun {
		// Where the real run would fail to take the lock, the dry run fails the same way.
		if err := project.CheckWritable(dir); err != nil {
			return err
		}
	}
	if !writes {
		lock, err := readLock(e, dir)
		if err != nil {
			return err
		}
		defer lock.Unlock()
	}
	if writes {
		lock, err := writeLock(e, dir) // the same lock and recovery as add
		if err != nil {
			return err
		}
		defer lock.Unlock()
	}
	m, err := loadProject(dir)
	if err != nil {
		return err
	}
	// A teammate's older daemongen must not take the project back to older templates.
	if v := generatorVersion(); semver.IsValid(m.Generator) && semver.IsValid(v) && semver.Compare(m.Generator, v) > 0 {
		return fmt.Errorf("%s was generated by daemongen %s, newer than this daemongen %s: use daemongen %s or later (nothing was written)", dir, m.Generator, v, m.Generator)
	}
	a, err := updatedAnswers(cmd, opts, m.Answers)
	if err != nil {
		return err
	}
	// Validated, the recorded answers get the defaults of settings this daemongen added since;
	// loadProject has already checked that they validate.
	recorded, err := m.Answers.Validate()
	if err != nil {
		return err
	}
	// The running daemongen's render of the recorded answers is a base candidate (see bases);
	// with unchanged answers it is next itself, otherwise the two renders run side by side.
	var local map[string][]byte
	var localErr error
	var wg sync.WaitGroup
	changed := answersChanged(recorded, a)
	if changed && !opts.check {
		wg.Go(func() { local, localErr = renderProject(recorded, generatorVersion()) })
	}
	next, err := renderProject(a, generatorVersion())
	wg.Wait()
	if err != nil {
		return err
	}
	if localErr != nil {
		return fmt.Errorf("rendering the recorded answers: %w", localErr)
	}
	if !changed {
		local = next
	}
	if opts.check {
		// Markers in the tree are an update not finished: the weekly check must not pass.
		if left := project.UnresolvedConflicts(dir, m); len(left) > 0 {
			return leftError{fmt.Sprintf("not current: conflicts unresolved in %s, left by an update; resolve them (remove the markers, apply and delete the .rej files)", strings.Join(left, ", "))}
		}
		out := project.Outdated(m, next)
		if len(out) == 0 {
			fmt.Fprintf(e.stdout, "%s is current with daemongen %s\n", dir, generatorVersion())
			return nil
		}
		if m.Generator == generatorVersion() { // only the settings flags given make it outdated
			return leftError{fmt.Sprintf("the settings given would change %s: run daemongen update with the same flags", strings.Join(out, ", "))}
		}
		return leftError{fmt.Sprintf("an update is available (daemongen %s → %s): %s; run daemongen update", m.Generator, generatorVersion(), strings.Join(out, ", "))}
	}
	if left := project.UnresolvedConflicts(dir, m); len(left) > 0 {
		return fmt.Errorf("a previous update left conflicts unresolved in %s: resolve them (remove the markers, apply and delete the .rej files) and run again (nothing was written)", strings.Join(left, ", "))
	}
	bases, err := bases(e, opts, m, local)
	if err != nil {
		return err
	}
	from, to := m.Generator, generatorVersion()
	plan, err := project.PlanUpdate(project.Update{
		Dir: dir, Prev: m, New: next, Bases: bases, Rej: opts.conflict == "rej",
		Next:    generator.Manifest{Schema: generator.ManifestSchema, Generator: to, Answers: a},
		Labels:  project.Labels{Yours: "yours", Base: "base (daemongen " + from + ")", Theirs: "daemongen " + to},
		Mergers: map[string]func(yours, theirs []byte) ([]byte, error){"go.mod": generator.MergeGoMod, "go.sum": generator.MergeSums},
	})
	if err != nil {
		return err
	}
	out := e.stdout
	if opts.dryRun {
		out = e.stderr // stdout carries the diff
		// Refuse what Apply would refuse, in its words, before anything is printed.
		if len(plan.Changes) > 0 {
			if err := project.Check(dir, plan.Changes); err != nil {
				return err
			}
		}
	}
	report := func() {
		for _, act := range plan.Actions {
			fmt.Fprintf(out, "%s: %s\n", act.Path, act.What)
		}
		for _, c := range plan.Changes {
			if c.Path == "go.mod" && c.Old != nil {
				for _, r := range generator.RaisedRequires(c.Old, c.New) {
					fmt.Fprintf(out, "go.mod: raised %s (the version daemongen %s's templates need)\n", r, to)
				}
			}
		}
	}
	if opts.dryRun {
		report()
		if _, err := e.stdout.Write(plan.Changes.Diff()); err != nil {
			return err
		}
		return leftover(plan, from, "would be left")
	}
	if len(plan.Changes) > 0 {
		signal.Ignore(writeSignals...) // see add: the journal covers kill -9, this covers the rest
		err = project.Apply(dir, plan.Changes)
		signal.Reset(writeSignals...)
		if err != nil {
			return err // Apply wrote nothing, or restored what it had: no "updated" lines
		}
	}
	report()
	switch {
	case len(plan.Changes) > 0 && len(plan.Kept) > 0:
		fmt.Fprintf(e.stdout, "updated %s partly from daemongen %s to %s (still recorded as %s)\n", dir, from, to, from)
	case len(plan.Changes) > 0:
		fmt.Fprintf(e.stdout, "updated %s from daemongen %s to %s\n", dir, from, to)
	case len(plan.Kept) == 0:
		fmt.Fprintf(e.stdout, "%s is current with daemongen %s; nothing to do\n", dir, to)
	}
	if len(plan.Kept) > 0 {
		fmt.Fprintf(e.stdout, "not updated, because you edited them and there was no base to merge with: %s\n", strings.Join(plan.Kept, ", "))
	}
	return leftover(plan, from, "left")
}

// leftover is the exit status of an update, the same for --dry-run as for the real run (a CI
// job gating on the dry run must see the conflicts): work left for the user is exit 1.
func leftover(plan project.Plan, from, left string) error {
	switch {
	case len(plan.Conflicts) > 0:
		return leftError{fmt.Sprintf("%d file(s) with conflicts %s to resolve: %s", len(plan.Conflicts), left, strings.Join(plan.Conflicts, ", "))}
	case len(plan.Kept) > 0:
		// Work left, like a conflict: the kept files still hold the old templates' lines, and
		// a template change spanning two files may not build until they are merged.
		return leftError{fmt.Sprintf("%d edited file(s) not updated (no base): %s; the project may not build until they are merged: run update again with --base-from a daemongen %s binary, or merge them by hand", len(plan.Kept), strings.Join(plan.Kept, ", "), from)}
	}
	return nil
}

// updatedAnswers applies settings flags to the recorded answers. A flag of a feature the
// project lacks is refused: it would change nothing.
func updatedAnswers(cmd *cobra.Command, opts updateOptions, recorded generator.Answers) (generator.Answers, error) {
	a := recorded
	a.Settings = maps.Clone(a.Settings)
	if a.Settings == nil {
		a.Settings = map[string]string{}
	}
	for _, s := range generator.AllSettings() {
		if !cmd.Flags().Changed(s.Key) {
			continue
		}
		if owner := generator.SettingOwner(s.Key); owner != "base" && !slices.Contains(a.Features, owner) {
			return a, usageErrorf("--%s configures %s, which the project does not have; daemongen add %s first", s.Key, owner, owner)
		}
		a.Settings[s.Key] = *opts.settingFlags[s.Key]
	}
	return a.Validate()
}

// answersChanged reports whether settings flags changed the recorded answers.
func answersChanged(recorded, a generator.Answers) bool {
	x, _ := json.Marshal(recorded)
	y, _ := json.Marshal(a)
	return !bytes.Equal(x, y)
}

// renderProject returns every file the running daemongen generates for a, manifest excluded.
func renderProject(a generator.Answers, version string) (map[string][]byte, error) {
	cs, err := generator.Render(templates.FS, fstest.MapFS{}, a, append([]string{"base"}, a.Features...), generator.Manifest{}, version)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, c := range cs {
		if c.Path != generator.ManifestName {
			out[c.Path] = c.New
		}
	}
	return out, nil
}

// bases returns the candidate base renders, best first. PlanUpdate uses, per file, one whose
// hash is the recorded one, so a wrong candidate is never merged against. The running
// daemongen's render of the recorded answers is always a candidate: it is the base of every
// file whose template did not change, which is all an answer change needs.
func bases(e *env, opts updateOptions, m generator.Manifest, local map[string][]byte) ([]map[string][]byte, error) {
	switch {
	case opts.baseFrom != "":
		// A wrong binary would only fail the hash checks file by file; name the mismatch.
		if v := binaryVersion(opts.baseFrom); v != "" && v != m.Generator {
			return nil, fmt.Errorf("--base-from %s is daemongen %s, but the project was generated by daemongen %s: give that version's binary (nothing was written)", opts.baseFrom, v, m.Generator)
		}
		b, err := renderWith(opts.baseFrom, m)
		if err != nil {
			return nil, fmt.Errorf("--base-from %s: %w", opts.baseFrom, err)
		}
		return []map[string][]byte{b, local}, nil
	case m.Generator == generatorVersion():
		return []map[string][]byte{local}, nil
	case !semver.IsValid(m.Generator):
		fmt.Fprintf(e.stderr, "daemongen: no base: the project was generated by daemongen %q, which is no module version to fetch; files you edited whose template changed are kept as they are (pass --base-from with that daemongen binary to merge them)\n", m.Generator)
		return []map[string][]byte{local}, nil
	}
	b, err := renderWithModule(m)
	if err != nil {
		fmt.Fprintf(e.stderr, "daemongen: no base: %v; files you edited whose template changed are kept as they are (pass --base-from with daemongen %s to merge them)\n", err, m.Generator)
		return []map[string][]byte{local}, nil
	}
	return []map[string][]byte{b, local}, nil
}

// renderWith renders m's answers with the daemongen binary bin.
// binaryVersion is the version a daemongen binary reports ("daemongen v1.2.0 (commit …)"),
// or "" when it cannot tell (then the per-file hash checks decide alone).
func binaryVersion(bin string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(out)); len(f) >= 2 && f[0] == "daemongen" {
		return f[1]
	}
	return ""
}

// baseBinary resolves --base-from as a shell would (a bare name through PATH, a path against
// the working directory), once, before the base runs in a directory of its own.
func baseBinary(arg string) (string, error) {
	if !strings.ContainsRune(arg, filepath.Separator) {
		bin, err := exec.LookPath(arg)
		if err != nil {
			return "", usageErrorf("--base-from %s: no such command on PATH; give the path of the older daemongen binary (e.g. ./%s)", arg, arg)
		}
		arg = bin
	}
	bin, err := filepath.Abs(arg)
	if err != nil {
		return "", usageErrorf("--base-from %s: %v", arg, err)
	}
	if fi, err := os.Stat(bin); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", usageErrorf("--base-from %s: not an executable file; give the path of the older daemongen binary", arg)
	}
	return bin, nil
}

// baseFromTimeout bounds a --base-from binary's `new`: it takes well under a second, so one
// that runs for a minute is stuck, and the project lock is held meanwhile.
var baseFromTimeout = time.Minute

// renderWith renders m's answers with an older daemongen binary.
func renderWith(bin string, m generator.Manifest) (map[string][]byte, error) {
	return renderCommand(m, baseFromTimeout, func(ctx context.Context, args ...string) *exec.Cmd { return exec.CommandContext(ctx, bin, args...) })
}

// renderWithModule renders m's answers with daemongen at the recorded version, fetched and
// built by the Go toolchain (go run MODULE@VERSION), which honours GOPROXY, GOFLAGS,
// GONOSUMDB and the module cache: offline once the version is cached.
func renderWithModule(m generator.Manifest) (map[string][]byte, error) {
	// Fetching and building a daemongen on a slow network or a cold cache takes minutes.
	return renderCommand(m, 10*time.Minute, func(ctx context.Context, args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, "go", append([]string{"run", ownModule() + "@" + m.Generator}, args...)...)
		cmd.Env = append(os.Environ(), "GOWORK=off")
		return cmd
	})
}

func ownModule() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Path != "" {
		return info.Main.Path
	}
	return modulePath
}

// renderCommand runs `daemongen new` through command with m's answers in a temporary
// directory and returns the files it rendered, manifest excluded.
func renderCommand(m generator.Manifest, timeout time.Duration, command func(ctx context.Context, args ...string) *exec.Cmd) (map[string][]byte, error) {
	tmp, release, err := project.Scratch()
	if err != nil {
		return nil, err
	}
	defer release()
	// Only the answers, as schema 1: every daemongen version reads that.
	answers, err := generator.Manifest{Schema: 1, Answers: m.Answers}.Encode()
	if err != nil {
		return nil, err
	}
	af := filepath.Join(tmp, "answers.json")
	if err := os.WriteFile(af, answers, 0o600); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := command(ctx, "new", "--answers", af, "--yes", "--output", filepath.Join(tmp, "out"))
	cmd.Dir = tmp
	cmd.WaitDelay = 5 * time.Second // a child it left holding stderr must not keep us waiting
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("rendering the base did not finish within %s; it was stopped", timeout)
		}
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		if msg == "" {
			return nil, fmt.Errorf("rendering the base failed (%v)", err)
		}
		return nil, fmt.Errorf("rendering the base failed (%v): %s", err, msg)
	}
	root := filepath.Join(tmp, "out", m.Answers.Name)
	out := map[string][]byte{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == generator.ManifestName {
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = b
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the base render: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("the base render produced no files")
	}
	return out, nil
}

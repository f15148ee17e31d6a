package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/mod/modfile"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/project"
	"github.com/daemongen/daemongen/prompts"
	"github.com/daemongen/daemongen/templates"
)

type addOptions struct {
	dir          string
	dryRun, yes  bool
	settingFlags map[string]*string
}

// conflictError is a refused add: the project has a feature the new one cannot live with.
type conflictError struct{ err error }

func (e conflictError) Error() string { return e.err.Error() }
func (e conflictError) Unwrap() error { return e.err }

func newAddCmd(e *env) *cobra.Command {
	opts := addOptions{settingFlags: map[string]*string{}}
	cmd := &cobra.Command{
		Use:   "add FEATURE...",
		Short: "Add features to a project daemongen generated, keeping every edit made since",
		Long: `Add features to a project daemongen generated (found through .daemongen.json, searching
upward from the current directory, or --dir).

add creates the files the feature owns and inserts short fragments at the marker lines of
shared files (// daemongen:... and <!-- daemongen:... -->). It never rewrites a file of yours
wholesale. Before writing anything it checks every marker, every file and the Go syntax; if
anything is off it writes nothing and tells you what to paste where. --dry-run shows the diff.`,
		Example: `  daemongen add health
  daemongen add batch --dry-run
  daemongen add lock recovery --dir ./svc`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("name at least one feature (daemongen features lists them)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAdd(e, cmd, opts, args)
		},
		ValidArgsFunction: completeAddArgs,
	}
	f := cmd.Flags()
	f.StringVar(&opts.dir, "dir", "", "project directory (default: the nearest directory upward holding .daemongen.json)")
	f.BoolVar(&opts.dryRun, "dry-run", false, "print the unified diff of what would change and write nothing")
	f.BoolVarP(&opts.yes, "yes", "y", false, "accept defaults for the new features' settings; never prompt")
	for _, s := range generator.AllSettings() {
		opts.settingFlags[s.Key] = f.String(s.Key, s.Default, s.Prompt+". "+s.Help)
	}
	registerSettingCompletions(cmd)
	_ = cmd.RegisterFlagCompletionFunc("dir", dirsOnly)
	return cmd
}

// findProject returns the directory holding the manifest: dir itself if given, else the
// nearest one upward from the working directory, like git looks for .git.
func findProject(dir string) (string, error) {
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, generator.ManifestName)); err != nil {
			return "", usageErrorf("%s is not a daemongen project: no %s there (run daemongen new first)", dir, generator.ManifestName)
		}
		return dir, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, generator.ManifestName)); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", usageErrorf("not inside a daemongen project: no %s in %s or any parent (use --dir, or daemongen new first)", generator.ManifestName, wd)
		}
	}
}

// loadProject reads and checks the manifest of the project in dir.
func loadProject(dir string) (generator.Manifest, error) {
	return loadProjectFrom(dir, onDisk(dir))
}

// loadProjectFrom is loadProject reading the project's files with read.
func loadProjectFrom(dir string, read func(string) ([]byte, error)) (generator.Manifest, error) {
	path := filepath.Join(dir, generator.ManifestName)
	data, err := read(generator.ManifestName)
	if err != nil {
		return generator.Manifest{}, err
	}
	m, err := generator.DecodeManifest(path, data)
	if err != nil {
		return m, usageError{err} // a broken manifest is invalid input, as it is for new --answers
	}
	if _, err := m.Answers.Validate(); err != nil {
		return m, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func runAdd(e *env, cmd *cobra.Command, opts addOptions, args []string) error {
	// The command line is checked first: a typo must not write anything, not even the
	// completion of an interrupted run, which taking the lock below would do.
	var requested []string
	for _, arg := range args {
		if strings.Trim(arg, " ,") == "" {
			return usageErrorf("an empty feature name: name features (daemongen features lists them)")
		}
		names, err := generator.ParseFeatures(arg)
		if err != nil {
			return usageError{err}
		}
		for _, n := range names {
			if _, ok := generator.Lookup(n); !ok {
				_, err := generator.Resolve([]string{n}) // its message suggests the nearest name
				return err
			}
		}
		for _, n := range names {
			if !slices.Contains(requested, n) { // "add lock lock" asks for lock once
				requested = append(requested, n)
			}
		}
	}
	dir, err := findProject(opts.dir)
	if err != nil {
		return err
	}
	// One writer at a time: the manifest is read, the features rendered and the files written
	// under one lock, so a concurrent add either sees this one's result or waits for it.
	if opts.dryRun {
		// Where the real run would fail to take the lock, the dry run fails the same way.
		if err := project.CheckWritable(dir); err != nil {
			return err
		}
		lock, err := readLock(e, dir)
		if err != nil {
			return err
		}
		defer lock.Unlock()
	} else {
		lock, err := writeLock(e, dir)
		if err != nil {
			return err
		}
		defer lock.Unlock()
	}
	m, err := loadProject(dir)
	if err != nil {
		return err
	}
	// A fragment would land inside an update's conflict block (its marker may stand on one
	// side only), and resolving the block could drop it unseen.
	if left := project.UnresolvedConflicts(dir, m); len(left) > 0 {
		return conflictError{fmt.Errorf("a previous update left conflicts unresolved in %s: resolve them (remove the markers, apply and delete the .rej files) and run again (nothing was written)", strings.Join(left, ", "))}
	}
	// Unknown names are usage errors (exit 2); a conflict with the project is a refusal (exit 1).
	want, err := generator.Resolve(slices.Concat(m.Answers.Features, requested))
	if err != nil {
		var ce *generator.ConflictError
		if errors.As(err, &ce) {
			return conflictError{err}
		}
		return err
	}
	var units []string
	for _, f := range want {
		if !slices.Contains(m.Answers.Features, f) {
			units = append(units, f)
		}
	}
	if err := checkAddSettingFlags(cmd, m, units); err != nil {
		return err
	}
	if len(units) == 0 {
		fmt.Fprintf(e.stdout, "%s already has %s; nothing to do\n", dir, strings.Join(requested, ", "))
		return nil
	}
	// One daemongen version per project: an add by another version would mix two versions'
	// templates (the new feature's files against the old base, which may not fit) and record
	// the files it touches with this version's hashes, so a later update would mistake their
	// template changes for the user's edits and keep the old lines.
	if v := generatorVersion(); m.Generator != v {
		return conflictError{fmt.Errorf("%s was generated by daemongen %s and this is daemongen %s: run `daemongen update` first (it brings the project to this version's templates and keeps your edits), then add %s", dir, m.Generator, v, strings.Join(requested, ","))}
	}
	for _, u := range units {
		if !slices.Contains(requested, u) {
			fmt.Fprintf(e.stdout, "also adding %s (required by %s)\n", u, requiredBy(u, requested))
		}
	}

	a := m.Answers
	a.Features = want
	// The project builds with the module path its go.mod declares; the user may have changed
	// it (go mod edit -module) since daemongen recorded it.
	if mod := goModModule(dir); mod != "" && mod != a.Module {
		if err := generator.CheckModule(mod); err != nil {
			return usageErrorf("go.mod declares module %q, which add cannot use (%v); fix go.mod's module line", mod, err)
		}
		fmt.Fprintf(e.stdout, "using module path %s from go.mod (%s recorded %s)\n", mod, generator.ManifestName, a.Module)
		a.Module = mod
	}
	a.Settings = maps.Clone(a.Settings)
	if a.Settings == nil {
		a.Settings = map[string]string{}
	}
	missing := prompts.Missing{Settings: map[string]bool{}}
	for _, s := range generator.Settings(units) {
		if generator.SettingOwner(s.Key) == "base" {
			continue // the base is already there; its answers are in the manifest
		}
		if cmd.Flags().Changed(s.Key) {
			a.Settings[s.Key] = *opts.settingFlags[s.Key]
		} else if _, ok := a.Settings[s.Key]; !ok { // a shared setting (memory-limit) keeps its answer
			missing.Settings[s.Key] = true
		}
	}
	asked := len(missing.Settings) > 0 && e.interactive && !opts.yes
	if asked {
		if err := prompts.Ask(e.prompter, &a, missing); err != nil {
			return err
		}
	}
	a, err = a.Validate()
	if err != nil {
		return err
	}
	// A file of the project's features that depends on the ones added (lock makes the
	// Deployment single-replica) is merged with the user's edits, as update merges.
	merge := func(yours, base, theirs []byte) ([]byte, int, error) {
		return project.Merge(yours, base, theirs, project.Labels{Yours: "yours", Base: "before add", Theirs: "with " + strings.Join(units, ", ")})
	}
	changes, err := generator.RenderMerging(templates.FS, os.DirFS(dir), a, units, m, generatorVersion(), merge)
	if err != nil {
		return err
	}
	if opts.dryRun {
		// Refuse what Apply would refuse, in its words.
		if err := project.Check(dir, changes); err != nil {
			return err
		}
		_, err := e.stdout.Write(changes.Diff())
		return err
	}
	modified := modifiedFiles(m, onDisk(dir))
	// Ctrl-C, a hang-up or a kill between the first and the last rename would leave a mix for
	// the next run to complete; ignore them for those few milliseconds. (A kill -9 cannot be
	// ignored: the journal lets the next daemongen run complete the change.)
	signal.Ignore(writeSignals...)
	err = project.Apply(dir, changes)
	signal.Reset(writeSignals...)
	if err != nil {
		return err
	}
	for _, c := range changes {
		if c.Path == "go.mod" && c.Old != nil {
			for _, r := range generator.RaisedRequires(c.Old, c.New) {
				fmt.Fprintf(e.stdout, "raised %s in go.mod (the version %s needs)\n", r, strings.Join(units, ", "))
			}
		}
		verb := "updated"
		if c.Old == nil {
			verb = "created"
		}
		fmt.Fprintf(e.stdout, "%s %s\n", verb, c.Path)
	}
	fmt.Fprintf(e.stdout, "added %s to %s\n", strings.Join(units, ", "), dir)
	if asked {
		fmt.Fprintf(e.stdout, "to do the same without prompts: %s\n", addCommandLine(requested, a.Settings, addedSettings(units), opts.dir))
	}
	// An edited file the add changed had the change merged in (a dependent, or fragments put
	// at their markers); the others were not touched.
	var merged, kept []string
	for _, p := range modified {
		if slices.ContainsFunc(changes, func(c generator.Change) bool { return c.Path == p }) {
			merged = append(merged, p)
		} else {
			kept = append(kept, p)
		}
	}
	if len(merged) > 0 {
		fmt.Fprintf(e.stdout, "merged your edits into %s\n", strings.Join(merged, ", "))
	}
	if len(kept) > 0 {
		fmt.Fprintf(e.stdout, "note: you have changed %d generated file(s) since daemongen wrote them (kept as they are): %s\n", len(kept), strings.Join(kept, ", "))
	}
	return nil
}

// checkAddSettingFlags refuses a settings flag add cannot apply: it is applied only when the
// feature that owns it is being added (units); otherwise it would be dropped silently.
func checkAddSettingFlags(cmd *cobra.Command, m generator.Manifest, units []string) error {
	for _, s := range generator.AllSettings() {
		if !cmd.Flags().Changed(s.Key) {
			continue
		}
		switch owner := generator.SettingOwner(s.Key); {
		case owner == "base":
			return usageErrorf("--%s belongs to the base project, whose answers are recorded in %s (%s); add does not change them", s.Key, generator.ManifestName, m.Answers.Settings[s.Key])
		case slices.Contains(m.Answers.Features, owner):
			return usageErrorf("--%s belongs to %s, which the project already has (recorded in %s: %s); add does not change it", s.Key, owner, generator.ManifestName, m.Answers.Settings[s.Key])
		case !slices.Contains(units, owner):
			return usageErrorf("--%s configures %s, which this add does not add; drop the flag or add %s too", s.Key, owner, owner)
		}
	}
	return nil
}

// writeSignals are the signals that would otherwise stop daemongen halfway through writing a
// project: Ctrl-C, a closed terminal, and kill's default.
var writeSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// goModModule returns the module path declared in dir/go.mod, or "" when there is none to read.
func goModModule(dir string) string {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return ""
	}
	return modfile.ModulePath(data)
}

func requiredBy(feature string, requested []string) string {
	var by []string
	for _, r := range requested {
		if f, ok := generator.Lookup(r); ok && slices.Contains(f.Requires, feature) {
			by = append(by, r)
		}
	}
	return strings.Join(by, ", ")
}

// modifiedFiles lists the files whose content differs from what daemongen last wrote, and
// generated files that are gone, by the hashes in the manifest. read reads a project file.
func modifiedFiles(m generator.Manifest, read func(rel string) ([]byte, error)) []string {
	var out []string
	for p, want := range m.Files {
		data, err := read(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			out = append(out, p+" (deleted)")
		case err != nil:
			out = append(out, p+" (unreadable)")
		default:
			sum := sha256.Sum256(data)
			if hex.EncodeToString(sum[:]) != want {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out
}

// onDisk reads the project files of dir.
func onDisk(dir string) func(string) ([]byte, error) {
	return func(rel string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel))) }
}

func newStatusCmd(e *env) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show a generated project's features and which generated files you have changed",
		Args:  argsBetween(0, 0),
		RunE: func(*cobra.Command, []string) error {
			root, err := findProject(dir)
			if err != nil {
				return err
			}
			return runStatus(e, root)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "project directory (default: the nearest directory upward holding .daemongen.json)")
	return cmd
}

// runStatus reports the project in root. It holds the lock shared, so it never reads a
// project an add or update is halfway through. After a crash it writes nothing (it may run in
// a read-only checkout, and completing a change is the next writing run's job): it reports
// the project as that completion will leave it, and says a change is pending.
func runStatus(e *env, root string) error {
	lock, err := project.AcquireShared(context.Background(), root, project.DefaultWait, func(msg string) { fmt.Fprintln(e.stderr, "daemongen: "+msg) })
	if err != nil {
		return err
	}
	defer lock.Unlock()
	pending, interrupted, err := project.Pending(root)
	if err != nil {
		return err
	}
	read := func(rel string) ([]byte, error) {
		if data, ok := pending[rel]; ok {
			if data == nil {
				return nil, fs.ErrNotExist
			}
			return data, nil
		}
		return onDisk(root)(rel)
	}
	m, err := loadProjectFrom(root, read)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "project:   %s (%s)\n", m.Answers.Name, m.Answers.Module)
	fmt.Fprintf(e.stdout, "generator: %s\n", m.Generator)
	fmt.Fprintf(e.stdout, "features:  %s\n", featureList(unique(m.Answers.Features))) // a hand-edited list may repeat one
	var available []string
	for _, f := range generator.AllFeatures() {
		if !slices.Contains(m.Answers.Features, f) {
			available = append(available, f)
		}
	}
	fmt.Fprintf(e.stdout, "can add:   %s\n", featureList(available))
	if interrupted {
		fmt.Fprintf(e.stdout, "pending:   an interrupted daemongen run left %s half-applied (%d files); shown as it will be: the next add, update or new there completes it\n", project.JournalName, len(pending))
	}
	if left := project.UnresolvedConflicts(root, m); len(left) > 0 {
		fmt.Fprintf(e.stdout, "conflicts: unresolved in %s, left by an update; remove the markers, apply and delete the .rej files (add and update refuse until then)\n", strings.Join(left, ", "))
	}
	modified := modifiedFiles(m, read)
	if len(modified) == 0 {
		fmt.Fprintln(e.stdout, "all generated files are as daemongen wrote them")
		return nil
	}
	fmt.Fprintf(e.stdout, "changed since generated (%d):\n", len(modified))
	for _, p := range modified {
		fmt.Fprintf(e.stdout, "  %s\n", p)
	}
	return nil
}

// readLock holds the project lock shared for a run that only reads it (--dry-run, --check), so
// it never sees an add or update halfway. A change a crash left pending cannot be shown
// truthfully without completing it, which is a write: such a run is refused.
// writeLock takes the project's lock for writing (add, update): one writer at a time. A run
// that crashed midway left its change in the journal; it is finished first, so this run starts
// from the project the interrupted one meant to leave.
func writeLock(e *env, dir string) (*project.Lock, error) {
	lock, err := project.Acquire(context.Background(), dir, project.DefaultWait, func(msg string) { fmt.Fprintln(e.stderr, "daemongen: "+msg) })
	if err != nil {
		return nil, err
	}
	done, err := project.Recover(dir)
	if err != nil {
		lock.Unlock()
		return nil, err
	}
	if len(done) > 0 {
		fmt.Fprintf(e.stdout, "completed the change an interrupted daemongen run left in %s: %s\n", dir, strings.Join(done, ", "))
	}
	return lock, nil
}

func readLock(e *env, dir string) (*project.Lock, error) {
	lock, err := project.AcquireShared(context.Background(), dir, project.DefaultWait, func(msg string) { fmt.Fprintln(e.stderr, "daemongen: "+msg) })
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, project.JournalName)); err == nil {
		lock.Unlock()
		return nil, project.PendingError{Dir: dir}
	}
	return lock, nil
}

// unique returns xs without repetitions, in the order of first appearance.
func unique(xs []string) []string {
	var out []string
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

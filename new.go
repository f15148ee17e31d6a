package main

import (
	"context"
	"errors"
	"fmt"
	goversion "go/version"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing/fstest"

	"github.com/kballard/go-shellquote"
	"github.com/spf13/cobra"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/project"
	"github.com/daemongen/daemongen/prompts"
	"github.com/daemongen/daemongen/templates"
)

type newOptions struct {
	module, features, answersFile, output string
	yes, dryRun, force                    bool
	settings                              map[string]*string // one flag per generator setting
}

func newNewCmd(e *env) *cobra.Command {
	opts := newOptions{settings: map[string]*string{}}
	cmd := &cobra.Command{
		Use:   "new NAME",
		Short: "Render a new daemon project into ./NAME",
		Long: `Render a new daemon project into ./NAME (or --output DIR/NAME).

On a terminal, daemongen asks for every answer no flag gave. Without a terminal, pass
--module and --features, or --yes to accept the defaults for everything not given.
Nothing is written until the whole project has rendered: the tree is built in a temporary
directory beside the target and renamed into place.`,
		Example: `  daemongen new demo --yes
  daemongen new demo --module github.com/you/demo --features signals --shutdown-timeout 20s
  daemongen new demo --answers ../other/.daemongen.json --dry-run`,
		Args: argsBetween(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runNew(e, cmd, opts, args)
		},
		ValidArgsFunction: noFiles, // NAME is a new name, not a file
	}
	f := cmd.Flags()
	f.StringVarP(&opts.module, "module", "m", "", "Go module path (default example.com/NAME)")
	f.StringVarP(&opts.features, "features", "f", "", fmt.Sprintf("comma-separated features, or none, or all (default %s)", strings.Join(generator.DefaultFeatures(), ",")))
	f.BoolVarP(&opts.yes, "yes", "y", false, "accept defaults for everything not given; never prompt")
	f.StringVar(&opts.answersFile, "answers", "", "replay answers from a file (a project's .daemongen.json works)")
	f.StringVarP(&opts.output, "output", "o", ".", "directory to create the project in")
	f.BoolVar(&opts.dryRun, "dry-run", false, "print the files as a diff and write nothing")
	f.BoolVar(&opts.force, "force", false, "write into an existing non-empty directory, adding files but never overwriting one")
	for _, s := range generator.AllSettings() {
		opts.settings[s.Key] = f.String(s.Key, s.Default, s.Prompt+". "+s.Help)
	}
	_ = cmd.RegisterFlagCompletionFunc("features", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return completeFeatureList(toComplete, nil), cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
	})
	registerSettingCompletions(cmd, "module")
	_ = cmd.RegisterFlagCompletionFunc("output", dirsOnly)
	return cmd
}

func runNew(e *env, cmd *cobra.Command, opts newOptions, args []string) error {
	a, missing, err := collectAnswers(cmd, opts, args, e.interactive && !opts.yes)
	if err != nil {
		return err
	}
	asked := false
	if a.Name == "" && e.interactive && !opts.yes {
		if a.Name, err = askName(e, opts); err != nil {
			return err
		}
		asked = true
	} else if a.Name != "" && e.interactive && !opts.yes {
		// Questions follow: refuse a taken directory now, not after the user answered them all.
		if err := checkTarget(filepath.Join(opts.output, a.Name), opts); err != nil {
			return err
		}
	}
	requested := a.Features
	if missing.Module || missing.Features {
		switch {
		case opts.yes:
			if missing.Module {
				a.Module = "example.com/" + a.Name
			}
			if missing.Features {
				a.Features = generator.DefaultFeatures()
				requested = a.Features // defaults are chosen, not implied
			}
		case !e.interactive:
			flag := "--module"
			if !missing.Module {
				flag = "--features"
			}
			if opts.answersFile != "" {
				return usageErrorf("%s has no %s: pass %s, or --yes to accept the default", opts.answersFile, strings.TrimPrefix(flag, "--"), flag)
			}
			return usageErrorf("%s is required when not running on a terminal (or pass --yes to accept the defaults)", flag)
		default:
			if err := prompts.Ask(e.prompter, &a, missing); err != nil {
				return err
			}
			asked = true
		}
	}
	fromPrompt := asked && missing.Features
	a, err = a.Validate()
	if err != nil {
		return err
	}
	// A go directive newer than the toolchain makes go refuse the project (or fetch a toolchain
	// that may not exist), so an answers file cannot ask for one.
	if tc := goVersion(); goversion.Compare("go"+a.Go, "go"+tc) > 0 {
		return &generator.InvalidError{Flag: "go version", Value: a.Go, Why: "newer than the Go toolchain daemongen was built with (" + tc + "); use " + tc + " or a daemongen built with a newer Go"}
	}
	if err := checkSettingFlags(cmd, a.Features); err != nil {
		return err
	}
	if !fromPrompt {
		w := e.stdout
		if opts.dryRun {
			w = e.stderr // stdout carries the diff
		}
		announceImplied(w, requested, a.Features)
	}
	if err := checkOutput(opts.output); err != nil {
		return err
	}
	units := append([]string{"base"}, a.Features...)
	changes, err := generator.Render(templates.FS, fstest.MapFS{}, a, units, generator.Manifest{}, generatorVersion())
	if err != nil {
		return fmt.Errorf("rendering %s: %w", a.Name, err)
	}
	dir := filepath.Join(opts.output, a.Name)
	if opts.dryRun {
		// Fail as the real run would (a non-empty directory, a file --force would overwrite).
		switch err := project.CheckNew(dir, changes, opts.force); {
		case errors.Is(err, project.ErrUnchanged):
			fmt.Fprintf(e.stdout, "%s already holds this project; nothing would be written\n", dir)
			return nil
		case err != nil:
			return err
		}
		_, err := e.stdout.Write(changes.Diff())
		return err
	}
	// Ctrl-C, a hang-up or a kill while the files are written would leave work for the next
	// run to clean up or complete, so they are caught (not fatal) for those few milliseconds;
	// they only stop a wait for the lock of an existing directory another daemongen run holds.
	ctx, stop := signal.NotifyContext(context.Background(), writeSignals...)
	err = project.WriteNew(ctx, dir, changes, opts.force, func(msg string) { fmt.Fprintln(e.stderr, "daemongen: "+msg) })
	stop()
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return fmt.Errorf("%w: %w", prompts.ErrInterrupted, err)
	}
	if errors.Is(err, project.ErrUnchanged) {
		fmt.Fprintf(e.stdout, "%s already holds this project (%d files, all identical); nothing written\n", dir, len(changes))
		return nil
	}
	if err != nil {
		return err
	}
	created := fmt.Sprintf("created %s (%d files; features: %s)", dir, len(changes), featureList(a.Features))
	if len(created) > 80 { // a long name or many features: keep within an 80-column terminal
		created = fmt.Sprintf("created %s (%d files)\n%s", dir, len(changes), wrapList("features: ", a.Features, 80))
	}
	fmt.Fprintln(e.stdout, created)
	fmt.Fprintf(e.stdout, "next: cd %s && make check\n", shellquote.Join(dir))
	if asked {
		fmt.Fprintf(e.stdout, "to do the same without prompts: %s\n", newCommandLine(a, opts))
	}
	return nil
}

// collectAnswers merges the answers file, NAME and the flags (in rising precedence) and reports
// which of the required answers are still missing. On a terminal, settings nobody gave are asked
// for too; elsewhere they take their defaults.
// With mayAsk, a missing NAME is left empty for the caller to ask.
func collectAnswers(cmd *cobra.Command, opts newOptions, args []string, mayAsk bool) (generator.Answers, prompts.Missing, error) {
	a := generator.Answers{Go: goVersion(), Settings: map[string]string{}}
	fromFile := false
	if opts.answersFile != "" {
		data, err := os.ReadFile(opts.answersFile)
		if err != nil {
			return a, prompts.Missing{}, usageErrorf("--answers: %w", err)
		}
		m, err := generator.DecodeManifest(opts.answersFile, data)
		if err != nil {
			return a, prompts.Missing{}, usageError{err}
		}
		a = m.Answers
		if a.Settings == nil {
			a.Settings = map[string]string{}
		}
		fromFile = true
	}
	switch {
	case len(args) == 1:
		a.Name = args[0]
	case !fromFile && !mayAsk:
		return a, prompts.Missing{}, usageErrorf("NAME is required: daemongen new NAME (see daemongen new --help)")
	}
	if err := generator.CheckName(a.Name); err != nil && a.Name != "" {
		return a, prompts.Missing{}, err
	}
	flags := cmd.Flags()
	if flags.Changed("module") {
		a.Module = opts.module
	}
	if flags.Changed("features") {
		if strings.Trim(opts.features, " ,") == "" {
			return a, prompts.Missing{}, usageErrorf("--features is empty: name features (comma-separated), or none, or all (see daemongen features)")
		}
		names, err := generator.ParseFeatures(opts.features)
		if err != nil {
			return a, prompts.Missing{}, usageErrorf("--features: %w", err)
		}
		a.Features = names
	}
	// An answers file may lack answers (hand-written, or from an older daemongen): those are
	// missing like flags not given, so --yes fills them and a terminal asks for them.
	if a.Go == "" {
		a.Go = goVersion()
	}
	missing := prompts.Missing{Module: a.Module == "", Features: a.Features == nil, Settings: map[string]bool{}}
	for key, v := range opts.settings {
		if flags.Changed(key) {
			a.Settings[key] = *v
		} else if _, ok := a.Settings[key]; !ok {
			missing.Settings[key] = true
		}
	}
	return a, missing, nil
}

// checkSettingFlags refuses a settings flag of a feature the project does not get: the value
// would be dropped silently.
func checkSettingFlags(cmd *cobra.Command, features []string) error {
	for _, s := range generator.AllSettings() {
		owner := generator.SettingOwner(s.Key)
		if cmd.Flags().Changed(s.Key) && owner != "base" && !slices.Contains(features, owner) {
			return usageErrorf("--%s configures %s, which is not among the features (%s); add %s to --features or drop the flag", s.Key, owner, featureList(features), owner)
		}
	}
	return nil
}

// checkOutput refuses an --output that cannot hold a directory: a file, a path through a file,
// a symlink loop. A directory that does not exist yet is fine: it is created.
func checkOutput(output string) error {
	fi, err := os.Stat(output)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case errors.Is(err, syscall.ENOTDIR):
		return usageErrorf("invalid --output %q: a part of it is a file, not a directory", output)
	case errors.Is(err, syscall.ELOOP):
		return usageErrorf("invalid --output %q: a symbolic link that loops", output)
	case err != nil:
		return fmt.Errorf("--output %s: %w", output, err)
	case !fi.IsDir():
		return usageErrorf("invalid --output %q: a file, not a directory", output)
	}
	return nil
}

// goVersion is the go directive for new projects: the running toolchain's major.minor release,
// so a project builds with the Go that generated it without asking for a download.
func goVersion() string {
	v := strings.TrimPrefix(runtime.Version(), "go")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return "1.26" // a development toolchain; use the release this code was written for
	}
	minor := strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' })
	return parts[0] + "." + minor
}

func generatorVersion() string {
	v, _ := buildInfo()
	return v
}

func featureList(fs []string) string {
	if len(fs) == 0 {
		return "none"
	}
	return strings.Join(fs, ", ")
}

// wrapList writes items after prefix, comma-separated, in lines of at most width columns;
// continuation lines are indented under the first item.
func wrapList(prefix string, items []string, width int) string {
	if len(items) == 0 {
		return prefix + "none"
	}
	var b strings.Builder
	line := prefix
	for i, it := range items {
		word := it
		if i < len(items)-1 {
			word += ","
		}
		if len(line) > len(prefix) && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = strings.Repeat(" ", len(prefix))
		} else if len(line) > len(prefix) {
			line += " "
		}
		line += word
	}
	b.WriteString(line)
	return b.String()
}

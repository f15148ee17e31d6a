package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/prompts"
)

// Exit codes of daemongen itself.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// version is set by the release build (-ldflags "-X main.version=v1.2.3"); otherwise the module
// version from `go install` is used.
var version = ""

// env is everything a command needs from the outside world, so tests can run commands
// in-process with their own streams and a scripted prompter.
type env struct {
	stdout, stderr io.Writer
	interactive    bool // stdin and stdout are terminals: prompts may be shown
	prompter       prompts.Prompter
}

// usageError marks an error caused by the command line; it exits 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// run executes one daemongen command line and returns the process exit code.
func run(e *env, args []string) int {
	root := newRootCmd(e)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(e.stderr, "daemongen: %v\n", err)
	return exitCode(err)
}

// exitCode decides the exit code of an error, once, here.
func exitCode(err error) int {
	var (
		usage    usageError
		invalid  *generator.InvalidError
		unknown  *generator.UnknownFeatureError
		conflict *generator.ConflictError
	)
	var refused conflictError
	switch {
	case errors.Is(err, prompts.ErrInterrupted):
		return exitInterrupted
	case errors.As(err, &refused):
		return exitFailure // a refusal, not a typo: the request was well-formed
	case errors.As(err, &usage), errors.As(err, &invalid), errors.As(err, &unknown), errors.As(err, &conflict):
		return exitUsage
	case strings.HasPrefix(err.Error(), "unknown command"), strings.HasPrefix(err.Error(), "unknown flag"):
		return exitUsage // cobra's own parse errors, which it does not type
	}
	return exitFailure
}

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "daemongen",
		Short:         "Scaffold production-grade Go daemons",
		Long:          "daemongen renders a complete Go daemon repository (graceful shutdown, health checks, locks,\nbatching, panic recovery, deployment files) that builds, vets and passes its own -race tests.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())}
	})
	root.AddCommand(newNewCmd(e), newAddCmd(e), newStatusCmd(e), newFeaturesCmd(e), newVersionCmd(e), newCompletionCmd(e))
	return root
}

// argsBetween is cobra.RangeArgs with a usage error, so a wrong count exits 2.
func argsBetween(minimum, maximum int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.RangeArgs(minimum, maximum)(cmd, args); err != nil {
			return usageError{fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())}
		}
		return nil
	}
}

func newFeaturesCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "features",
		Short: "List every feature: name, summary, what it requires, third-party modules",
		Args:  argsBetween(0, 0),
		RunE: func(*cobra.Command, []string) error {
			defaults := generator.DefaultFeatures()
			for _, f := range generator.Catalog {
				mark := " "
				for _, d := range defaults {
					if d == f.Name {
						mark = "*"
					}
				}
				fmt.Fprintf(e.stdout, "%s %-10s %s\n", mark, f.Name, f.Summary)
				if len(f.Requires) > 0 {
					fmt.Fprintf(e.stdout, "  %-10s requires: %s\n", "", strings.Join(f.Requires, ", "))
				}
				modules := "none (standard library only)"
				if len(f.Modules) > 0 {
					modules = strings.Join(f.Modules, ", ")
				}
				fmt.Fprintf(e.stdout, "  %-10s third-party modules: %s\n", "", modules)
			}
			fmt.Fprintln(e.stdout, "\n* enabled by --yes when --features is not given")
			return nil
		},
	}
}

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print daemongen's version, commit and Go version",
		Args:  argsBetween(0, 0),
		RunE: func(*cobra.Command, []string) error {
			v, commit := buildInfo()
			fmt.Fprintf(e.stdout, "daemongen %s (commit %s, %s)\n", v, commit, runtime.Version())
			return nil
		},
	}
}

// buildInfo returns the version recorded at build time and the VCS commit, when known.
func buildInfo() (v, commit string) {
	v, commit = version, "unknown"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return orDev(v), commit
	}
	if v == "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			commit = s.Value
		}
	}
	return orDev(v), commit
}

func orDev(v string) string {
	if v == "" {
		return "dev"
	}
	return v
}

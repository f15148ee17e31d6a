// Command daemongen scaffolds complete, production-grade Go daemon projects: graceful shutdown,
// health checks, single-instance locks, batched reporting, panic recovery and deployment files,
// generated correctly and tested.
//
// Usage:
//
//	daemongen new NAME [flags]   render a new daemon project into ./NAME (or --output DIR/NAME)
//	daemongen features           list every feature with what it requires
//	daemongen version            print version information
//	daemongen completion SHELL   print a shell completion script
//
// Examples:
//
//	daemongen new demo --yes                               # defaults, no questions
//	daemongen new demo -m github.com/you/demo -f signals   # exactly these answers
//	daemongen new demo --answers other/.daemongen.json     # replay another project's answers
//
// Exit codes: 0 success, 1 failure, 2 usage or invalid input, 130 interrupted at a prompt.
package main

import (
	"os"

	"golang.org/x/term"

	"github.com/daemongen/daemongen/prompts"
)

func main() {
	interactive := term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd()))
	e := &env{
		stdout:      os.Stdout,
		stderr:      os.Stderr,
		interactive: interactive,
		prompter:    prompts.Survey{In: os.Stdin, Out: os.Stdout, Err: os.Stderr},
	}
	os.Exit(run(e, os.Args[1:]))
}

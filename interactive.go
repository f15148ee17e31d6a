package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/kballard/go-shellquote"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/project"
	"github.com/daemongen/daemongen/prompts"
)

// checkTarget refuses, before any question is asked, a target directory that WriteNew would
// refuse after all of them: answers typed into prompts should not be lost to a taken name.
func checkTarget(dir string, opts newOptions) error {
	if opts.force {
		return nil
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		if st, serr := os.Stat(dir); serr == nil && !st.IsDir() {
			return fmt.Errorf("%s exists and is not a directory; choose another name or --output", dir)
		}
		return err
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, generator.ManifestName)); err == nil {
			return nil // maybe this very project: the writer compares every file and decides
		}
		return fmt.Errorf("%s: %w; choose another name or --output, or pass --force to add files without overwriting any", dir, project.ErrNotEmpty)
	}
	return nil
}

// askName asks for NAME on a terminal and checks its directory right away.
func askName(e *env, opts newOptions) (string, error) {
	return prompts.AskName(e.prompter, func(name string) error {
		if err := generator.CheckName(name); err != nil {
			return err
		}
		return checkTarget(filepath.Join(opts.output, name), opts)
	})
}

// announceImplied says which features were added because others require them, when nobody saw
// the prompt that shows it.
func announceImplied(w io.Writer, requested, resolved []string) {
	for _, line := range prompts.Implied(requested, resolved) {
		fmt.Fprintln(w, line)
	}
}

// newCommandLine is the daemongen new command that renders the same project without a prompt.
func newCommandLine(a generator.Answers, opts newOptions) string {
	line := append([]string{"daemongen", "new", a.Name}, prompts.Flags(a)...)
	if opts.output != "." {
		line = append(line, "--output", opts.output)
	}
	if opts.force {
		line = append(line, "--force")
	}
	return shellquote.Join(line...)
}

// addCommandLine is the daemongen add command that adds the same features with the same
// settings without a prompt.
func addCommandLine(requested []string, settings map[string]string, keys []string, dir string) string {
	line := append([]string{"daemongen", "add"}, requested...)
	for _, k := range keys {
		line = append(line, "--"+k, settings[k])
	}
	if dir != "" {
		line = append(line, "--dir", dir)
	}
	return shellquote.Join(line...)
}

// addedSettings returns the keys of the settings the added features bring (not the base's,
// which the project already has), in the order they are asked.
func addedSettings(units []string) []string {
	var keys []string
	for _, s := range generator.Settings(units) {
		if !slices.ContainsFunc(generator.BaseSettings, func(b generator.Setting) bool { return b.Key == s.Key }) {
			keys = append(keys, s.Key)
		}
	}
	return keys
}

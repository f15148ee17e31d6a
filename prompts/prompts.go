// Package prompts asks the user, on a terminal, for the answers no flag gave. The questions are
// the generator's own declarations (generator.Setting and the feature Catalog), so prompts and
// flags cannot drift apart. Only survey.go knows which prompt library draws them.
package prompts

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/daemongen/daemongen/generator"
)

// ErrInterrupted means the user pressed Ctrl-C or Ctrl-D at a prompt.
var ErrInterrupted = errors.New("interrupted")

// Option is one choice of a multi-select question.
type Option struct {
	Value       string
	Description string   // a few words: the list must fit an 80-column terminal
	Help        string   // the long explanation, shown on "?" for the option under the cursor
	ImpliedBy   []string // options that, when chosen, enable this one too
}

// Notifier is implemented by prompters that can show a line between questions; Ask uses it to
// announce features a choice implied, before it asks their settings.
type Notifier interface {
	Note(message string)
}

// Prompter draws questions. Implementations re-ask, showing the reason, until validate accepts
// the answer, and return ErrInterrupted on Ctrl-C.
type Prompter interface {
	Input(message, help, def string, validate func(string) error) (string, error)
	MultiSelect(message, help string, options []Option, defaults []string) ([]string, error)
}

// Missing says which answers no flag or answers file provided.
type Missing struct {
	Module   bool
	Features bool
	Settings map[string]bool // keys of settings that were not set
}

// Ask fills the missing answers in a, in a fixed order: module path, features, then the settings
// of the chosen features (and of the base).
func Ask(p Prompter, a *generator.Answers, m Missing) error {
	if m.Module {
		v, err := p.Input("Go module path", "The import path of the generated module, e.g. github.com/you/"+a.Name+".",
			"example.com/"+a.Name, generator.CheckModule)
		if err != nil {
			return err
		}
		a.Module = v
	}
	if m.Features {
		v, err := p.MultiSelect("Features", "Space toggles, Enter accepts; features others require are added.", FeatureOptions(), generator.DefaultFeatures())
		if err != nil {
			return err
		}
		a.Features = v
	}
	features, err := generator.Resolve(a.Features)
	if err != nil {
		return err
	}
	if n, ok := p.(Notifier); ok && m.Features {
		for _, line := range Implied(a.Features, features) {
			n.Note(line)
		}
	}
	for _, s := range generator.Settings(features) {
		if !m.Settings[s.Key] {
			continue
		}
		v, err := p.Input(s.Prompt, s.Help, s.Default, s.Check)
		if err != nil {
			return err
		}
		if a.Settings == nil {
			a.Settings = map[string]string{}
		}
		a.Settings[s.Key] = v
	}
	return nil
}

// AskName asks for the project name; check is called on every answer (the name's syntax and
// whether its directory is free), so a taken name is reported before any other question.
func AskName(p Prompter, check func(string) error) (string, error) {
	return p.Input("Project name", "Names the directory, the binary and the environment-variable prefix: 2-40 lower-case letters, digits and dashes.", "", check)
}

// FeatureOptions lists the catalog as options: short labels for the list, the summary for "?",
// and which features imply each one.
func FeatureOptions() []Option {
	opts := make([]Option, 0, len(generator.Catalog))
	for _, f := range generator.Catalog {
		opts = append(opts, Option{Value: f.Name, Description: f.Label, Help: f.Summary, ImpliedBy: impliedBy(f.Name)})
	}
	return opts
}

// impliedBy returns the features whose resolved set contains name, in catalog order.
func impliedBy(name string) []string {
	var out []string
	for _, f := range generator.Catalog {
		if f.Name == name {
			continue
		}
		if set, err := generator.Resolve([]string{f.Name}); err == nil && slices.Contains(set, name) {
			out = append(out, f.Name)
		}
	}
	return out
}

// Implied returns one line per feature in resolved that requested did not name, saying which
// requested features need it, e.g. "also adding signals (required by batch)".
func Implied(requested, resolved []string) []string {
	var out []string
	for _, f := range resolved {
		if slices.Contains(requested, f) {
			continue
		}
		var by []string
		for _, r := range requested {
			if slices.Contains(impliedBy(f), r) {
				by = append(by, r)
			}
		}
		out = append(out, fmt.Sprintf("also adding %s (required by %s)", f, strings.Join(by, ", ")))
	}
	return out
}

// Flags returns the command-line flags that reproduce a, for printing after an interactive run
// so the same project can be generated again in a script.
func Flags(a generator.Answers) []string {
	features := "none"
	if len(a.Features) > 0 {
		features = strings.Join(a.Features, ",")
	}
	out := []string{"--module", a.Module, "--features", features}
	keys := make([]string, 0, len(a.Settings))
	for k := range a.Settings {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, "--"+k, a.Settings[k])
	}
	return out
}

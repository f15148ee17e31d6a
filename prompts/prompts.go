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

// ErrInterrupted means the user pressed Ctrl-C at a prompt.
var ErrInterrupted = errors.New("interrupted")

// Option is one choice of a multi-select question.
type Option struct {
	Value, Description string
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
		var opts []Option
		for _, f := range generator.Catalog {
			desc := f.Summary
			if len(f.Requires) > 0 {
				desc += fmt.Sprintf(" (requires %v)", f.Requires)
			}
			opts = append(opts, Option{Value: f.Name, Description: desc})
		}
		v, err := p.MultiSelect("Features", "Space toggles, Enter accepts. Required features are added automatically.", opts, generator.DefaultFeatures())
		if err != nil {
			return err
		}
		a.Features = v
	}
	features, err := generator.Resolve(a.Features)
	if err != nil {
		return err
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

package prompts

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/daemongen/daemongen/generator"
)

// fake answers Input with a queue and records every question and its default.
type fake struct {
	answers  []string
	features []string
	asked    []string
	defaults []string
	rejected []string // answers the validator refused, re-asked like survey does
}

func (f *fake) Input(message, _, def string, validate func(string) error) (string, error) {
	f.asked = append(f.asked, message)
	f.defaults = append(f.defaults, def)
	for len(f.answers) > 0 {
		v := f.answers[0]
		f.answers = f.answers[1:]
		if validate != nil && validate(v) != nil {
			f.rejected = append(f.rejected, v)
			continue
		}
		return v, nil
	}
	return def, nil
}

func (f *fake) MultiSelect(message, _ string, opts []Option, defaults []string) ([]string, error) {
	f.asked = append(f.asked, message)
	f.defaults = append(f.defaults, defaults...)
	return f.features, nil
}

func TestAskAsksOnlyWhatIsMissing(t *testing.T) {
	f := &fake{answers: []string{"Bad Module", "github.com/acme/demo"}, features: []string{"signals"}}
	a := generator.Answers{Name: "demo"}
	err := Ask(f, &a, Missing{Module: true, Features: true, Settings: map[string]bool{}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Module != "github.com/acme/demo" || !slices.Equal(a.Features, []string{"signals"}) {
		t.Fatalf("answers = %+v", a)
	}
	if !slices.Equal(f.rejected, []string{"Bad Module"}) {
		t.Errorf("rejected = %q, want the invalid module path refused", f.rejected)
	}
	if len(f.asked) != 2 {
		t.Errorf("asked %q, want only module and features (no setting was missing)", f.asked)
	}
	if f.defaults[0] != "example.com/demo" {
		t.Errorf("module default = %q", f.defaults[0])
	}
}

func TestAskSettingsOfChosenFeatures(t *testing.T) {
	f := &fake{answers: []string{"40s"}}
	a := generator.Answers{Name: "demo", Module: "example.com/demo", Features: []string{"signals"}}
	err := Ask(f, &a, Missing{Settings: map[string]bool{"shutdown-timeout": true}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Settings["shutdown-timeout"] != "40s" || f.defaults[0] != "25s" {
		t.Fatalf("settings %v, default offered %q", a.Settings, f.defaults[0])
	}
}

func TestAskStopsOnInterrupt(t *testing.T) {
	a := generator.Answers{Name: "demo"}
	err := Ask(interrupting{}, &a, Missing{Module: true, Features: true})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
}

type interrupting struct{}

func (interrupting) Input(string, string, string, func(string) error) (string, error) {
	return "", ErrInterrupted
}

func (interrupting) MultiSelect(string, string, []Option, []string) ([]string, error) {
	return nil, ErrInterrupted
}

func TestFlagsReproduceAnswers(t *testing.T) {
	got := Flags(generator.Answers{Module: "m", Features: []string{"a", "b"}, Settings: map[string]string{"z": "1", "y": "2"}})
	want := []string{"--module", "m", "--features", "a,b", "--y", "2", "--z", "1"}
	if !slices.Equal(got, want) {
		t.Fatalf("Flags = %q, want %q", got, want)
	}
	if got := Flags(generator.Answers{Module: "m"}); got[3] != "none" {
		t.Fatalf("no features → %q, want none", got[3])
	}
}

// TestFeatureLinesFitEightyColumns checks the widest line the feature list can draw: the
// pty test sees one set of choices, this sees them all.
func TestFeatureLinesFitEightyColumns(t *testing.T) {
	const prefix = len("> [x]  ")
	for _, o := range FeatureOptions() {
		widest := len(o.Value) + len(" - "+o.Description)
		if len(o.ImpliedBy) > 0 {
			widest = max(widest, len(o.Value)+len(" (required by "+strings.Join(o.ImpliedBy, ", ")+")"))
		}
		if o.Description == "" || o.Help == "" || prefix+widest > 79 {
			t.Errorf("option %s: %d columns, label %q, help %q", o.Value, prefix+widest, o.Description, o.Help)
		}
	}
}

func TestImplied(t *testing.T) {
	got := Implied([]string{"batch", "docker"}, []string{"batch", "docker", "health", "signals"})
	want := []string{"also adding health (required by docker)", "also adding signals (required by batch, docker)"}
	if !slices.Equal(got, want) {
		t.Fatalf("Implied = %q, want %q", got, want)
	}
}

package prompts

import (
	"errors"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"
)

// Survey draws prompts with github.com/AlecAivazis/survey/v2 on a terminal. It is the only file
// that imports survey (unmaintained upstream), so replacing it touches nothing else.
type Survey struct {
	In  terminal.FileReader
	Out terminal.FileWriter
	Err terminal.FileWriter
}

func (s Survey) opts(validate func(string) error) []survey.AskOpt {
	opts := []survey.AskOpt{survey.WithStdio(s.In, s.Out, s.Err)}
	if validate != nil {
		opts = append(opts, survey.WithValidator(func(v any) error {
			str, _ := v.(string)
			return validate(str)
		}))
	}
	return opts
}

// Input asks for one line of text.
func (s Survey) Input(message, help, def string, validate func(string) error) (string, error) {
	var v string
	err := survey.AskOne(&survey.Input{Message: message + ":", Help: help, Default: def}, &v, s.opts(validate)...)
	return v, mapErr(err)
}

// MultiSelect asks for any number of options.
func (s Survey) MultiSelect(message, help string, options []Option, defaults []string) ([]string, error) {
	values := make([]string, len(options))
	for i, o := range options {
		values[i] = o.Value
	}
	q := &survey.MultiSelect{
		Message: message + ":", Help: help, Options: values, Default: defaults, PageSize: len(values),
		Description: func(_ string, i int) string { return options[i].Description },
	}
	var v []string
	err := survey.AskOne(q, &v, s.opts(nil)...)
	return v, mapErr(err)
}

func mapErr(err error) error {
	if errors.Is(err, terminal.InterruptErr) {
		return ErrInterrupted
	}
	return err
}

package prompts

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"
	"golang.org/x/term"
)

// Survey draws prompts with github.com/AlecAivazis/survey/v2 on a terminal. It is the only file
// that imports survey (unmaintained upstream), so replacing it touches nothing else.
//
// survey redraws a question by moving the cursor up as many lines as it thinks it printed. It
// counts colour codes as visible characters when it places the cursor in a list, and a line the
// terminal wraps on its own is easy to miscount; either way copies of the question pile up on
// screen. So everything drawn here fits in one terminal line or is wrapped with explicit line
// breaks at the terminal's width, and lists carry no colour codes.
type Survey struct {
	In  terminal.FileReader
	Out terminal.FileWriter
	Err terminal.FileWriter
}

// templateMu guards survey's package-level templates, which Survey sets for each question.
var templateMu sync.Mutex

const (
	// inputTemplate is survey's InputQuestionTemplate without suggestions (daemongen has none).
	inputTemplate = `
{{- if .ShowHelp }}{{- color .Config.Icons.Help.Format }}{{ .Config.Icons.Help.Text }} {{ .Help }}{{color "reset"}}{{"\n"}}{{end}}
{{- color .Config.Icons.Question.Format }}{{ .Config.Icons.Question.Text }} {{color "reset"}}
{{- color "default+hb"}}{{ .Message }} {{color "reset"}}
{{- if .ShowAnswer}}
  {{- color "cyan"}}{{.Answer}}{{color "reset"}}{{"\n"}}
{{- else }}
  {{- if and .Help (not .ShowHelp)}}{{color "cyan"}}[{{ print .Config.HelpInput }} for help]{{color "reset"}} {{end}}
  {{- if .Default}}{{color "white"}}({{.Default}}) {{color "reset"}}{{end}}
{{- end}}`

	// errorTemplate drops survey's "Sorry, your reply was invalid:" so more of the reason fits.
	errorTemplate = `{{color .Icon.Format }}{{ .Icon.Text }} {{ .Error.Error }}{{color "reset"}}
`
)

// Input asks for one line of text.
func (s Survey) Input(message, help, def string, validate func(string) error) (string, error) {
	width := s.width()
	templateMu.Lock()
	defer templateMu.Unlock()
	survey.InputQuestionTemplate = inputTemplate
	survey.ErrorTemplate = errorTemplate
	opts := s.opts()
	errLines := 0 // lines of the reason last shown for a refused answer
	if validate != nil {
		opts = append(opts, survey.WithValidator(func(v any) error {
			str, _ := v.(string)
			if err := validate(str); err != nil {
				// "✘ " precedes the first line; a line that fills the width exactly leaves the cursor
				// in a state survey miscounts, so keep one column free.
				msg := wrap(err.Error(), width-3)
				errLines = strings.Count(msg, "\n") + 1
				return errors.New(msg)
			}
			return nil
		}))
	}
	var v string
	q := &survey.Input{Message: message + ":", Help: wrap(help, width-3), Default: def}
	err := survey.AskOne(q, &v, opts...)
	if err == nil && errLines > 0 {
		// survey leaves the last refusal above the accepted answer; the cursor is on the line
		// below the answer: go up to the refusal, delete its lines, come back below the answer.
		fmt.Fprintf(s.Out, "\x1b[%dA\x1b[%dM\x1b[1B", errLines+1, errLines)
	}
	return v, mapErr(err)
}

// MultiSelect asks for any number of options. Each option is drawn on one line: its value, its
// short description, and which chosen options require it; "?" shows the long help of the option
// under the cursor.
func (s Survey) MultiSelect(message, help string, options []Option, defaults []string) ([]string, error) {
	width := s.width()
	templateMu.Lock()
	defer templateMu.Unlock()
	survey.MultiSelectQuestionTemplate = multiSelectTemplate(options, width)
	values := make([]string, len(options))
	for i, o := range options {
		values[i] = o.Value
	}
	q := &survey.MultiSelect{Message: message + ":", Help: help, Options: values, Default: defaults, PageSize: len(values)}
	var v []string
	err := survey.AskOne(q, &v, s.opts()...)
	return v, mapErr(err)
}

// Note prints a line between questions.
func (s Survey) Note(message string) {
	fmt.Fprintf(s.Out, "  %s\n", message)
}

func (s Survey) opts() []survey.AskOpt {
	return []survey.AskOpt{
		survey.WithStdio(eofInterrupts{s.In}, s.Out, s.Err),
		survey.WithRemoveSelectAll(), survey.WithRemoveSelectNone(),
	}
}

// width is the terminal's width in columns, 80 when it cannot be read.
func (s Survey) width() int {
	if f, ok := s.Out.(*os.File); ok {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w >= 20 {
			return w
		}
	}
	return 80
}

// multiSelectTemplate is survey's MultiSelectQuestionTemplate with daemongen's option line.
// survey gives the template the live set of checked options (.Checked) on every keypress, which
// is all it needs to mark an option "required by" the chosen options that imply it.
func multiSelectTemplate(options []Option, width int) string {
	var opt, helpText strings.Builder
	for i, o := range options {
		fmt.Fprintf(&opt, `{{- if eq .CurrentOpt.Index %d }}`, i)
		if len(o.ImpliedBy) == 0 {
			fmt.Fprintf(&opt, `{{ %q }}`, " - "+o.Description)
		} else {
			// Either the description or, once a chosen option needs this one, who needs it:
			// one line holds one of them at 80 columns, not both.
			var cond, names strings.Builder
			cond.WriteString("{{- if or false")
			names.WriteString(`{{ $sep := "" }}`)
			for _, by := range o.ImpliedBy {
				j := indexOf(options, by)
				fmt.Fprintf(&cond, " (index .Checked %d)", j)
				fmt.Fprintf(&names, `{{- if index .Checked %d }}{{ $sep }}%s{{ $sep = ", " }}{{ end }}`, j, by)
			}
			fmt.Fprintf(&opt, `%s }} (required by %s){{ else }}{{ %q }}{{ end }}`, cond.String(), names.String(), " - "+o.Description)
		}
		opt.WriteString(`{{- end }}`)
		fmt.Fprintf(&helpText, `{{ if eq $cur %d }}{{ %q }}{{ end }}`, i, wrap(o.Value+": "+o.Help, width-3))
	}
	return `
{{- define "option"}}
    {{- if eq .SelectedIndex .CurrentIndex }}{{ .Config.Icons.SelectFocus.Text }}{{else}} {{end}}
    {{- if index .Checked .CurrentOpt.Index }} {{ .Config.Icons.MarkedOption.Text }} {{else}} {{ .Config.Icons.UnmarkedOption.Text }} {{end}}
    {{- " "}}{{- .CurrentOpt.Value}}` + opt.String() + `
{{end}}
{{- if and .ShowHelp .PageEntries (not .ShowAnswer) }}{{ $cur := (index .PageEntries .SelectedIndex).Index }}
    {{- color .Config.Icons.Help.Format }}{{ .Config.Icons.Help.Text }} ` + helpText.String() + `{{color "reset"}}{{"\n"}}{{end}}
{{- color .Config.Icons.Question.Format }}{{ .Config.Icons.Question.Text }} {{color "reset"}}
{{- color "default+hb"}}{{ .Message }}{{ .FilterMessage }}{{color "reset"}}
{{- if .ShowAnswer}}{{color "cyan"}} {{.Answer}}{{color "reset"}}{{"\n"}}
{{- else }}
	{{- "  "}}{{- color "cyan"}}[arrows move, space toggles, enter accepts{{- if and .Help (not .ShowHelp)}}, {{ .Config.HelpInput }} explains{{end}}]{{color "reset"}}
  {{- "\n"}}
  {{- range $ix, $option := .PageEntries}}
    {{- template "option" $.IterateOption $ix $option}}
  {{- end}}
{{- end}}`
}

func indexOf(options []Option, value string) int {
	for i, o := range options {
		if o.Value == value {
			return i
		}
	}
	return -1
}

// wrap breaks text into lines of at most width columns at spaces, so survey can count the lines
// it printed exactly (it miscounts lines the terminal wraps by itself).
func wrap(text string, width int) string {
	if width < 10 {
		width = 10
	}
	var b strings.Builder
	col := 0
	for i, word := range strings.Fields(text) {
		n := len([]rune(word))
		switch {
		case i == 0:
		case col+1+n > width:
			b.WriteByte('\n')
			col = 0
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += n
	}
	return b.String()
}

// eofInterrupts turns Ctrl-D into Ctrl-C: survey would take Ctrl-D as Enter and accept the
// default, so four presses would write a whole project nobody chose.
type eofInterrupts struct{ terminal.FileReader }

func (r eofInterrupts) Read(p []byte) (int, error) {
	n, err := r.FileReader.Read(p)
	for i := range p[:n] {
		if p[i] == terminal.KeyEndTransmission {
			p[i] = terminal.KeyInterrupt
		}
	}
	return n, err
}

func mapErr(err error) error {
	if errors.Is(err, terminal.InterruptErr) {
		return ErrInterrupted
	}
	return err
}

package generator

import (
	"fmt"
	"go/version"
	"net"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/module"
)

// Answers is everything a render depends on. Flags, prompts and answers files fill it; templates
// only read it. Nothing else (clock, environment, randomness) reaches the output.
type Answers struct {
	Name     string            `json:"name"`     // daemon, binary, directory and env-var stem
	Module   string            `json:"module"`   // Go module path of the generated project
	Go       string            `json:"go"`       // go directive of the generated go.mod, e.g. "1.26"
	Features []string          `json:"features"` // resolved, in catalog order
	Settings map[string]string `json:"settings"` // Setting.Key → value; encoding/json sorts the keys
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,38}[a-z0-9]$`)

var goVersionRE = regexp.MustCompile(`^1\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?$`)

// MinGo is the oldest go directive the templates build with: they use errors.AsType (Go 1.26),
// and go vet rejects standard-library API newer than the go directive.
const MinGo = "1.26"

// reservedNames are path elements Go or Windows will not treat as ordinary directories:
// "vendor" turns the packages below it into vendored ones ("use of vendored package not
// allowed"), "testdata" hides the main package from ./..., and the rest are device names on
// Windows, where a checkout of cmd/NAME would fail. Compared case-insensitively.
var reservedNames = []string{"vendor", "testdata", "con", "prn", "aux", "nul",
	"com0", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9",
	"lpt0", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9"}

func reserved(elem string) bool {
	return slices.ContainsFunc(reservedNames, func(r string) bool { return strings.EqualFold(r, elem) })
}

// InvalidError reports an answer that cannot be used; Flag names the flag that sets it.
type InvalidError struct {
	Flag  string // e.g. "--module", or "NAME" for the positional argument
	Value string
	Why   string // what is wrong and what to do
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("invalid %s %q: %s", e.Flag, e.Value, e.Why)
}

// CheckName reports whether name can be a directory, binary and environment-variable stem.
func CheckName(name string) error {
	if !nameRE.MatchString(name) || strings.Contains(name, "--") {
		return &InvalidError{Flag: "NAME", Value: name, Why: "use 2-40 characters: lower-case letters, digits and single dashes, starting with a letter (e.g. " + suggestName(name) + ")"}
	}
	if reserved(name) {
		return &InvalidError{Flag: "NAME", Value: name, Why: "Go or Windows reserves this name for a directory (cmd/" + name + " would not build or not be found by ./...); choose another, e.g. " + name + "d"}
	}
	return nil
}

// CheckModule reports whether path is a valid Go module path.
func CheckModule(path string) error {
	if err := module.CheckPath(path); err != nil {
		why := strings.TrimPrefix(err.Error(), fmt.Sprintf("malformed module path %q: ", path))
		return &InvalidError{Flag: "--module", Value: path, Why: oneLine(why) + "; try --module " + suggestModule(path)}
	}
	for _, elem := range strings.Split(path, "/") {
		// "testdata" is harmless in a module path (patterns match import paths, not
		// directories), but "vendor" makes every import of the project's own packages fail.
		if strings.EqualFold(elem, "vendor") {
			return &InvalidError{Flag: "--module", Value: path, Why: "a \"vendor\" element makes Go treat the project's own packages as vendored (\"use of vendored package not allowed\"); choose another path"}
		}
	}
	return nil
}

// suggestModule turns an invalid module path into a valid one that is not the same (a Windows
// name such as "con" survives suggestName unchanged). Candidates are checked with
// module.CheckPath, not CheckModule, which would suggest in turn; suggestName never yields
// "vendor" as a whole element... except from "vendor" itself, hence the "d" variant.
func suggestModule(path string) string {
	name := suggestName(path)
	for _, s := range []string{"example.com/" + name, "example.com/" + name + "d"} {
		if s != path && module.CheckPath(s) == nil && !strings.EqualFold(s, "example.com/vendor") {
			return s
		}
	}
	return "example.com/my-daemon"
}

// suggestName turns arbitrary input into something CheckName accepts, for error messages.
func suggestName(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	}
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	out := b.String()
	if len(out) > 40 {
		out = out[:40]
	}
	out = strings.Trim(out, "-")
	if len(out) < 2 || out[0] < 'a' || out[0] > 'z' {
		out = "my-daemon"
	}
	return out
}

// Validate checks every answer, resolves the feature set, drops settings of features that are
// not enabled and fills missing settings with their defaults. It returns the normalized Answers.
func (a Answers) Validate() (Answers, error) {
	if err := CheckName(a.Name); err != nil {
		return a, err
	}
	if err := CheckModule(a.Module); err != nil {
		return a, err
	}
	if err := CheckGo(a.Go); err != nil {
		return a, err
	}
	features, err := Resolve(a.Features)
	if err != nil {
		return a, err
	}
	out := Answers{Name: a.Name, Module: a.Module, Go: a.Go, Features: features, Settings: map[string]string{}}
	known := map[string]bool{}
	for _, s := range AllSettings() {
		known[s.Key] = true
	}
	for k := range a.Settings {
		if !known[k] {
			return a, &InvalidError{Flag: "setting", Value: k, Why: "no feature has this setting (daemongen new --help lists them)"}
		}
	}
	for _, s := range Settings(features) {
		v, ok := a.Settings[s.Key]
		if !ok {
			v = s.Default
		}
		if s.Check != nil {
			if err := s.Check(v); err != nil {
				return a, &InvalidError{Flag: "--" + s.Key, Value: v, Why: err.Error()}
			}
		}
		out.Settings[s.Key] = v
	}
	if out.Has("leader") {
		d := func(k string) time.Duration { v, _ := time.ParseDuration(out.Settings[k]); return v } // checked above
		if err := CheckLeaderTimings(d("leader-lease-duration"), d("leader-renew-deadline"), d("leader-retry-period")); err != nil {
			return a, &InvalidError{Flag: "--leader-renew-deadline", Value: out.Settings["leader-renew-deadline"], Why: err.Error() + " (client-go's rule; defaults 15s, 10s, 2s)"}
		}
		if out.Settings["leader-backend"] == "kubernetes" {
			if err := CheckKubernetesLease(d("leader-lease-duration"), d("leader-renew-deadline"), d("leader-retry-period")); err != nil {
				return a, &InvalidError{Flag: "--leader-lease-duration", Value: out.Settings["leader-lease-duration"], Why: err.Error() + " (defaults 15s, 10s, 2s)"}
			}
		}
	}
	// Deployment files publish the admin port; port 0 (a free port chosen at start) cannot be
	// published, so Docker's EXPOSE and the Kubernetes probes would point nowhere.
	if out.Has("docker") || out.Has("k8s") {
		if port, _ := out.Port("admin-addr"); port == "0" {
			return a, &InvalidError{Flag: "--admin-addr", Value: out.Settings["admin-addr"], Why: "port 0 picks a random port, which the docker and k8s files cannot publish; choose a fixed port such as :8081"}
		}
	}
	return out, nil
}

// CheckGo reports whether v can be the go directive of a generated project: a Go release
// no older than MinGo.
func CheckGo(v string) error {
	if !goVersionRE.MatchString(v) {
		return &InvalidError{Flag: "go version", Value: v, Why: "want a Go release such as " + MinGo}
	}
	if version.Compare("go"+v, "go"+MinGo) < 0 {
		return &InvalidError{Flag: "go version", Value: v, Why: "the generated code needs Go " + MinGo + " or newer; use " + MinGo}
	}
	return nil
}

// oneLine keeps a wrapped error to one line, so every refusal is one line on the terminal.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Has reports whether feature is enabled; templates use it only for their own feature's
// settings, never to branch on another feature (that would break `add`). The one exception
// keeps `add` intact: a fragment for a file another feature owns may guard that owner's
// settings with Has(owner), since it is executed, and left out, when the owner is absent.
func (a Answers) Has(feature string) bool { return slices.Contains(a.Features, feature) }

// Get returns a setting; an unknown key is an error, which fails the template that asked.
func (a Answers) Get(key string) (string, error) {
	v, ok := a.Settings[key]
	if !ok {
		return "", fmt.Errorf("setting %q is not set (is its feature enabled?)", key)
	}
	return v, nil
}

// EnvPrefix is the stem of the generated daemon's environment variables: "my-app" → "MY_APP".
func (a Answers) EnvPrefix() string {
	return strings.ToUpper(strings.ReplaceAll(a.Name, "-", "_"))
}

// GoDuration returns a duration setting as a Go expression, e.g. "25s" → "25*time.Second",
// for templates that need the value as a constant. Spaced as gofmt spaces it inside an
// argument list or a comparison, the places templates use it, so the output needs no gofmt.
func (a Answers) GoDuration(key string) (string, error) {
	v, err := a.Get(key)
	if err != nil {
		return "", err
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return "", fmt.Errorf("setting %q: %w", key, err)
	}
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{time.Hour, "Hour"}, {time.Minute, "Minute"}, {time.Second, "Second"}, {time.Millisecond, "Millisecond"}} {
		if d%u.unit == 0 {
			return fmt.Sprintf("%d*time.%s", d/u.unit, u.name), nil
		}
	}
	return fmt.Sprintf("%d", d), nil
}

// Seconds returns a duration setting in whole seconds, rounded up, for files that count in
// seconds (systemd units, Kubernetes manifests).
func (a Answers) Seconds(key string) (int, error) {
	v, err := a.Get(key)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("setting %q: %w", key, err)
	}
	return int((d + time.Second - 1) / time.Second), nil
}

// Port returns the port of a host:port setting, e.g. "127.0.0.1:8081" → "8081", so deployment
// files publish the port the daemon listens on.
func (a Answers) Port(key string) (string, error) {
	v, err := a.Get(key)
	if err != nil {
		return "", err
	}
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return "", fmt.Errorf("setting %q: %w", key, err)
	}
	return port, nil
}

package generator_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/internal/projecttest"
)

// input is one candidate answer set: a name, module, Go version or setting a user could type.
type input struct {
	label  string
	a      generator.Answers
	accept bool
}

// inputs lists values at the edges of what Go, YAML, systemd and Dockerfiles accept. Accepted
// ones must build; refused ones must be refused by Validate with a one-line InvalidError.
func inputs() []input {
	var out []input
	n := 0
	named := func(name string, accept bool) {
		n++
		out = append(out, input{"name " + name, generator.Answers{Name: name, Module: fmt.Sprintf("example.com/n%d/%s", n, name), Go: "1.26", Features: []string{"lock"}}, accept})
	}
	for _, name := range []string{"demo", "a1", "my-daemon", "internal", "main", "go", "cmd", "test", "x0", "vendors", "cons", "com10", "conin"} {
		named(name, true)
	}
	for _, name := range []string{"vendor", "testdata", "con", "nul", "aux", "prn", "com1", "com9", "com0", "lpt1", "lpt9", "lpt0", "_x", ".x", "a", "My", "a--b", "-a", "a-", "a_b", "a.b", ""} {
		named(name, false)
	}
	mod := func(module string, accept bool) {
		out = append(out, input{"module " + module, generator.Answers{Name: "demo", Module: module, Go: "1.26", Features: []string{"lock"}}, accept})
	}
	for _, m := range []string{"example.com/m1", "example.com/internal/m2", "example.com/m3/v2", "github.com/a-b/c_d", "example.com/a~b", "example.com/m.x", "example.com/Upper", "m4.example", "example.com/_m5", "example.com/m6/testdatax", "example.com/testdata/m7", "example.com/m8/testdata", "example.com/internal"} {
		mod(m, true)
	}
	for _, m := range []string{"example.com/vendor/m", "example.com/m/vendor", "example.com/Vendor/m", "example.com/con", "example.com/m/..", "Foo Bar", `example.com/a"b`, "", "fmt", "example.com/m/", "example.com//m", "example.com/.m", "example.com/m\n"} {
		mod(m, false)
	}
	set := func(features []string, key, value string, accept bool) {
		n++
		out = append(out, input{fmt.Sprintf("%s=%q with %s", key, value, strings.Join(features, ",")), generator.Answers{Name: "demo", Module: fmt.Sprintf("example.com/s%d", n), Go: "1.26", Features: features, Settings: map[string]string{key: value}}, accept})
	}
	deploy := []string{"docker", "k8s", "systemd"}
	for _, v := range []string{"127.0.0.1:8081", ":8081", "localhost:9090", "[::1]:8081", "0.0.0.0:1", ":65535", "my-host.internal:80"} {
		set(deploy, "admin-addr", v, true)
	}
	set([]string{"health"}, "admin-addr", "127.0.0.1:0", true)
	set([]string{"systemd"}, "admin-addr", ":0", true)
	for _, v := range []string{":0", "127.0.0.1:0", `a"b:80`, `":80`, ":080", ":+80", ":http", "host:99999", ":-1", "127.0.0.1", "ex ample:80", "`:80", `a\b:80`, "[::1]", ":8081\n", "a\"+os.Exit(1)+\":80", "", "a..b:80", "-a:80", "[fe80::1%eth0]:80"} {
		set(deploy, "admin-addr", v, false)
	}
	for _, v := range []string{"1s", "25s", "1m30s", "10m", "1.5s", "1500ms", "1m0s"} {
		set(deploy, "shutdown-timeout", v, true)
	}
	for _, v := range []string{"0s", "500ms", "11m", "-5s", "soon", "5", "", "25s\n", "1h", "+5s", "5.s", "30s1m", "05s"} {
		set(deploy, "shutdown-timeout", v, false)
	}
	goVersion := func(v string, accept bool) {
		n++
		out = append(out, input{"go " + v, generator.Answers{Name: "demo", Module: fmt.Sprintf("example.com/g%d", n), Go: v, Features: []string{"docker"}}, accept})
	}
	// The running toolchain's own version, so the workspace needs no download.
	for _, v := range []string{"1.26", "1.26.0", strings.TrimPrefix(runtime.Version(), "go")} {
		goVersion(v, true)
	}
	for _, v := range []string{"1.0", "1.21", "1.25", "1.25.9", "2.0", "1.26rc1", "go1.26", "", "1.026"} {
		goVersion(v, false)
	}
	return out
}

// TestEveryAcceptedInputBuilds: every value Validate accepts gives a project that builds and
// vets, with its main package inside ./... (where its CI looks); every refused one is refused
// with a one-line reason. The accepted projects share one workspace and one go vet run.
func TestEveryAcceptedInputBuilds(t *testing.T) {
	var accepted []generator.Answers
	var dirs []string
	for i, in := range inputs() {
		a, err := in.a.Validate()
		if !in.accept {
			var ie *generator.InvalidError
			switch {
			case err == nil:
				t.Errorf("%s: accepted, want a refusal", in.label)
			case !errors.As(err, &ie):
				t.Errorf("%s: error %q is not an InvalidError (exit 2)", in.label, err)
			case strings.Contains(err.Error(), "\n"):
				t.Errorf("%s: error spans lines: %q", in.label, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: refused: %v", in.label, err)
			continue
		}
		accepted = append(accepted, a)
		dirs = append(dirs, fmt.Sprintf("p%03d", i))
	}
	if t.Failed() {
		return
	}
	projecttest.RequireGo(t)
	root := t.TempDir()
	var uses, patterns []string
	for i, a := range accepted {
		projecttest.Write(t, filepath.Join(root, dirs[i]), a)
		uses = append(uses, "./"+dirs[i]+"/"+a.Name)
		patterns = append(patterns, "./"+dirs[i]+"/"+a.Name+"/...")
	}
	work := "go " + strings.TrimPrefix(runtime.Version(), "go") + "\n\nuse (\n\t" + strings.Join(uses, "\n\t") + "\n)\n"
	if err := os.WriteFile(filepath.Join(root, "go.work"), []byte(work), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := projecttest.WorkspaceCmd(root, "go", append([]string{"vet"}, patterns...)...).CombinedOutput(); err != nil {
		t.Fatalf("go vet over %d accepted inputs: %v\n%s", len(accepted), err, out)
	}
	out, err := projecttest.WorkspaceCmd(root, "go", append([]string{"list", "-e", "-f", "{{.ImportPath}}"}, patterns...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, a := range accepted {
		if main := a.Module + "/cmd/" + a.Name; !strings.Contains("\n"+string(out), "\n"+main+"\n") {
			t.Errorf("name %q, module %q: ./... does not reach the main package %s", a.Name, a.Module, main)
		}
	}
}

package generator_test

import (
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/templates"
)

// TestOneMemorySettingDrivesEveryLimit renders the systemd unit and the Kubernetes Deployment
// with a non-default memory-limit and checks that every figure in both follows from it.
func TestOneMemorySettingDrivesEveryLimit(t *testing.T) {
	a, err := generator.Answers{Name: "demo", Module: "example.com/demo", Go: "1.26", Features: []string{"k8s", "systemd"},
		Settings: map[string]string{"memory-limit": "1GiB"}}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := generator.Render(templates.FS, fstest.MapFS{}, a, append([]string{"base"}, a.Features...), generator.Manifest{}, "v0")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, c := range cs {
		files[c.Path] = string(c.New)
	}
	unit, deploy := files["deploy/systemd/demo.service"], files["deploy/k8s/deployment.yaml"]
	for _, want := range []string{"Environment=GOMEMLIMIT=921MiB\n", "MemoryHigh=972M\n", "MemoryMax=1024M\n"} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`name: GOMEMLIMIT\n\s+value: "921MiB"`),
		regexp.MustCompile(`requests:\n\s+cpu: \S+\n\s+memory: 512Mi`),
		regexp.MustCompile(`limits:\n\s+memory: 1024Mi`),
	} {
		if !want.MatchString(deploy) {
			t.Errorf("deployment does not match %s", want)
		}
	}
	if n := strings.Count(strings.Join(generatorFlags(), " "), "memory-limit"); n != 1 {
		t.Errorf("memory-limit is declared by two features but must be one flag; found %d", n)
	}
}

func generatorFlags() []string {
	var keys []string
	for _, s := range generator.AllSettings() {
		keys = append(keys, s.Key)
	}
	return keys
}

func TestMemoryLimitRejectsBadSizes(t *testing.T) {
	for _, v := range []string{"128", "128MB", "-1MiB", "16MiB", "2048GiB", "1.5GiB"} {
		_, err := generator.Answers{Name: "demo", Module: "example.com/demo", Go: "1.26", Features: []string{"systemd"},
			Settings: map[string]string{"memory-limit": v}}.Validate()
		if err == nil || !strings.Contains(err.Error(), "--memory-limit") {
			t.Errorf("memory-limit %q: err %v, want a --memory-limit error", v, err)
		}
	}
}

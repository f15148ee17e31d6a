package generator_test

import (
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/templates"
)

// TestDockerfileVersionCacheAndPlatforms checks the build stage of the generated Dockerfile:
// the version reaches the binary, the caches are BuildKit mounts, and buildx can build any
// platform by cross-compiling on the build machine. (e2e/docker_test.go checks the rest.)
func TestDockerfileVersionCacheAndPlatforms(t *testing.T) {
	a, err := generator.Answers{Name: "demo", Module: "example.com/demo", Go: "1.26", Features: []string{"docker"}}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := generator.Render(templates.FS, fstest.MapFS{}, a, append([]string{"base"}, a.Features...), generator.Manifest{}, "v0")
	if err != nil {
		t.Fatal(err)
	}
	var df string
	for _, c := range cs {
		if c.Path == "Dockerfile" {
			df = string(c.New)
		}
	}
	build := df[:strings.LastIndex(df, "\nFROM ")]
	// One RUN instruction, continuation lines joined.
	build = strings.ReplaceAll(build, "\\\n", " ")
	for _, re := range []string{
		`(?m)^FROM --platform=\$BUILDPLATFORM golang:1\.26 AS build$`,
		`(?m)^ARG TARGETOS TARGETARCH$`,
		`(?m)^ARG VERSION=dev COMMIT=unknown DATE=unknown$`,
		`(?m)^RUN --mount=type=cache,target=/go/pkg/mod go mod download$`,
		`(?m)^RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build +GOOS=\$TARGETOS GOARCH=\$TARGETARCH CGO_ENABLED=0 go build -trimpath +-ldflags="-s -w -X main\.version=\$\{VERSION\} -X main\.commit=\$\{COMMIT\} -X main\.date=\$\{DATE\}"`,
	} {
		if !regexp.MustCompile(re).MatchString(build) {
			t.Errorf("build stage does not match %s:\n%s", re, build)
		}
	}
	// The build args must be declared before the RUN that uses them, or they expand to "".
	if strings.Index(build, "ARG VERSION") > strings.Index(build, "go build") || strings.Index(build, "ARG TARGETOS") > strings.Index(build, "go build") {
		t.Error("ARG after the go build that uses it")
	}
}

// Package templates embeds the templates daemongen renders, so the binary is self-contained.
//
// Layout: base/files/... is rendered into every project; features/<name>/files/... only when
// that feature is enabled; features/<name>/inserts.tmpl holds {{define "<path> <marker>"}}
// fragments inserted above marker lines of shared files. Output path = template path without
// ".tmpl", with a "dot-" prefix meaning "." and "__name__" replaced by the daemon's name.
package templates

import "embed"

// FS holds base/ and features/. The all: prefix keeps the __name__ directories, which embed
// would otherwise skip for their leading underscore; templates_test.go keeps stray files out.
//
//go:embed all:base all:features
var FS embed.FS

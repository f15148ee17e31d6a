// Package generator turns validated Answers into a daemon project.
//
// The pipeline has two halves, and only the second touches the disk:
//
//	Answers ──Validate──► Render(templates, tree, answers, units) ──► Changes ──► project.Apply
//
// Render is pure: it executes the templates of each unit ("base", then every enabled feature in
// catalog order) on top of an existing tree (empty for `new`), inserts feature fragments at
// marker lines of shared files, formats Go output and records the manifest. Package project
// writes the resulting Changes, under a lock and a journal. `new` and `add` share this one path; they differ only in the
// starting tree and the list of units.
package generator

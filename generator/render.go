package generator

import (
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// funcs is built once: sprig's map has ~200 entries and building it per template was waste.
// The hermetic variant has no clock, randomness or environment, so output depends on Answers only.
var funcs = sync.OnceValue(func() template.FuncMap { return sprig.HermeticTxtFuncMap() })

// OwnedFileError reports a file a unit wants to create that already exists with other content.
type OwnedFileError struct{ Path, Unit string }

func (e *OwnedFileError) Error() string {
	return fmt.Sprintf("%s already exists with different content; feature %q owns this file: move it aside (or merge it by hand) and run again", e.Path, e.Unit)
}

// MarkerError reports a shared file whose marker line is gone, so a fragment has nowhere to go.
type MarkerError struct {
	Path, Marker, Fragment string
}

func (e *MarkerError) Error() string {
	return fmt.Sprintf("%s has no %q line, where this goes; put the marker line back where it stood and run again, or paste these lines by hand where the marker stood and run again (add recognises them; later features need the marker):\n%s", e.Path, e.Marker, indent(e.Fragment, "\t"))
}

// Render applies units (usually "base" followed by features) on top of tree and returns every
// file it creates or changes, the manifest included. tree is empty for `new` and the project on
// disk for `add`; prev is the manifest read from tree (zero for `new`). Render never writes.
//
// A file of a feature the project already has that depends on the features added (see
// dependents) is changed too; if the user edited it, Render refuses (RenderMerging merges).
func Render(tmpl, tree fs.FS, a Answers, units []string, prev Manifest, generatorVersion string) (Changes, error) {
	return render(tmpl, tree, a, units, prev, generatorVersion, nil)
}

func render(tmpl, tree fs.FS, a Answers, units []string, prev Manifest, generatorVersion string, merge Merger) (Changes, error) {
	r := &renderer{tmpl: tmpl, tree: tree, data: a, current: map[string][]byte{}, old: map[string][]byte{},
		frags: map[string]map[string]string{}, created: map[string]string{}, unitOf: map[string]string{}, dirty: map[string]string{},
		sets: map[string]*template.Template{}, prev: prev}
	r.prefetch(units)
	for i, unit := range units {
		if err := r.files(unit, unitDir(unit)+"/files"); err != nil {
			return nil, err
		}
		// Fragments other features hold for the files just created (the batch rules in the
		// metrics feature's rules.yaml): those of features already rendered, or already in the
		// project, go in now; those of features still to come go in with them.
		for _, f := range r.data.Features {
			if f != unit && !slices.Contains(units[i:], f) {
				if err := r.insertsInto(f, r.createdBy(unit)); err != nil {
					return nil, err
				}
			}
		}
		if err := r.inserts(unit); err != nil {
			return nil, err
		}
	}
	if err := r.dependents(prev, units, merge); err != nil {
		return nil, err
	}
	if err := r.modules(units); err != nil { // go.mod and go.sum of features that need modules
		return nil, err
	}
	if err := r.formatAll(); err != nil {
		return nil, err
	}
	// A feature-owned file that exists with other content is never overwritten. Checked after
	// formatting, so an identical file (an add repeated) is recognised as such.
	for _, p := range slices.Sorted(maps.Keys(r.created)) {
		if old, existed := r.old[p]; existed && !bytes.Equal(old, r.current[p]) {
			return nil, &OwnedFileError{Path: p, Unit: r.unitOf[p]}
		}
	}
	var changes Changes
	for p, content := range r.current {
		old, existed := r.old[p]
		if existed && bytes.Equal(old, content) {
			continue
		}
		changes = append(changes, Change{Path: p, Old: old, New: content})
	}
	slices.SortFunc(changes, func(x, y Change) int { return strings.Compare(x.Path, y.Path) })

	m, err := r.manifest(prev, generatorVersion)
	if err != nil {
		return nil, err
	}
	enc, err := m.Encode()
	if err != nil {
		return nil, err
	}
	old, err := fs.ReadFile(tree, ManifestName)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if !bytes.Equal(old, enc) {
		changes = append(changes, Change{Path: ManifestName, Old: old, New: enc})
		slices.SortFunc(changes, func(x, y Change) int { return strings.Compare(x.Path, y.Path) })
	}
	return changes, nil
}

type renderer struct {
	tmpl, tree   fs.FS
	data         Answers
	current      map[string][]byte             // every file touched so far, as it will be written
	old          map[string][]byte             // the same files as read from tree (absent if new)
	frags        map[string]map[string]string  // unit → fragment name → executed text
	created      map[string]string             // files rendered from a template → the template
	unitOf       map[string]string             // files rendered from a template → their unit
	dirty        map[string]string             // user's Go files to format at the end → inserts, for errors
	sets         map[string]*template.Template // unit → its parsed templates
	fileSets     map[string]*template.Template // unit → its file templates, for dependents
	prev         Manifest                      // the project's manifest before this render
	featureFiles map[string]bool               // every feature's files, by output path (see owned)
	executed     map[string]executedTemplate   // file templates executed ahead, by path (see prefetch)
}

// userDeleted reports whether the project had p (tracked, or recorded as deleted by update)
// and the user deleted it.
func (r *renderer) userDeleted(p string) bool {
	_, tracked := r.prev.Files[p]
	return tracked || slices.Contains(r.prev.Deleted, p)
}

// formatAll runs go/format once on every Go file of the user's that received fragments, in
// parallel, and once per file, not after each fragment.
//
// What templates render is never formatted here: templates and fragments are written as gofmt
// writes them, and TestRenderedGoIsGofmtClean proves it for every feature set and for odd
// settings. gofmt was 60 % of a `new`'s CPU time, spent on reprinting files unchanged.
func (r *renderer) formatAll() error {
	paths := slices.Sorted(maps.Keys(r.dirty))
	results := make([][]byte, len(paths))
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, p := range paths {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i], errs[i] = r.formatShared(p, r.dirty[p], r.current[p])
		}()
	}
	wg.Wait()
	for i, p := range paths {
		if errs[i] != nil {
			return errs[i]
		}
		r.current[p] = results[i]
	}
	return nil
}

// load returns the current content of p: touched earlier in this render, or read from the tree.
func (r *renderer) load(p string) ([]byte, bool, error) {
	if c, ok := r.current[p]; ok {
		return c, true, nil
	}
	c, err := fs.ReadFile(r.tree, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	r.old[p] = c
	return c, true, nil
}

func (r *renderer) store(p string, content []byte) { r.current[p] = content }

// files renders every template below dir into the output path it names.
func (r *renderer) files(unit, dir string) error {
	if _, err := fs.Stat(r.tmpl, dir); errors.Is(err, fs.ErrNotExist) {
		return nil // a unit may consist of fragments only
	}
	return fs.WalkDir(r.tmpl, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !strings.HasSuffix(p, ".tmpl") {
			return fmt.Errorf("template %s: every template file must end in .tmpl", p)
		}
		out := OutputPath(strings.TrimPrefix(p, dir+"/"), r.data.Name)
		res, ok := r.executed[p]
		if !ok {
			res.content, res.static, res.err = r.execute(unit, p)
		}
		content, static, err := res.content, res.static, res.err
		if err != nil {
			return err
		}
		// A template that renders to nothing is a file the answers do not call for (a leader
		// backend's own manifests or tests): no file, rather than an empty one.
		if !static && len(bytes.TrimSpace(content)) == 0 {
			return nil
		}
		if _, err := fs.Stat(r.tree, out); err == nil {
			if _, _, err := r.load(out); err != nil { // keep the tree's version for the owned-file check
				return err
			}
		}
		r.store(out, content)
		r.created[out], r.unitOf[out] = p, unit
		return nil
	})
}

// OutputPath maps a template path to the file it produces: ".tmpl" is dropped, a "dot-" prefix
// on any element becomes ".", and "__name__" becomes the daemon's name.
func OutputPath(tmplPath, name string) string {
	parts := strings.Split(strings.TrimSuffix(tmplPath, ".tmpl"), "/")
	for i, p := range parts {
		if rest, ok := strings.CutPrefix(p, "dot-"); ok {
			p = "." + rest
		}
		parts[i] = strings.ReplaceAll(p, "__name__", name)
	}
	return path.Join(parts...)
}

// set returns the unit's template set. Templates of a set share one copy of the function map:
// installing sprig's ~200 functions on every template separately was a tenth of a render.
func (r *renderer) set(unit string) *template.Template {
	if t, ok := r.sets[unit]; ok {
		return t
	}
	t := template.New(unit).Option("missingkey=error").Funcs(funcs())
	r.sets[unit] = t
	return t
}

// execute runs one template; Go output is formatted later, in formatAll. A template without
// any action is returned as it is (static), without going through the template engine.
func (r *renderer) execute(unit, tmplPath string) (out []byte, static bool, err error) {
	src, err := fs.ReadFile(r.tmpl, tmplPath)
	if err != nil {
		return nil, false, err
	}
	if !bytes.Contains(src, []byte("{{")) {
		return src, true, nil
	}
	t, err := r.set(unit).New(tmplPath).Parse(string(src))
	if err != nil {
		return nil, false, err
	}
	var buf bytes.Buffer
	buf.Grow(len(src)) // most of a template is its text: one allocation, not a dozen regrowths
	if err := t.Execute(&buf, r.data); err != nil {
		return nil, false, err
	}
	return buf.Bytes(), false, nil
}

// fragments executes the {{define "<path> <marker>"}} blocks of a unit's inserts.tmpl and
// returns them by name. A unit without inserts.tmpl has none.
func (r *renderer) fragments(unit string) (map[string]string, error) {
	if f, ok := r.frags[unit]; ok {
		return f, nil
	}
	out, err := r.executeFragments(unit)
	if err != nil {
		return nil, err
	}
	r.frags[unit] = out
	return out, nil
}

// executeFragments parses and executes unit's inserts.tmpl. It touches only unit's template
// set, so prefetch runs it for several units at once.
func (r *renderer) executeFragments(unit string) (map[string]string, error) {
	file := unitDir(unit) + "/inserts.tmpl"
	out := map[string]string{}
	src, err := fs.ReadFile(r.tmpl, file)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	before := map[string]bool{}
	for _, t := range r.set(unit).Templates() {
		before[t.Name()] = true
	}
	t, err := r.set(unit).New(file).Parse(string(src))
	if err != nil {
		return nil, err
	}
	for _, def := range t.Templates() {
		if def.Name() == file || before[def.Name()] {
			continue // the file itself, or a template of the unit's files
		}
		if !strings.Contains(def.Name(), " ") {
			return nil, fmt.Errorf("%s: fragment %q must be named \"<path> <marker>\"", file, def.Name())
		}
		var buf bytes.Buffer
		if err := def.Execute(&buf, r.data); err != nil {
			return nil, err
		}
		out[def.Name()] = buf.String()
	}
	return out, nil
}

// executedTemplate is a file template's output, executed ahead by prefetch.
type executedTemplate struct {
	content []byte
	static  bool
	err     error
}

// prefetch executes, on every core, the file templates of units and the fragments of every
// feature of the project. Templates are most of a render's work, and each unit's are
// independent of the others'; which output goes where, and in which order fragments go in,
// stays with the sequential render that follows and only looks the results up. Errors are
// kept, and returned where the sequential render meets them.
func (r *renderer) prefetch(units []string) {
	all := slices.Compact(slices.Sorted(slices.Values(slices.Concat(units, r.data.Features))))
	for _, u := range all {
		r.set(u) // made here: the workers do not touch r.sets
	}
	type result struct {
		files map[string]executedTemplate
		frags map[string]string
	}
	results := make([]result, len(all))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, u := range all {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			res := result{files: map[string]executedTemplate{}}
			if slices.Contains(units, u) {
				_ = fs.WalkDir(r.tmpl, unitDir(u)+"/files", func(p string, d fs.DirEntry, err error) error {
					if err == nil && !d.IsDir() && strings.HasSuffix(p, ".tmpl") {
						var e executedTemplate
						e.content, e.static, e.err = r.execute(u, p)
						res.files[p] = e
					}
					return nil
				})
			}
			if f, err := r.executeFragments(u); err == nil {
				res.frags = f // an error is met again, and returned, by fragments
			}
			results[i] = res
		})
	}
	wg.Wait()
	r.executed = map[string]executedTemplate{}
	for i, u := range all {
		maps.Copy(r.executed, results[i].files)
		if results[i].frags != nil {
			r.frags[u] = results[i].frags
		}
	}
}

// inserts puts each fragment of unit above its marker. Fragments of one marker always stand in
// catalog order, whichever feature came first, so adding a feature later gives the same file as
// choosing it at `new`: if a fragment of a later feature is already there, this one goes above it.
func (r *renderer) inserts(unit string) error { return r.insertsInto(unit, nil) }

// createdBy returns the set of files unit's templates created in this render.
func (r *renderer) createdBy(unit string) map[string]bool {
	out := map[string]bool{}
	for p, u := range r.unitOf {
		if u == unit {
			out[p] = true
		}
	}
	return out
}

// owned reports whether target is a file of a feature of the project other than unit, which
// that feature has not created yet: unit's fragments for it wait for that feature (see Render).
// Without the feature, they have no file to go to, and are left out.
func (r *renderer) owned(target string) bool {
	if r.featureFiles == nil { // every feature's output paths, listed once per render
		r.featureFiles = map[string]bool{}
		for _, f := range Catalog {
			dir := unitDir(f.Name) + "/files"
			_ = fs.WalkDir(r.tmpl, dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return fs.SkipAll // a feature without files
				}
				if !d.IsDir() {
					r.featureFiles[OutputPath(strings.TrimPrefix(p, dir+"/"), r.data.Name)] = true
				}
				return nil
			})
		}
	}
	return r.featureFiles[target]
}

// insertsInto is inserts restricted to the targets in only (every target if only is nil).
func (r *renderer) insertsInto(unit string, only map[string]bool) error {
	frags, err := r.fragments(unit)
	if err != nil {
		return err
	}
	var later []string
	if i := slices.IndexFunc(Catalog, func(f Feature) bool { return f.Name == unit }); i >= 0 {
		for _, f := range Catalog[i+1:] {
			if r.data.Has(f.Name) {
				later = append(later, f.Name)
			}
		}
	}
	names := make([]string, 0, len(frags))
	for name := range frags {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		path, marker, _ := strings.Cut(name, " ")
		target := OutputPath(path, r.data.Name)
		if only != nil && !only[target] {
			continue
		}
		var after []string
		for _, f := range later {
			lf, err := r.fragments(f)
			if err != nil {
				return err
			}
			if text, ok := lf[name]; ok {
				after = append(after, text)
			}
		}
		content, ok, err := r.load(target)
		if err != nil {
			return err
		}
		if !ok && r.owned(target) {
			continue // a feature's file: the fragment goes in when (and if) that feature does
		}
		if !ok && r.userDeleted(target) {
			if !strings.HasSuffix(target, ".go") {
				continue // the user deleted it: their choice, and the fragment stays out with it
			}
			return fmt.Errorf("%s: you deleted it, and %s puts lines in it; restore it (daemongen new into a scratch directory shows it) and run again (nothing was written)", target, unit)
		}
		if !ok {
			return fmt.Errorf("%s: fragment for %s, which does not exist", unitDir(unit), target)
		}
		updated, err := Insert(content, marker, frags[name], after...)
		if err != nil {
			var me *MarkerError
			if errors.As(err, &me) {
				me.Path = target
			}
			return err
		}
		r.store(target, updated)
		if _, fromTemplate := r.created[target]; !fromTemplate && strings.HasSuffix(target, ".go") {
			r.dirty[target] = unitDir(unit) + "/inserts.tmpl"
		}
	}
	return nil
}

// formatShared formats a Go file of the user's after insertions. A file the user keeps in another layout
// (not gofmt-clean when read) is not reformatted, since that would rewrite their lines; it is
// only checked to still parse.
func (r *renderer) formatShared(target, tmplPath string, src []byte) ([]byte, error) {
	if old, fromTree := r.old[target]; fromTree && strings.HasSuffix(target, ".go") {
		if f, err := format.Source(old); err != nil || !bytes.Equal(f, old) {
			if _, err := parser.ParseFile(token.NewFileSet(), target, src, parser.ParseComments); err != nil {
				return nil, fmt.Errorf("inserting into %s left it invalid: %w", target, err)
			}
			return src, nil
		}
	}
	return formatIfGo(target, tmplPath, src)
}

// Insert puts fragment directly above the line holding marker (a whole-line comment such as
// "// daemongen:actors" or "<!-- daemongen:features -->"), indented like the marker. If any of
// the later fragments already stands above the marker, fragment goes above the first of them
// instead, which keeps fragments in a fixed order. A fragment whose lines already stand
// together anywhere in the file (ignoring differences in white space) is skipped, which makes insertion
// idempotent. The marker stays for the next feature. An import at the imports marker goes
// where gofmt would sort it in the marker's group instead (see importPos).
func Insert(content []byte, marker, fragment string, later ...string) ([]byte, error) {
	lines := strings.SplitAfter(string(content), "\n")
	forms := markerForms(marker)
	at := slices.IndexFunc(lines, func(l string) bool { return slices.Contains(forms, strings.TrimSpace(l)) })
	frag := splitFragment(fragment)
	// Already there (an add repeated, or pasted by hand as MarkerError suggests): done, with
	// or without the marker.
	if findRun(lines, frag) >= 0 {
		return content, nil
	}
	if at < 0 {
		return nil, &MarkerError{Marker: marker, Fragment: strings.Join(frag, "\n")}
	}
	ind := lines[at][:len(lines[at])-len(strings.TrimLeft(lines[at], " \t"))]
	pos := at
	for _, l := range later {
		if i := findRun(lines[:at], splitFragment(l)); i >= 0 && i < pos {
			pos = i
		}
	}
	if marker == importsMarker && len(frag) == 1 {
		pos = importPos(lines, at, frag[0])
	}
	eol := "\n"
	if strings.HasSuffix(lines[at], "\r\n") {
		eol = "\r\n" // a file kept with CRLF line endings gets CRLF lines
	}
	// Spliced in one allocation: Insert runs once per fragment on files of hundreds of lines.
	offset := 0
	for _, l := range lines[:pos] {
		offset += len(l)
	}
	out := make([]byte, 0, len(content)+len(fragment)+len(frag)*(len(ind)+len(eol)))
	out = append(out, content[:offset]...)
	for _, l := range frag {
		if strings.TrimSpace(l) != "" {
			out = append(append(out, ind...), l...)
		}
		out = append(out, eol...)
	}
	return append(out, content[offset:]...), nil
}

// importsMarker ends the import group of the daemon's own packages in main.go.
const importsMarker = "daemongen:imports"

// importPos returns where the import spec goes in the group that ends at the marker line at:
// above the first import that sorts after it, as gofmt sorts a group. So a new project's
// main.go needs no gofmt run (see formatAll), and the user's own imports keep their places.
func importPos(lines []string, at int, spec string) int {
	start := at
	for start > 0 && strings.TrimSpace(lines[start-1]) != "" && !strings.HasPrefix(strings.TrimSpace(lines[start-1]), "import") {
		start--
	}
	path := importPath(spec)
	for i := start; i < at; i++ {
		if p := importPath(lines[i]); p != "" && p > path {
			return i
		}
	}
	return at
}

// importPath returns the quoted path of an import spec line (`name "path" // comment`), or "".
func importPath(line string) string {
	for _, f := range strings.Fields(line) {
		if strings.HasPrefix(f, "//") {
			break
		}
		if strings.HasPrefix(f, `"`) {
			return f
		}
	}
	return ""
}

func splitFragment(f string) []string { return strings.Split(strings.Trim(f, "\n"), "\n") }

// findRun returns the index in lines where the lines of frag stand consecutively, or -1.
// Lines compare equal when they differ only in white space (see sameWords), because gofmt
// re-aligns fragments in struct fields and composite literals.
func findRun(lines, frag []string) int {
	for i := 0; i+len(frag) <= len(lines); i++ {
		j := 0
		for j < len(frag) && sameWords(lines[i+j], frag[j]) {
			j++
		}
		if j == len(frag) {
			return i
		}
	}
	return -1
}

// sameWords reports whether a and b hold the same words in the same order: leading and
// trailing white space is ignored and runs of inner white space compare equal. It allocates
// nothing; Insert calls it for every line of a file and every fragment.
func sameWords(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	for a != "" && b != "" {
		sa, sb := isSpace(a[0]), isSpace(b[0])
		if sa != sb {
			return false
		}
		if sa {
			a, b = strings.TrimLeft(a, " \t\r\n"), strings.TrimLeft(b, " \t\r\n")
			continue
		}
		if a[0] != b[0] {
			return false
		}
		a, b = a[1:], b[1:]
	}
	return a == "" && b == ""
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func unitDir(unit string) string {
	if unit == "base" {
		return "base"
	}
	return "features/" + unit
}

// markerForms returns a marker's line, trimmed, in each comment syntax it can stand in.
func markerForms(marker string) []string {
	return []string{"// " + marker, "# " + marker, "<!-- " + marker + " -->"}
}

// formatIfGo runs go/format on Go files; a template that yields invalid Go is a bug in the
// template, so the error names it and shows the numbered output.
func formatIfGo(out, tmplPath string, src []byte) ([]byte, error) {
	if !strings.HasSuffix(out, ".go") {
		return src, nil
	}
	formatted, err := format.Source(src)
	if err != nil {
		return nil, fmt.Errorf("template %s produced invalid Go for %s: %w\n%s", tmplPath, out, err, numbered(src))
	}
	return formatted, nil
}

func numbered(src []byte) string {
	var b strings.Builder
	for i, l := range strings.Split(string(src), "\n") {
		fmt.Fprintf(&b, "%4d  %s\n", i+1, l)
	}
	return b.String()
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

package spec

import (
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Result is what Load found.
type Result struct {
	// Certificates are the valid Certificate documents, Defaults merged in,
	// sorted by Name. A document with an error is left out.
	Certificates []*Certificate
	// Diagnostics are every error and warning of the run, sorted by file, line, column.
	Diagnostics []Diagnostic
	// Files are the manifest files read, sorted.
	Files []string
	// Skipped are YAML files found in directories that are not manifests (no
	// document is certplan's: CI pipelines, other tools' resources), sorted.
	Skipped []string
	// FileDigests maps each file of Files to the hex SHA-256 of its content
	// (absent for a file too large to read). Plan files record them.
	FileDigests map[string]string
	// Manifests counts the Certificate documents found, valid or not: kind
	// Certificate, or a kind that is not Defaults with a spec.product.
	Manifests int
}

// HasErrors reports whether any diagnostic is an error.
func (r *Result) HasErrors() bool { return hasErrors(r.Diagnostics) }

// Counts returns the number of errors and of warnings.
func (r *Result) Counts() (errors, warnings int) {
	for _, d := range r.Diagnostics {
		if d.Severity == SeverityError {
			errors++
		} else {
			warnings++
		}
	}
	return errors, warnings
}

// Load reads the manifests in paths (files, or directories walked recursively
// for *.yaml and *.yml, plus the nearest certplan.yaml project file), merges
// Defaults into each Certificate and validates the result against the
// embedded schemas and certplan's own checks. Every manifest problem is a
// Diagnostic; the error is only for a path that cannot be read at all.
//
// Checks that depend on the date (the certificate caps of public TLS) use the
// wall clock and lifecycle.DefaultCaps(); LoadWith takes others.
//
// Files the manifests reference ({file: PATH} for CSRs and secrets) must be
// inside the project of their path (Project.Root), or in a directory of
// LoadOptions.AllowFilesIn.
func Load(paths []string) (*Result, error) {
	return LoadWith(paths, LoadOptions{})
}

// LoadWith is Load at the planning instant, with the certificate caps and
// the further file directories of opts.
func LoadWith(paths []string, opts LoadOptions) (*Result, error) {
	v, err := embeddedValidator()
	if err != nil {
		return nil, err
	}
	return load(paths, v, opts)
}

// Document kinds.
const (
	kindCertificate = "Certificate"
	kindDefaults    = "Defaults"
)

// loader carries what the documents of one Load share.
type loader struct {
	v        *validator
	csr      *csrCache
	defaults *defaultsIndex
	opts     LoadOptions
	roots    fileRoots // where file references may point
}

func load(paths []string, v *validator, opts LoadOptions) (*Result, error) {
	if len(paths) == 0 {
		return nil, errNoPaths
	}
	roots, err := referenceRoots(paths, opts.AllowFilesIn)
	if err != nil {
		return nil, err
	}
	files, err := collectFiles(paths)
	if err != nil {
		return nil, err
	}
	aliases := newRunBudget()
	loaded := parallel(files, func(c candidate) loadedFile { return loadFile(c, aliases) })
	return assemble(loaded, v, opts, roots)
}

// assemble is Load after the files are read and parsed (in path order): it
// merges Defaults into each Certificate, validates, and builds the Result.
// It reads no manifest file; referenced CSR files are read here.
func assemble(loaded []loadedFile, v *validator, opts LoadOptions, roots fileRoots) (*Result, error) {
	res := &Result{FileDigests: make(map[string]string, len(loaded))}
	var diags []Diagnostic
	var certs, defaults, others []*rawDoc
	for _, lf := range loaded {
		if lf.err != nil {
			return nil, lf.err
		}
		if lf.foreign {
			res.Skipped = append(res.Skipped, lf.path)
			continue
		}
		res.Files = append(res.Files, lf.path)
		if lf.digest != "" {
			res.FileDigests[lf.path] = lf.digest
		}
		diags = append(diags, lf.diags...)
		for _, d := range lf.docs {
			switch k, _ := d.root.field("kind").str(); k {
			case kindCertificate:
				certs = append(certs, d)
			case kindDefaults:
				defaults = append(defaults, d)
			default:
				others = append(others, d) // the schema explains what is wrong
				if d.root.field("spec").field("product") != nil {
					res.Manifests++ // a Certificate with its kind misspelled
				}
			}
		}
	}
	res.Manifests += len(certs)

	l := &loader{v: v, csr: newCSRCache(), defaults: buildDefaults(defaults), opts: opts, roots: roots}
	diags = append(diags, l.defaults.diags...)
	for _, ds := range parallel(append(defaults, others...), l.checkDocument) {
		diags = append(diags, ds...)
	}
	names := make([]string, len(certs))
	products := make(map[string]Product, len(certs))
	for i, d := range certs {
		names[i], _ = d.root.field("metadata").field("name").str()
		p, _ := d.root.field("spec").field("product").str()
		products[names[i]] = Product(p)
	}
	dupes, dupDiags := duplicateNames(certs)
	diags = append(diags, dupDiags...)
	outs := parallel(certs, l.certificate) // releases each document's tree
	merged := map[Diagnostic][]string{}    // problems in Defaults files -> certificates merging them
	for i, o := range outs {
		for _, d := range o.diags {
			if d.Pos.File != certs[i].file {
				merged[d] = append(merged[d], names[i])
				continue
			}
			diags = append(diags, d)
		}
		if o.cert != nil && !dupes[i] {
			res.Certificates = append(res.Certificates, o.cert)
		}
	}
	diags = append(diags, mergedDiagnostics(diags, merged, products, defaults)...)
	sort.Slice(res.Certificates, func(i, j int) bool { return res.Certificates[i].Name < res.Certificates[j].Name })
	res.Diagnostics = sortDiagnostics(diags)
	return res, nil
}

// certOutcome is what processing one Certificate document produced.
type certOutcome struct {
	cert  *Certificate // nil when the document has errors
	diags []Diagnostic
}

// certificate merges Defaults into one Certificate document, validates it and
// builds the Certificate.
func (l *loader) certificate(doc *rawDoc) (out certOutcome) {
	start := doc.root.pos()
	defer func() {
		doc.root = nil                // 10,000 trees add up: let the collector have this one now
		if r := recover(); r != nil { // a bug must not take the run down
			out = certOutcome{diags: []Diagnostic{errorAt(start, "", "internal error while checking this document: %v", r)}}
		}
	}()
	root := l.defaults.apply(doc.root)
	inst := root.toJSON()
	owned := map[string]bool{}
	order := root.field("spec").field("order")
	diags := orderChecks(order, owned)
	product, _ := root.field("spec").field("product").str()
	diags = append(diags, dateChecks(Product(product), order, l.opts.now(), owned)...)

	var csrText string
	loc, known := csrLocationFor(Product(product))
	if known && order != nil {
		c := l.csr.checkOrderCSR(order, loc, l.roots)
		diags = append(diags, c.diags...)
		if c.owned {
			owned["/spec/order"+loc.csr] = true
		}
		csrText = c.text
	}
	secretFiles, sdiags := l.checkSecretFiles(order, loc.csr)
	diags = append(diags, sdiags...)
	diags = append(diags, l.validate(root, inst, owned, l.v.validateCertificate)...)
	if hasErrors(diags) {
		return certOutcome{diags: diags}
	}
	cert, more := buildCertificate(root, inst, csrText, loc)
	useResolvedFiles(cert, secretFiles)
	diags = append(diags, more...)
	diags = append(diags, lifecycleChecks(root, cert, l.opts)...)
	if hasErrors(diags) {
		return certOutcome{diags: diags}
	}
	return certOutcome{cert: cert, diags: diags}
}

// checkDocument validates a Defaults document (or one of an unknown kind) on
// its own. Its order fields are checked again, merged, in every Certificate.
func (l *loader) checkDocument(doc *rawDoc) (diags []Diagnostic) {
	defer func() {
		if r := recover(); r != nil {
			diags = []Diagnostic{errorAt(doc.root.pos(), "", "internal error while checking this document: %v", r)}
		}
	}()
	owned := map[string]bool{}
	diags = orderChecks(doc.root.field("spec").field("order"), owned)
	return append(diags, l.validate(doc.root, doc.root.toJSON(), owned, l.v.schema.Validate)...)
}

// validate checks inst (the JSON value of root) with check (the manifest
// schema) and reports deprecated fields.
func (l *loader) validate(root *tree, inst any, owned map[string]bool, check func(any) error) []Diagnostic {
	var diags []Diagnostic
	if err := check(inst); err != nil {
		x := explainer{v: l.v, doc: root, inst: inst, file: root.file}
		diags = append(diags, x.diagnostics(err, skipOwned(owned))...)
	}
	return append(diags, deprecationWarnings(root, l.v.deprecations(inst))...)
}

// mergedDiagnostics names, for each problem found in a Defaults document only
// once merged into Certificates, which Certificates (a Defaults value can be
// wrong for one product and right for another). A problem the Defaults
// document shows on its own is already in plain. An unknown field, a field
// the products of those Certificates do not have, also says how to scope
// the Defaults document (products maps Certificate names to products;
// defaults are the Defaults documents).
func mergedDiagnostics(plain []Diagnostic, merged map[Diagnostic][]string, products map[string]Product, defaults []*rawDoc) []Diagnostic {
	seen := make(map[Diagnostic]bool, len(plain))
	for _, d := range plain {
		seen[d] = true
	}
	var out []Diagnostic
	for d, names := range merged {
		if seen[d] {
			continue
		}
		sort.Strings(names)
		names = uniqueStrings(names)
		list := strings.Join(names, ", ")
		if len(names) > 3 {
			list = fmt.Sprintf("%s and %d more", strings.Join(names[:3], ", "), len(names)-3)
		}
		into := fmt.Sprintf("merged into %s %s", plural(strconv.Itoa(len(names)), "Certificate"), list)
		if !strings.HasPrefix(d.Message, "unknown field ") {
			d.Message += " (" + into + ")"
			out = append(out, d)
			continue
		}
		var ps []string
		for _, n := range names {
			ps = append(ps, string(products[n]))
		}
		sort.Strings(ps)
		ps = uniqueStrings(ps)
		d.Message += fmt.Sprintf(" (%s, of %s %s): %s", into, plural(strconv.Itoa(len(ps)), "product"), strings.Join(ps, ", "), scopeHint(defaultsDocAt(defaults, d.Pos), ps))
		out = append(out, d)
	}
	return out
}

// defaultsDocAt is the Defaults document that holds pos, or nil.
func defaultsDocAt(defaults []*rawDoc, pos Pos) *rawDoc {
	var at *rawDoc
	for _, d := range defaults {
		if d.file == pos.File && d.root != nil && d.root.pos().Line <= pos.Line && (at == nil || d.root.pos().Line > at.root.pos().Line) {
			at = d
		}
	}
	return at
}

// scopeHint says how to keep a Defaults field away from the products ps,
// whose orders do not have it.
func scopeHint(doc *rawDoc, ps []string) string {
	if doc == nil || doc.root.field("spec").field("products") == nil {
		return "this Defaults document applies to every product; list the products whose orders take this field in its spec.products (as in certplan init's certplan.yaml)"
	}
	them := strings.Join(ps, ", ")
	return fmt.Sprintf("this Defaults document lists %s in spec.products, whose orders have no such field; take %s out of spec.products, or set the field in Defaults for the products that take it", them, them)
}

// duplicateNames reports every Certificate whose metadata.name was already
// used by an earlier document (files sorted, documents in order), naming the
// first place; dupes marks those documents.
func duplicateNames(docs []*rawDoc) (dupes []bool, diags []Diagnostic) {
	dupes = make([]bool, len(docs))
	first := make(map[string]Pos, len(docs))
	for i, d := range docs {
		n := d.root.field("metadata").field("name")
		name, ok := n.str()
		if !ok || name == "" {
			continue
		}
		if p, dup := first[name]; dup {
			diags = append(diags, errorAt(n.pos(), "metadata.name", "duplicate name %q: also defined at %s; names must be unique across all manifests", name, p))
			dupes[i] = true
			continue
		}
		first[name] = n.pos()
	}
	return dupes, diags
}

// parallel applies f to every item on GOMAXPROCS workers, keeping order.
func parallel[T, R any](items []T, f func(T) R) []R {
	out := make([]R, len(items))
	workers := min(runtime.GOMAXPROCS(0), len(items))
	if workers <= 1 {
		for i, it := range items {
			out[i] = f(it)
		}
		return out
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(items) {
					return
				}
				out[i] = f(items[i])
			}
		}()
	}
	wg.Wait()
	return out
}

package spec

// Defaults merge (see docs/manifests.md). A kind: Defaults document gives
// spec.order (and spec.renewBefore) fields for the products in spec.products,
// or for every product when spec.products is absent. For a Certificate of
// product P the merge order is, later wins:
//
//	Defaults for every product < Defaults listing P < the manifest
//
// Objects merge key by key, recursively; lists and scalars replace whole.
// Two Defaults documents of the same scope (every product, or both listing P)
// that set the same field are an error naming both places.

// defaultsIndex holds the merged Defaults per scope.
type defaultsIndex struct {
	all       *tree             // spec-shaped: {order, renewBefore}; nil when none
	byProduct map[Product]*tree // all merged under each product's own Defaults
	diags     []Diagnostic      // conflicts
}

// defaultFields are the spec fields a Defaults document contributes.
var defaultFields = []string{"order", "renewBefore"}

func buildDefaults(docs []*rawDoc) *defaultsIndex {
	idx := &defaultsIndex{byProduct: map[Product]*tree{}}
	reported := map[[2]Pos]bool{}
	conflict := func(scope string) func(earlier, later *tree, ptr string) {
		return func(earlier, later *tree, ptr string) {
			key := [2]Pos{later.reportPos(), earlier.reportPos()}
			if reported[key] {
				return
			}
			reported[key] = true
			idx.diags = append(idx.diags, errorAt(later.reportPos(), dottedPath(ptr),
				"also set by the Defaults document at %s (both apply to %s); set a field once per scope", earlier.reportPos(), scope))
		}
	}
	perProduct := map[Product]*tree{}
	for _, d := range docs {
		spec := d.root.field("spec")
		contrib := defaultsContribution(spec)
		if contrib == nil {
			continue
		}
		products, all := defaultsProducts(spec)
		if all {
			idx.all = mergeStrict(idx.all, contrib, "/spec", conflict("every product"))
			continue
		}
		for _, p := range products {
			perProduct[p] = mergeStrict(perProduct[p], contrib, "/spec", conflict(string(p)))
		}
	}
	for _, p := range Products() {
		idx.byProduct[p] = mergeOver(idx.all, perProduct[p])
	}
	return idx
}

// defaultsContribution is the part of a Defaults spec that merges under
// manifests, or nil when it has none.
func defaultsContribution(spec *tree) *tree {
	if spec == nil || spec.kind != kindMap {
		return nil
	}
	out := *spec
	out.entries, out.index = nil, nil
	for _, k := range defaultFields {
		if v := spec.field(k); v != nil {
			out.addEntry(k, v)
		}
	}
	if len(out.entries) == 0 {
		return nil
	}
	return &out
}

// defaultsProducts returns the known products listed in spec.products, or
// all=true when the field is absent. Unknown entries are the schema's to report.
func defaultsProducts(spec *tree) (products []Product, all bool) {
	list := spec.field("products")
	if list == nil {
		return nil, true
	}
	for _, it := range list.items {
		if s, ok := it.str(); ok && Product(s).Known() {
			products = append(products, Product(s))
		}
	}
	return products, false
}

// apply merges the Defaults for the document's product under its spec.
func (idx *defaultsIndex) apply(root *tree) *tree {
	spec := root.field("spec")
	if spec == nil || spec.kind != kindMap {
		return root
	}
	base := idx.all
	if p, ok := spec.field("product").str(); ok && Product(p).Known() {
		base = idx.byProduct[Product(p)]
	}
	if base == nil {
		return root
	}
	out := *root // the index, if any, stays valid: same keys, same order
	out.entries = make([]entry, len(root.entries))
	for i, e := range root.entries {
		if e.key == "spec" {
			e.val = mergeOver(base, spec)
		}
		out.entries[i] = e
	}
	return &out
}

// mergeOver merges over onto base: objects key by key, recursively; anything
// else in over replaces base whole. Unchanged subtrees are shared.
func mergeOver(base, over *tree) *tree {
	switch {
	case base == nil:
		return over
	case over == nil:
		return base
	case base.kind != kindMap || over.kind != kindMap:
		return over
	}
	return mergeMaps(over, base, over, func(_ string, b, o *tree) *tree { return mergeOver(b, o) })
}

// mergeStrict merges like mergeOver but calls conflict for every field both
// set (anything but two objects at the same place); the earlier value stays.
func mergeStrict(base, over *tree, ptr string, conflict func(earlier, later *tree, ptr string)) *tree {
	switch {
	case base == nil:
		return over
	case over == nil:
		return base
	case base.kind != kindMap || over.kind != kindMap:
		conflict(base, over, ptr)
		return base
	}
	return mergeMaps(base, base, over, func(key string, b, o *tree) *tree {
		return mergeStrict(b, o, joinPointer(ptr, key), conflict)
	})
}

// mergeMaps merges two map nodes: base's entries in order, then over's new
// ones; a key in both is merged with both. The result has at's positions.
func mergeMaps(at, base, over *tree, both func(key string, b, o *tree) *tree) *tree {
	out := *at
	out.entries, out.index = make([]entry, 0, len(base.entries)+len(over.entries)), nil
	for _, e := range base.entries {
		if o := over.field(e.key); o != nil {
			e.val = both(e.key, e.val, o)
		}
		out.addEntry(e.key, e.val)
	}
	for _, e := range over.entries {
		if base.field(e.key) == nil {
			out.addEntry(e.key, e.val)
		}
	}
	return &out
}

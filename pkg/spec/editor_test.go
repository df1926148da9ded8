package spec

import (
	"encoding/json"
	"testing"
)

// The bundle carries what yaml-language-server reads beyond the standard,
// and only the bundle: deprecated fields warn with the advice certplan
// gives and are not offered (their $ref inlined, or the language server
// would not see the keywords), forbidden fields are not offered, patterns
// have messages, and the bundle has an $id of its own.
func TestBundleEditorKeywords(t *testing.T) {
	data, err := BundledSchema()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["$id"] != BundleID {
		t.Errorf("bundle $id = %v, want %s", doc["$id"], BundleID)
	}
	deprecated, forbidden := 0, 0
	var walk func(ptr string, v any)
	walk = func(ptr string, v any) {
		switch n := v.(type) {
		case map[string]any:
			if props, ok := n["properties"].(map[string]any); ok {
				for name, p := range props {
					pm, _ := p.(map[string]any)
					checkEditorProperty(t, ptr+"/properties/"+name, name, pm, &deprecated, &forbidden)
				}
			}
			for k, c := range n {
				walk(ptr+"/"+k, c)
			}
		case []any:
			for _, c := range n {
				walk(ptr, c)
			}
		}
	}
	walk("", doc)
	if deprecated < 7 || forbidden < 5 {
		t.Errorf("%d deprecated and %d forbidden properties annotated; want at least 7 and 5", deprecated, forbidden)
	}
	name := doc["$defs"].(map[string]any)["metadata"].(map[string]any)["properties"].(map[string]any)["name"].(map[string]any)
	if name["patternErrorMessage"] == nil {
		t.Error("metadata.name has no patternErrorMessage")
	}
}

func checkEditorProperty(t *testing.T, ptr, name string, p map[string]any, deprecated, forbidden *int) {
	if p == nil {
		return
	}
	if not, ok := p["not"].(map[string]any); ok && len(not) == 0 {
		*forbidden++
		if p["doNotSuggest"] != true {
			t.Errorf("%s: a forbidden field without doNotSuggest", ptr)
		}
	}
	if p["deprecated"] != true {
		return
	}
	*deprecated++
	desc, _ := p["description"].(string)
	want := name + " is deprecated: " + deprecationHint(desc) + "."
	if p["deprecationMessage"] != want || p["doNotSuggest"] != true || p["$ref"] != nil || p["markdownDescription"] == nil {
		t.Errorf("%s: deprecationMessage %q (want %q), doNotSuggest %v, $ref %v", ptr, p["deprecationMessage"], want, p["doNotSuggest"], p["$ref"])
	}
	if p["type"] == nil {
		t.Errorf("%s: the inlined schema has no type", ptr)
	}
}

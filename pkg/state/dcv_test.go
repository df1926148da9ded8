package state

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func dcvFacts(f OrderFacts, value string, validated int) OrderFacts {
	f.DCV = &DCV{Method: "dns-txt-token", RandomValue: value, ValueExpires: ptime(at(60 * 24 * 30)),
		Names: []DCVName{{Name: "shop.example.com", Status: "approved", CheckedAt: ptime(at(validated)), ValidatedAt: ptime(at(validated))}}}
	return f
}

// A reissue (another certificate of the same order) keeps what was known of
// the order's validation when its facts say nothing of it; a new order does
// not inherit the old order's.
func TestFoldCarriesDCVOfTheSameOrder(t *testing.T) {
	s := New()
	first := dcvFacts(issued(1, "k1"), "v1", 5)
	s.Fold([]Record{intent("shop", ActionCreate, "k1", 0), outcome("shop", ActionCreate, "k1", 5, first)})
	if diff := cmp.Diff(first.DCV, s.Certificates["shop"].DCV); diff != "" {
		t.Fatalf("DCV after create (-want +got):\n%s", diff)
	}
	// The refresh of a reissue: same order, new certificate, no DCV in the facts.
	reissued := issued(1, "k1")
	reissued.CertificateID = 11
	s.Fold([]Record{outcome("shop", ActionCreate, "k1", 9, reissued)})
	if diff := cmp.Diff(first.DCV, s.Certificates["shop"].DCV); diff != "" {
		t.Errorf("DCV after a reissue (-want +got):\n%s", diff)
	}
	// Facts with DCV replace it, but keep when names were validated.
	later := reissued
	later.Status = StatusReissuePending
	later.DCV = &DCV{Method: "dns-txt-token", RandomValue: "v2", Names: []DCVName{{Name: "shop.example.com"}, {Name: "new.example.com"}}}
	s.Fold([]Record{outcome("shop", ActionCreate, "k1", 20, later)})
	got := s.Certificates["shop"].DCV
	if got.RandomValue != "v2" || got.Names[0].Status != "" || got.Names[0].ValidatedAt == nil || !got.Names[0].ValidatedAt.Equal(at(5)) || got.Names[1].ValidatedAt != nil {
		t.Errorf("DCV after a waiting reissue: %+v", got)
	}
	// A renewal is another order: its validation is its own.
	s.Fold([]Record{intent("shop", ActionRenew, "k2", 30), outcome("shop", ActionRenew, "k2", 31, pendingFacts(2, "k2"))})
	if d := s.Certificates["shop"].DCV; d != nil {
		t.Errorf("the renewal inherited the old order's DCV: %+v", d)
	}
}

// The DCV object is optional and round-trips through the snapshot.
func TestDCVRoundTrip(t *testing.T) {
	s := New()
	s.Lineage = "0b6c1f7e-3a52-4d8e-9f11-2c4b5a6d7e80"
	s.Fold([]Record{intent("shop", ActionCreate, "k1", 0), outcome("shop", ActionCreate, "k1", 5, dcvFacts(pendingFacts(1, "k1"), "v1", 5))})
	b, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"random_value": "v1"`)) {
		t.Fatalf("snapshot lacks the DCV value:\n%s", b)
	}
	back, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s.Certificates["shop"].DCV, back.Certificates["shop"].DCV); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	var raw map[string]any
	_ = json.Unmarshal(b, &raw)
	if raw["version"].(float64) != FormatVersion {
		t.Errorf("version %v", raw["version"])
	}
}

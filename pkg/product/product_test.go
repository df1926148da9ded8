package product_test

import (
	"sort"
	"testing"

	"github.com/certplan/certplan/pkg/product"
)

func TestAllKnownSortedWithFamilies(t *testing.T) {
	all := product.All()
	if len(all) == 0 || !sort.SliceIsSorted(all, func(i, j int) bool { return all[i] < all[j] }) {
		t.Fatalf("All() = %v, want a non-empty sorted list", all)
	}
	for _, p := range all {
		f, ok := p.Family()
		if !ok || f == "" || !p.Known() {
			t.Errorf("%s: Family() = %q, %v; Known() = %v", p, f, ok, p.Known())
		}
		if p.IsLegacy() != (f == product.FamilyLegacy) {
			t.Errorf("%s: IsLegacy() = %v in family %s", p, p.IsLegacy(), f)
		}
		if p.IssuesTLS() == (f == product.FamilyDocumentSigning) {
			t.Errorf("%s: IssuesTLS() = %v in family %s", p, p.IssuesTLS(), f)
		}
	}
	if p := product.Product("ssl_unknown"); p.Known() || p.IsLegacy() || p.IssuesTLS() {
		t.Errorf("unknown product: Known %v, IsLegacy %v, IssuesTLS %v", p.Known(), p.IsLegacy(), p.IssuesTLS())
	}
}

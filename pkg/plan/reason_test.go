package plan

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// JSON carries a reason as {code, message}; a plan file written before
// reasons had codes (plain strings) still reads, with empty codes.
func TestReasonJSON(t *testing.T) {
	b, err := json.Marshal([]Reason{reason(ReasonPredecessorDead, "order %d was %s", 7, "revoked")})
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"code":"predecessor_dead","message":"order 7 was revoked"}]`; string(b) != want {
		t.Errorf("marshal = %s, want %s", b, want)
	}
	var got []Reason
	if err := json.Unmarshal([]byte(`[{"code":"renewal_window","message":"m"},"new certificate"]`), &got); err != nil {
		t.Fatal(err)
	}
	want := []Reason{{Code: ReasonRenewalWindow, Message: "m"}, {Message: "new certificate"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unmarshal (-want +got):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(`[42]`), &got); err == nil {
		t.Error("a number read as a reason")
	}
}

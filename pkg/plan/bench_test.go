package plan

import (
	"fmt"
	"testing"

	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// benchInput: 10,000 manifests against a 10,000-entry state, no refresh.
// Most are up to date; every 20th is inside its renewal window, every 20th
// has a changed shaping field and every 50th a non-shaping change.
func benchInput(b *testing.B) Input {
	st := &state.State{Lineage: "lin", Serial: 1, Certificates: make(map[string]*state.Certificate, 10000)}
	certs := make([]*spec.Certificate, 0, 10000)
	for i := 0; i < 10000; i++ {
		c := tlsCert(fmt.Sprintf("cert-%05d", i))
		till := "2027-10-10"
		if i%20 == 1 {
			till = "2026-12-01"
		}
		st.Certificates[c.Name] = applied(b, c, int64(100000+i), till)
		switch {
		case i%20 == 2:
			setCN(fmt.Sprintf("new-%d.example.com", i))(c)
		case i%50 == 3:
			c.Order["comments"] = "edited"
		}
		certs = append(certs, c)
	}
	return Input{Certificates: certs, State: st, Now: testNow, Version: "bench"}
}

func BenchmarkPlan10k(b *testing.B) {
	in := benchInput(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := Build(in)
		if p.Summary.Renew != 1000 || p.Summary.NoOp != 9000 {
			b.Fatalf("summary = %+v", p.Summary)
		}
	}
}

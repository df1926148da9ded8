package pgstate

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/state"
	"github.com/certplan/certplan/pkg/state/pgstate/pgtest"
)

// BenchmarkJournalAppend measures one durable journal Append (an fsynced
// line in a file; a committed INSERT in PostgreSQL) under the lock, as apply
// does before and after every order, and reports the latency's p50 and p99:
//
//	go test -run '^$' -bench BenchmarkJournalAppend -benchtime 2000x ./pkg/state/pgstate
func BenchmarkJournalAppend(b *testing.B) {
	for _, kind := range []string{"file", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			var be state.Backend
			if kind == "file" {
				be = state.NewFileBackend(filepath.Join(b.TempDir(), "certplan.state.json"))
			} else {
				pb, err := Open(pgtest.Schema(b))
				if err != nil {
					b.Fatal(err)
				}
				be = pb
			}
			ctx := context.Background()
			lk, err := be.Lock(ctx, "bench", 0)
			if err != nil {
				b.Fatal(err)
			}
			defer lk.Release()
			j, err := be.OpenJournal(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer j.Close()
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rec := state.Record{Type: state.RecordIntent, Name: fmt.Sprintf("c%d", i), Action: state.ActionCreate,
					AlternativeOrderID: fmt.Sprintf("k%d", i), DupCheck: state.DupCheckAlternateID, Product: "ssl_basic", SpecDigest: "sd",
					Request: map[string]any{"certificate": map[string]any{"common_name": "www.example.com"}}}
				start := time.Now()
				if err := j.Append(rec); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, k int) bool { return lat[i] < lat[k] })
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds())
			}
			b.ReportMetric(pct(0.50), "p50-µs")
			b.ReportMetric(pct(0.99), "p99-µs")
		})
	}
}

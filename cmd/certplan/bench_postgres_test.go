package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
	"github.com/certplan/certplan/pkg/state/backends"
	"github.com/certplan/certplan/pkg/state/pgstate/pgtest"
)

// BenchmarkPlanCommand10kPostgres is BenchmarkPlanCommand10k with the
// 10,000-entry state loaded from PostgreSQL (moved there with state
// migrate). Goal (issue 13): within 1.5x of the file backend. Compare:
//
//	go test -run '^$' -bench 'BenchmarkPlanCommand10k' -benchtime 5x ./cmd/certplan
func BenchmarkPlanCommand10kPostgres(b *testing.B) {
	const n = 10_000
	dir := b.TempDir()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	writeManifests(b, dir, n, 100)
	res, err := spec.Load([]string{dir})
	must(err)
	if res.HasErrors() || len(res.Certificates) != n {
		b.Fatalf("%d certificates", len(res.Certificates))
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	st := state.New()
	for i, c := range res.Certificates {
		till := now.AddDate(0, 6, 0)
		if i%10 == 0 {
			till = now.AddDate(0, 0, 10)
		}
		st.Certificates[c.Name] = &state.Certificate{
			Product: string(c.Product), SpecDigest: plan.SpecDigest(c), Request: c.Order,
			OrderID: int64(1_000_000 + i), Status: state.StatusIssued, Action: state.ActionCreate,
			AlternativeOrderID: plan.AlternativeOrderID(c.Name, c.Product, plan.SpecDigest(c), "initial"),
			CertificateID:      int64(2_000_000 + i), ValidTill: till.Format("2006-01-02"), UpdatedAt: now,
		}
	}
	filePath := filepath.Join(b.TempDir(), "certplan.state.json")
	must(state.Save(filePath, st))
	url := pgtest.Schema(b)
	to, err := backends.Open(url)
	must(err)
	_, err = backends.Migrate(context.Background(), state.NewFileBackend(filePath), to, 0)
	must(err)

	args := []string{"plan", dir, "--refresh=false", "--now", now.Format(time.RFC3339), "--state", url}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var out strings.Builder
		if code := runMain(args, strings.NewReader(""), &out, io.Discard); code != exitOK {
			b.Fatalf("plan exited %d", code)
		}
		if !strings.Contains(out.String(), "Plan: 0 to create, 1000 to renew, 9000 unchanged.") {
			tail := out.String()
			b.Fatalf("unexpected plan summary: %s", tail[max(0, len(tail)-300):])
		}
	}
}

package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	dir, st, now := planBenchProject(b)
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
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
		checkPlanBenchSummary(b, out.String())
	}
}

package main

import (
	"io"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certplan/certplan/internal/projectgen"
	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// BenchmarkPlanCommand10k runs `certplan plan --refresh=false` end to end:
// 10,000 manifests against a 10,000-entry state (every certificate issued
// and up to date, 1,000 inside their renewal window), from reading the files
// to rendering the text plan. The project is shaped like a real repository
// (internal/projectgen: one manifest file and one distinct CSR per
// certificate) and, with the state, is written before the timer starts.
// Measured figures: docs/architecture.md, "What a large repository costs";
// scripts/bench-compare.sh compares two revisions.
func BenchmarkPlanCommand10k(b *testing.B) {
	dir, st, now := planBenchProject(b)
	statePath := filepath.Join(dir, "certplan.state.json")
	if err := state.Save(statePath, st); err != nil {
		b.Fatal(err)
	}

	args := []string{"plan", dir, "--refresh=false", "--now", now.Format(time.RFC3339)}
	b.ReportAllocs()
	// The machine may be shared: also report the process's CPU time per op
	// (user+system, all threads, including GC), as BenchmarkLoad10k does.
	cpu0 := cpuTime()
	for b.Loop() {
		var out strings.Builder
		if code := runMain(args, strings.NewReader(""), &out, io.Discard); code != exitOK {
			b.Fatalf("plan exited %d", code)
		}
		checkPlanBenchSummary(b, out.String())
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

// planBenchProject writes the 10,000-manifest project of the plan benchmarks
// into a temporary directory and returns it with the matching state (not yet
// stored) and the planning time.
func planBenchProject(b *testing.B) (string, *state.State, time.Time) {
	const n = 10_000
	dir := b.TempDir()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(projectgen.Write(dir, n))
	res, err := spec.Load([]string{dir})
	must(err)
	if res.HasErrors() || len(res.Certificates) != n {
		b.Fatalf("%d certificates, errors: %v", len(res.Certificates), res.Diagnostics[:min(3, len(res.Diagnostics))])
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	st := state.New()
	for i, c := range res.Certificates {
		till := now.AddDate(0, 6, 0)
		if i%10 == 0 {
			till = now.AddDate(0, 0, 10) // inside renewBefore: planned as renewals
		}
		st.Certificates[c.Name] = &state.Certificate{
			Product: string(c.Product), SpecDigest: plan.SpecDigest(c), Request: c.Order,
			OrderID: int64(1_000_000 + i), Status: state.StatusIssued, Action: state.ActionCreate,
			AlternativeOrderID: plan.AlternativeOrderID(c.Name, c.Product, plan.SpecDigest(c), "initial"),
			CertificateID:      int64(2_000_000 + i), ValidTill: till.Format("2006-01-02"), UpdatedAt: now,
		}
	}
	return dir, st, now
}

// checkPlanBenchSummary fails unless the plan benchmark's output ends with
// the expected summary: 1,000 renewals, the rest unchanged.
func checkPlanBenchSummary(b *testing.B, out string) {
	if !strings.Contains(out, "Plan: 0 to create, 1000 to renew, 9000 unchanged.") {
		b.Fatalf("unexpected plan summary: %s", out[max(0, len(out)-300):])
	}
}

// cpuTime is the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

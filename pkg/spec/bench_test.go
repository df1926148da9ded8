package spec

import (
	"syscall"
	"testing"
	"time"

	"github.com/certplan/certplan/internal/projectgen"
)

// BenchmarkLoad10k loads and validates 10,000 manifests as `certplan validate`
// does, in a project shaped like a real repository: one manifest file and one
// distinct CSR (so one signature check) per certificate, 100 to a directory,
// and a project Defaults file. The project is generated before the timer
// starts (internal/projectgen).
// Measured figures: docs/architecture.md, "What a large repository costs";
// scripts/bench-compare.sh compares two revisions.
func BenchmarkLoad10k(b *testing.B) {
	dir := b.TempDir()
	const n = 10_000
	if err := projectgen.Write(dir, n); err != nil {
		b.Fatal(err)
	}
	if _, err := embeddedValidator(); err != nil { // compiled once per process, not per Load
		b.Fatal(err)
	}
	b.ReportAllocs()
	// The machine is shared: wall time (ns/op) varies with other load, so
	// also report the CPU time the process used per Load (user+system, all
	// threads, including GC); on an idle machine wall time is about that
	// divided by GOMAXPROCS.
	cpu0 := cpuTime()
	for b.Loop() {
		res, err := Load([]string{dir})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Diagnostics) != 0 || len(res.Certificates) != n { // not even a warning: CSR names match
			b.Fatalf("got %d certificates and %d diagnostics, first %v", len(res.Certificates), len(res.Diagnostics), res.Diagnostics[:min(1, len(res.Diagnostics))])
		}
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestBenchmarkProjectLoadsClean keeps BenchmarkLoad10k's project valid in
// ordinary test runs: it loads with no diagnostic at all.
func TestBenchmarkProjectLoadsClean(t *testing.T) {
	dir := t.TempDir()
	if err := projectgen.Write(dir, 150); err != nil {
		t.Fatal(err)
	}
	res, err := Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Diagnostics) != 0 || len(res.Certificates) != 150 {
		t.Fatalf("got %d certificates and diagnostics %v", len(res.Certificates), diagStrings(res.Diagnostics))
	}
}

package state

import (
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cpuMeter reports process CPU time per op besides wall time: the machine is
// shared, so wall time alone says more about the neighbours than about us.
func cpuMeter(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru unix.Rusage
		unix.Getrusage(unix.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	b.ResetTimer()
	return func() {
		b.StopTimer()
		b.ReportMetric(float64((cpu()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
	}
}

// bigState has n certificates, each with a request body and one history entry.
func bigState(n int) *State {
	s := New()
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("cert-%05d", i)
		k1, k2 := "k1"+name, "k2"+name
		s.Fold([]Record{
			intent(name, ActionCreate, k1, 0), outcome(name, ActionCreate, k1, 1, issued(int64(2*i+1), k1)),
			intent(name, ActionRenew, k2, 2), outcome(name, ActionRenew, k2, 3, issued(int64(2*i+2), k2)),
		})
	}
	return s
}

func BenchmarkSave10k(b *testing.B) {
	s := bigState(10000)
	path := b.TempDir() + "/certplan.state.json"
	done := cpuMeter(b)
	for b.Loop() {
		if err := Save(path, s); err != nil {
			b.Fatal(err)
		}
	}
	done()
	fi, _ := os.Stat(path)
	b.ReportMetric(float64(fi.Size())/(1<<20), "MiB/file")
}

func BenchmarkLoad10k(b *testing.B) {
	path := b.TempDir() + "/certplan.state.json"
	if err := Save(path, bigState(10000)); err != nil {
		b.Fatal(err)
	}
	done := cpuMeter(b)
	for b.Loop() {
		if _, err := load(path); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

// Replaying the journal of a 1,000-order apply onto a 10,000-entry state.
func BenchmarkLoadReplay1kOnto10k(b *testing.B) {
	path := b.TempDir() + "/certplan.state.json"
	if err := Save(path, bigState(10000)); err != nil {
		b.Fatal(err)
	}
	var recs []Record
	for i := 0; i < 1000; i++ {
		name := fmt.Sprintf("cert-%05d", i)
		k := "k3" + name
		recs = append(recs, intent(name, ActionRenew, k, 5), outcome(name, ActionRenew, k, 6, pendingFacts(int64(100000+i), k)))
	}
	writeJournal(&testing.T{}, path, recs...)
	done := cpuMeter(b)
	for b.Loop() {
		l, err := load(path)
		if err != nil || l.Replayed != 2000 {
			b.Fatal(err)
		}
	}
	done()
}

// One writer: each Append is a write and an fsync.
func BenchmarkJournalAppend(b *testing.B) {
	j, err := openJournal(b.TempDir() + "/certplan.state.json")
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	rec := intent("shop", ActionCreate, "k1", 0)
	for b.Loop() {
		if err := j.Append(rec); err != nil {
			b.Fatal(err)
		}
	}
}

// Concurrent writers (apply --parallelism): Appends share fsyncs.
func BenchmarkJournalAppendParallel8(b *testing.B) {
	j, err := openJournal(b.TempDir() + "/certplan.state.json")
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	var n atomic.Int64
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		rec := intent(fmt.Sprintf("c%d", n.Add(1)), ActionCreate, "k1", 0)
		for pb.Next() {
			if err := j.Append(rec); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// The duplicate-key check alone, on the snapshot BenchmarkLoad10k reads:
// compare with BenchmarkParse10k (which includes it).
func BenchmarkKeyCheck10k(b *testing.B) {
	data, err := Marshal(bigState(10000))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := stateKeys.Check(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse10k(b *testing.B) {
	data, err := Marshal(bigState(10000))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

package state

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseState: Parse never panics, and whatever it accepts survives a
// Marshal/Parse round trip byte for byte.
func FuzzParseState(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "state.golden.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add([]byte(`{"version": 1, "lineage": "0b6c1f7e-3a52-4d8e-9f11-2c4b5a6d7e80"}`))
	f.Add([]byte(`{"version": 2}`))
	f.Add([]byte(`{"version": 1, "lineage": "0b6c1f7e-3a52-4d8e-9f11-2c4b5a6d7e80", "certificates": {"a": {"request": {"n": 1e400}, "history": [{"at": "2026-01-01T00:00:00+05:00"}]}}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		once, err := Marshal(s)
		if err != nil {
			t.Fatalf("Parse accepted what Marshal cannot write: %v", err)
		}
		s2, err := Parse(once)
		if err != nil {
			t.Fatalf("Parse rejects what Marshal wrote: %v\n%s", err, once)
		}
		twice, err := Marshal(s2)
		if err != nil || !bytes.Equal(once, twice) {
			t.Fatalf("round trip not stable (%v):\n%s\n---\n%s", err, once, twice)
		}
	})
}

// FuzzReplay: journal bytes never panic the reader or Fold, and folding what
// the reader accepts is idempotent (a crash after the snapshot is written
// replays the journal onto it).
func FuzzReplay(f *testing.F) {
	var stream []byte
	for i, r := range crashJournal() {
		r.Seq, r.Time = int64(i+1), at(i)
		line, err := encodeRecord(r)
		if err != nil {
			f.Fatal(err)
		}
		stream = append(stream, line...)
	}
	f.Add(stream)
	f.Add(stream[:len(stream)/2])
	legacy, _ := encodeRecord(failure("shop", ActionRenew, "", 3, false, true))
	f.Add(legacy)
	back, _ := encodeRecord(outcome("shop", ActionCreate, "k-shop1", 9, issued(201, "k-shop1")))
	f.Add(append(append([]byte{}, legacy...), back...))
	f.Add([]byte("{\"seq\":1}\n\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := scanJournal("fuzz", data)
		if err != nil {
			return
		}
		if sc.valid > int64(len(data)) || (!sc.torn && sc.valid != int64(len(data))) {
			t.Fatalf("valid prefix %d of %d bytes, torn %v", sc.valid, len(data), sc.torn)
		}
		for _, s := range []*State{New(), testState()} {
			s.Fold(sc.recs)
			once, err := Marshal(s)
			if err != nil {
				t.Fatalf("folded state cannot be written: %v", err)
			}
			if s.Fold(sc.recs) {
				t.Errorf("second Fold reported a change")
			}
			twice, _ := Marshal(s)
			if !bytes.Equal(once, twice) {
				t.Fatalf("Fold not idempotent:\n%s\n---\n%s", once, twice)
			}
			if _, err := Parse(once); err != nil {
				t.Fatalf("folded state does not parse: %v", err)
			}
		}
	})
}

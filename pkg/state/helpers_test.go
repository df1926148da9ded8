package state

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

func ptime(t time.Time) *time.Time { return &t }

// intent is an intent as format version 2 writes it: a keyed one is checked
// by alternate id, a keyless one (legacy v1) cannot be checked.
func intent(name string, action Action, key string, minute int) Record {
	check := DupCheckAlternateID
	if key == "" {
		check = DupCheckNone
	}
	return Record{
		Type: RecordIntent, Name: name, Action: action, AlternativeOrderID: key, DupCheck: check,
		RequestDigest: "rd-" + key, Product: "ssl_basic", SpecDigest: "sd-" + key,
		Request: map[string]any{"certificate": map[string]any{"common_name": name + ".example.com"}},
		Time:    at(minute),
	}
}

func outcome(name string, action Action, key string, minute int, f OrderFacts) Record {
	return Record{Type: RecordOutcome, Name: name, Action: action, AlternativeOrderID: key, Order: &f, Time: at(minute)}
}

func failure(name string, action Action, key string, minute int, nothing, unknown bool) Record {
	return Record{Type: RecordFailure, Name: name, Action: action, AlternativeOrderID: key,
		NothingCreated: nothing, Unknown: unknown, Error: "boom", Time: at(minute)}
}

func issued(id int64, key string) OrderFacts {
	return OrderFacts{OrderID: id, AlternativeOrderID: key, Status: StatusIssued, CertificateID: id * 10,
		OrderValidFrom: "2026-03-01", OrderValidTill: "2027-03-01", ValidFrom: "2026-03-01", ValidTill: "2027-03-01"}
}

func pendingFacts(id int64, key string) OrderFacts {
	return OrderFacts{OrderID: id, AlternativeOrderID: key, Status: StatusPending, RequestID: id + 1000, RequestStatus: "pending"}
}

// testState is a fixed state with a lineage, for golden and round-trip tests.
func testState() *State {
	s := &State{Version: FormatVersion, Lineage: "0b6c1f7e-3a52-4d8e-9f11-2c4b5a6d7e80", Serial: 7,
		Certificates: map[string]*Certificate{}}
	s.Fold([]Record{
		intent("api", ActionCreate, "k-api", 0),
		outcome("api", ActionCreate, "k-api", 1, issued(101, "k-api")),
		intent("shop", ActionCreate, "k-shop1", 2),
		outcome("shop", ActionCreate, "k-shop1", 3, issued(201, "k-shop1")),
		intent("shop", ActionRenew, "k-shop2", 4),
		outcome("shop", ActionRenew, "k-shop2", 5, pendingFacts(202, "k-shop2")),
	})
	return s
}

func tempState(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "certplan.state.json")
}

func mustMarshal(t *testing.T, s *State) []byte {
	t.Helper()
	b, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func writeJournal(t *testing.T, statePath string, recs ...Record) {
	t.Helper()
	var out []byte
	for i, r := range recs {
		if r.Seq == 0 {
			r.Seq = int64(i + 1)
		}
		line, err := encodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, line...)
	}
	if err := os.WriteFile(JournalPath(statePath), out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// The file backend's operations on the state at path, as cmd uses them.
func load(path string) (*Loaded, error) { return NewFileBackend(path).Load(context.Background()) }

func commit(path string, l *Loaded) error {
	return NewFileBackend(path).Commit(context.Background(), l)
}

func lockFile(path, op string, timeout time.Duration) (Lock, error) {
	return NewFileBackend(path).Lock(context.Background(), op, timeout)
}

func forceUnlockFile(path string) (*LockInfo, error) {
	return NewFileBackend(path).ForceUnlock(context.Background())
}

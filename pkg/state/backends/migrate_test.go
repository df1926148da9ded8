package backends

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/state"
	"github.com/certplan/certplan/pkg/state/pgstate/pgtest"
)

var bg = context.Background()

type kind string

const (
	file     kind = "file"
	postgres kind = "postgres"
)

func newStore(t *testing.T, k kind) state.Backend {
	t.Helper()
	loc := filepath.Join(t.TempDir(), "certplan.state.json")
	if k == postgres {
		loc = pgtest.Schema(t)
	}
	b, err := Open(loc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fill commits certificates a and b and leaves a journal with a's outcome
// issued (and, if pending, an open intent for c).
func fill(t *testing.T, b state.Backend, pending bool) string {
	t.Helper()
	lk, err := b.Lock(bg, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Release()
	l, err := b.Load(bg)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, name := range []string{"a", "b"} {
		if err := l.State.SetOrder(name, state.OrderFacts{OrderID: int64(i + 1), Status: state.StatusPending}, "ssl_basic", at); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(bg, l); err != nil {
		t.Fatal(err)
	}
	j, err := b.OpenJournal(bg)
	if err != nil {
		t.Fatal(err)
	}
	recs := []state.Record{{Type: state.RecordOutcome, Name: "a", Action: state.ActionCreate, AlternativeOrderID: "ka",
		Order: &state.OrderFacts{OrderID: 1, AlternativeOrderID: "ka", Status: state.StatusIssued}}}
	if pending {
		recs = append(recs, state.Record{Type: state.RecordIntent, Name: "c", Action: state.ActionCreate, AlternativeOrderID: "kc",
			DupCheck: state.DupCheckAlternateID, Product: "ssl_basic", SpecDigest: "sd"})
	}
	for _, r := range recs {
		if err := j.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	return l.State.Lineage
}

func TestMigrate(t *testing.T) {
	pairs := [][2]kind{{file, file}}
	if os.Getenv(pgtest.Env) != "" || os.Getenv("CI") == "true" {
		pairs = append(pairs, [2]kind{file, postgres}, [2]kind{postgres, file}, [2]kind{postgres, postgres})
	}
	for _, p := range pairs {
		t.Run(string(p[0])+" to "+string(p[1]), func(t *testing.T) {
			t.Run("copies into an empty store, folding the journal", func(t *testing.T) {
				from, to := newStore(t, p[0]), newStore(t, p[1])
				lineage := fill(t, from, false)
				res, err := Migrate(bg, from, to, 0)
				if err != nil {
					t.Fatal(err)
				}
				if res.Lineage != lineage || res.Certificates != 2 || res.Folded != 1 || res.AlreadyThere || res.ToSerial != 1 {
					t.Errorf("result %+v", res)
				}
				got, err := to.Load(bg)
				if err != nil {
					t.Fatal(err)
				}
				if got.State.Lineage != lineage || got.State.Certificates["a"].Status != state.StatusIssued || got.Replayed != 0 {
					t.Errorf("copy: lineage %s, a %+v, replayed %d", got.State.Lineage, got.State.Certificates["a"], got.Replayed)
				}
				// Again: the same state is there already, nothing is written.
				again, err := Migrate(bg, from, to, 0)
				if err != nil || !again.AlreadyThere {
					t.Errorf("second migrate = %+v, %v; want already there", again, err)
				}
			})
			t.Run("refuses a destination of another lineage", func(t *testing.T) {
				from, to := newStore(t, p[0]), newStore(t, p[1])
				fill(t, from, false)
				other := fill(t, to, false)
				_, err := Migrate(bg, from, to, 0)
				if err == nil || !strings.Contains(err.Error(), "refusing to overwrite") || !strings.Contains(err.Error(), other) {
					t.Fatalf("Migrate over another lineage = %v", err)
				}
				if l, _ := to.Load(bg); l.State.Lineage != other {
					t.Errorf("the destination was overwritten: lineage %s", l.State.Lineage)
				}
			})
			t.Run("refuses pending intents", func(t *testing.T) {
				from, to := newStore(t, p[0]), newStore(t, p[1])
				fill(t, from, true)
				_, err := Migrate(bg, from, to, 0)
				if err == nil || !strings.Contains(err.Error(), "certplan apply") {
					t.Fatalf("Migrate with a pending intent = %v", err)
				}
				if l, _ := to.Load(bg); l.Exists {
					t.Errorf("the destination was written")
				}
			})
			t.Run("refuses an empty source", func(t *testing.T) {
				from, to := newStore(t, p[0]), newStore(t, p[1])
				if _, err := Migrate(bg, from, to, 0); err == nil || !strings.Contains(err.Error(), "holds no state") {
					t.Fatalf("Migrate of nothing = %v", err)
				}
			})
		})
	}
}

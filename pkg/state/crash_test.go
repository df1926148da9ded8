package state

import (
	"bytes"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// crashJournal is an apply's journal: creates, a renewal, --wait updates, a
// failure that created nothing, one whose outcome is unknown and one intent
// that never got an answer.
func crashJournal() []Record {
	return []Record{
		intent("a", ActionCreate, "ka", 0),
		intent("b", ActionCreate, "kb", 0),
		outcome("b", ActionCreate, "kb", 0, pendingFacts(11, "kb")),
		intent("shop", ActionRenew, "kshop3", 0),
		outcome("a", ActionCreate, "ka", 0, issued(10, "ka")),
		intent("c", ActionCreate, "kc", 0),
		failure("c", ActionCreate, "kc", 0, true, false),
		outcome("shop", ActionRenew, "kshop3", 0, issued(203, "kshop3")),
		intent("d", ActionCreate, "kd", 0),
		failure("d", ActionCreate, "kd", 0, false, false),
		{Type: RecordOutcome, Name: "b", Action: ActionCreate, Order: ptrFacts(issued(11, "kb"))},
		intent("e", ActionCreate, "ke", 0),
	}
}

// kill -9 can stop the journal at any byte. For every prefix of a real
// journal, Load must succeed, fold exactly the complete records (losing none
// of them), report a torn tail iff the cut is mid-line, and leave a state
// that Commit and further appends carry on from.
func TestCrashAtEveryJournalByte(t *testing.T) {
	src := tempState(t)
	j := openTestJournal(t, src)
	recs := crashJournal()
	for i := range recs {
		if err := j.Append(recs[i]); err != nil {
			t.Fatal(err)
		}
		recs[i].Seq, recs[i].Time = int64(i+1), at(i)
	}
	j.Close()
	stream, err := os.ReadFile(JournalPath(src))
	if err != nil {
		t.Fatal(err)
	}
	base := mustMarshal(t, testState())

	path := tempState(t)
	dirty := true // the snapshot must be rewritten
	for cut := 0; cut <= len(stream); cut++ {
		prefix := stream[:cut]
		if dirty {
			os.Remove(BackupPath(path))
			if err := os.WriteFile(path, base, 0o600); err != nil {
				t.Fatal(err)
			}
			dirty = false
		}
		// Remove and create rather than truncate: ext4 flushes on truncate.
		os.Remove(JournalPath(path))
		if err := os.WriteFile(JournalPath(path), prefix, 0o600); err != nil {
			t.Fatal(err)
		}
		l, err := load(path)
		if err != nil {
			t.Fatalf("cut at byte %d: Load: %v", cut, err)
		}
		complete := bytes.Count(prefix, []byte("\n"))
		torn := cut > 0 && prefix[cut-1] != '\n'
		if l.Replayed != complete || l.TornTail != torn {
			t.Fatalf("cut at byte %d: replayed %d torn %v, want %d %v", cut, l.Replayed, l.TornTail, complete, torn)
		}
		want := testState()
		_, wantPending := want.fold(recs[:complete])
		if diff := cmp.Diff(string(mustMarshal(t, want)), string(mustMarshal(t, l.State))); diff != "" {
			t.Fatalf("cut at byte %d: state (-want +got):\n%s", cut, diff)
		}
		if diff := cmp.Diff(wantPending, l.Pending); diff != "" {
			t.Fatalf("cut at byte %d: pending (-want +got):\n%s", cut, diff)
		}
		for _, r := range recs[:complete] {
			if r.Type == RecordOutcome && !holdsOrder(l.State.Certificates[r.Name], r.Order.OrderID) {
				t.Fatalf("cut at byte %d: order %d of %s lost", cut, r.Order.OrderID, r.Name)
			}
		}

		// Carrying on: at every record boundary and at every 97th torn cut
		// (each costs several fsyncs).
		if torn && cut%97 != 0 {
			continue
		}
		dirty = true
		if err := commit(path, l); err != nil {
			t.Fatalf("cut at byte %d: Commit: %v", cut, err)
		}
		j, err := openJournal(path)
		if err != nil {
			t.Fatalf("cut at byte %d: OpenJournal: %v", cut, err)
		}
		if err := j.Append(intent("z", ActionCreate, "kz", 0)); err != nil {
			t.Fatal(err)
		}
		j.Close()
		after, err := load(path)
		if err != nil {
			t.Fatalf("cut at byte %d: Load after carrying on: %v", cut, err)
		}
		if after.TornTail || len(after.Pending) != len(wantPending)+1 {
			t.Fatalf("cut at byte %d: after carrying on: torn %v pending %v", cut, after.TornTail, after.Pending)
		}
		if !bytes.Equal(mustMarshal(t, after.State), mustMarshal(t, l.State)) {
			t.Fatalf("cut at byte %d: state changed by Commit and reload", cut)
		}
	}
}

func holdsOrder(c *Certificate, id int64) bool {
	if c == nil {
		return false
	}
	if c.OrderID == id {
		return true
	}
	for _, h := range c.History {
		if h.OrderID == id {
			return true
		}
	}
	return false
}

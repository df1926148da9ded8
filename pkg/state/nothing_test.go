package state

import "testing"

// A first apply whose orders all failed with nothing created journals an
// intent and its failure, which fold into the empty state it started from:
// the commit retires the journal and writes no snapshot, so a refused first
// apply leaves no state file behind. A journal that does change the state
// is written as a snapshot, as before.
func TestCommitOfNothingWritesNoSnapshot(t *testing.T) {
	path := tempState(t)
	writeJournal(t, path, intent("a", ActionCreate, "ka", 0), failure("a", ActionCreate, "ka", 1, true, false))
	l := mustLoad(t, path)
	if err := commit(path, l); err != nil {
		t.Fatal(err)
	}
	if exists(path) || exists(JournalPath(path)) || exists(BackupPath(path)) {
		t.Errorf("after committing a journal that changed nothing: snapshot %v, journal %v, backup %v; want none",
			exists(path), exists(JournalPath(path)), exists(BackupPath(path)))
	}
	if again := mustLoad(t, path); again.Exists || len(again.State.Certificates) != 0 {
		t.Errorf("the state after that: exists %v, %d certificates", again.Exists, len(again.State.Certificates))
	}

	writeJournal(t, path, intent("a", ActionCreate, "ka", 0), outcome("a", ActionCreate, "ka", 1, issued(1, "ka")))
	if err := commit(path, mustLoad(t, path)); err != nil {
		t.Fatal(err)
	}
	if l := mustLoad(t, path); !exists(path) || l.State.Serial != 1 || l.State.Certificates["a"] == nil {
		t.Errorf("a journal that tracks an order: snapshot %v, serial %d", exists(path), l.State.Serial)
	}
}

package state

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustLoad(t *testing.T, path string) *Loaded {
	t.Helper()
	l, err := load(path)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestLoadNothing(t *testing.T) {
	path := tempState(t)
	l := mustLoad(t, path)
	if l.Exists || l.State.Serial != 0 || len(l.State.Certificates) != 0 || l.Replayed != 0 || len(l.Warnings) != 0 {
		t.Errorf("Load of nothing = %+v", l)
	}
	if err := commit(path, l); err != nil {
		t.Fatal(err)
	}
	if exists(path) || exists(JournalPath(path)) {
		t.Errorf("Commit of an untouched empty state wrote files")
	}
}

func TestLoadSnapshotAndJournal(t *testing.T) {
	path := tempState(t)
	base := testState()
	if err := Save(path, base); err != nil {
		t.Fatal(err)
	}
	writeJournal(t, path,
		intent("new", ActionCreate, "kn", 10),
		outcome("new", ActionCreate, "kn", 11, pendingFacts(5, "kn")),
		intent("api", ActionRenew, "ka2", 12),
	)
	l := mustLoad(t, path)
	if !l.Exists || l.Replayed != 3 || l.TornTail || len(l.Warnings) != 0 {
		t.Errorf("Load: exists=%v replayed=%d torn=%v warnings=%v", l.Exists, l.Replayed, l.TornTail, l.Warnings)
	}
	if c := l.State.Certificates["new"]; c == nil || c.OrderID != 5 {
		t.Errorf("outcome not folded: %+v", c)
	}
	if p, ok := l.Pending["api"]; !ok || p.AlternativeOrderID != "ka2" || len(l.Pending) != 1 {
		t.Errorf("Pending = %+v", l.Pending)
	}
	if l.State.Serial != 7 {
		t.Errorf("Load changed the serial to %d", l.State.Serial)
	}
	before, _ := os.ReadFile(path)

	if err := commit(path, l); err != nil {
		t.Fatal(err)
	}
	if l.State.Serial != 8 {
		t.Errorf("serial after Commit = %d, want 8", l.State.Serial)
	}
	if backup, _ := os.ReadFile(BackupPath(path)); !bytes.Equal(backup, before) {
		t.Errorf("backup is not the previous snapshot")
	}
	// The journal now holds only the pending intent.
	data, _ := os.ReadFile(JournalPath(path))
	sc, err := scanJournal("j", data)
	if err != nil || len(sc.recs) != 1 || sc.recs[0].Name != "api" || sc.recs[0].Seq != 3 {
		t.Errorf("compacted journal: %v %+v", err, sc.recs)
	}
	if m := fileMode(t, JournalPath(path)); m != 0o600 {
		t.Errorf("compacted journal mode %o", m)
	}
	again := mustLoad(t, path)
	if diff := cmp.Diff(mustMarshal(t, l.State), mustMarshal(t, again.State)); diff != "" {
		t.Errorf("state after Commit and Load differs:\n%s", diff)
	}
	if len(again.Pending) != 1 || again.Pending["api"].AlternativeOrderID != "ka2" {
		t.Errorf("pending lost by Commit: %+v", again.Pending)
	}
	// Nothing changed: a second Commit writes no snapshot and keeps the serial.
	snap, _ := os.ReadFile(path)
	if err := commit(path, again); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(snap, after) || again.State.Serial != 8 {
		t.Errorf("an unchanged Commit rewrote the snapshot (serial %d)", again.State.Serial)
	}

	// The intent resolves: the journal goes away.
	j := openTestJournal(t, path)
	if err := j.Append(failure("api", ActionRenew, "ka2", 0, true, false)); err != nil {
		t.Fatal(err)
	}
	j.Close()
	final := mustLoad(t, path)
	if len(final.Pending) != 0 {
		t.Errorf("pending = %+v", final.Pending)
	}
	if err := commit(path, final); err != nil {
		t.Fatal(err)
	}
	if exists(JournalPath(path)) || final.State.Serial != 8 {
		t.Errorf("journal left (%v) or serial bumped (%d) for a change-free failure", exists(JournalPath(path)), final.State.Serial)
	}
}

func TestCommitCallerChanges(t *testing.T) {
	path := tempState(t)
	if err := Save(path, testState()); err != nil {
		t.Fatal(err)
	}
	l := mustLoad(t, path)
	l.State.Remove("api")
	if err := commit(path, l); err != nil {
		t.Fatal(err)
	}
	got := mustLoad(t, path)
	if got.State.Serial != 8 || got.State.Certificates["api"] != nil {
		t.Errorf("after Remove+Commit: serial %d, api %v", got.State.Serial, got.State.Certificates["api"])
	}
}

// A first apply killed before any snapshot existed: every Load must agree on
// the lineage (a saved plan records it), and Commit pins it.
func TestJournalOnlyLineageIsStable(t *testing.T) {
	path := tempState(t)
	writeJournal(t, path, intent("a", ActionCreate, "ka", 0), outcome("a", ActionCreate, "ka", 1, issued(1, "ka")))
	l1, l2 := mustLoad(t, path), mustLoad(t, path)
	if l1.State.Lineage != l2.State.Lineage || !isUUID(l1.State.Lineage) || !l1.Exists {
		t.Fatalf("lineages %s and %s", l1.State.Lineage, l2.State.Lineage)
	}
	if err := commit(path, l1); err != nil {
		t.Fatal(err)
	}
	l3 := mustLoad(t, path)
	if l3.State.Lineage != l1.State.Lineage || l3.State.Serial != 1 || exists(JournalPath(path)) {
		t.Errorf("after Commit: lineage %s serial %d journal %v", l3.State.Lineage, l3.State.Serial, exists(JournalPath(path)))
	}
	other := tempState(t)
	writeJournal(t, other, intent("b", ActionCreate, "kb", 0))
	if mustLoad(t, other).State.Lineage == l1.State.Lineage {
		t.Errorf("two different journals gave the same lineage")
	}
}

// kill -9 between "snapshot renamed into place" and "journal removed": the
// next Load replays the journal onto a snapshot that already contains it.
func TestCrashBetweenSnapshotAndJournalRemoval(t *testing.T) {
	path := tempState(t)
	if err := Save(path, testState()); err != nil {
		t.Fatal(err)
	}
	writeJournal(t, path,
		intent("shop", ActionRenew, "k3", 10),
		outcome("shop", ActionRenew, "k3", 11, pendingFacts(203, "k3")),
		outcome("shop", ActionRenew, "k3", 12, issued(203, "k3")),
		intent("old", ActionCreate, "", 13),
		failure("old", ActionCreate, "", 14, false, true),
	)
	l := mustLoad(t, path)
	l.State.Serial++
	if err := Save(path, l.State); err != nil { // Commit's first half
		t.Fatal(err)
	}
	want, _ := os.ReadFile(path)

	again := mustLoad(t, path)
	if got := mustMarshal(t, again.State); !bytes.Equal(got, want) {
		t.Errorf("replaying onto the folded snapshot changed it:\n%s", cmp.Diff(string(want), string(got)))
	}
	if err := commit(path, again); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, want) || exists(JournalPath(path)) {
		t.Errorf("Commit after the crash rewrote the snapshot or left the journal")
	}
}

// kill -9 inside Save, before the rename: a temp file is left beside the
// state; Load ignores it and the next Commit clears it.
func TestCrashInsideSave(t *testing.T) {
	path := tempState(t)
	if err := Save(path, testState()); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-12345")
	if err := os.WriteFile(stale, []byte(`{"version": 1, "lin`), 0o600); err != nil {
		t.Fatal(err)
	}
	writeJournal(t, path, intent("a", ActionCreate, "ka", 0), outcome("a", ActionCreate, "ka", 1, issued(1, "ka")))
	l := mustLoad(t, path)
	if l.State.Serial != 7 || l.State.Certificates["a"] == nil {
		t.Fatalf("Load: serial %d", l.State.Serial)
	}
	if err := commit(path, l); err != nil {
		t.Fatal(err)
	}
	if exists(stale) {
		t.Errorf("stale temp file %s left after Commit", stale)
	}
}

func TestLoadInterruptedLegacyIntentIsUnknownOutcome(t *testing.T) {
	path := tempState(t)
	writeJournal(t, path, intent("old", ActionCreate, "", 0), intent("new", ActionCreate, "kn", 1))
	l := mustLoad(t, path)
	c := l.State.Certificates["old"]
	if c == nil || c.Status != StatusUnknownOutcome || c.OrderID != 0 || c.Product != "ssl_basic" {
		t.Fatalf("old = %+v, want unknown_outcome", c)
	}
	if _, ok := l.Pending["old"]; ok || len(l.Pending) != 1 {
		t.Errorf("Pending = %+v, want only new", l.Pending)
	}
	if len(l.Warnings) != 1 || !strings.Contains(l.Warnings[0], "certplan state set-order old ORDER_ID") {
		t.Errorf("Warnings = %q", l.Warnings)
	}
	if err := commit(path, l); err != nil {
		t.Fatal(err)
	}
	after := mustLoad(t, path)
	if after.State.Certificates["old"].Status != StatusUnknownOutcome || len(after.Pending) != 1 || len(after.Warnings) != 0 {
		t.Errorf("after Commit: %+v pending %v warnings %v", after.State.Certificates["old"], after.Pending, after.Warnings)
	}
}

func TestLoadTornTailAndCorruption(t *testing.T) {
	path := tempState(t)
	writeJournal(t, path, intent("a", ActionCreate, "ka", 0))
	f, _ := os.OpenFile(JournalPath(path), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"seq":2,"type":"outcome","na`)
	f.Close()
	l := mustLoad(t, path)
	if !l.TornTail || l.Replayed != 1 || len(l.Warnings) != 1 ||
		l.Warnings[0] != "ignored a torn last record in certplan.state.json.journal (an apply was killed mid-write)" {
		t.Errorf("torn tail: torn=%v replayed=%d warnings=%q", l.TornTail, l.Replayed, l.Warnings)
	}

	if err := os.WriteFile(JournalPath(path), []byte("{\"seq\":1,\n{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := load(path); err == nil || !strings.Contains(err.Error(), JournalPath(path)+":1") {
		t.Errorf("Load of a corrupt journal: %v", err)
	}
}

func TestLoadWarnsAboutMissingStateWithBackup(t *testing.T) {
	path := tempState(t)
	Save(path, testState())
	Save(path, testState())
	os.Remove(path)
	l := mustLoad(t, path)
	if l.Exists || len(l.Warnings) != 1 || !strings.Contains(l.Warnings[0], "restore it from the backup") {
		t.Errorf("warnings = %q", l.Warnings)
	}
}

func TestCommitRefusesJournalChangedSinceLoad(t *testing.T) {
	path := tempState(t)
	writeJournal(t, path, intent("a", ActionCreate, "ka", 0))
	l := mustLoad(t, path)
	j := openTestJournal(t, path)
	j.Append(outcome("a", ActionCreate, "ka", 0, issued(1, "ka")))
	j.Close()
	err := commit(path, l)
	if err == nil || !strings.Contains(err.Error(), "changed since the state was loaded") {
		t.Fatalf("Commit = %v", err)
	}
	if exists(path) {
		t.Errorf("Commit wrote a snapshot despite the refusal")
	}
	if err := commit(path, nil); err == nil {
		t.Error("commit(nil) succeeded")
	}
}

func TestCommitSaveFailureKeepsJournal(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "certplan.state.json")
	writeJournal(t, path, intent("a", ActionCreate, "ka", 0), outcome("a", ActionCreate, "ka", 1, issued(1, "ka")))
	l := mustLoad(t, path)
	l.State.Certificates["a"].Request = map[string]any{"f": func() {}}
	if err := commit(path, l); err == nil {
		t.Fatal("Commit of an unencodable state succeeded")
	}
	if !exists(JournalPath(path)) || exists(path) || l.State.Serial != 0 {
		t.Errorf("failed Commit: journal kept %v, snapshot written %v, serial %d", exists(JournalPath(path)), exists(path), l.State.Serial)
	}
}

// Load decides "unknown outcome" from the intent's duplicate check, not from
// a missing key: a keyless reissue intent (csr_match) is resumable, and
// records written by format version 1, which name no check, are read as
// version 1 read them.
func TestLoadInterruptedIntentByDupCheck(t *testing.T) {
	tests := []struct {
		name        string
		key         string
		check       DupCheck
		wantPending bool
	}{
		{"v2 alternate_id", "k1", DupCheckAlternateID, true},
		{"v2 csr_match without a key (reissue)", "", DupCheckCSRMatch, true},
		{"v2 none (legacy)", "", DupCheckNone, false},
		{"v1 record with a key", "k1", "", true},
		{"v1 record without a key (legacy)", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tempState(t)
			in := intent("c", ActionCreate, tt.key, 0)
			in.DupCheck = tt.check
			writeJournal(t, path, in)
			l := mustLoad(t, path)
			p, pending := l.Pending["c"]
			if pending != tt.wantPending {
				t.Fatalf("pending = %v (%+v), want %v", pending, p, tt.wantPending)
			}
			c := l.State.Certificates["c"]
			if tt.wantPending {
				if c != nil || len(l.Warnings) != 0 || p.DuplicateCheck() == DupCheckNone {
					t.Errorf("resumable intent: certificate %+v, warnings %q, check %q", c, l.Warnings, p.DuplicateCheck())
				}
				return
			}
			if c == nil || c.Status != StatusUnknownOutcome || len(l.Warnings) != 1 {
				t.Errorf("uncheckable intent: certificate %+v, warnings %q; want unknown_outcome and a warning", c, l.Warnings)
			}
		})
	}
}

func TestRecordDuplicateCheck(t *testing.T) {
	tests := []struct {
		rec  Record
		want DupCheck
	}{
		{Record{Type: RecordIntent, AlternativeOrderID: "k"}, DupCheckAlternateID},
		{Record{Type: RecordIntent}, DupCheckNone},
		{Record{Type: RecordOutcome, Order: &OrderFacts{AlternativeOrderID: "k"}}, DupCheckAlternateID},
		{Record{Type: RecordIntent, DupCheck: DupCheckCSRMatch}, DupCheckCSRMatch},
		{Record{Type: RecordIntent, AlternativeOrderID: "k", DupCheck: DupCheckNone}, DupCheckNone},
	}
	for _, tt := range tests {
		if got := tt.rec.DuplicateCheck(); got != tt.want {
			t.Errorf("%+v: DuplicateCheck() = %q, want %q", tt.rec, got, tt.want)
		}
	}
}

// Load takes no lock, so an apply may commit while a plan reads: the
// snapshot it read must not be paired with the journal after the commit
// retired it (the orders of that journal would vanish from the plan).
func TestLoadDuringCommitIsConsistent(t *testing.T) {
	path := tempState(t)
	if err := Save(path, testState()); err != nil {
		t.Fatal(err)
	}
	writeJournal(t, path, intent("new", ActionCreate, "k-new", 10), outcome("new", ActionCreate, "k-new", 11, issued(900, "k-new")))
	commits := 0
	hook := func() {
		commits++
		// Another run folds the journal: new snapshot, journal gone.
		afterSnapshotRead = nil
		l, err := load(path)
		if err == nil {
			err = commit(path, l)
		}
		if err != nil {
			t.Error(err)
		}
	}
	afterSnapshotRead = hook
	t.Cleanup(func() { afterSnapshotRead = nil })
	l, err := load(path)
	if err != nil {
		t.Fatal(err)
	}
	if commits != 1 {
		t.Fatalf("the commit ran %d times", commits)
	}
	if c := l.State.Certificates["new"]; c == nil || c.OrderID != 900 {
		t.Errorf("the order folded by the concurrent commit is missing: %+v", c)
	}
	if l.State.Serial != testState().Serial+1 {
		t.Errorf("loaded serial %d, want the committed %d", l.State.Serial, testState().Serial+1)
	}
}

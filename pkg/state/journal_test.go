package state

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock returns t0, t0+1m, t0+2m, ... on successive calls.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	n := 0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		n++
		return at(n - 1)
	}
}

func openTestJournal(t *testing.T, statePath string) *Journal {
	t.Helper()
	j, err := openJournal(statePath)
	if err != nil {
		t.Fatal(err)
	}
	j.Now = fakeClock()
	return j
}

func TestJournalAppend(t *testing.T) {
	path := tempState(t)
	j := openTestJournal(t, path)
	recs := []Record{
		intent("shop", ActionCreate, "k1", 99), // Time is overwritten by Append
		outcome("shop", ActionCreate, "k1", 99, issued(1, "k1")),
	}
	for _, r := range recs {
		if err := j.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if m := fileMode(t, JournalPath(path)); m != 0o600 {
		t.Errorf("journal mode %o, want 600", m)
	}
	data, _ := os.ReadFile(JournalPath(path))
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) != 3 || lines[2] != "" {
		t.Fatalf("journal is not two newline-terminated lines:\n%s", data)
	}
	sc, err := scanJournal("j", data)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range sc.recs {
		if r.Seq != int64(i+1) || !r.Time.Equal(at(i)) || r.Type != recs[i].Type {
			t.Errorf("record %d: seq %d time %s type %s", i, r.Seq, r.Time, r.Type)
		}
	}

	// Reopening continues the numbering.
	j = openTestJournal(t, path)
	if err := j.Append(failure("api", ActionCreate, "ka", 0, true, false)); err != nil {
		t.Fatal(err)
	}
	j.Close()
	data, _ = os.ReadFile(JournalPath(path))
	if sc, _ := scanJournal("j", data); len(sc.recs) != 3 || sc.recs[2].Seq != 3 {
		t.Errorf("after reopen: %+v", sc.recs)
	}
}

func TestJournalRefusesBadRecords(t *testing.T) {
	path := tempState(t)
	j := openTestJournal(t, path)
	defer j.Close()
	for _, r := range []Record{
		{Type: RecordIntent, Action: ActionCreate},             // no name
		{Type: RecordOutcome, Name: "a", Action: ActionCreate}, // no order
		{Type: "rollback", Name: "a", Action: ActionCreate},    // unknown type
		{Type: RecordIntent, Name: "a", Action: ActionNoOp},    // not an action apply journals
		{Type: RecordIntent, Name: "a", Action: ActionCreate, DupCheck: DupCheckNone, Request: map[string]any{"x": make(chan int)}},
		{Type: RecordIntent, Name: "a", Action: ActionCreate, AlternativeOrderID: "k"},                           // names no dup_check
		{Type: RecordIntent, Name: "a", Action: ActionCreate, DupCheck: DupCheckAlternateID},                     // alternate_id without a key
		{Type: RecordIntent, Name: "a", Action: ActionCreate, AlternativeOrderID: "k", DupCheck: "serial_match"}, // unknown check
	} {
		if err := j.Append(r); err == nil {
			t.Errorf("Append(%+v) succeeded", r)
		}
	}
	if err := j.Append(intent("a", ActionCreate, "k", 0)); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(JournalPath(path))
	if sc, err := scanJournal("j", data); err != nil || len(sc.recs) != 1 || sc.recs[0].Seq != 1 {
		t.Errorf("journal after refused records: %v %+v", err, sc.recs)
	}
	j.Close()
	if err := j.Append(intent("a", ActionCreate, "k", 0)); err == nil {
		t.Error("Append after Close succeeded")
	}
}

func TestJournalConcurrentAppend(t *testing.T) {
	path := tempState(t)
	j := openTestJournal(t, path)
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				name := fmt.Sprintf("c%d-%d", w, i)
				errs <- j.Append(intent(name, ActionCreate, "k"+name, 0))
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	data, _ := os.ReadFile(JournalPath(path))
	sc, err := scanJournal("j", data)
	if err != nil || sc.torn {
		t.Fatalf("scan: %v torn=%v", err, sc.torn)
	}
	seen := map[int64]bool{}
	for _, r := range sc.recs {
		seen[r.Seq] = true
	}
	if len(sc.recs) != writers*each || len(seen) != writers*each || sc.maxSeq != writers*each {
		t.Errorf("%d records, %d distinct seqs, max %d; want %d", len(sc.recs), len(seen), sc.maxSeq, writers*each)
	}
}

func TestScanJournal(t *testing.T) {
	line := func(r Record, seq int64) string {
		r.Seq = seq
		b, err := encodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	a := line(intent("a", ActionCreate, "ka", 0), 1)
	b := line(outcome("a", ActionCreate, "ka", 1, issued(1, "ka")), 2)
	tests := []struct {
		name    string
		data    string
		recs    int
		torn    bool
		wantErr string
	}{
		{"empty", "", 0, false, ""},
		{"complete", a + b, 2, false, ""},
		{"no trailing newline", a + strings.TrimSuffix(b, "\n"), 1, true, ""},
		{"half a line", a + b[:len(b)/2], 1, true, ""},
		{"garbage last line with newline", a + "{\"seq\":2,\"ty\n", 1, true, ""},
		{"zeros after a power loss", a + "\x00\x00\x00\x00", 1, true, ""},
		{"blank lines", "\n" + a + "\n" + b, 2, false, ""},
		{"garbage in the middle", a + "{\"seq\n" + b, 0, false, "j:2: not valid JSON"},
		{"unknown type", a + `{"seq":2,"type":"rollback","name":"a","action":"create"}` + "\n", 0, false, `j:2: unknown record type "rollback"`},
		{"unknown field on the last line", a + `{"seq":2,"type":"intent","name":"a","action":"create","x":1}` + "\n", 0, false, `j:2: json: unknown field "x"`},
		{"outcome without order", `{"seq":1,"type":"outcome","name":"a","action":"create"}` + "\n", 0, false, "j:1: outcome record for a has no order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := scanJournal("j", []byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "corrupt") {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(sc.recs) != tt.recs || sc.torn != tt.torn {
				t.Errorf("%d records torn=%v, want %d torn=%v", len(sc.recs), sc.torn, tt.recs, tt.torn)
			}
			if !tt.torn && sc.valid != int64(len(tt.data)) {
				t.Errorf("valid prefix %d of %d bytes", sc.valid, len(tt.data))
			}
		})
	}
}

// OpenJournal cuts a torn tail off, so new records follow the last complete one.
func TestOpenJournalTruncatesTornTail(t *testing.T) {
	path := tempState(t)
	writeJournal(t, path, intent("a", ActionCreate, "ka", 0))
	f, _ := os.OpenFile(JournalPath(path), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"seq":2,"type":"outco`)
	f.Close()

	j := openTestJournal(t, path)
	if err := j.Append(outcome("a", ActionCreate, "ka", 0, issued(1, "ka"))); err != nil {
		t.Fatal(err)
	}
	j.Close()
	l, err := load(path)
	if err != nil {
		t.Fatal(err)
	}
	if l.TornTail || l.Replayed != 2 || len(l.Pending) != 0 || l.State.Certificates["a"].OrderID != 1 {
		t.Errorf("after append past a torn tail: torn=%v replayed=%d pending=%v", l.TornTail, l.Replayed, l.Pending)
	}
	data, _ := os.ReadFile(JournalPath(path))
	if bytes.Contains(data, []byte("outco\"")) || bytes.Count(data, []byte("\n")) != 2 {
		t.Errorf("journal:\n%s", data)
	}
}

func TestOpenJournalRefusesCorruption(t *testing.T) {
	path := tempState(t)
	if err := os.WriteFile(JournalPath(path), []byte("nonsense\n{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := openJournal(path); err == nil || !strings.Contains(err.Error(), JournalPath(path)+":1") {
		t.Errorf("OpenJournal error = %v, want one naming %s:1", err, JournalPath(path))
	}
}

// After a failed write the journal refuses everything: apply must stop
// rather than act on a record that may not be on disk.
func TestJournalWriteErrorIsSticky(t *testing.T) {
	path := tempState(t)
	j := openTestJournal(t, path)
	if err := j.Append(intent("a", ActionCreate, "ka", 0)); err != nil {
		t.Fatal(err)
	}
	ro, err := os.Open(JournalPath(path)) // a handle that cannot write
	if err != nil {
		t.Fatal(err)
	}
	j.mu.Lock()
	j.f.Close()
	j.f = ro
	j.mu.Unlock()
	if err := j.Append(intent("b", ActionCreate, "kb", 0)); err == nil || !strings.Contains(err.Error(), "write journal") {
		t.Fatalf("Append through a read-only handle: %v", err)
	}
	if err := j.Append(intent("c", ActionCreate, "kc", 0)); err == nil {
		t.Fatal("Append after a write error succeeded")
	}
	j.Close()
	l := mustLoad(t, path)
	if l.Replayed != 1 || len(l.Pending) != 1 {
		t.Errorf("after the failed write: replayed %d pending %v", l.Replayed, l.Pending)
	}
}

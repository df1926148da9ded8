// Package statetest is the conformance suite every state.Backend passes,
// in the manner of restic's backend tests: the same behaviour, checked the
// same way, whatever stores the state.
//
// A backend's test calls Run with a Harness:
//
//	func TestFileBackendConformance(t *testing.T) {
//		statetest.Run(t, statetest.Harness{
//			New:         func(t *testing.T) string { return filepath.Join(t.TempDir(), "s.json") },
//			Open:        func(addr string) (state.Backend, error) { return state.NewFileBackend(addr), nil },
//			PutSnapshot: ...,
//			Fingerprint: ...,
//		})
//	}
//
// Some checks need a second process (a lock held by another process, a
// process killed mid-journal). Run re-executes the test binary, running only
// the test that called it, with environment variables that make Run play
// that process's part instead of running the suite: Open must therefore work
// from an address alone, in a fresh process.
package statetest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/state"
)

// Harness tells the suite how to make and inspect stores of one backend.
type Harness struct {
	// New makes a fresh, empty store (cleaned up with t) and returns its
	// address: what Open needs to reach it, from this process or another.
	New func(t *testing.T) string
	// Open opens the backend of the store at addr.
	Open func(addr string) (state.Backend, error)
	// PutSnapshot stores data as the store's snapshot, bypassing every
	// check, as a newer or older certplan would have written it.
	PutSnapshot func(t *testing.T, addr string, data []byte)
	// Fingerprint describes everything the store holds (contents, modes;
	// not access times), so that the suite can tell that an operation
	// wrote nothing.
	Fingerprint func(t *testing.T, addr string) string
}

// Environment of a re-executed test binary playing a second process.
const (
	roleEnv = "CERTPLAN_STATETEST_ROLE" // "lock" or "append"
	addrEnv = "CERTPLAN_STATETEST_ADDR"
)

// Run runs the suite against the backend h makes; in a re-executed child it
// plays the part it was started for instead.
func Run(t *testing.T, h Harness) {
	if role := os.Getenv(roleEnv); role != "" {
		child(t, h, role, os.Getenv(addrEnv))
		return
	}
	s := &suite{h: h, pattern: runPattern(t.Name())}
	tests := []struct {
		name string
		f    func(t *testing.T)
	}{
		{"Describe", s.describe},
		{"LoadEmpty", s.loadEmpty},
		{"LoadWritesNothing", s.loadWritesNothing},
		{"JournalReplay", s.journalReplay},
		{"CommitRetiresFoldedKeepsPending", s.commitRetires},
		{"CommitRefusesStaleSerial", s.commitStaleSerial},
		{"CommitRefusesJournalChangedSinceLoad", s.commitJournalChanged},
		{"CommitRefusesOtherLineage", s.commitOtherLineage},
		{"NewerVersionRefused", s.newerVersion},
		{"OlderVersionUpgraded", s.olderVersion},
		{"AppendRefusesInvalidRecords", s.appendInvalid},
		{"DupCheckDecidesUnknownOutcome", s.dupCheck},
		{"LockExcludes", s.lockExcludes},
		{"LockExcludesAcrossProcesses", s.lockAcrossProcesses},
		{"StaleLockTakeover", s.staleLock},
		{"AppendSurvivesKill", s.appendSurvivesKill},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.f)
	}
}

type suite struct {
	h       Harness
	pattern string // -test.run pattern of the test that called Run
}

// runPattern is a -test.run pattern that matches exactly the test named name.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

var bg = context.Background()

// open makes a fresh store and opens it.
func (s *suite) open(t *testing.T) (state.Backend, string) {
	t.Helper()
	addr := s.h.New(t)
	return s.reopen(t, addr), addr
}

func (s *suite) reopen(t *testing.T, addr string) state.Backend {
	t.Helper()
	b, err := s.h.Open(addr)
	if err != nil {
		t.Fatalf("open %s: %v", addr, err)
	}
	return b
}

func mustLock(t *testing.T, b state.Backend, op string) state.Lock {
	t.Helper()
	l, err := b.Lock(bg, op, 0)
	if err != nil {
		t.Fatalf("Lock(%q): %v", op, err)
	}
	t.Cleanup(func() { l.Release() })
	return l
}

func mustLoad(t *testing.T, b state.Backend) *state.Loaded {
	t.Helper()
	l, err := b.Load(bg)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return l
}

func mustCommit(t *testing.T, b state.Backend, l *state.Loaded) {
	t.Helper()
	if err := b.Commit(bg, l); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// appendRecords appends recs under the lock, as apply does.
func appendRecords(t *testing.T, b state.Backend, recs ...state.Record) {
	t.Helper()
	j, err := b.OpenJournal(bg)
	if err != nil {
		t.Fatalf("OpenJournal: %v", err)
	}
	for _, r := range recs {
		if err := j.Append(r); err != nil {
			t.Fatalf("Append %s %s: %v", r.Type, r.Name, err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatalf("Close journal: %v", err)
	}
}

func intent(name, key string) state.Record {
	return state.Record{Type: state.RecordIntent, Name: name, Action: state.ActionCreate,
		AlternativeOrderID: key, DupCheck: state.DupCheckAlternateID, Product: "ssl_basic", SpecDigest: "sd-" + key,
		Request: map[string]any{"certificate": map[string]any{"common_name": name + ".example.com"}}}
}

func outcome(name, key string, id int64, status state.OrderStatus) state.Record {
	return state.Record{Type: state.RecordOutcome, Name: name, Action: state.ActionCreate, AlternativeOrderID: key,
		Order: &state.OrderFacts{OrderID: id, AlternativeOrderID: key, Status: status}}
}

func nothingCreated(name, key string) state.Record {
	return state.Record{Type: state.RecordFailure, Name: name, Action: state.ActionCreate, AlternativeOrderID: key,
		NothingCreated: true, Error: "closed"}
}

// seed leaves a store with a committed snapshot (a: order 1, serial 1) and
// an open intent for b in the journal.
func seed(t *testing.T, b state.Backend) {
	t.Helper()
	defer mustLock(t, b, "seed").Release()
	appendRecords(t, b, intent("a", "ka"), outcome("a", "ka", 1, state.StatusPending), intent("b", "kb"))
	mustCommit(t, b, mustLoad(t, b))
}

func (s *suite) describe(t *testing.T) {
	b, _ := s.open(t)
	info := b.Describe()
	if info.Kind == "" || info.Name == "" {
		t.Errorf("Describe() = %+v: want a kind and a name", info)
	}
}

func (s *suite) loadEmpty(t *testing.T) {
	b, addr := s.open(t)
	before := s.h.Fingerprint(t, addr)
	l := mustLoad(t, b)
	if l.Exists || l.State.Serial != 0 || l.State.Version != state.FormatVersion || len(l.State.Certificates) != 0 ||
		len(l.Pending) != 0 || l.Replayed != 0 || l.Base.Stored || len(l.State.Lineage) != 36 {
		t.Errorf("Load of an empty store = %+v, state %+v", l, l.State)
	}
	if after := s.h.Fingerprint(t, addr); after != before {
		t.Errorf("Load of an empty store wrote:\nbefore %s\nafter  %s", before, after)
	}
	defer mustLock(t, b, "apply").Release()
	after := s.h.Fingerprint(t, addr)
	mustCommit(t, b, l)
	if got := s.h.Fingerprint(t, addr); got != after {
		t.Errorf("Commit of an untouched empty state wrote:\nbefore %s\nafter  %s", after, got)
	}
}

// Read-only commands load without the lock and must write nothing, even
// while another run holds the lock and the journal has records to replay.
func (s *suite) loadWritesNothing(t *testing.T) {
	b, addr := s.open(t)
	seed(t, b)
	mustLock(t, b, "apply")
	appendRecords(t, b, outcome("a", "ka", 1, state.StatusIssued))
	before := s.h.Fingerprint(t, addr)
	other := s.reopen(t, addr)
	l := mustLoad(t, other)
	if c := l.State.Certificates["a"]; c == nil || c.Status != state.StatusIssued || len(l.Pending) != 1 {
		t.Errorf("Load while locked: a = %+v, pending %v", c, l.Pending)
	}
	if after := s.h.Fingerprint(t, addr); after != before {
		t.Errorf("Load wrote:\nbefore %s\nafter  %s", before, after)
	}
}

func (s *suite) journalReplay(t *testing.T) {
	b, _ := s.open(t)
	defer mustLock(t, b, "apply").Release()
	appendRecords(t, b, intent("a", "ka"), outcome("a", "ka", 1, state.StatusPending), intent("b", "kb"))
	l := mustLoad(t, b)
	if !l.Exists || l.Replayed != 3 || l.Base.Journal == "" || l.Base.Stored {
		t.Errorf("Load: exists %v replayed %d base %+v", l.Exists, l.Replayed, l.Base)
	}
	if c := l.State.Certificates["a"]; c == nil || c.OrderID != 1 || c.Product != "ssl_basic" || c.SpecDigest != "sd-ka" {
		t.Errorf("outcome not folded: a = %+v", c)
	}
	if p, ok := l.Pending["b"]; !ok || len(l.Pending) != 1 || p.AlternativeOrderID != "kb" || p.Seq == 0 || p.Time.IsZero() {
		t.Errorf("Pending = %+v, want b's intent, stamped", l.Pending)
	}
	// A state that exists only as a journal: every load agrees on its lineage.
	if again := mustLoad(t, b); again.State.Lineage != l.State.Lineage {
		t.Errorf("two loads of a journal-only state: lineages %s and %s", l.State.Lineage, again.State.Lineage)
	}
}

func (s *suite) commitRetires(t *testing.T) {
	b, _ := s.open(t)
	defer mustLock(t, b, "apply").Release()
	appendRecords(t, b, intent("a", "ka"), outcome("a", "ka", 1, state.StatusPending), intent("b", "kb"))
	l := mustLoad(t, b)
	lineage := l.State.Lineage
	mustCommit(t, b, l)
	if l.State.Serial != 1 || l.Base.Serial != 1 || !l.Base.Stored {
		t.Errorf("after Commit: serial %d, base %+v", l.State.Serial, l.Base)
	}
	again := mustLoad(t, b)
	if again.State.Serial != 1 || again.State.Lineage != lineage || again.State.Certificates["a"] == nil {
		t.Errorf("after Commit: serial %d lineage %s a %+v", again.State.Serial, again.State.Lineage, again.State.Certificates["a"])
	}
	if again.Replayed != 1 || len(again.Pending) != 1 || again.Pending["b"].AlternativeOrderID != "kb" {
		t.Errorf("after Commit the journal replays %d records, pending %v: want only b's intent", again.Replayed, again.Pending)
	}
	// Nothing changed: no new serial.
	mustCommit(t, b, again)
	if l := mustLoad(t, b); l.State.Serial != 1 || len(l.Pending) != 1 {
		t.Errorf("an unchanged Commit: serial %d pending %v", l.State.Serial, l.Pending)
	}
	// The intent resolves without a change: the journal is retired, the serial stays.
	appendRecords(t, b, nothingCreated("b", "kb"))
	final := mustLoad(t, b)
	if len(final.Pending) != 0 {
		t.Fatalf("pending after the failure: %v", final.Pending)
	}
	mustCommit(t, b, final)
	if l := mustLoad(t, b); l.Replayed != 0 || len(l.Pending) != 0 || l.State.Serial != 1 {
		t.Errorf("after the last Commit: replayed %d, pending %v, serial %d", l.Replayed, l.Pending, l.State.Serial)
	}
}

func setOrder(t *testing.T, l *state.Loaded, name string, id int64) {
	t.Helper()
	if err := l.State.SetOrder(name, state.OrderFacts{OrderID: id, Status: state.StatusIssued}, "ssl_basic", time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
}

func (s *suite) commitStaleSerial(t *testing.T) {
	b, _ := s.open(t)
	seed(t, b)
	defer mustLock(t, b, "state set-order").Release()
	stale, fresh := mustLoad(t, b), mustLoad(t, b)
	setOrder(t, fresh, "x", 7)
	mustCommit(t, b, fresh)
	setOrder(t, stale, "y", 8)
	err := b.Commit(bg, stale)
	var ce *state.ConflictError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "Load again") {
		t.Fatalf("Commit with a stale serial = %v, want a *state.ConflictError saying what to do", err)
	}
	l := mustLoad(t, b)
	if l.State.Serial != 2 || l.State.Certificates["x"] == nil || l.State.Certificates["y"] != nil {
		t.Errorf("after the refused Commit: serial %d, names %v", l.State.Serial, l.State.Names())
	}
}

func (s *suite) commitJournalChanged(t *testing.T) {
	b, _ := s.open(t)
	seed(t, b)
	defer mustLock(t, b, "apply").Release()
	l := mustLoad(t, b)
	appendRecords(t, b, outcome("b", "kb", 2, state.StatusPending))
	setOrder(t, l, "x", 7)
	err := b.Commit(bg, l)
	var ce *state.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("Commit after a record was appended = %v, want a *state.ConflictError", err)
	}
	after := mustLoad(t, b)
	if c := after.State.Certificates["b"]; c == nil || c.OrderID != 2 || after.State.Certificates["x"] != nil {
		t.Errorf("the appended record was lost or the refused change stored: b %+v, names %v", c, after.State.Names())
	}
}

const otherLineage = "11111111-2222-4333-8444-555555555555"

func (s *suite) commitOtherLineage(t *testing.T) {
	t.Run("store replaced", func(t *testing.T) {
		b, _ := s.open(t)
		defer mustLock(t, b, "apply").Release()
		first, second := mustLoad(t, b), mustLoad(t, b) // two new states: two lineages
		if first.State.Lineage == second.State.Lineage {
			t.Fatalf("two loads of an empty store share lineage %s", first.State.Lineage)
		}
		setOrder(t, second, "x", 7)
		mustCommit(t, b, second)
		setOrder(t, first, "y", 8)
		err := b.Commit(bg, first)
		var le *state.LineageError
		if !errors.As(err, &le) {
			t.Fatalf("Commit over another lineage = %v, want a *state.LineageError", err)
		}
		if l := mustLoad(t, b); l.State.Lineage != second.State.Lineage || l.State.Certificates["y"] != nil {
			t.Errorf("stored lineage %s, names %v", l.State.Lineage, l.State.Names())
		}
	})
	t.Run("state to commit replaced", func(t *testing.T) {
		b, _ := s.open(t)
		seed(t, b)
		defer mustLock(t, b, "apply").Release()
		l := mustLoad(t, b)
		lineage := l.State.Lineage
		l.State.Lineage = otherLineage
		err := b.Commit(bg, l)
		var le *state.LineageError
		if !errors.As(err, &le) {
			t.Fatalf("Commit of another lineage = %v, want a *state.LineageError", err)
		}
		if got := mustLoad(t, b).State.Lineage; got != lineage {
			t.Errorf("stored lineage %s, want %s", got, lineage)
		}
	})
}

func (s *suite) newerVersion(t *testing.T) {
	b, addr := s.open(t)
	newer := state.FormatVersion + 1
	s.h.PutSnapshot(t, addr, []byte(fmt.Sprintf(`{"version": %d, "lineage": %q, "serial": 3, "certificates": {}, "from_the_future": {}}`, newer, otherLineage)))
	_, err := b.Load(bg)
	var ve *state.VersionError
	if !errors.As(err, &ve) || ve.Version != newer || !strings.Contains(err.Error(), "upgrade certplan") {
		t.Fatalf("Load of version %d = %v, want a *state.VersionError saying \"upgrade certplan\"", newer, err)
	}
}

func (s *suite) olderVersion(t *testing.T) {
	b, addr := s.open(t)
	s.h.PutSnapshot(t, addr, []byte(`{"version": 1, "lineage": "`+otherLineage+`", "serial": 5, "certificates": {"a": {"product": "ssl_basic", "spec_digest": "sd", "since": "2026-03-01T12:00:00Z", "order_id": 4, "status": "issued", "updated_at": "2026-03-01T12:00:00Z"}}}`))
	before := s.h.Fingerprint(t, addr)
	l := mustLoad(t, b)
	if l.State.Version != state.FormatVersion || l.State.Serial != 5 || l.State.Certificates["a"] == nil {
		t.Fatalf("Load of version 1: version %d serial %d names %v", l.State.Version, l.State.Serial, l.State.Names())
	}
	if after := s.h.Fingerprint(t, addr); after != before {
		t.Errorf("Load of version 1 wrote:\nbefore %s\nafter  %s", before, after)
	}
	defer mustLock(t, b, "apply").Release()
	mustCommit(t, b, l)
	if got := mustLoad(t, b); got.State.Serial != 6 || got.State.Lineage != otherLineage || got.State.Certificates["a"] == nil {
		t.Errorf("after the upgrading Commit: serial %d lineage %s names %v", got.State.Serial, got.State.Lineage, got.State.Names())
	}
}

func (s *suite) appendInvalid(t *testing.T) {
	b, _ := s.open(t)
	defer mustLock(t, b, "apply").Release()
	j, err := b.OpenJournal(bg)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	noCheck := intent("a", "ka")
	noCheck.DupCheck = ""
	for _, r := range []state.Record{
		noCheck,
		{Type: state.RecordOutcome, Name: "a", Action: state.ActionCreate}, // no order
		{Type: "rollback", Name: "a", Action: state.ActionCreate},
	} {
		if err := j.Append(r); err == nil {
			t.Errorf("Append(%+v) succeeded", r)
		}
	}
	if err := j.Append(intent("a", "ka")); err != nil {
		t.Fatalf("Append of a valid record after refused ones: %v", err)
	}
	j.Close()
	if l := mustLoad(t, b); l.Replayed != 1 {
		t.Errorf("the journal holds %d records, want only the valid one", l.Replayed)
	}
}

func (s *suite) dupCheck(t *testing.T) {
	b, _ := s.open(t)
	defer mustLock(t, b, "apply").Release()
	legacy := state.Record{Type: state.RecordIntent, Name: "legacy", Action: state.ActionCreate, DupCheck: state.DupCheckNone, Product: "legacy_ssl"}
	reissue := state.Record{Type: state.RecordIntent, Name: "reissue", Action: state.ActionReissue, DupCheck: state.DupCheckCSRMatch, Product: "ssl_basic",
		ReissueOf: 7, CSRKeyDigest: strings.Repeat("ab", 32), PriorCertificateIDs: []int64{70, 71}}
	appendRecords(t, b, legacy, reissue, intent("v2", "k2"))
	l := mustLoad(t, b)
	if c := l.State.Certificates["legacy"]; c == nil || c.Status != state.StatusUnknownOutcome || len(l.Warnings) != 1 {
		t.Errorf("interrupted intent without a possible check: %+v, warnings %q; want unknown_outcome and a warning", c, l.Warnings)
	}
	if p, ok := l.Pending["reissue"]; !ok || l.State.Certificates["reissue"] != nil ||
		p.ReissueOf != 7 || p.CSRKeyDigest != reissue.CSRKeyDigest || len(p.PriorCertificateIDs) != 2 {
		t.Errorf("keyless reissue intent (csr_match) was not kept pending with its order, key digest and prior certificates: %+v", l.Pending)
	}
	if _, ok := l.Pending["v2"]; !ok || len(l.Pending) != 2 {
		t.Errorf("Pending = %v, want reissue and v2", l.Pending)
	}
}

func (s *suite) lockExcludes(t *testing.T) {
	b, addr := s.open(t)
	l := mustLock(t, b, "apply")
	if info := l.Info(); info.PID != os.Getpid() || info.Operation != "apply" || info.Host == "" || info.Created.IsZero() || l.TookOver() != nil {
		t.Errorf("lock = %+v, took over %+v", info, l.TookOver())
	}
	for _, other := range []state.Backend{b, s.reopen(t, addr)} {
		_, err := other.Lock(bg, "plan", 0)
		var le *state.LockedError
		if !errors.As(err, &le) || le.Holder.PID != os.Getpid() || le.Holder.Operation != "apply" || le.Holder.ID != l.Info().ID {
			t.Fatalf("second Lock = %v, want a *state.LockedError naming the holder", err)
		}
		if !strings.Contains(err.Error(), b.Describe().Name) || !strings.Contains(err.Error(), "force-unlock") {
			t.Errorf("LockedError %q does not name the state and the way out", err)
		}
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	l2 := mustLock(t, b, "plan")
	if l2.TookOver() != nil {
		t.Errorf("took over %+v after a clean release", l2.TookOver())
	}
	l2.Release()
	if info, err := b.ForceUnlock(bg); info != nil || err != nil {
		t.Errorf("ForceUnlock of an unlocked state = %+v, %v", info, err)
	}
}

func (s *suite) lockAcrossProcesses(t *testing.T) {
	b, addr := s.open(t)
	c := s.start(t, "lock", addr)
	c.await(t, "ready")
	_, err := b.Lock(bg, "plan", 0)
	var le *state.LockedError
	if !errors.As(err, &le) || le.Holder.PID != c.pid() || le.Holder.Operation != "apply" {
		t.Fatalf("Lock while another process holds it = %v, want a *state.LockedError naming pid %d", err, c.pid())
	}
	if _, err := b.ForceUnlock(bg); err == nil {
		t.Error("ForceUnlock broke the lock of a live process on this host")
	}
	// The holder releases; a waiter gets the lock, with nothing to take over.
	c.release()
	l, err := b.Lock(bg, "plan", time.Minute)
	if err != nil {
		t.Fatalf("Lock after the holder released: %v", err)
	}
	defer l.Release()
	if l.TookOver() != nil {
		t.Errorf("took over %+v from a clean release", l.TookOver())
	}
	c.wait(t)
}

func (s *suite) staleLock(t *testing.T) {
	b, addr := s.open(t)
	c := s.start(t, "lock", addr)
	c.await(t, "ready")
	c.kill(t)
	l, err := b.Lock(bg, "plan", 0)
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	if prev := l.TookOver(); prev == nil || prev.PID != c.pid() || prev.Operation != "apply" {
		t.Errorf("TookOver = %+v, want the killed holder (pid %d)", prev, c.pid())
	}
	l.Release()

	// force-unlock clears what a killed holder left.
	c = s.start(t, "lock", addr)
	c.await(t, "ready")
	c.kill(t)
	info, err := b.ForceUnlock(bg)
	if err != nil || info == nil || info.PID != c.pid() {
		t.Fatalf("ForceUnlock after the holder was killed = %+v, %v; want its lock-info", info, err)
	}
	l = mustLock(t, b, "plan")
	if l.TookOver() != nil {
		t.Errorf("took over %+v after force-unlock", l.TookOver())
	}
}

// A record is durable once Append returns: a process killed at any moment
// after that loses none, and the journal stays readable.
func (s *suite) appendSurvivesKill(t *testing.T) {
	b, addr := s.open(t)
	c := s.start(t, "append", addr)
	const atLeast = 20
	n := 0
	for n < atLeast {
		line := c.await(t, "appended")
		var err error
		if n, err = strconv.Atoi(strings.TrimPrefix(line, "appended ")); err != nil {
			t.Fatalf("child said %q", line)
		}
	}
	c.kill(t)
	l := mustLoad(t, b)
	for i := 1; i <= n; i++ {
		if _, ok := l.Pending[fmt.Sprintf("c%d", i)]; !ok {
			t.Fatalf("record %d of %d acknowledged ones lost after kill -9 (pending: %d)", i, n, len(l.Pending))
		}
	}
	// The next run carries on.
	defer mustLock(t, b, "apply").Release()
	appendRecords(t, b, nothingCreated("c1", "k1"))
	mustCommit(t, b, mustLoad(t, b))
	if l := mustLoad(t, b); l.Pending["c1"].Name != "" || l.Pending["c2"].Name == "" {
		t.Errorf("after carrying on: pending %d", len(l.Pending))
	}
}

// childProc is a re-executed test binary playing a second process.
type childProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

func (s *suite) start(t *testing.T, role, addr string) *childProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run="+s.pattern, "-test.count=1")
	cmd.Env = append(os.Environ(), roleEnv+"="+role, addrEnv+"="+addr)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &childProc{cmd: cmd, stdin: stdin, lines: make(chan string, 64)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	return c
}

func (c *childProc) pid() int { return c.cmd.Process.Pid }

// await returns the child's next line that starts with prefix; it fails on
// an error line or when the child exits without one.
func (c *childProc) await(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.NewTimer(2 * time.Minute) // a guard against a hung child, not a wait
	defer timeout.Stop()
	for {
		select {
		case line, ok := <-c.lines:
			switch {
			case !ok:
				t.Fatalf("child exited before saying %q", prefix)
			case strings.HasPrefix(line, "error: "):
				t.Fatalf("child: %s", line)
			case strings.HasPrefix(line, prefix):
				return line
			}
		case <-timeout.C:
			t.Fatalf("child did not say %q in 2 minutes", prefix)
		}
	}
}

// release lets a lock-holding child release and exit.
func (c *childProc) release() { c.stdin.Close() }

func (c *childProc) wait(t *testing.T) {
	t.Helper()
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("child: %v", err)
	}
}

// kill sends SIGKILL and waits until the child is gone.
func (c *childProc) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.cmd.Wait()
}

// child plays a second process's part, talking to the parent one line at
// a time on stdout.
func child(t *testing.T, h Harness, role, addr string) {
	b, err := h.Open(addr)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	switch role {
	case "lock":
		// Hold the lock until stdin closes (or until killed).
		l, err := b.Lock(bg, "apply", 0)
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println("ready", os.Getpid())
		io.Copy(io.Discard, os.Stdin)
		if err := l.Release(); err != nil {
			t.Error(err)
		}
	case "append":
		// Append until killed, saying so after each record is durable.
		l, err := b.Lock(bg, "apply", 0)
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		defer l.Release()
		j, err := b.OpenJournal(bg)
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		for i := 1; i <= 100000; i++ {
			if err := j.Append(intent(fmt.Sprintf("c%d", i), fmt.Sprintf("k%d", i))); err != nil {
				fmt.Println("error:", err)
				return
			}
			fmt.Println("appended", i)
		}
		io.Copy(io.Discard, os.Stdin)
	default:
		fmt.Printf("error: unknown role %q\n", role)
	}
}

package simulator

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPersistenceRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim.json")
	clock := newFakeClock()
	opts := Options{StateFile: path, Now: clock.Now, Limits: []Limit{}, Approval: ApprovalManual}

	s1, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts1 := httptest.NewServer(s1.Handler())
	a := &sim{t: t, s: s1, ts: ts1, clock: clock}
	card := map[string]any{"number": "4111111111111111", "expiration_month": 12, "expiration_year": 2030, "cvv": 987, "cardholder_name": "Jane Doe"}
	billing := map[string]any{"address": "1 Main St", "city": "Lehi", "country": "us"}
	first := a.place("ssl_securesite_flex", edit(edit(edit(edit(secureSiteBody(t), "payment_method", "card"), "credit_card", card), "billing_address", billing), "alternative_order_id", "cpkeep1"))
	if err := s1.Approve(first.ID); err != nil {
		t.Fatal(err)
	}
	second := a.place("private_ssl_flex", edit(privateSSLBody(t), "renewal_of_order_id", first.ID)) // stays needs_approval
	s1.AdvanceClock(48 * time.Hour)
	beforeOrders := s1.Orders()
	beforeInfo := a.info(first.ID)
	beforeCA := s1.CACertPEM()
	ts1.Close()
	if err := s1.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte("4111111111111111")) || !bytes.Contains(raw, []byte(`"cvv":"(redacted)"`)) {
		t.Error("the state file holds card data")
	}

	s2, err := New(opts)
	if err != nil {
		t.Fatalf("New from the state file: %v", err)
	}
	b := &sim{t: t, s: s2, ts: httptest.NewServer(s2.Handler()), clock: clock}
	t.Cleanup(func() { b.ts.Close(); _ = s2.Close() })

	if diff := cmp.Diff(beforeOrders, s2.Orders()); diff != "" {
		t.Errorf("orders differ after a restart (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(beforeInfo, b.info(first.ID)); diff != "" {
		t.Errorf("order info differs after a restart:\n%s", diff)
	}
	if !bytes.Equal(beforeCA, s2.CACertPEM()) {
		t.Error("the CA changed across a restart")
	}
	if got := s2.Now(); !got.Equal(testNow.Add(48 * time.Hour)) {
		t.Errorf("clock offset lost: now %s", got)
	}
	if body := beforeOrders[0].Body["credit_card"].(map[string]any); body["number"] != redacted || body["cvv"] != redacted {
		t.Errorf("card not redacted: %v", body)
	}
	// Orders keep working: approve the pending one, ids continue, the new
	// certificate chains to the same CA, the alternate look-up still finds the first.
	if err := s2.Approve(second.ID); err != nil {
		t.Fatal(err)
	}
	third := b.place("ssl_securesite_flex", secureSiteBody(t))
	if third.ID <= second.ID {
		t.Errorf("order id %d reused after a restart (last was %d)", third.ID, second.ID)
	}
	r := b.do("GET", "/services/v2/order/alternate/cpkeep1", nil)
	if !strings.Contains(string(r.body), itoa(first.ID)) {
		t.Errorf("alternate look-up after a restart: %s", r.body)
	}
}

func TestPersistenceBadFile(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"garbage.json": "not json",
		"version.json": `{"version": 99, "store": {}}`,
		"ca.json":      `{"version": 1, "store": {"orders": []}, "ca": {}}`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := New(Options{StateFile: path})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err %v, want an error naming the file", name, err)
		}
	}
}

func TestPersistenceWritesWithoutClose(t *testing.T) {
	// A simulator killed without Close loses at most flushDelay of changes.
	path := filepath.Join(t.TempDir(), "sim.json")
	s := newSim(t, Options{StateFile: path})
	s.place("ssl_securesite_flex", secureSiteBody(t))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if loaded, _, err := loadState(path); err == nil && loaded != nil && len(loaded.Orders) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the order never reached the state file")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

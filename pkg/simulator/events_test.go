package simulator

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// certSpan is one certificate of an order as the admin view shows it.
type certSpan struct {
	id             int64
	from, till     time.Time
	auto           bool
	createdAtMatch bool
}

// spans returns the order's certificates, first and reissued, with their
// validity read from the downloaded certificates.
func (s *sim) spans(orderID int64) []certSpan {
	s.t.Helper()
	var out []certSpan
	for _, e := range s.reissues(orderID) {
		r := s.do("GET", "/services/v2/certificate/"+itoa(e.ID)+"/download/format/pem_noroot", nil)
		leaf := parsePEMChain(s.t, string(r.body))[0]
		out = append(out, certSpan{id: e.ID, from: leaf.NotBefore, till: leaf.NotAfter})
	}
	for _, o := range s.s.Orders() {
		if o.ID != orderID {
			continue
		}
		for i, r := range o.Reissues {
			out[i+1].auto = r.Auto
			out[i+1].createdAtMatch = r.CreatedAt.Equal(out[i+1].from)
		}
	}
	return out
}

func TestAutoReissue(t *testing.T) {
	day := 24 * time.Hour
	orderEnd := testNow.AddDate(3, 0, 0)

	t.Run("3-year plan, one jump of the clock", func(t *testing.T) {
		s := newSim(t, Options{Approval: ApprovalManual}) // auto-reissues do not wait for approval
		order := s.place("ssl_securesite_flex", edit(edit(secureSiteBody(t), "order_validity.years", 3), "auto_reissue", 1))
		if err := s.s.Approve(order.ID); err != nil {
			t.Fatal(err)
		}
		s.s.AdvanceClock(4 * 365 * day)
		spans := s.spans(order.ID)
		if len(spans) < 8 {
			t.Fatalf("%d certificates over a 3-year plan under the caps, want at least 8", len(spans))
		}
		// The first reissue: 30 days before the 199-day certificate ends.
		if want := testNow.Add(169 * day); !spans[1].from.Equal(want) || !spans[1].till.Equal(want.Add(199*day)) {
			t.Errorf("first auto-reissue %s .. %s, want from %s for 199 days", spans[1].from, spans[1].till, want)
		}
		for i := 1; i < len(spans); i++ {
			prev, cur := spans[i-1], spans[i]
			if !cur.auto || !cur.createdAtMatch {
				t.Errorf("certificate %d: auto %v, requested when issued %v", i, cur.auto, cur.createdAtMatch)
			}
			if !cur.from.Equal(prev.till.Add(-30 * day)) {
				t.Errorf("certificate %d starts %s, want 30 days before %s", i, cur.from, prev.till)
			}
			max := time.Duration(s.s.caps.MaxDays(cur.from)) * day
			if cur.till.Sub(cur.from) > max || cur.till.After(orderEnd) {
				t.Errorf("certificate %d: %s .. %s is over the cap %s or the order end", i, cur.from, cur.till, max)
			}
		}
		if last := spans[len(spans)-1]; !last.till.Equal(orderEnd) {
			t.Errorf("the last certificate ends %s, want the order's end %s", last.till, orderEnd)
		}
		info := s.planInfo(order.ID)
		if info.Status != "issued" || info.Certificate.ID != spans[len(spans)-1].id || info.AutoReissue != 1 {
			t.Errorf("order info: %+v", info)
		}
		for _, r := range info.Requests[1:] {
			if r.Type != "reissue" || r.Status != "approved" {
				t.Errorf("auto-reissue request %+v", r)
			}
		}
		if st := s.s.Stats(); st.AutoReissues != len(spans)-1 || st.ReissuesPlaced != 0 {
			t.Errorf("stats: %+v", st)
		}
	})

	t.Run("the same history stepping weekly: same certificates, same ids", func(t *testing.T) {
		run := func(step time.Duration) []certSpan {
			s := newSim(t, Options{})
			order := s.place("ssl_securesite_flex", edit(edit(secureSiteBody(t), "order_validity.years", 3), "auto_reissue", 1))
			other := s.place("ssl_securesite_flex", edit(secureSiteBody(t), "auto_reissue", 1))
			for elapsed := time.Duration(0); elapsed < 4*365*day; elapsed += step {
				s.s.AdvanceClock(step)
			}
			return append(s.spans(order.ID), s.spans(other.ID)...)
		}
		jump, weekly := run(4*365*day), run(7*day)
		if len(jump) != len(weekly) {
			t.Fatalf("%d certificates with one jump, %d stepping weekly", len(jump), len(weekly))
		}
		for i := range jump {
			if jump[i].id != weekly[i].id || !jump[i].from.Equal(weekly[i].from) || !jump[i].till.Equal(weekly[i].till) {
				t.Errorf("certificate %d: %+v with one jump, %+v stepping weekly", i, jump[i], weekly[i])
			}
		}
	})

	t.Run("1-year plan: one reissue runs to the plan's end", func(t *testing.T) {
		s := newSim(t, Options{})
		order := s.place("ssl_securesite_flex", edit(secureSiteBody(t), "auto_reissue", 1))
		s.clock.Add(169*day - time.Second)
		if n := len(s.reissues(order.ID)); n != 1 {
			t.Fatalf("%d certificates a second before the auto-reissue", n)
		}
		s.clock.Add(time.Second)
		spans := s.spans(order.ID)
		if len(spans) != 2 || !spans[1].till.Equal(testNow.AddDate(1, 0, 0)) {
			t.Fatalf("spans: %+v", spans)
		}
		s.clock.Add(2 * 365 * day)
		if n := len(s.reissues(order.ID)); n != 2 {
			t.Errorf("%d certificates after the plan ended, want 2", n)
		}
	})

	t.Run("no auto-reissue without the flag, or while a reissue is pending", func(t *testing.T) {
		s := newSim(t, Options{Approval: ApprovalManual})
		plain := s.place("ssl_securesite_flex", edit(secureSiteBody(t), "order_validity.years", 3))
		held := s.place("ssl_securesite_flex", edit(edit(secureSiteBody(t), "order_validity.years", 3), "auto_reissue", 1))
		for _, id := range []int64{plain.ID, held.ID} {
			if err := s.s.Approve(id); err != nil {
				t.Fatal(err)
			}
		}
		s.reissue(held.ID, reissueBody(t, "www.example.com", "example.com", "api.example.com")) // pending
		s.s.AdvanceClock(365 * day)
		if n := len(s.reissues(plain.ID)); n != 1 {
			t.Errorf("without auto_reissue: %d certificates", n)
		}
		if n := len(s.reissues(held.ID)); n != 2 {
			t.Errorf("with a pending reissue: %d certificates, want the first and the pending one", n)
		}
		// Approved late, the pending reissue is issued now; auto-reissue resumes from it.
		if err := s.s.Approve(held.ID); err != nil {
			t.Fatal(err)
		}
		s.s.AdvanceClock(200 * day)
		if n := len(s.reissues(held.ID)); n < 3 {
			t.Errorf("auto-reissue did not resume: %d certificates", n)
		}
	})
}

func TestPersistReissues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim.json")
	clock := newFakeClock()
	opts := Options{StateFile: path, Now: clock.Now, Limits: []Limit{}}
	a := startSim(t, opts)
	order := a.place("ssl_securesite_flex", edit(edit(secureSiteBody(t), "order_validity.years", 3), "auto_reissue", 1))
	clock.Add(24 * time.Hour)
	resp := a.reissue(order.ID, reissueBody(t, "www.example.com")) // removes names: revocations scheduled
	before := a.reissues(order.ID)
	beforeInfo := a.planInfo(order.ID)
	a.ts.Close()
	if err := a.s.Close(); err != nil {
		t.Fatal(err)
	}

	b := startSim(t, Options{StateFile: path, Now: clock.Now, Limits: []Limit{}})
	after := b.reissues(order.ID)
	if len(after) != len(before) || after[1].ID != resp.CertificateID || after[1].Thumbprint != before[1].Thumbprint {
		t.Errorf("reissues after a restart: %+v, before %+v", after, before)
	}
	if info := b.planInfo(order.ID); info.Certificate.ID != beforeInfo.Certificate.ID || info.AutoReissue != 1 {
		t.Errorf("order info after a restart: %+v", info)
	}
	if n := b.leafNotAfter(resp.CertificateID); n.IsZero() {
		t.Error("the reissued certificate is not downloadable after a restart")
	}
	// Scheduled revocations and auto-reissues carry on after the restart.
	clock.Add(72 * time.Hour)
	if got := statuses(b.reissues(order.ID)); got[0] != "revoked" || got[1] != "issued" {
		t.Errorf("statuses after the restart: %q", got)
	}
	b.s.AdvanceClock(200 * 24 * time.Hour)
	if n := len(b.reissues(order.ID)); n < 3 {
		t.Errorf("no auto-reissue after the restart: %d certificates", n)
	}
}

func TestSetAutoReissue(t *testing.T) {
	s := newSim(t, Options{})
	order := s.place("ssl_securesite_flex", secureSiteBody(t))
	private := s.place("private_ssl_flex", privateSSLBody(t))
	path := func(id int64) string { return "/services/v2/order/certificate/" + itoa(id) + "/auto-reissue" }
	if r := s.do("PUT", path(order.ID), map[string]any{"auto_reissue": 1}); r.status != http.StatusNoContent {
		t.Fatalf("PUT auto-reissue: %d %s", r.status, r.body)
	}
	if info := s.planInfo(order.ID); info.AutoReissue != 1 {
		t.Errorf("auto_reissue %d after PUT", info.AutoReissue)
	}
	s.clock.Add(170 * 24 * time.Hour)
	if n := len(s.reissues(order.ID)); n != 2 {
		t.Errorf("%d certificates after turning auto-reissue on", n)
	}
	// Ignored for a product without plans; bad values and unknown orders refused.
	if r := s.do("PUT", path(private.ID), map[string]any{"auto_reissue": 1}); r.status != http.StatusNoContent || s.planInfo(private.ID).AutoReissue != 0 {
		t.Errorf("private SSL: %d", r.status)
	}
	for _, bad := range []struct {
		id   int64
		body any
		want int
		code string
	}{
		{order.ID, map[string]any{"auto_reissue": 2}, 400, "invalid_value:auto_reissue"},
		{order.ID, map[string]any{"auto_reissue": "1"}, 400, "invalid_value:auto_reissue"},
		{order.ID, map[string]any{}, 400, "required_param:auto_reissue"},
		{order.ID, []byte("["), 400, "bad_request_format"},
		{424242, map[string]any{"auto_reissue": 1}, 404, "not_found|order"},
	} {
		r := s.do("PUT", path(bad.id), bad.body)
		if got := r.codes(t); r.status != bad.want || len(got) != 1 || got[0] != bad.code {
			t.Errorf("PUT %v: %d %q", bad.body, r.status, got)
		}
	}
}

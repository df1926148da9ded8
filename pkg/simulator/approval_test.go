package simulator

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestApprovalManual(t *testing.T) {
	// Without the 2026 date caps, so that a late certificate can reach the
	// order's end (TestSecureSiteDateCaps covers the caps).
	s := newSim(t, Options{Approval: ApprovalManual, Caps: noDateCaps})
	resp := s.place("ssl_securesite_flex", secureSiteBody(t))
	if resp.Requests[0].Status != "pending" || resp.CertificateID != 0 || len(resp.CertificateChain) != 0 {
		t.Fatalf("manual approval response: %+v", resp)
	}
	info := s.info(resp.ID)
	if info.Status != "needs_approval" || info.Requests[0].Status != "pending" || info.Certificate.Thumbprint != "" {
		t.Fatalf("before approval: status %q request %q", info.Status, info.Requests[0].Status)
	}
	r := s.do("GET", "/services/v2/certificate/download/order/"+itoa(resp.ID)+"/format/pem_all", nil)
	if r.status != http.StatusNotFound {
		t.Errorf("download before approval: %d", r.status)
	}
	// Time alone does not approve a manual order.
	s.clock.Add(240 * time.Hour)
	if info := s.info(resp.ID); info.Status != "needs_approval" {
		t.Errorf("after ten days: %q", info.Status)
	}

	// Approve through the admin API.
	r = s.do("POST", "/_sim/orders/"+itoa(resp.ID)+"/approve", nil)
	if r.status != http.StatusOK {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	info = s.info(resp.ID)
	if info.Status != "issued" || info.Requests[0].Status != "approved" || info.Certificate.ValidFrom != "2026-03-11" {
		t.Errorf("after approval: status %q request %q valid_from %q", info.Status, info.Requests[0].Status, info.Certificate.ValidFrom)
	}
	// The order ends when it ends; the late certificate does not outlive it.
	if info.Certificate.ValidTill != info.OrderValidTill {
		t.Errorf("certificate till %s, order till %s", info.Certificate.ValidTill, info.OrderValidTill)
	}
	if err := s.s.Approve(resp.ID); err == nil {
		t.Error("approving an issued order succeeded")
	}
	if err := s.s.Approve(999); err == nil {
		t.Error("approving an unknown order succeeded")
	}
	if r := s.do("POST", "/_sim/orders/999/approve", nil); r.status != http.StatusNotFound {
		t.Errorf("admin approve unknown: %d", r.status)
	}
}

func TestApprovalDelay(t *testing.T) {
	s := newSim(t, Options{Approval: ApprovalDelay, ApprovalDelay: time.Hour})
	resp := s.place("private_ssl_flex", privateSSLBody(t))
	if resp.Requests[0].Status != "pending" {
		t.Fatalf("delay approval response: %+v", resp)
	}
	s.clock.Add(59 * time.Minute)
	if info := s.info(resp.ID); info.Status != "needs_approval" {
		t.Fatalf("before the delay: %q", info.Status)
	}
	s.clock.Add(time.Minute)
	// Seen through the list endpoint and the alternate look-up too.
	r := s.do("GET", listPath+"?filters[status]=issued", nil)
	var list listResponse
	r.decode(t, &list)
	if len(list.Orders) != 1 || list.Orders[0].ID != resp.ID {
		t.Fatalf("issued orders after the delay: %s", r.body)
	}
	r = s.do("GET", "/services/v2/certificate/download/order/"+itoa(resp.ID)+"/format/pem_noroot", nil)
	certs := parsePEMChain(t, string(r.body))
	if len(certs) != 2 || !certs[0].NotBefore.Equal(testNow.Add(time.Hour)) {
		t.Fatalf("certificate issued at the approval time: %d %s", r.status, r.body)
	}
}

func TestApprovalImmediateIsDefault(t *testing.T) {
	s := newSim(t, Options{})
	resp := s.place("ssl_securesite_flex", secureSiteBody(t))
	if resp.Requests[0].Status != "approved" || resp.CertificateID == 0 || len(resp.CertificateChain) != 3 {
		t.Errorf("immediate: %+v", resp)
	}
	if _, err := New(Options{Approval: "later"}); err == nil {
		t.Error("New accepted an unknown approval mode")
	}
}

func TestRenewalLinks(t *testing.T) {
	s := newSim(t, Options{})
	first := s.place("ssl_securesite_flex", secureSiteBody(t))
	second := s.place("ssl_securesite_flex", edit(secureSiteBody(t), "renewal_of_order_id", first.ID))

	old, renewal := s.info(first.ID), s.info(second.ID)
	if !old.IsRenewed || old.RenewedOrderID != second.ID || old.IsRenewal {
		t.Errorf("renewed order: is_renewed %v renewed_order_id %d", old.IsRenewed, old.RenewedOrderID)
	}
	if !renewal.IsRenewal || renewal.RenewalOfOrderID != first.ID || renewal.IsRenewed {
		t.Errorf("renewal: is_renewal %v renewal_of_order_id %d", renewal.IsRenewal, renewal.RenewalOfOrderID)
	}

	// renewed_thumbprint links the same way.
	third := s.place("ssl_securesite_flex", edit(secureSiteBody(t), "renewed_thumbprint", renewal.Certificate.Thumbprint))
	if info := s.info(second.ID); info.RenewedOrderID != third.ID {
		t.Errorf("thumbprint renewal: renewed_order_id %d, want %d", info.RenewedOrderID, third.ID)
	}
	if info := s.info(third.ID); info.RenewalOfOrderID != second.ID {
		t.Errorf("thumbprint renewal: renewal_of_order_id %d, want %d", info.RenewalOfOrderID, second.ID)
	}
	// Both given, naming different orders.
	body := edit(edit(secureSiteBody(t), "renewal_of_order_id", first.ID), "renewed_thumbprint", renewal.Certificate.Thumbprint)
	r := s.do("POST", "/services/v2/order/certificate/ssl_securesite_flex", body)
	if r.status != http.StatusBadRequest || !slices.Equal(r.codes(t), []string{"invalid_value:renewed_thumbprint"}) {
		t.Errorf("conflicting renewal: %d %s", r.status, r.body)
	}
	// The admin view carries the links too.
	orders := s.s.Orders()
	if orders[0].RenewedOrderID != second.ID || orders[1].RenewalOfOrderID != first.ID {
		t.Errorf("admin view: %+v", orders[:2])
	}
}

func TestAlternativeOrderIDs(t *testing.T) {
	body := edit(secureSiteBody(t), "alternative_order_id", "cpabc123")

	t.Run("duplicates accepted by default", func(t *testing.T) {
		s := newSim(t, Options{})
		a := s.place("ssl_securesite_flex", body)
		b := s.place("ssl_securesite_flex", body)
		r := s.do("GET", "/services/v2/order/alternate/cpabc123", nil)
		var alt alternateResponse
		r.decode(t, &alt)
		if len(alt.Orders) != 2 || alt.Orders[0].OrderID != a.ID || alt.Orders[1].OrderID != b.ID || alt.Page.Total != 2 {
			t.Errorf("alternate: %s", r.body)
		}
		if alt.Orders[0].CertificateID != a.CertificateID || alt.Orders[0].Status != "issued" {
			t.Errorf("alternate entry: %+v", alt.Orders[0])
		}
		if info := s.info(a.ID); info.AlternativeOrderID != "cpabc123" {
			t.Errorf("order info alternative_order_id %q", info.AlternativeOrderID)
		}
	})

	t.Run("unique alternative ids", func(t *testing.T) {
		s := newSim(t, Options{UniqueAlternativeIDs: true})
		s.place("ssl_securesite_flex", body)
		r := s.do("POST", "/services/v2/order/certificate/private_ssl_flex", edit(privateSSLBody(t), "alternative_order_id", "cpabc123"))
		if r.status != http.StatusBadRequest || !slices.Equal(r.codes(t), []string{"duplicate_alternative_order_id"}) {
			t.Fatalf("duplicate: %d %s", r.status, r.body)
		}
		if n := len(s.s.Orders()); n != 1 {
			t.Errorf("%d orders, want 1", n)
		}
		s.place("ssl_securesite_flex", edit(body, "alternative_order_id", "cpother"))
		s.place("ssl_securesite_flex", edit(body, "alternative_order_id", nil)) // optional even when unique
	})

	t.Run("no such alternative id", func(t *testing.T) {
		for _, want404 := range []bool{false, true} {
			s := newSim(t, Options{AlternateLookup404: want404})
			r := s.do("GET", "/services/v2/order/alternate/cpnothing", nil)
			if want404 {
				if r.status != http.StatusNotFound || !slices.Equal(r.codes(t), []string{"not_found|order"}) {
					t.Errorf("404 mode: %d %s", r.status, r.body)
				}
				continue
			}
			var alt alternateResponse
			r.decode(t, &alt)
			if r.status != http.StatusOK || alt.Orders == nil || len(alt.Orders) != 0 || alt.Page.Total != 0 {
				t.Errorf("empty mode: %d %s", r.status, r.body)
			}
		}
	})
}

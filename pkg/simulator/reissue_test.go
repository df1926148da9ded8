package simulator

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

type reissueResponse struct {
	ID       int64 `json:"id"`
	Requests []struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	} `json:"requests"`
	CertificateID    int64 `json:"certificate_id"`
	CertificateChain []struct {
		SubjectCommonName string `json:"subject_common_name"`
		PEM               string `json:"pem"`
	} `json:"certificate_chain"`
}

type reissueEntry struct {
	ID                     int64    `json:"id"`
	Thumbprint             string   `json:"thumbprint"`
	SerialNumber           string   `json:"serial_number"`
	CommonName             string   `json:"common_name"`
	DNSNames               []string `json:"dns_names"`
	Status                 string   `json:"status"`
	DateCreated            string   `json:"date_created"`
	DateIssued             string   `json:"date_issued"`
	ValidTill              string   `json:"valid_till"`
	DaysRemaining          int      `json:"days_remaining"`
	CSR                    string   `json:"csr"`
	KeySize                int      `json:"key_size"`
	ReceiptID              string   `json:"receipt_id"`
	PurchasedDNSNames      int      `json:"purchased_dns_names"`
	PurchasedWildcardNames int      `json:"purchased_wildcard_names"`
}

// reissueBody is a reissue of the given names with a fresh key.
func reissueBody(t *testing.T, cn string, dns ...string) map[string]any {
	names := []any{}
	for _, n := range dns {
		names = append(names, n)
	}
	return map[string]any{
		"certificate": map[string]any{
			"common_name": cn, "dns_names": names, "csr": newKeyCSR(t), "signature_hash": "sha256",
			"server_platform": map[string]any{"id": -1},
		},
		"skip_approval": true,
	}
}

func reissuePath(id int64) string { return "/services/v2/order/certificate/" + itoa(id) + "/reissue" }

// reissue sends a reissue and requires 201.
func (s *sim) reissue(id int64, body map[string]any) reissueResponse {
	s.t.Helper()
	r := s.do("POST", reissuePath(id), body)
	if r.status != http.StatusCreated {
		s.t.Fatalf("reissue %d: %d %s", id, r.status, r.body)
	}
	var out reissueResponse
	r.decode(s.t, &out)
	return out
}

func (s *sim) reissues(id int64) []reissueEntry {
	s.t.Helper()
	r := s.do("GET", reissuePath(id), nil)
	if r.status != http.StatusOK {
		s.t.Fatalf("list reissues %d: %d %s", id, r.status, r.body)
	}
	var out struct {
		Certificates []reissueEntry `json:"certificates"`
	}
	r.decode(s.t, &out)
	return out.Certificates
}

func statuses(list []reissueEntry) []string {
	out := []string{}
	for _, e := range list {
		out = append(out, e.Status)
	}
	return out
}

func TestReissueIssuedAtOnce(t *testing.T) {
	s := newSim(t, Options{})
	order := s.place("ssl_securesite_flex", secureSiteBody(t))
	s.clock.Add(170 * 24 * time.Hour) // 2026-08-18: 29 days before the first certificate ends
	body := reissueBody(t, "www.example.com", "example.com", "api.example.com")
	csr := body["certificate"].(map[string]any)["csr"].(string)
	resp := s.reissue(order.ID, body)

	if resp.ID != order.ID || len(resp.Requests) != 1 || resp.Requests[0].ID == 0 || resp.Requests[0].Status != "approved" ||
		resp.CertificateID == 0 || resp.CertificateID == order.CertificateID || len(resp.CertificateChain) != 3 {
		t.Fatalf("response: %+v", resp)
	}
	leaf := parsePEMChain(t, resp.CertificateChain[0].PEM)[0]
	csrParsed, _ := parseCSR(csr)
	if !publicKeyEqual(leaf.PublicKey, csrParsed.PublicKey) {
		t.Error("the reissued certificate does not carry the new key")
	}
	// 199 days from 2026-08-18 would pass the plan's end: the certificate runs to it.
	orderEnd := testNow.AddDate(1, 0, 0)
	if !leaf.NotBefore.Equal(s.clock.Now()) || !leaf.NotAfter.Equal(orderEnd) {
		t.Errorf("validity %s .. %s, want now .. %s", leaf.NotBefore, leaf.NotAfter, orderEnd)
	}

	// Order info moves to the new certificate; the order stays issued.
	info := s.planInfo(order.ID)
	if info.Status != "issued" || info.Certificate.ID != resp.CertificateID || info.Certificate.ValidFrom != "2026-08-18" ||
		info.Certificate.ValidTill != "2027-03-01" || info.Certificate.CSR != csr || info.LastReissuedDate != "2026-08-18T12:00:00+00:00" {
		t.Errorf("order info after the reissue: %+v", info)
	}
	if len(info.Requests) != 2 || info.Requests[1].ID != resp.Requests[0].ID || info.Requests[1].Type != "reissue" || info.Requests[1].Status != "approved" {
		t.Errorf("requests: %+v", info.Requests)
	}
	// The order's certificate downloads are the new one; the old one stays reachable by id.
	r := s.do("GET", "/services/v2/certificate/download/order/"+itoa(order.ID)+"/format/pem_noroot", nil)
	if got := parsePEMChain(t, string(r.body)); !got[0].Equal(leaf) {
		t.Error("download by order is not the reissued certificate")
	}
	if old := s.leafNotAfter(order.CertificateID); !old.Equal(testNow.Add(199 * 24 * time.Hour)) {
		t.Errorf("first certificate by id: not after %s", old)
	}
	if r := s.do("GET", "/services/v2/certificate/"+itoa(resp.CertificateID)+"/chain", nil); r.status != http.StatusOK {
		t.Errorf("chain of the reissued certificate: %d", r.status)
	}

	// The list holds the primary and the reissue, the CSR sent included.
	list := s.reissues(order.ID)
	if len(list) != 2 || list[0].ID != order.CertificateID || list[1].ID != resp.CertificateID ||
		!slices.Equal(statuses(list), []string{"issued", "issued"}) || list[1].CSR != csr || list[1].ReceiptID != "0" ||
		list[1].PurchasedDNSNames != 0 || list[1].KeySize != 256 || list[1].DateIssued != "2026-08-18T12:00:00+00:00" ||
		list[1].ValidTill != "2027-03-01" || list[1].DaysRemaining != 195 || list[1].Thumbprint != info.Certificate.Thumbprint {
		t.Errorf("reissue list: %+v", list)
	}
	if list[0].ValidTill != "2026-09-16" || list[0].DaysRemaining != 29 || list[0].SerialNumber == "" {
		t.Errorf("primary in the list: %+v", list[0])
	}
	// Same names: nothing is revoked, ever.
	s.clock.Add(100 * time.Hour)
	if got := statuses(s.reissues(order.ID)); !slices.Equal(got, []string{"issued", "issued"}) {
		t.Errorf("statuses after 100 hours: %q", got)
	}

	orders := s.s.Orders()
	if len(orders) != 1 || len(orders[0].Reissues) != 1 || orders[0].CurrentCertificateID != resp.CertificateID ||
		orders[0].Reissues[0].Body["skip_approval"] != true || orders[0].Reissues[0].Auto {
		t.Errorf("admin view: %+v", orders)
	}
	if st := s.s.Stats(); st.ReissuesPlaced != 1 || st.OrdersPlaced != 1 {
		t.Errorf("stats: %+v", st)
	}
	// The GET route counts separately from order info.
	if n := s.s.Stats().Requests["GET /services/v2/order/certificate/{id}/reissue"]; n != 2 {
		t.Errorf("list reissues counted %d times", n)
	}
}

func TestReissueApprovalModes(t *testing.T) {
	t.Run("manual: reissue_pending until approved", func(t *testing.T) {
		s := newSim(t, Options{Approval: ApprovalManual})
		order := s.place("ssl_securesite_flex", secureSiteBody(t))
		if err := s.s.Approve(order.ID); err != nil {
			t.Fatal(err)
		}
		first := s.planInfo(order.ID)
		resp := s.reissue(order.ID, reissueBody(t, "www.example.com", "example.com"))
		if resp.CertificateID != 0 || len(resp.CertificateChain) != 0 || resp.Requests[0].Status != "pending" {
			t.Fatalf("pending response: %+v", resp)
		}
		info := s.planInfo(order.ID)
		if info.Status != "reissue_pending" || info.Certificate.ID != first.Certificate.ID || info.Certificate.Thumbprint != first.Certificate.Thumbprint {
			t.Errorf("while pending, order info keeps the issued certificate: %+v", info)
		}
		if len(info.Requests) != 2 || info.Requests[1].Type != "reissue" || info.Requests[1].Status != "pending" {
			t.Errorf("requests: %+v", info.Requests)
		}
		list := s.reissues(order.ID)
		if !slices.Equal(statuses(list), []string{"issued", "pending"}) || list[1].Thumbprint != "" || list[1].DateIssued != "" || list[1].CSR == "" {
			t.Errorf("list while pending: %+v", list)
		}
		// Listed with the status filter, and a second reissue is refused.
		r := s.do("GET", listPath+"?filters[status]=reissue_pending", nil)
		var l listResponse
		r.decode(t, &l)
		if len(l.Orders) != 1 {
			t.Errorf("filters[status]=reissue_pending: %s", r.body)
		}
		r = s.do("POST", reissuePath(order.ID), reissueBody(t, "www.example.com"))
		if r.status != http.StatusBadRequest || !slices.Equal(r.codes(t), []string{"reissue_not_allowed|reissue_pending"}) {
			t.Errorf("second reissue: %d %s", r.status, r.body)
		}
		// Time alone does not approve it.
		s.clock.Add(240 * time.Hour)
		if r := s.do("POST", "/_sim/orders/"+itoa(order.ID)+"/approve", nil); r.status != http.StatusOK {
			t.Fatalf("approve: %d %s", r.status, r.body)
		}
		info = s.planInfo(order.ID)
		if info.Status != "issued" || info.Certificate.ID != list[1].ID || info.Certificate.ValidFrom != "2026-03-11" || info.Requests[1].Status != "approved" {
			t.Errorf("after approval: %+v", info)
		}

		// Rejected through the admin API: back to issued, nothing moves.
		s.reissue(order.ID, reissueBody(t, "www.example.com", "example.com"))
		if r := s.do("POST", "/_sim/orders/"+itoa(order.ID)+"/reject", nil); r.status != http.StatusOK {
			t.Fatalf("reject: %d %s", r.status, r.body)
		}
		after := s.planInfo(order.ID)
		if after.Status != "issued" || after.Certificate.ID != info.Certificate.ID || after.Requests[2].Status != "rejected" {
			t.Errorf("after rejection: %+v", after)
		}
		if got := statuses(s.reissues(order.ID)); !slices.Equal(got, []string{"issued", "issued", "rejected"}) {
			t.Errorf("statuses: %q", got)
		}
		if r := s.do("POST", "/_sim/orders/"+itoa(order.ID)+"/reject", nil); r.status != http.StatusBadRequest {
			t.Errorf("rejecting with nothing pending: %d", r.status)
		}
		if r := s.do("POST", "/_sim/orders/424242/reject", nil); r.status != http.StatusNotFound {
			t.Errorf("rejecting an unknown order: %d", r.status)
		}
		// A new order waiting for approval can be rejected too.
		other := s.place("ssl_securesite_flex", secureSiteBody(t))
		if err := s.s.Reject(other.ID); err != nil {
			t.Fatal(err)
		}
		if info := s.planInfo(other.ID); info.Status != "rejected" || info.Requests[0].Status != "rejected" {
			t.Errorf("rejected order: %+v", info)
		}
	})

	t.Run("delay: issued when the delay has passed, at that time", func(t *testing.T) {
		s := newSim(t, Options{Approval: ApprovalDelay, ApprovalDelay: time.Hour})
		order := s.place("ssl_securesite_flex", secureSiteBody(t))
		s.clock.Add(2 * time.Hour)
		resp := s.reissue(order.ID, reissueBody(t, "www.example.com", "example.com"))
		if resp.CertificateID != 0 {
			t.Fatalf("delay response carries a certificate: %+v", resp)
		}
		s.clock.Add(59 * time.Minute)
		if info := s.planInfo(order.ID); info.Status != "reissue_pending" {
			t.Fatalf("before the delay: %s", info.Status)
		}
		s.clock.Add(10 * time.Minute)
		info := s.planInfo(order.ID)
		if info.Status != "issued" || info.Certificate.ID == order.CertificateID || info.Certificate.DateIssued != "2026-03-01T15:00:00+00:00" {
			t.Errorf("after the delay: %+v", info)
		}
	})
}

func TestReissueRefused(t *testing.T) {
	s := newSim(t, Options{Approval: ApprovalManual})
	waiting := s.place("ssl_securesite_flex", secureSiteBody(t))
	issued := s.place("ssl_securesite_flex", edit(secureSiteBody(t), "order_validity", map[string]any{"days": 10}))
	revoked := s.place("ssl_securesite_flex", secureSiteBody(t))
	docs := s.place("document_signing_org_1", documentSigningBody(t))
	for _, id := range []int64{issued.ID, revoked.ID, docs.ID} {
		if err := s.s.Approve(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.s.SetStatus(revoked.ID, "revoked"); err != nil {
		t.Fatal(err)
	}
	legacy := s.v1("1", testKey, legacyBody(t))
	var v1 struct {
		OrderID int64 `json:"order_id"`
	}
	legacy.decode(t, &v1)
	good := reissueBody(t, "www.example.com")

	tests := []struct {
		name   string
		id     string
		body   any
		status int
		codes  []string
	}{
		{"unknown order", "424242", good, 404, []string{"not_found|order"}},
		{"not an id", "abc", good, 404, []string{"not_found|order"}},
		{"body not JSON", itoa(issued.ID), []byte("{"), 400, []string{"bad_request_format"}},
		{"no certificate", itoa(issued.ID), map[string]any{"skip_approval": true}, 400, []string{"required_param:certificate"}},
		{"no CSR, no common name", itoa(issued.ID), map[string]any{"certificate": map[string]any{"dns_names": []any{"a.example.com"}}}, 400,
			[]string{"required_param:certificate.common_name", "required_param:certificate.csr"}},
		{"CSR does not parse, bad names and hash", itoa(issued.ID), map[string]any{
			"certificate":   map[string]any{"common_name": "www.example.com", "csr": "garbage", "dns_names": []any{"a b"}, "signature_hash": "md5"},
			"skip_approval": "yes",
		}, 400, []string{"csr_invalid_cannot_parse", "invalid_value:certificate.dns_names[0]", "invalid_value:certificate.signature_hash", "invalid_value:skip_approval"}},
		{"an order awaiting approval", itoa(waiting.ID), good, 400, []string{"reissue_not_allowed|order_status"}},
		{"a revoked order", itoa(revoked.ID), good, 400, []string{"reissue_not_allowed|order_status"}},
		{"document signing", itoa(docs.ID), good, 400, []string{"reissue_not_allowed|product"}},
		{"legacy v1", itoa(v1.OrderID), good, 400, []string{"reissue_not_allowed|product"}},
	}
	for _, tc := range tests {
		r := s.do("POST", "/services/v2/order/certificate/"+tc.id+"/reissue", tc.body)
		if got := r.codes(t); r.status != tc.status || !slices.Equal(got, tc.codes) {
			t.Errorf("%s: %d %q, want %d %q", tc.name, r.status, got, tc.status, tc.codes)
		}
	}
	// An order that has ended.
	s.clock.Add(10 * 24 * time.Hour)
	r := s.do("POST", reissuePath(issued.ID), good)
	if got := r.codes(t); r.status != 400 || !slices.Equal(got, []string{"reissue_not_allowed|order_expired"}) {
		t.Errorf("ended order: %d %q", r.status, got)
	}
	// Nothing was committed by any of them.
	for _, o := range s.s.Orders() {
		if len(o.Reissues) != 0 {
			t.Errorf("order %d has reissues: %+v", o.ID, o.Reissues)
		}
	}
	if st := s.s.Stats(); st.ReissuesPlaced != 0 {
		t.Errorf("stats: %+v", st)
	}
	if r := s.do("GET", "/services/v2/order/certificate/424242/reissue", nil); r.status != 404 {
		t.Errorf("list for an unknown order: %d", r.status)
	}
}

func TestReissuePrivateSSL(t *testing.T) {
	s := newSim(t, Options{})
	order := s.place("private_ssl_flex", privateSSLBody(t))
	s.clock.Add(400 * 24 * time.Hour)
	resp := s.reissue(order.ID, reissueBody(t, "intranet.example.local", "wiki.example.local"))
	leaf := parsePEMChain(t, resp.CertificateChain[0].PEM)[0]
	if want := testNow.AddDate(2, 0, 0); !leaf.NotAfter.Equal(want) {
		t.Errorf("private SSL reissue ends %s, want the order's end %s (no date cap)", leaf.NotAfter, want)
	}
	if info := s.planInfo(order.ID); info.Certificate.SignatureHash != "sha256" {
		t.Errorf("signature hash %s, want the reissue's sha256", info.Certificate.SignatureHash)
	}
	// Without a signature hash, the order's applies.
	body := reissueBody(t, "intranet.example.local")
	delete(body["certificate"].(map[string]any), "signature_hash")
	s.reissue(order.ID, body)
	if info := s.planInfo(order.ID); info.Certificate.SignatureHash != "sha384" {
		t.Errorf("signature hash %s, want the order's sha384", info.Certificate.SignatureHash)
	}
}

func TestReissueNamesRevocationAndBilling(t *testing.T) {
	s := newSim(t, Options{})
	order := s.place("ssl_securesite_flex", secureSiteBody(t)) // www.example.com, example.com, api.example.com
	s.clock.Add(24 * time.Hour)

	// Adding names: billed pro rata, nothing revoked.
	added := s.reissue(order.ID, reissueBody(t, "www.example.com", "example.com", "api.example.com", "shop.example.com", "*.cdn.example.com"))
	list := s.reissues(order.ID)
	if e := list[1]; e.ReceiptID == "0" || e.ReceiptID == "" || e.PurchasedDNSNames != 1 || e.PurchasedWildcardNames != 1 {
		t.Errorf("added names: receipt %q purchased %d + %d wildcard", e.ReceiptID, e.PurchasedDNSNames, e.PurchasedWildcardNames)
	}
	s.clock.Add(100 * time.Hour)
	if got := statuses(s.reissues(order.ID)); !slices.Equal(got, []string{"issued", "issued"}) {
		t.Errorf("after adding names: %q", got)
	}

	// Removing a name (and changing case, which is no change): every earlier
	// certificate is revoked 48 to 72 hours after the new one issues.
	s.clock.Add(24 * time.Hour)
	issuedAt := s.clock.Now()
	removed := s.reissue(order.ID, reissueBody(t, "WWW.example.com", "example.com", "shop.example.com"))
	if e := s.reissues(order.ID)[2]; e.ReceiptID != "0" || e.PurchasedDNSNames != 0 {
		t.Errorf("names bought once are not billed again: %+v", e)
	}
	s.clock.Add(48*time.Hour - time.Minute)
	if got := statuses(s.reissues(order.ID)); !slices.Equal(got, []string{"issued", "issued", "issued"}) {
		t.Errorf("before 48 hours: %q", got)
	}
	orders := s.s.Orders()
	revokeAt := orders[0].RevokeAt
	if revokeAt.Before(issuedAt.Add(48*time.Hour)) || revokeAt.After(issuedAt.Add(72*time.Hour)) ||
		!orders[0].Reissues[0].RevokeAt.Equal(revokeAt) || !orders[0].Reissues[1].RevokeAt.IsZero() {
		t.Errorf("revocation scheduled at %s for a reissue at %s: %+v", revokeAt, issuedAt, orders[0].Reissues)
	}
	s.s.SetClock(issuedAt.Add(72 * time.Hour))
	list = s.reissues(order.ID)
	if got := statuses(list); !slices.Equal(got, []string{"revoked", "revoked", "issued"}) {
		t.Errorf("after 72 hours: %q", got)
	}
	info := s.planInfo(order.ID)
	if info.Status != "issued" || info.Certificate.ID != removed.CertificateID {
		t.Errorf("the order stays issued with the new certificate: %+v", info)
	}
	if list[1].ID != added.CertificateID {
		t.Errorf("list order: %+v", list)
	}
	// The revoked certificates stay downloadable by id.
	if r := s.do("GET", "/services/v2/certificate/"+itoa(order.CertificateID)+"/download/format/pem_all", nil); r.status != http.StatusOK {
		t.Errorf("download of a revoked certificate: %d", r.status)
	}
}

func TestReissueFaults(t *testing.T) {
	s := newSim(t, Options{})
	order := s.place("ssl_securesite_flex", secureSiteBody(t))
	count := func() int { return len(s.s.Orders()[0].Reissues) }

	s.s.SetFaults(Faults{Burst429: 1, RetryAfter: true})
	r := s.do("POST", reissuePath(order.ID), reissueBody(t, "www.example.com"))
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || count() != 0 {
		t.Errorf("429: %d, %d reissues", r.status, count())
	}
	s.s.SetFaults(Faults{ServerErrorRate: 1})
	r = s.do("POST", reissuePath(order.ID), reissueBody(t, "www.example.com"))
	if r.status < 500 || count() != 0 {
		t.Errorf("5xx: %d, %d reissues", r.status, count())
	}
	s.s.SetFaults(Faults{Latency: 30 * time.Millisecond})
	start := time.Now()
	s.reissue(order.ID, reissueBody(t, "www.example.com", "example.com", "api.example.com"))
	if time.Since(start) < 30*time.Millisecond {
		t.Error("latency not applied to the reissue endpoint")
	}

	// A lost response after the reissue was committed: the list shows the CSR sent.
	s.s.SetFaults(Faults{DropAfterCommit: 1})
	body := reissueBody(t, "www.example.com", "example.com", "api.example.com")
	if _, err := s.send("POST", reissuePath(order.ID), body, func(h http.Header) { h.Set("X-DC-DEVKEY", testKey) }); err == nil {
		t.Fatal("the client got a response; want a connection error")
	}
	if count() != 2 || !s.s.Orders()[0].Reissues[1].ResponseDropped {
		t.Errorf("after the drop: %+v", s.s.Orders()[0].Reissues)
	}
	list := s.reissues(order.ID)
	if last := list[len(list)-1]; last.CSR != body["certificate"].(map[string]any)["csr"] || last.Status != "issued" {
		t.Errorf("the committed reissue is not visible: %+v", last)
	}
	if st := s.s.Stats(); st.Dropped != 1 || st.ReissuesPlaced != 2 {
		t.Errorf("stats: %+v", st)
	}
	// A refused reissue does not use the drop fault up.
	s.s.SetFaults(Faults{DropAfterCommit: 1})
	if r := s.do("POST", reissuePath(order.ID), map[string]any{}); r.status != http.StatusBadRequest || s.s.Faults().DropAfterCommit != 1 {
		t.Errorf("refused reissue: %d, drop left %d", r.status, s.s.Faults().DropAfterCommit)
	}
}

func TestReissueNeverLeaksTheCSRIntoErrors(t *testing.T) {
	s := newSim(t, Options{})
	order := s.place("ssl_securesite_flex", secureSiteBody(t))
	body := reissueBody(t, "www.example.com")
	body["certificate"].(map[string]any)["signature_hash"] = "md5"
	r := s.do("POST", reissuePath(order.ID), body)
	if r.status != 400 || strings.Contains(string(r.body), "BEGIN CERTIFICATE REQUEST") {
		t.Errorf("error body: %d %s", r.status, r.body)
	}
}

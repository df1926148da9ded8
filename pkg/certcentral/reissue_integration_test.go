package certcentral_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/simulator"
	"github.com/certplan/certplan/pkg/spec"
)

// planOrder is a Secure Site manifest order on a plan, paid from the balance.
func planOrder(t *testing.T, years int, autoReissue int) map[string]any {
	t.Helper()
	return map[string]any{
		"certificate": map[string]any{
			"common_name":    "shop.example.com",
			"dns_names":      []any{"www.shop.example.com"},
			"csr":            makeCSR(t, "shop.example.com", "www.shop.example.com"),
			"signature_hash": "sha256",
		},
		"order_validity": map[string]any{"years": years},
		"organization":   map[string]any{"id": 123456},
		"payment_method": "balance",
		"auto_reissue":   autoReissue,
		"skip_approval":  true,
	}
}

// rekeyed is the order with a new key (and optionally other names).
func rekeyed(t *testing.T, order map[string]any, dns ...string) (map[string]any, string) {
	t.Helper()
	cert := map[string]any{}
	for k, v := range order["certificate"].(map[string]any) {
		cert[k] = v
	}
	csr := makeCSR(t, "shop.example.com", dns...)
	cert["csr"] = csr
	if dns != nil {
		names := []any{}
		for _, n := range dns {
			names = append(names, n)
		}
		cert["dns_names"] = names
	}
	out := map[string]any{}
	for k, v := range order {
		out[k] = v
	}
	out["certificate"] = cert
	return out, csr
}

func placePlan(t *testing.T, c *certcentral.Client, order map[string]any) *certcentral.PlaceOrderResponse {
	t.Helper()
	body, err := certcentral.BuildOrderBody(spec.SecureSiteFlex, order, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.PlaceOrder(context.Background(), spec.SecureSiteFlex, body)
	if err != nil {
		t.Fatalf("PlaceOrder: %v", err)
	}
	return resp
}

func TestSimulatorReissue(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	t.Run("issued at once: the order moves to the new certificate", func(t *testing.T) {
		sim := newSim(t, simulator.Options{ClockStart: start})
		c := sim.client(t)
		order := planOrder(t, 3, 1)
		placed := placePlan(t, c, order)

		info, err := c.OrderInfo(ctx, placed.ID)
		if err != nil {
			t.Fatal(err)
		}
		end, ok := info.OrderEnd()
		expiry, ok2 := info.Certificate.Expiry()
		if !ok || !ok2 || !end.Equal(time.Date(2029, 3, 2, 0, 0, 0, 0, time.UTC)) || !expiry.Equal(time.Date(2026, 9, 17, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("order end %s, certificate expiry %s: want the 3-year plan and a 199-day certificate", end, expiry)
		}
		if !bool(info.IsMultiYearPlan) || !bool(info.AutoReissue) || bool(info.AutoRenew) || info.PendingReissue() ||
			len(info.Requests) != 1 || info.Requests[0].Type != certcentral.RequestTypeNewRequest {
			t.Errorf("plan fields: %+v", info)
		}

		next, csr := rekeyed(t, order)
		body, err := certcentral.BuildReissueBody(next)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Reissue(ctx, placed.ID, body)
		if err != nil {
			t.Fatalf("Reissue: %v", err)
		}
		if resp.ID != placed.ID || resp.CertificateID == 0 || resp.CertificateID == placed.CertificateID || len(resp.CertificateChain) != 3 || len(resp.Requests) != 1 {
			t.Errorf("reissue response: %+v", resp)
		}
		info, err = c.OrderInfo(ctx, placed.ID)
		if err != nil {
			t.Fatal(err)
		}
		if info.Certificate.ID != resp.CertificateID || !certcentral.SameCSR(info.Certificate.CSR, csr) || info.LastReissuedDate == "" ||
			info.PendingReissue() || info.Requests[1].Type != certcentral.RequestTypeReissue {
			t.Errorf("order info after the reissue: %+v", info)
		}
		list, err := c.ListReissues(ctx, placed.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != placed.CertificateID || list[1].ID != resp.CertificateID || !certcentral.SameCSR(list[1].CSR, csr) ||
			list[1].Status != "issued" || list[1].ReceiptID.Billed() {
			t.Errorf("reissues: %+v", list)
		}
		pem, err := c.DownloadCertificate(ctx, resp.CertificateID, certcentral.FormatPEMAll)
		if err != nil || firstCert(t, pem).NotAfter.Sub(firstCert(t, pem).NotBefore) != 199*24*time.Hour {
			t.Errorf("download of the reissued certificate: %v", err)
		}

		// Added names are billed; the list says so.
		added, _ := rekeyed(t, order, "www.shop.example.com", "api.shop.example.com")
		body, _ = certcentral.BuildReissueBody(added)
		if _, err := c.Reissue(ctx, placed.ID, body); err != nil {
			t.Fatal(err)
		}
		list, _ = c.ListReissues(ctx, placed.ID)
		if len(list) != 3 || !list[2].ReceiptID.Billed() || list[2].PurchasedDNSNames != 1 {
			t.Errorf("billed reissue: %+v", list[2])
		}
	})

	t.Run("awaiting approval: pending, a second reissue refused", func(t *testing.T) {
		sim := newSim(t, simulator.Options{ClockStart: start, Approval: simulator.ApprovalManual})
		c := sim.client(t)
		order := planOrder(t, 1, 0)
		placed := placePlan(t, c, order)
		if err := sim.sim.Approve(placed.ID); err != nil {
			t.Fatal(err)
		}
		first, _ := c.OrderInfo(ctx, placed.ID)
		next, csr := rekeyed(t, order)
		body, _ := certcentral.BuildReissueBody(next)
		resp, err := c.Reissue(ctx, placed.ID, body)
		if err != nil || resp.CertificateID != 0 || len(resp.Requests) != 1 || resp.Requests[0].Status != certcentral.RequestPending {
			t.Fatalf("pending reissue: %+v, %v", resp, err)
		}
		info, _ := c.OrderInfo(ctx, placed.ID)
		if !info.PendingReissue() || info.Status != certcentral.StatusReissuePending || info.Certificate.ID != first.Certificate.ID {
			t.Errorf("order while the reissue waits: %+v", info)
		}
		_, err = c.Reissue(ctx, placed.ID, body)
		var ae *certcentral.APIError
		if !errors.As(err, &ae) || ae.StatusCode != 400 || !ae.HasCode("reissue_not_allowed") || !certcentral.NothingCreated(err) {
			t.Errorf("second reissue: %v", err)
		}
		if err := sim.sim.Approve(placed.ID); err != nil {
			t.Fatal(err)
		}
		info, _ = c.OrderInfo(ctx, placed.ID)
		list, _ := c.ListReissues(ctx, placed.ID)
		if info.PendingReissue() || info.Status != certcentral.StatusIssued || len(list) != 2 || info.Certificate.ID != list[1].ID || !certcentral.SameCSR(list[1].CSR, csr) {
			t.Errorf("after approval: %+v / %+v", info, list)
		}
	})
}

func TestSimulatorReissueFaults(t *testing.T) {
	ctx := context.Background()
	sim := newSim(t, simulator.Options{ClockStart: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)})
	c := sim.client(t)
	order := planOrder(t, 1, 0)
	placed := placePlan(t, c, order)
	reissues := func() int { return len(sim.sim.Orders()[0].Reissues) }

	t.Run("a lost response is outcome-unknown; the list shows it was committed", func(t *testing.T) {
		sim.sim.SetFaults(simulator.Faults{DropAfterCommit: 1})
		next, csr := rekeyed(t, order)
		body, _ := certcentral.BuildReissueBody(next)
		before := c.Calls()
		_, err := c.Reissue(ctx, placed.ID, body)
		if !certcentral.OutcomeUnknown(err) || certcentral.NothingCreated(err) || c.Calls()-before != 1 {
			t.Fatalf("err %v after %d requests, want outcome unknown after 1", err, c.Calls()-before)
		}
		list, err := c.ListReissues(ctx, placed.ID)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, rc := range list {
			found = found || certcentral.SameCSR(rc.CSR, csr)
		}
		if !found || reissues() != 1 {
			t.Errorf("committed reissue not found by its CSR: %+v", list)
		}
	})

	t.Run("429 is retried and reissues once", func(t *testing.T) {
		sim.sim.SetFaults(simulator.Faults{Burst429: 2})
		next, _ := rekeyed(t, order)
		body, _ := certcentral.BuildReissueBody(next)
		before := c.Calls()
		if _, err := c.Reissue(ctx, placed.ID, body); err != nil {
			t.Fatalf("Reissue after 429s: %v", err)
		}
		if c.Calls()-before != 3 || reissues() != 2 {
			t.Errorf("%d requests, %d reissues; want 3 and 2", c.Calls()-before, reissues())
		}
	})

	t.Run("5xx is not retried and created nothing here", func(t *testing.T) {
		sim.sim.SetFaults(simulator.Faults{ServerErrorRate: 1, Seed: 3})
		next, _ := rekeyed(t, order)
		body, _ := certcentral.BuildReissueBody(next)
		before := c.Calls()
		_, err := c.Reissue(ctx, placed.ID, body)
		if !certcentral.OutcomeUnknown(err) || c.Calls()-before != 1 || reissues() != 2 {
			t.Errorf("err %v after %d requests, %d reissues", err, c.Calls()-before, reissues())
		}
	})
	sim.sim.SetFaults(simulator.Faults{})
}

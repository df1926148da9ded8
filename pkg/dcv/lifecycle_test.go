package dcv_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/dcv"
	"github.com/certplan/certplan/pkg/dnstest"
	"github.com/certplan/certplan/pkg/lifecycle"
	"github.com/certplan/certplan/pkg/simulator"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// TestLifecycleThroughShrinkingReusePeriods lives one Secure Site
// certificate from 2026-09 to 2030-03 on the simulator's clock, with DNS
// validation at a loopback DNS server: created, reissued 30 days before each
// certificate expires, renewed 30 days before each 1-year order ends. Each
// time CertCentral asks for validation, the records are published (as a DNS
// team would, from dcv.RecordsFor) and dcv.Check completes it; after each
// validation they are withdrawn again. It checks that:
//
//   - no day passes without a valid certificate;
//   - before 2027-03-15 (199-day reuse, 199-day certificates) validations
//     are reused; from 2027-03-15 (100-day reuse, 99-day certificates,
//     a reissue every ~69 days) about every second reissue needs fresh DCV;
//     from 2029-03-15 (10-day reuse, 46-day certificates) every reissue does
//     (a renewal days after a validated reissue may still reuse it);
//   - dcv.LapsesAt, which the plan warns with, agrees with the simulator:
//     a new certificate needed fresh validation exactly when the last one
//     had lapsed.
//
// It is self-contained: its own simulator, DNS server and client.
func TestLifecycleThroughShrinkingReusePeriods(t *testing.T) {
	if testing.Short() {
		t.Skip("lives 3.5 simulated years")
	}
	dns, err := dnstest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	start := time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC)
	sim, err := simulator.New(simulator.Options{DNS: dns.Addr(), ClockStart: start, Limits: []simulator.Limit{}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	ts := httptest.NewServer(sim.Handler())
	defer ts.Close()
	client, err := certcentral.New(certcentral.Config{Endpoint: ts.URL + "/services/v2", APIKey: "k", Limits: []certcentral.Limit{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	resolver := &dcv.Resolver{Server: dns.Addr(), Timeout: time.Second}
	reuse := lifecycle.DefaultDCVReuse()

	names := []string{"shop.example.com", "www.shop.example.com"}
	order := map[string]any{
		"certificate": map[string]any{
			"common_name": names[0], "dns_names": []any{names[1]}, "csr": newCSR(t, names), "signature_hash": "sha256",
		},
		"order_validity": map[string]any{"years": 1},
		"organization":   map[string]any{"id": 123456},
		"payment_method": "balance",
		"dcv_method":     "dns-txt-token",
	}
	const renewBefore = 30 * 24 * time.Hour

	type event struct {
		at        time.Time
		kind      string // create, reissue, renew
		validated bool   // fresh DCV was needed
	}
	var events []event
	var lastValidation time.Time // what the plan would have recorded

	// validate publishes the records of an order awaiting validation, checks
	// them as `certplan dcv check` does, and withdraws them.
	validate := func(orderID int64, value string) {
		t.Helper()
		var dn []state.DCVName
		for _, n := range names {
			dn = append(dn, state.DCVName{Name: n})
		}
		p := dcv.Pending{Certificate: "shop", OrderID: orderID, Method: "dns-txt-token", Records: dcv.RecordsFor("dns-txt-token", value, dn)}
		for _, r := range p.Records {
			if err := dns.Add(r.Name, "TXT", r.Value, 0); err != nil {
				t.Fatal(err)
			}
		}
		out := dcv.Check(ctx, []dcv.Pending{p}, dcv.CheckOptions{API: client, Lookup: resolver.Lookup, Wait: time.Hour,
			Now: sim.Now, Sleep: func(_ context.Context, d time.Duration) error { sim.AdvanceClock(d); return nil }})
		if !out[0].Validated {
			t.Fatalf("%s: order %d not validated: %s %v", sim.Now().Format(time.DateOnly), orderID, out[0].Why, out[0].Err)
		}
		lastValidation = sim.Now()
		dns.Clear()
	}
	// record notes a new certificate: whether it waited for DCV, and that
	// LapsesAt predicted it.
	record := func(kind string, value string) {
		now := sim.Now()
		needed := value != ""
		if !lastValidation.IsZero() {
			predicted := !dcv.LapsesAt(reuse, lastValidation).After(now)
			if predicted != needed {
				t.Errorf("%s %s: fresh DCV needed %v, but LapsesAt(%s) = %s predicts %v", now.Format(time.DateOnly), kind,
					needed, lastValidation.Format(time.DateOnly), dcv.LapsesAt(reuse, lastValidation).Format(time.DateOnly), predicted)
			}
		}
		events = append(events, event{at: now, kind: kind, validated: needed})
	}

	body, err := certcentral.BuildOrderBody(spec.SecureSiteFlex, order, "cplifecycle0", 0)
	if err != nil {
		t.Fatal(err)
	}
	placed, err := client.PlaceOrder(ctx, spec.SecureSiteFlex, body)
	if err != nil {
		t.Fatal(err)
	}
	orderID := placed.ID
	record("create", placed.DCVRandomValue)
	if placed.DCVRandomValue != "" {
		validate(orderID, placed.DCVRandomValue)
	}

	end := time.Date(2030, 3, 1, 0, 0, 0, 0, time.UTC)
	for day := 0; sim.Now().Before(end); day++ {
		info, err := client.OrderInfo(ctx, orderID)
		if err != nil {
			t.Fatal(err)
		}
		now := sim.Now()
		certEnd, ok := info.Certificate.Expiry()
		if info.Status != "issued" || !ok || !now.Before(certEnd) {
			t.Fatalf("%s: no valid certificate: order %d %s, valid till %s", now.Format(time.DateOnly), orderID, info.Status, info.Certificate.ValidTill)
		}
		orderEnd, _ := info.OrderEnd()
		switch {
		case !now.Before(orderEnd.Add(-renewBefore)):
			body, err := certcentral.BuildOrderBody(spec.SecureSiteFlex, order, fmt.Sprintf("cplifecycle%d", day), orderID)
			if err != nil {
				t.Fatal(err)
			}
			placed, err := client.PlaceOrder(ctx, spec.SecureSiteFlex, body)
			if err != nil {
				t.Fatalf("%s: renew: %v", now.Format(time.DateOnly), err)
			}
			record("renew", placed.DCVRandomValue)
			if placed.DCVRandomValue != "" {
				validate(placed.ID, placed.DCVRandomValue)
			}
			orderID = placed.ID
		case !now.Before(certEnd.Add(-renewBefore)):
			body, err := certcentral.BuildReissueBody(order)
			if err != nil {
				t.Fatal(err)
			}
			r, err := client.Reissue(ctx, orderID, body)
			if err != nil {
				t.Fatalf("%s: reissue: %v", now.Format(time.DateOnly), err)
			}
			record("reissue", r.DCVRandomValue)
			if r.DCVRandomValue != "" {
				validate(orderID, r.DCVRandomValue)
			}
		}
		sim.AdvanceClock(24 * time.Hour)
	}

	// Who needed fresh validation, by period.
	type tally struct{ certs, validated, reissues, reissuesValidated int }
	periods := map[string]*tally{"199": {}, "100": {}, "10": {}}
	for _, e := range events[1:] { // the first order always validates
		p := "199"
		switch {
		case !e.at.Before(lifecycle.Cap46From):
			p = "10"
		case !e.at.Before(lifecycle.Cap99From):
			p = "100"
		}
		periods[p].certs++
		if e.validated {
			periods[p].validated++
		}
		if e.kind == "reissue" {
			periods[p].reissues++
			if e.validated {
				periods[p].reissuesValidated++
			}
		}
	}
	t.Logf("certificates after the first: 199-day reuse %+v, 100-day %+v, 10-day %+v", *periods["199"], *periods["100"], *periods["10"])
	if p := periods["100"]; p.certs < 8 || p.validated*10 < p.certs*3 || p.validated*10 > p.certs*7 {
		t.Errorf("100-day reuse (2027-03-15 to 2029-03-15): %d of %d new certificates needed fresh DCV, want about every second", p.validated, p.certs)
	}
	// A renewal a few days after a validated reissue may still reuse it;
	// every reissue, 17 days after the last certificate, needs fresh DCV.
	if p := periods["10"]; p.reissues < 5 || p.reissuesValidated != p.reissues {
		t.Errorf("10-day reuse (from 2029-03-15): %d of %d reissues needed fresh DCV, want every one", p.reissuesValidated, p.reissues)
	}
	if p := periods["199"]; p.certs == 0 {
		t.Errorf("no new certificate before 2027-03-15")
	}
}

func newCSR(t *testing.T, names []string) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: names[0]}, DNSNames: names}, k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
)

// testNow is the fixed clock of every test.
var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func csrPEM(name string) string {
	return "-----BEGIN CERTIFICATE REQUEST-----\nMIICfake" + name + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n-----END CERTIFICATE REQUEST-----\n"
}

// tlsCert is a Secure Site certificate manifest; mods edit its order body.
func tlsCert(name string, mods ...func(map[string]any)) *spec.Certificate {
	c := &spec.Certificate{
		Name:        name,
		Product:     spec.SecureSiteFlex,
		RenewBefore: spec.DefaultRenewBefore,
		Order: map[string]any{
			"certificate": map[string]any{
				"common_name":    name + ".example.com",
				"dns_names":      []any{"www." + name + ".example.com"},
				"csr":            csrPEM(name),
				"signature_hash": "sha256",
			},
			"order_validity": map[string]any{"years": 1},
			"organization":   map[string]any{"id": 123456},
			"payment_method": "balance",
			"comments":       "managed by certplan",
		},
	}
	for _, m := range mods {
		m(c.Order)
	}
	return c
}

func privateCert(name string) *spec.Certificate {
	c := tlsCert(name)
	c.Product = spec.PrivateSSLFlex
	return c
}

func docSigningCert(name string) *spec.Certificate {
	return &spec.Certificate{
		Name:        name,
		Product:     spec.DocumentSigningOrg1,
		RenewBefore: spec.DefaultRenewBefore,
		Order: map[string]any{
			"certificate":            map[string]any{"signature_hash": "sha256"},
			"cs_provisioning_method": "ship_token",
			"order_validity":         map[string]any{"years": 1},
			"organization":           map[string]any{"id": 123456},
			"subject":                map[string]any{"name": "Jane Doe", "job_title": "Signer", "phone": "555-0100", "email": "jane@example.com"},
		},
	}
}

func legacyCert(name string) *spec.Certificate {
	return &spec.Certificate{
		Name:        name,
		Product:     spec.LegacySSL,
		RenewBefore: spec.DefaultRenewBefore,
		Order: map[string]any{
			"csr": csrPEM(name), "validity": "1", "common_name": name + ".example.com",
			"org_name": "Example Ltd", "org_addr1": "1 Main St", "org_city": "Springfield", "org_state": "IL",
			"org_zip": "62701", "org_country": "us", "org_contact_firstname": "Joe", "org_contact_lastname": "Bloggs",
			"org_contact_email": "joe@example.com", "org_contact_telephone": "555-123-1234",
		},
	}
}

// withCard makes the order pay by card with secret references.
func withCard(order map[string]any) {
	order["payment_method"] = "card"
	order["credit_card"] = map[string]any{
		"number":           spec.Secret{Ref: spec.SecretRef{Env: "CARD_NUMBER"}},
		"cvv":              spec.Secret{Ref: spec.SecretRef{Env: "CARD_CVV"}},
		"expiration_month": 12,
		"expiration_year":  2030,
		"cardholder_name":  "Jane Doe",
	}
	order["billing_address"] = map[string]any{"address": "1 Main St", "city": "Springfield", "state": "IL", "country": "us", "zip": "62701"}
}

func setPath(path string, v any) func(map[string]any) {
	return func(order map[string]any) {
		m := order
		parts := splitDots(path)
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = v
	}
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// roundTrip gives a body as it comes back from a state or journal file:
// secrets as "(sensitive)", numbers as json.Number.
func roundTrip(t testing.TB, body map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// applied is the state record of c as if certplan had ordered it and the
// order were issued, valid till the given day.
func applied(t testing.TB, c *spec.Certificate, orderID int64, validTill string) *state.Certificate {
	t.Helper()
	since := testNow.Add(-200 * 24 * time.Hour)
	return &state.Certificate{
		Product:            string(c.Product),
		SpecDigest:         SpecDigest(c),
		RequestDigest:      RequestDigest(c.Order),
		Request:            roundTrip(t, c.Order),
		OrderID:            orderID,
		AlternativeOrderID: key(c.Name, c.Product, SpecDigest(c), 0),
		RequestID:          orderID + 1,
		RequestStatus:      "approved",
		Status:             state.StatusIssued,
		CertificateID:      orderID + 2,
		OrderValidTill:     validTill,
		ValidTill:          validTill,
		StatusSince:        &since,
		UpdatedAt:          since,
	}
}

// fixture is the plan of the golden files: one certificate per rule.
func fixture(t testing.TB) Input {
	t.Helper()
	st := &state.State{Version: state.FormatVersion, Lineage: "7f0c2b1e-4c1a-4d3b-9d43-0d6c1e2a9b10", Serial: 42, Certificates: map[string]*state.Certificate{}}
	var certs []*spec.Certificate
	add := func(c *spec.Certificate, s *state.Certificate) {
		certs = append(certs, c)
		if s != nil {
			st.Certificates[c.Name] = s
		}
	}

	// renew: a shaping field changed.
	api := tlsCert("api-gateway")
	apiState := applied(t, api, 1001, "2027-06-30")
	setPath("certificate.dns_names", []any{"www.api-gateway.example.com", "v2.api-gateway.example.com"})(api.Order)
	add(api, apiState)

	// no-op: pending, with manifest changes waiting.
	billing := tlsCert("billing-api")
	billingState := applied(t, billing, 1002, "")
	billingState.Status = state.StatusPending
	since := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	billingState.StatusSince = &since
	billingState.ValidTill, billingState.OrderValidTill = "", ""
	setPath("order_validity.years", 2)(billing.Order)
	add(billing, billingState)

	// renew: inside the renewal window.
	cdn := tlsCert("cdn-edge")
	add(cdn, applied(t, cdn, 1003, "2026-12-20"))

	// create: new document signing certificate.
	add(docSigningCert("docs-signing"), nil)

	// resuming an interrupted renewal.
	intranet := privateCert("intranet")
	add(intranet, applied(t, intranet, 1005, "2026-12-01"))

	// blocked: legacy order of unknown outcome.
	lw := legacyCert("legacy-www")
	add(lw, &state.Certificate{Product: string(spec.LegacySSL), SpecDigest: SpecDigest(lw), Status: state.StatusUnknownOutcome, UpdatedAt: testNow.Add(-time.Hour)})

	// create: new legacy certificate (no key).
	add(legacyCert("legacy-shop"), nil)

	// no-op: only non-shaping fields changed.
	mail := tlsCert("mail")
	mailState := applied(t, mail, 1008, "2027-09-01")
	mail.Order["comments"] = "owned by the mail team"
	mail.Order["additional_emails"] = []any{"mail-team@example.com"}
	add(mail, mailState)

	// create: paid by card, secrets by reference.
	add(tlsCert("payments", withCard), nil)

	// reissue: the certificate is due, its order runs on.
	reports := tlsCert("reports")
	reportsState := applied(t, reports, 1014, "2026-12-10")
	reportsState.OrderValidTill = "2027-10-10"
	add(reports, reportsState)

	// no-op, blocked: a reissue would remove a name.
	search := tlsCert("search")
	searchState := applied(t, search, 1015, "2027-04-01")
	searchState.OrderValidTill = "2027-10-10"
	setPath("certificate.dns_names", []any{})(search.Order)
	add(search, searchState)

	// reissue, destructive and allowed: the common name moves.
	support := allowDestructive(tlsCert("support"))
	supportState := applied(t, support, 1016, "2027-04-01")
	supportState.OrderValidTill = "2028-01-15"
	setPath("certificate.common_name", "help.example.com")(support.Order)
	add(support, supportState)

	// drift: revoked in the console -> create.
	shop := tlsCert("shop-frontend")
	add(shop, applied(t, shop, 1010, "2027-03-15"))

	// no-op: issued and up to date.
	static := tlsCert("static")
	add(static, applied(t, static, 1011, "2027-10-10"))

	// drift: renewed in the console -> blocked.
	vpn := tlsCert("vpn")
	add(vpn, applied(t, vpn, 1012, "2026-12-28"))

	// create: the last order was rejected.
	wiki := tlsCert("wiki")
	wikiState := applied(t, wiki, 1013, "")
	wikiState.Status = state.StatusRejected
	add(wiki, wikiState)

	// orphan.
	old := tlsCert("old-portal")
	st.Certificates["old-portal"] = applied(t, old, 900, "2027-01-01")

	intent := state.Record{
		Seq: 7, Time: time.Date(2026, 11, 22, 18, 4, 5, 0, time.UTC), Type: state.RecordIntent,
		Name: "intranet", Action: state.ActionRenew,
		AlternativeOrderID: key("intranet", spec.PrivateSSLFlex, SpecDigest(intranet), 1005),
		RequestDigest:      RequestDigest(intranet.Order), Product: string(spec.PrivateSSLFlex),
		SpecDigest: SpecDigest(intranet), RenewalOf: 1005, Request: roundTrip(t, intranet.Order),
	}

	facts := map[int64]state.OrderFacts{
		1010: {OrderID: 1010, Status: state.StatusRevoked, ValidTill: "2027-03-15"},
		1012: {OrderID: 1012, Status: state.StatusIssued, IsRenewed: true, RenewedOrderID: 5555, ValidTill: "2026-12-28"},
		1003: {OrderID: 1003, Status: state.StatusIssued, ValidTill: "2026-12-20"},
	}
	return Input{
		Certificates:    certs,
		State:           st,
		Pending:         map[string]state.Record{"intranet": intent},
		Facts:           facts,
		Now:             testNow,
		ManifestDigests: map[string]string{"certs/api.yaml": "sha256:" + fmt.Sprintf("%064x", 1), "certs/web.yaml": "sha256:" + fmt.Sprintf("%064x", 2)},
		Version:         "v0.0.0-test",
		Backend:         &state.BackendInfo{Kind: "file", Name: "certplan.state.json"},
	}
}

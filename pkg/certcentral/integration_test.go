package certcentral_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/simulator"
	"github.com/certplan/certplan/pkg/spec"
)

// simAPI is a simulator behind an httptest server and a client pointed at it.
type simAPI struct {
	sim  *simulator.Server
	url  string
	logs *syncBuffer
}

func newSim(t *testing.T, opts simulator.Options) *simAPI {
	t.Helper()
	opts.APIKey, opts.AccountID = testKey, testAccountID
	if opts.Limits == nil {
		opts.Limits = []simulator.Limit{}
	}
	s, err := simulator.New(opts)
	if err != nil {
		t.Fatalf("simulator.New: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		_ = s.Close()
	})
	return &simAPI{sim: s, url: ts.URL, logs: &syncBuffer{}}
}

func (s *simAPI) client(t *testing.T, mods ...func(*certcentral.Config)) *certcentral.Client {
	t.Helper()
	logger := zerolog.New(s.logs).Level(zerolog.DebugLevel)
	cfg := certcentral.Config{
		Endpoint:       s.url + "/services/v2",
		LegacyEndpoint: s.url,
		APIKey:         testKey,
		AccountID:      testAccountID,
		UserAgent:      "certplan/test",
		Limits:         []certcentral.Limit{},
		RetryMax:       3,
		RetryWaitMin:   time.Millisecond,
		RetryWaitMax:   5 * time.Millisecond,
		Logger:         &logger,
	}
	return newClient(t, cfg, mods...)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// makeCSR returns a PEM CSR for an ECDSA P-256 key with the given names.
func makeCSR(t *testing.T, cn string, dns ...string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: cn, Organization: []string{"Example Org"}}, DNSNames: append([]string{cn}, dns...),
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// simExample is a product's example order with a real CSR and its own key.
func simExample(t *testing.T, p spec.Product, altID string) bodyExample {
	t.Helper()
	ex := bodyExamples()[p]
	ex.altID, ex.renewalOf = altID, 0
	if p.IsLegacy() {
		ex.order["csr"] = makeCSR(t, "www.example.com", "example.com", "shop.example.com")
		return ex
	}
	cert := ex.order["certificate"].(map[string]any)
	if _, ok := cert["csr"]; ok {
		cn, _ := cert["common_name"].(string)
		if cn == "" {
			cn = "Ada Lovelace"
		}
		cert["csr"] = makeCSR(t, cn, asStrings(cert["dns_names"])...)
	}
	return ex
}

func asStrings(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// TestSimulatorEveryEndpoint places an order for every seed product and reads
// it back through every endpoint, then checks the logs carry no secret.
func TestSimulatorEveryEndpoint(t *testing.T) {
	cardSecrets(t)
	sim := newSim(t, simulator.Options{})
	c := sim.client(t)
	ctx := context.Background()

	var ids []int64
	byProduct := map[spec.Product]int64{}
	for i, p := range spec.Products() {
		altID := "cpint" + strings.Repeat("0", 10) + string(rune('a'+i))
		ex := simExample(t, p, altID)
		if p.IsLegacy() {
			flat, err := certcentral.BuildLegacyBody(ex.order)
			if err != nil {
				t.Fatal(err)
			}
			id, err := c.PlaceLegacyOrder(ctx, flat)
			if err != nil {
				t.Fatalf("legacy order: %v", err)
			}
			ids = append(ids, id)
			byProduct[p] = id
			continue
		}
		body, err := certcentral.BuildOrderBody(p, ex.order, altID, 0)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.PlaceOrder(ctx, p, body)
		if err != nil {
			t.Fatalf("%s: PlaceOrder: %v", p, err)
		}
		ids = append(ids, resp.ID)
		byProduct[p] = resp.ID

		info, err := c.OrderInfo(ctx, resp.ID)
		if err != nil {
			t.Fatalf("%s: OrderInfo: %v", p, err)
		}
		if info.ID != resp.ID || info.AlternativeOrderID != altID || info.Product.NameID != string(p) {
			t.Errorf("%s: order info %+v does not match the order placed", p, info)
		}
		found, err := c.OrdersByAlternateID(ctx, altID)
		if err != nil || len(found) != 1 || found[0].OrderID != resp.ID {
			t.Errorf("%s: OrdersByAlternateID = %+v, %v; want order %d", p, found, err, resp.ID)
		}
		if !p.IssuesTLS() {
			continue
		}
		if info.Status != "issued" || info.Certificate.ID == 0 {
			t.Fatalf("%s: order %d is %s with certificate %d, want issued", p, resp.ID, info.Status, info.Certificate.ID)
		}
		pemAll, err := c.DownloadCertificate(ctx, info.Certificate.ID, certcentral.FormatPEMAll)
		if err != nil {
			t.Fatalf("%s: download: %v", p, err)
		}
		leaf := firstCert(t, pemAll)
		cn := ex.order["certificate"].(map[string]any)["common_name"].(string)
		if leaf.Subject.CommonName != cn || !slices.Contains(leaf.DNSNames, cn) {
			t.Errorf("%s: certificate for %q / %v, want %q", p, leaf.Subject.CommonName, leaf.DNSNames, cn)
		}
		byOrder, err := c.DownloadByOrder(ctx, resp.ID, certcentral.FormatPEMNoRoot)
		if err != nil || firstCert(t, byOrder).SerialNumber.Cmp(leaf.SerialNumber) != 0 {
			t.Errorf("%s: DownloadByOrder gave another certificate (%v)", p, err)
		}
		chain, err := c.Chain(ctx, info.Certificate.ID)
		if err != nil || len(chain) == 0 || !strings.Contains(chain[0].PEM, "BEGIN CERTIFICATE") {
			t.Errorf("%s: Chain = %d certs, %v", p, len(chain), err)
		}
	}

	// A renewal links both orders.
	old := byProduct[spec.SecureSiteFlex]
	ex := simExample(t, spec.SecureSiteFlex, "cprenewal1")
	body, err := certcentral.BuildOrderBody(spec.SecureSiteFlex, ex.order, "cprenewal1", old)
	if err != nil {
		t.Fatal(err)
	}
	renewed, err := c.PlaceOrder(ctx, spec.SecureSiteFlex, body)
	if err != nil {
		t.Fatalf("renewal: %v", err)
	}
	ids = append(ids, renewed.ID)
	oldInfo, err1 := c.OrderInfo(ctx, old)
	newInfo, err2 := c.OrderInfo(ctx, renewed.ID)
	if err1 != nil || err2 != nil || !oldInfo.IsRenewed || oldInfo.RenewedOrderID != renewed.ID || !newInfo.IsRenewal || newInfo.RenewalOfOrderID != old {
		t.Errorf("renewal links: old %+v (%v), new %+v (%v)", oldInfo, err1, newInfo, err2)
	}

	// Bulk refresh by ids sees every order.
	listed, err := c.ListOrders(ctx, certcentral.ListFilter{IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	var listedIDs []int64
	for _, o := range listed {
		listedIDs = append(listedIDs, o.ID)
	}
	slices.Sort(listedIDs)
	want := slices.Clone(ids)
	slices.Sort(want)
	if !slices.Equal(listedIDs, want) {
		t.Errorf("ListOrders by id = %v, want %v", listedIDs, want)
	}
	issued, err := c.ListOrders(ctx, certcentral.ListFilter{Statuses: []string{"issued"}, ProductNameID: string(spec.PrivateSSLPlus)})
	if err != nil || len(issued) != 1 || issued[0].ID != byProduct[spec.PrivateSSLPlus] {
		t.Errorf("ListOrders(issued, private_ssl_plus) = %+v, %v", issued, err)
	}

	if st := sim.sim.Stats(); st.TooManyRequests != 0 || st.Unauthorized != 0 || st.OrdersPlaced != len(ids) {
		t.Errorf("simulator stats %+v: want no 429/401 and %d orders", st, len(ids))
	}
	logs := sim.logs.String()
	for _, s := range []string{testKey, testCardNumber, `"cvv"`, "BEGIN CERTIFICATE REQUEST"} {
		if strings.Contains(logs, s) {
			t.Errorf("client log contains %q", s)
		}
	}
	if !strings.Contains(logs, `"path":"/order/alternate/cpint0000000000a"`) {
		t.Errorf("client log lacks the look-up:\n%s", logs)
	}
}

func firstCert(t *testing.T, pemData []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(pemData)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("not PEM certificates: %.60q", pemData)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestSimulatorAlternateLookupNone(t *testing.T) {
	for _, with404 := range []bool{false, true} {
		sim := newSim(t, simulator.Options{AlternateLookup404: with404})
		found, err := sim.client(t).OrdersByAlternateID(context.Background(), "cpnosuchorder")
		if found != nil || err != nil {
			t.Errorf("404 mode %v: OrdersByAlternateID = %v, %v; want nil, nil", with404, found, err)
		}
	}
}

func TestSimulatorErrorClasses(t *testing.T) {
	cardSecrets(t)
	sim := newSim(t, simulator.Options{UniqueAlternativeIDs: true})
	c := sim.client(t)
	ctx := context.Background()
	ex := simExample(t, spec.PrivateSSLPlus, "cpdup1")
	body, err := certcentral.BuildOrderBody(spec.PrivateSSLPlus, ex.order, "cpdup1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PlaceOrder(ctx, spec.PrivateSSLPlus, body); err != nil {
		t.Fatal(err)
	}

	badKey := sim.client(t, func(cfg *certcentral.Config) { cfg.APIKey = "wrong-key-0123456789" })
	invalid, _ := certcentral.BuildOrderBody(spec.PrivateSSLPlus, map[string]any{"certificate": map[string]any{"common_name": "x.example.com", "csr": "not a csr", "signature_hash": "sha256"}, "order_validity": map[string]any{"years": 9}, "organization": map[string]any{"id": 1}}, "", 0)
	tests := []struct {
		name  string
		call  func() error
		check func(error) bool
		code  string
	}{
		{"duplicate alternative id", func() error { _, err := c.PlaceOrder(ctx, spec.PrivateSSLPlus, body); return err },
			func(err error) bool {
				return certcentral.IsDuplicateAlternativeID(err) && certcentral.NothingCreated(err)
			}, ""},
		{"validation", func() error { _, err := c.PlaceOrder(ctx, spec.PrivateSSLPlus, invalid); return err },
			func(err error) bool { return certcentral.NothingCreated(err) && !certcentral.IsRetryable(err) }, "csr_invalid_cannot_parse"},
		{"unknown product", func() error { _, err := c.PlaceOrder(ctx, "no_such_product", body); return err },
			certcentral.IsNotFound, "not_found|product"},
		{"unknown order", func() error { _, err := c.OrderInfo(ctx, 99999999); return err }, certcentral.IsNotFound, "not_found"},
		{"wrong key", func() error { _, err := badKey.OrderInfo(ctx, 1); return err },
			func(err error) bool { return certcentral.NothingCreated(err) && !certcentral.IsRetryable(err) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ae *certcentral.APIError
			if !errors.As(err, &ae) || !tt.check(err) {
				t.Fatalf("err = %v, wrong class", err)
			}
			if tt.code != "" && !ae.HasCode(tt.code) {
				t.Errorf("codes %v lack %s", ae.Codes(), tt.code)
			}
			if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "wrong-key-0123456789") {
				t.Errorf("error shows an API key: %v", err)
			}
		})
	}
	if n := len(sim.sim.Orders()); n != 1 {
		t.Errorf("simulator holds %d orders, want 1", n)
	}
}

func TestSimulatorFaults(t *testing.T) {
	cardSecrets(t)
	sim := newSim(t, simulator.Options{})
	c := sim.client(t)
	ctx := context.Background()
	place := func(alt string) (*certcentral.PlaceOrderResponse, error) {
		ex := simExample(t, spec.PrivateSSLWildcard, alt)
		body, err := certcentral.BuildOrderBody(spec.PrivateSSLWildcard, ex.order, alt, 0)
		if err != nil {
			t.Fatal(err)
		}
		return c.PlaceOrder(ctx, spec.PrivateSSLWildcard, body)
	}

	t.Run("429 burst on POST is retried after Retry-After", func(t *testing.T) {
		sim.sim.SetFaults(simulator.Faults{Burst429: 2, RetryAfter: true})
		sleeps := &sleepRecorder{}
		rc := sim.client(t, func(cfg *certcentral.Config) { cfg.Sleep = sleeps.Sleep })
		ex := simExample(t, spec.PrivateSSLWildcard, "cpburst")
		body, err := certcentral.BuildOrderBody(spec.PrivateSSLWildcard, ex.order, "cpburst", 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rc.PlaceOrder(ctx, spec.PrivateSSLWildcard, body); err != nil {
			t.Fatalf("PlaceOrder: %v", err)
		}
		if rc.Calls() != 3 {
			t.Errorf("sent %d requests, want 3 (two 429s, then the order)", rc.Calls())
		}
		if waits := sleeps.all(); len(waits) != 2 || waits[0] != time.Second || waits[1] != time.Second {
			t.Errorf("waits %v, want the simulator's Retry-After (1s) twice", waits)
		}
	})

	t.Run("dropped response after commit is outcome unknown, and the look-up finds it", func(t *testing.T) {
		sim.sim.SetFaults(simulator.Faults{DropAfterCommit: 1})
		before := c.Calls()
		_, err := place("cpdropped")
		if !certcentral.OutcomeUnknown(err) || certcentral.NothingCreated(err) {
			t.Fatalf("err = %v, want outcome unknown", err)
		}
		if got := c.Calls() - before; got != 1 {
			t.Errorf("sent %d requests, want 1: a POST is never retried blindly", got)
		}
		found, err := c.OrdersByAlternateID(ctx, "cpdropped")
		if err != nil || len(found) != 1 {
			t.Errorf("look-up after drop = %v, %v; want the committed order", found, err)
		}
	})

	t.Run("5xx: GET retried, POST not", func(t *testing.T) {
		sim.sim.SetFaults(simulator.Faults{ServerErrorRate: 1, Seed: 1})
		before := c.Calls()
		_, err := c.OrderInfo(ctx, 1)
		if !certcentral.IsRetryable(err) || c.Calls()-before != 4 {
			t.Errorf("GET: err %v after %d requests, want a 5xx after 4", err, c.Calls()-before)
		}
		before = c.Calls()
		_, err = place("cp5xx")
		if !certcentral.OutcomeUnknown(err) || c.Calls()-before != 1 {
			t.Errorf("POST: err %v after %d requests, want outcome unknown after 1", err, c.Calls()-before)
		}
	})

	t.Run("cancelled while the server is slow", func(t *testing.T) {
		sim.sim.SetFaults(simulator.Faults{Latency: time.Second})
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := c.OrdersByAlternateID(cctx, "cpslow")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the context deadline", err)
		}
	})
	sim.sim.SetFaults(simulator.Faults{})
}

func TestSimulatorListPaging(t *testing.T) {
	cardSecrets(t)
	sim := newSim(t, simulator.Options{Approval: simulator.ApprovalManual})
	c := sim.client(t)
	ctx := context.Background()
	ex := simExample(t, spec.PrivateSSLPlus, "")
	const n = 1001 // two pages of at most 1000
	for i := 0; i < n; i++ {
		body, err := certcentral.BuildOrderBody(spec.PrivateSSLPlus, ex.order, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.PlaceOrder(ctx, spec.PrivateSSLPlus, body); err != nil {
			t.Fatalf("order %d: %v", i, err)
		}
	}
	before := c.Calls()
	got, err := c.ListOrders(ctx, certcentral.ListFilter{Statuses: []string{"needs_approval", "pending"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n || c.Calls()-before != 2 {
		t.Errorf("listed %d orders in %d calls, want %d in 2", len(got), c.Calls()-before, n)
	}
	seen := map[int64]bool{}
	for _, o := range got {
		seen[o.ID] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct orders, want %d", len(seen), n)
	}
}

// TestSimulatorBurst places 300 orders from 10 goroutines against the
// simulator enforcing the documented limit counts with windows scaled down 5x
// (100 per 1s and 1000 per 36s instead of 100/5s and 1000/3min), the client
// limiter set to the same limits and client retries off, so a single 429
// would fail an order.
func TestSimulatorBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 2 seconds")
	}
	cardSecrets(t)
	sim := newSim(t, simulator.Options{Limits: []simulator.Limit{{Requests: 100, Window: time.Second}, {Requests: 1000, Window: 36 * time.Second}}})
	c := sim.client(t, func(cfg *certcentral.Config) {
		cfg.Limits = []certcentral.Limit{{Requests: 100, Window: time.Second}, {Requests: 1000, Window: 36 * time.Second}}
		cfg.RetryMax = -1
	})
	ex := simExample(t, spec.PrivateSSLFlex, "")
	body, err := certcentral.BuildOrderBody(spec.PrivateSSLFlex, ex.order, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	const orders, workers = 300, 10
	var failed atomic.Int64
	jobs := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				if _, err := c.PlaceOrder(context.Background(), spec.PrivateSSLFlex, body); err != nil {
					failed.Add(1)
					t.Errorf("order failed: %v", err)
				}
			}
		}()
	}
	for i := 0; i < orders; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	st := sim.sim.Stats()
	t.Logf("%d orders in %v; simulator: %d placed, %d 429s", orders, time.Since(start).Round(time.Millisecond), st.OrdersPlaced, st.TooManyRequests)
	if failed.Load() != 0 || st.TooManyRequests != 0 || st.OrdersPlaced != orders {
		t.Errorf("%d failed, %d 429s, %d placed; want 0, 0, %d", failed.Load(), st.TooManyRequests, st.OrdersPlaced, orders)
	}
}

package simulator

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/lifecycle"
)

// testNow is the fake clock's start: every date in these tests derives from it.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is an injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: testNow} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const testKey = "test-key"

// noDateCaps turns the dated public TLS caps off: Secure Site certificates
// get the order pages' 397 days at most, as before 2026-02-24. Tests written
// against those rules use it; the caps have their own tests.
var noDateCaps = lifecycle.Caps{}

// sim is a simulator behind an httptest server.
type sim struct {
	t     *testing.T
	s     *Server
	ts    *httptest.Server
	clock *fakeClock
}

// newSim starts a simulator with a fake clock (unless opts.Now is set) and no
// rate limits (unless opts.Limits is set).
func newSim(t *testing.T, opts Options) *sim {
	t.Helper()
	if opts.Limits == nil {
		opts.Limits = []Limit{}
	}
	return startSim(t, opts)
}

// startSim starts a simulator with the options as given, but for the fake clock.
func startSim(t *testing.T, opts Options) *sim {
	t.Helper()
	clock := newFakeClock()
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &sim{t: t, s: s, ts: ts, clock: clock}
}

// response is a decoded HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// codes returns the error codes of an error body, sorted.
func (r response) codes(t *testing.T) []string {
	t.Helper()
	var b v2ErrorBody
	r.decode(t, &b)
	out := []string{}
	for _, e := range b.Errors {
		out = append(out, e.Code)
	}
	sort.Strings(out)
	return out
}

// do sends a v2 request with the test key; body nil = no body, []byte = raw.
func (s *sim) do(method, path string, body any) response {
	s.t.Helper()
	return s.doKey(method, path, testKey, body)
}

func (s *sim) doKey(method, path, key string, body any) response {
	s.t.Helper()
	r, err := s.send(method, path, body, func(h http.Header) {
		if key != "" {
			h.Set("X-DC-DEVKEY", key)
		}
		h.Set("Content-Type", "application/json")
	})
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// send returns the transport error instead of failing the test.
func (s *sim) send(method, path string, body any, hdr func(http.Header)) (response, error) {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			s.t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.ts.URL+path, rd)
	if err != nil {
		s.t.Fatalf("new request: %v", err)
	}
	if hdr != nil {
		hdr(req.Header)
	}
	resp, err := s.ts.Client().Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// v1 sends a legacy order with Basic auth.
func (s *sim) v1(account, key string, body any) response {
	s.t.Helper()
	r, err := s.send("POST", "/order/ssl", body, func(h http.Header) {
		h.Set("Content-Type", contentV1)
		if account != "" || key != "" {
			req := http.Request{Header: h}
			req.SetBasicAuth(account, key)
		}
	})
	if err != nil {
		s.t.Fatalf("POST /order/ssl: %v", err)
	}
	return r
}

// place places a v2 order and requires 201.
func (s *sim) place(product string, body map[string]any) orderResponse {
	s.t.Helper()
	r := s.do("POST", "/services/v2/order/certificate/"+product, body)
	if r.status != http.StatusCreated {
		s.t.Fatalf("place %s: status %d: %s", product, r.status, r.body)
	}
	var out orderResponse
	r.decode(s.t, &out)
	return out
}

// info fetches order info and requires 200.
func (s *sim) info(id int64) orderInfo {
	s.t.Helper()
	r := s.do("GET", "/services/v2/order/certificate/"+itoa(id), nil)
	if r.status != http.StatusOK {
		s.t.Fatalf("order info %d: status %d: %s", id, r.status, r.body)
	}
	var out orderInfo
	r.decode(s.t, &out)
	return out
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// The response shapes, decoded independently of the package's own types.
type orderResponse struct {
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
	Organization *struct {
		ID int64 `json:"id"`
	} `json:"organization"`
	Domains []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"domains"`
}

type orderInfo struct {
	ID                 int64  `json:"id"`
	Status             string `json:"status"`
	AlternativeOrderID string `json:"alternative_order_id"`
	DateCreated        string `json:"date_created"`
	OrderValidFrom     string `json:"order_valid_from"`
	OrderValidTill     string `json:"order_valid_till"`
	IsRenewal          bool   `json:"is_renewal"`
	IsRenewed          bool   `json:"is_renewed"`
	RenewedOrderID     int64  `json:"renewed_order_id"`
	RenewalOfOrderID   int64  `json:"renewal_of_order_id"`
	Product            struct {
		NameID string `json:"name_id"`
	} `json:"product"`
	Certificate struct {
		ID            int64    `json:"id"`
		Thumbprint    string   `json:"thumbprint"`
		SerialNumber  string   `json:"serial_number"`
		CommonName    string   `json:"common_name"`
		DNSNames      []string `json:"dns_names"`
		ValidFrom     string   `json:"valid_from"`
		ValidTill     string   `json:"valid_till"`
		DaysRemaining int      `json:"days_remaining"`
		SignatureHash string   `json:"signature_hash"`
	} `json:"certificate"`
	Requests []struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	} `json:"requests"`
}

var (
	csrOnce sync.Once
	csrPEM  string
	csrKey  *ecdsa.PrivateKey
)

// testCSR is one shared ECDSA CSR (its names are irrelevant: the API does not
// read names from the CSR).
func testCSR(t testing.TB) (string, *ecdsa.PrivateKey) {
	t.Helper()
	csrOnce.Do(func() {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		csrKey = k
		csrPEM = makeCSR(k, "csr.example.com", []string{"csr-san.example.com"})
	})
	return csrPEM, csrKey
}

func makeCSR(k crypto.Signer, cn string, dns []string) string {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: cn}, DNSNames: dns,
	}, k)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func rsaCSR(t testing.TB) (string, *rsa.PrivateKey) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return makeCSR(k, "rsa.example.com", nil), k
}

// Example bodies built from the order pages' request parameters.

func secureSiteBody(t testing.TB) map[string]any {
	csr, _ := testCSR(t)
	return map[string]any{
		"certificate": map[string]any{
			"common_name":    "www.example.com",
			"dns_names":      []any{"example.com", "api.example.com"},
			"csr":            csr,
			"signature_hash": "sha256",
			"server_platform": map[string]any{
				"id": 2,
			},
		},
		"order_validity": map[string]any{"years": 1},
		"organization":   map[string]any{"id": 123456},
		"payment_method": "balance",
		"comments":       "ordered by certplan",
		"auto_renew":     0,
		"dcv_method":     "dns-txt-token",
	}
}

func privateSSLBody(t testing.TB) map[string]any {
	csr, _ := testCSR(t)
	return map[string]any{
		"certificate": map[string]any{
			"common_name":    "intranet.example.local",
			"dns_names":      []any{"wiki.example.local"},
			"csr":            csr,
			"signature_hash": "sha384",
		},
		"order_validity": map[string]any{"years": 2},
		"organization":   map[string]any{"id": 123456},
	}
}

func documentSigningBody(t testing.TB) map[string]any {
	csr, _ := testCSR(t)
	return map[string]any{
		"certificate": map[string]any{
			"csr":            csr,
			"signature_hash": "sha256",
		},
		"cs_provisioning_method": "email",
		"order_validity":         map[string]any{"years": 1},
		"organization":           map[string]any{"id": 123456},
		"subject": map[string]any{
			"name":      "Jane Doe",
			"job_title": "Counsel",
			"phone":     "555-0100",
			"email":     "jane@example.com",
		},
	}
}

func legacyBody(t testing.TB) map[string]any {
	csr, _ := testCSR(t)
	return map[string]any{
		"csr":                   csr,
		"validity":              "1",
		"common_name":           "legacy.example.com",
		"sans":                  "legacy.example.com,www.legacy.example.com",
		"server_type":           "2",
		"org_name":              "Tampa Bay Cray LLC",
		"org_addr1":             "1234 Sesame Street",
		"org_city":              "Tampa",
		"org_state":             "FL",
		"org_zip":               "33615",
		"org_country":           "us",
		"org_contact_firstname": "Joe",
		"org_contact_lastname":  "Bloggs",
		"org_contact_email":     "joe@example.com",
		"org_contact_telephone": "555-123-1234",
	}
}

// edit returns a deep copy of body with value set at a dotted path (nil deletes).
func edit(body map[string]any, path string, value any) map[string]any {
	out := deepCopy(body).(map[string]any)
	parts := strings.Split(path, ".")
	m := out
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	last := parts[len(parts)-1]
	if value == nil {
		delete(m, last)
	} else {
		m[last] = value
	}
	return out
}

// parsePEMChain parses every CERTIFICATE block.
func parsePEMChain(t *testing.T, s string) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	rest := []byte(s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatalf("parse certificate: %v", err)
		}
		out = append(out, c)
	}
	return out
}

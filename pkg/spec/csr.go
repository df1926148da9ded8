package spec

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/certplan/certplan/pkg/secret"
)

// csrReport is the outcome of checking one CSR's content.
type csrReport struct {
	problem string   // why the CSR is not acceptable; "" when it is
	names   []string // common name and SANs, lower-cased, sorted, unique
}

// csrFile is a CSR file as read from disk, and its check.
type csrFile struct {
	text   string
	err    error
	report csrReport
}

// csrCache reads each CSR file once and checks each distinct CSR content once,
// so thousands of manifests sharing a few CSRs stay cheap. Safe for concurrent use.
type csrCache struct {
	mu     sync.Mutex
	files  map[string]csrFile
	checks map[[32]byte]csrReport
}

func newCSRCache() *csrCache {
	return &csrCache{files: map[string]csrFile{}, checks: map[[32]byte]csrReport{}}
}

// checkFile reads and checks the CSR file at path (absolute, inside the
// project: see fileRoots.resolve), once per path. It must be a regular file
// of at most MaxCSRFileSize bytes.
func (c *csrCache) checkFile(path string) csrFile {
	c.mu.Lock()
	f, ok := c.files[path]
	c.mu.Unlock()
	if ok {
		return f
	}
	data, err := secret.ReadFile(path, MaxCSRFileSize)
	if err != nil {
		f.err = err
	} else {
		f.text = string(data)
		f.report = c.check(f.text)
	}
	c.mu.Lock()
	c.files[path] = f
	c.mu.Unlock()
	return f
}

// check checks a PEM CSR, once per distinct content.
func (c *csrCache) check(text string) csrReport {
	key := sha256.Sum256([]byte(text))
	c.mu.Lock()
	r, ok := c.checks[key]
	c.mu.Unlock()
	if ok {
		return r
	}
	r = checkCSR(text)
	c.mu.Lock()
	c.checks[key] = r
	c.mu.Unlock()
	return r
}

const keyAdvice = "use RSA with 2048 bits or more, or ECDSA P-256 or P-384"

// checkCSR parses a PEM certificate signing request and checks its key and
// self-signature. Messages never quote the content.
func checkCSR(text string) csrReport {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return csrReport{problem: "not a PEM certificate signing request: no -----BEGIN CERTIFICATE REQUEST----- block found"}
	}
	if block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST" {
		return csrReport{problem: fmt.Sprintf("PEM block is %q, want a CERTIFICATE REQUEST", block.Type)}
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return csrReport{problem: fmt.Sprintf("CSR cannot be parsed: %v", err)}
	}
	if problem := checkCSRKey(csr.PublicKey); problem != "" {
		return csrReport{problem: problem}
	}
	if err := csr.CheckSignature(); err != nil {
		return csrReport{problem: fmt.Sprintf("CSR self-signature is invalid: %v", err)}
	}
	names := []string{}
	if csr.Subject.CommonName != "" {
		names = append(names, csr.Subject.CommonName)
	}
	names = append(names, csr.DNSNames...)
	for _, ip := range csr.IPAddresses {
		names = append(names, ip.String())
	}
	return csrReport{names: normalizeNames(names)}
}

func checkCSRKey(key any) string {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < 2048 {
			return fmt.Sprintf("CSR key is RSA %d bits; %s", bits, keyAdvice)
		}
	case *ecdsa.PublicKey:
		name := "unknown curve"
		if k.Curve != nil && k.Curve.Params() != nil {
			name = k.Curve.Params().Name
		}
		if name != "P-256" && name != "P-384" {
			return fmt.Sprintf("CSR key is ECDSA %s; %s", name, keyAdvice)
		}
	case ed25519.PublicKey:
		return "CSR key is Ed25519; " + keyAdvice
	default:
		return fmt.Sprintf("CSR key type %T is not accepted; %s", key, keyAdvice)
	}
	return ""
}

func normalizeNames(names []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// csrLocation says where a family keeps its CSR and names in spec.order.
type csrLocation struct {
	csr        string // JSON pointer below spec.order
	commonName string // "" when the family has no names to compare
	sans       string
}

func csrLocationFor(p Product) (csrLocation, bool) {
	f, ok := p.Family()
	if !ok {
		return csrLocation{}, false
	}
	switch f {
	case FamilyLegacy:
		return csrLocation{csr: "/csr", commonName: "/common_name", sans: "/sans"}, true
	case FamilyDocumentSigning:
		return csrLocation{csr: "/certificate/csr"}, true
	}
	return csrLocation{csr: "/certificate/csr", commonName: "/certificate/common_name", sans: "/certificate/dns_names"}, true
}

// csrOutcome is what checking a certificate's CSR found.
type csrOutcome struct {
	text  string // PEM text to send, when the CSR is usable
	diags []Diagnostic
	owned bool // an error was reported at the CSR: schema errors there are redundant
}

// checkOrderCSR finds the CSR of a merged order (order is the tree at
// /spec/order), reads it if given by file, checks it and compares its names
// with the manifest's.
func (c *csrCache) checkOrderCSR(order *tree, loc csrLocation, roots fileRoots) csrOutcome {
	node, ok := order.lookup(loc.csr)
	if !ok {
		return csrOutcome{} // missing: the schema reports it where required
	}
	ptr := "/spec/order" + loc.csr
	path := dottedPath(ptr)
	var text string
	var report csrReport
	if s, ok := node.str(); ok {
		text, report = s, c.check(s)
	} else if f, ok := node.field("file").str(); ok && node.kind == kindMap && len(node.entries) == 1 && f != "" {
		full := f
		if !filepath.IsAbs(full) {
			full = filepath.Join(filepath.Dir(node.file), f)
		}
		real, err := roots.resolve(full)
		var out *OutsideError
		switch {
		case errors.As(err, &out):
			return csrOutcome{owned: true, diags: []Diagnostic{errorAt(node.pos(), path, "CSR file %v", err)}}
		case err != nil:
			return csrOutcome{owned: true, diags: []Diagnostic{errorAt(node.pos(), path, "cannot read CSR file %s: %v", full, unwrapPathError(err))}}
		}
		file := c.checkFile(real)
		if file.err != nil {
			return csrOutcome{owned: true, diags: []Diagnostic{errorAt(node.pos(), path, "cannot read CSR file %s: %v", full, unwrapPathError(file.err))}}
		}
		text, report = file.text, file.report
	} else {
		return csrOutcome{} // wrong shape: the schema explains
	}
	if report.problem != "" {
		return csrOutcome{owned: true, diags: []Diagnostic{errorAt(node.pos(), path, "%s", report.problem)}}
	}
	out := csrOutcome{text: text}
	if loc.commonName != "" && len(report.names) > 0 {
		if w, differ := compareNames(order, loc, report.names); differ {
			out.diags = append(out.diags, warningAt(node.pos(), path, "%s", w))
		}
	}
	return out
}

// compareNames compares the CSR's names with common_name and dns_names (sans
// for legacy_ssl). CertCentral uses the manifest's names, so a difference is
// only a warning.
func compareNames(order *tree, loc csrLocation, csrNames []string) (string, bool) {
	var manifest []string
	if cn, ok := order.lookup(loc.commonName); ok {
		if s, ok := cn.str(); ok {
			manifest = append(manifest, s)
		}
	}
	if list, ok := order.lookup(loc.sans); ok {
		for _, it := range list.items {
			if s, ok := it.str(); ok {
				manifest = append(manifest, s)
			}
		}
	}
	manifest = normalizeNames(manifest)
	onlyCSR := difference(csrNames, manifest)
	onlyManifest := difference(manifest, csrNames)
	if len(onlyCSR) == 0 && len(onlyManifest) == 0 {
		return "", false
	}
	var parts []string
	if len(onlyCSR) > 0 {
		parts = append(parts, "in the CSR only: "+strings.Join(onlyCSR, ", "))
	}
	if len(onlyManifest) > 0 {
		parts = append(parts, "in the manifest only: "+strings.Join(onlyManifest, ", "))
	}
	fields := pathBase(loc.commonName) + "/" + pathBase(loc.sans)
	return "CSR names differ from " + fields + " (" + strings.Join(parts, "; ") + "); the certificate gets the manifest's names", true
}

func pathBase(ptr string) string { return ptr[strings.LastIndex(ptr, "/")+1:] }

func difference(a, b []string) []string {
	in := map[string]bool{}
	for _, s := range b {
		in[s] = true
	}
	var out []string
	for _, s := range a {
		if !in[s] {
			out = append(out, s)
		}
	}
	return out
}

// CSRKeyDigest is the hex SHA-256 of the DER SubjectPublicKeyInfo of a PEM
// certificate signing request: what identifies the key a certificate will
// carry, whatever else the CSR says. A reissue has no client idempotency key,
// so apply journals this digest and, after an ambiguous failure, looks for a
// certificate of the order whose CSR has the same one. It is the one place
// certplan computes it. CSRs as CertCentral returns them (line breaks
// removed or escaped as "\n", armour dropped) give the same digest.
func CSRKeyDigest(pemText string) (string, error) {
	der, err := csrDER(pemText)
	if err != nil {
		return "", err
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return "", fmt.Errorf("CSR cannot be parsed: %w", err)
	}
	sum := sha256.Sum256(csr.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:]), nil
}

// csrDER is the DER of a PEM CSR, or of one CertCentral rewrapped: the
// base64 between the armour lines, whatever the line breaks.
func csrDER(text string) ([]byte, error) {
	if block, _ := pem.Decode([]byte(text)); block != nil {
		return block.Bytes, nil
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.ReplaceAll(text, `\n`, "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "-----") {
			continue
		}
		b.WriteString(strings.Join(strings.Fields(line), ""))
	}
	der, err := base64.StdEncoding.DecodeString(b.String())
	if err != nil || len(der) == 0 {
		return nil, fmt.Errorf("not a PEM certificate signing request")
	}
	return der, nil
}

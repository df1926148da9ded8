package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BenchmarkLoad10k loads and validates 10,000 manifests (one per file, in 100
// directories, sharing four CSR files and a project Defaults file).
// Goal: under 1 s and 256 MiB on a 2-core machine.
func BenchmarkLoad10k(b *testing.B) {
	dir := b.TempDir()
	writeTree(b, dir, map[string]string{
		".git/HEAD":     "ref: refs/heads/main\n",
		"csr/0.csr":     "@csr:rsa2048.csr",
		"csr/1.csr":     "@csr:ecp256.csr",
		"csr/2.csr":     "@csr:ecp384.csr",
		"csr/3.csr":     "@csr:rsa2048.csr",
		"certplan.yaml": defaultsYAML("[ssl_securesite_flex]", "organization: {id: 123456}\npayment_method: balance\ncertificate: {signature_hash: sha256}\n"),
	})
	const n = 10_000
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("cert-%05d", i)
		host := "shop.example.com"
		if i%4 == 1 || i%4 == 2 {
			host = "api.example.com"
		}
		manifest := certYAML(name, "ssl_securesite_flex", fmt.Sprintf(`certificate:
  common_name: %s
  csr: {file: ../../csr/%d.csr}
order_validity: {years: 1}
dcv_method: dns-txt-token
comments: benchmark manifest %d
additional_emails: [ops@example.com]
`, host, i%4, i))
		p := filepath.Join(dir, "certs", fmt.Sprintf("d%02d", i%100), name+".yaml")
		if i < 100 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(p, []byte(manifest), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := embeddedValidator(); err != nil { // compiled once per process, not per Load
		b.Fatal(err)
	}
	b.ReportAllocs()
	// The machine is shared: wall time (ns/op) varies with other load, so
	// also report the CPU time the process used per Load (user+system, all
	// threads, including GC); on an idle machine wall time is about that
	// divided by GOMAXPROCS.
	cpu0 := cpuTime()
	for b.Loop() {
		res, err := Load([]string{dir})
		if err != nil {
			b.Fatal(err)
		}
		if res.HasErrors() || len(res.Certificates) != n {
			b.Fatalf("got %d certificates and %d diagnostics, first %v", len(res.Certificates), len(res.Diagnostics), res.Diagnostics[:min(1, len(res.Diagnostics))])
		}
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

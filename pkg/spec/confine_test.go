package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fileRoots.resolve on its own: the helper that keeps file references
// inside the project.
func TestFileRootsResolve(t *testing.T) {
	base := t.TempDir()
	proj := filepath.Join(base, "proj")
	outside := filepath.Join(base, "outside")
	writeTree(t, base, map[string]string{
		"proj/csr/a.csr":     "x",
		"proj/sub/b.txt":     "x",
		"outside/secret.txt": "x",
	})
	links := map[string]string{
		"proj/in-link":      "csr/a.csr", // stays inside
		"proj/dir-link":     "sub",       // a directory inside
		"proj/out-link":     "../outside/secret.txt",
		"proj/out-missing":  "../outside/missing", // the same, to a file that does not exist
		"proj/abs-out-link": filepath.Join(outside, "secret.txt"),
		"proj/loop":         "loop",
		"proj/sub/up":       "../csr", // relative to the link's own directory
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(base, name)); err != nil {
			t.Fatal(err)
		}
	}
	roots := newFileRoots(proj)
	tests := []struct {
		path string
		want string // the resolved path (under base), or "outside", "outside via NAME", or "error"
	}{
		{"proj/csr/a.csr", "proj/csr/a.csr"},
		{"proj/sub/../csr/a.csr", "proj/csr/a.csr"},
		{"proj/in-link", "proj/csr/a.csr"},
		{"proj/dir-link/b.txt", "proj/sub/b.txt"},
		{"proj/sub/up/a.csr", "proj/csr/a.csr"},
		{"proj/../outside/secret.txt", "outside"},
		{"outside/secret.txt", "outside"},
		{"/etc/passwd", "outside"},
		{"proj/out-link", "outside via proj/out-link"},
		// Outside is outside whether the target exists or not: no oracle.
		{"proj/out-missing", "outside via proj/out-missing"},
		{"proj/abs-out-link", "outside via proj/abs-out-link"},
		{"proj/loop", "error"},
		{"proj/missing", "error"},
	}
	for _, tt := range tests {
		p := tt.path
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		got, err := roots.resolve(p)
		var out *OutsideError
		switch {
		case strings.HasPrefix(tt.want, "outside"):
			via, _ := strings.CutPrefix(tt.want, "outside via ")
			if !errors.As(err, &out) {
				t.Errorf("resolve(%s) = %q, %v; want an *OutsideError", tt.path, got, err)
			} else if tt.want != "outside" && out.Via != filepath.Join(base, via) {
				t.Errorf("resolve(%s): via %q, want %q", tt.path, out.Via, via)
			}
		case tt.want == "error":
			if err == nil || errors.As(err, &out) {
				t.Errorf("resolve(%s) = %q, %v; want a file system error", tt.path, got, err)
			}
		default:
			if err != nil || got != filepath.Join(base, tt.want) {
				t.Errorf("resolve(%s) = %q, %v; want %s", tt.path, got, err, tt.want)
			}
		}
	}
	// An allowed directory extends the roots.
	if got, err := newFileRoots(proj, outside).resolve(filepath.Join(proj, "out-link")); err != nil || got != filepath.Join(outside, "secret.txt") {
		t.Errorf("with the outside directory allowed: %q, %v", got, err)
	}
	msg := (&OutsideError{Path: "/etc/passwd", Roots: []string{"/repo"}}).Error()
	for _, want := range []string{"/etc/passwd is outside the project directory /repo", "--allow-files-in DIR"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

// Item 9 of issue 11: a {file: ...} reference may not name any file on the
// host. Problems are diagnostics at the reference's file:line:column.
func TestFileReferencesConfinedToProject(t *testing.T) {
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{"host.csr": "@csr:rsa2048.csr", "card": "4111111111111111\n"})
	secretOrder := func(number string) string {
		return validSecureSite + "payment_method: card\ncredit_card:\n  number: {file: " + number + "}\n  cvv: {env: CVV}\n  expiration_month: 12\n  expiration_year: 2030\n  cardholder_name: A B\nbilling_address: {address: x, city: y, country: us}\n"
	}
	csrOutside := strings.Replace(validSecureSite, "csr: {file: csr.pem}", "csr: {file: "+filepath.Join(outside, "host.csr")+"}", 1)
	res := loadIn(t, map[string]string{
		"csr.pem":            "@csr:rsa2048.csr",
		"certs/csr-out.yaml": certYAML("csr-out", "ssl_securesite_flex", strings.Replace(csrOutside, "csr: {file: ", "csr: {file: ", 1)),
		"certs/up.yaml":      certYAML("up", "ssl_securesite_flex", strings.Replace(validSecureSite, "csr: {file: csr.pem}", "csr: {file: ../../../../../../../../etc/hostname}", 1)),
		"certs/secret-out.yaml": certYAML("secret-out", "ssl_securesite_flex",
			strings.Replace(secretOrder(filepath.Join(outside, "card")), "{file: csr.pem}", "{file: ../csr.pem}", 1)),
		"certs/environ.yaml": certYAML("environ", "ssl_securesite_flex",
			strings.Replace(secretOrder("/proc/self/environ"), "{file: csr.pem}", "{file: ../csr.pem}", 1)),
	})
	want := map[string]string{
		"certs/csr-out.yaml:11:": "spec.order.certificate.csr: CSR file " + filepath.Join(outside, "host.csr") + " is outside the project directory",
		"certs/up.yaml:11:":      "spec.order.certificate.csr: CSR file /etc/hostname is outside the project directory",
		// Secrets: at the path inside {file: ...} (line 17, column 22).
		"certs/secret-out.yaml:17:22:": "spec.order.credit_card.number: secret file " + filepath.Join(outside, "card") + " is outside the project directory",
		"certs/environ.yaml:17:22:":    "spec.order.credit_card.number: secret file /proc/self/environ is outside the project directory",
	}
	got := diagStrings(res.Diagnostics)
	for at, msg := range want {
		found := false
		for _, d := range got {
			found = found || (strings.HasPrefix(d, at) && strings.Contains(d, msg))
		}
		if !found {
			t.Errorf("no diagnostic %s ... %s in:\n%s", at, msg, strings.Join(got, "\n"))
		}
	}
	if len(res.Certificates) != 0 {
		t.Errorf("%d certificates loaded, want none", len(res.Certificates))
	}
	// --allow-files-in lets the user allow a directory explicitly.
	res, err := LoadWith([]string{"certs/csr-out.yaml", "certs/secret-out.yaml"}, LoadOptions{AllowFilesIn: []string{outside}})
	if err != nil {
		t.Fatal(err)
	}
	if res.HasErrors() || len(res.Certificates) != 2 {
		t.Errorf("with %s allowed: %v", outside, diagStrings(res.Diagnostics))
	}
}

// Referenced files must be regular files of a bounded size, checked without
// reading them whole: {file: /dev/zero} used to exhaust memory in `plan`.
func TestFileReferencesRegularAndBounded(t *testing.T) {
	big := strings.Repeat("A", MaxSecretFileSize+1)
	files := map[string]string{
		"csr.pem":         "@csr:rsa2048.csr",
		"big.csr":         strings.Repeat("-", MaxCSRFileSize+1),
		"secrets/big":     big,
		"secrets/empty":   "\n",
		"secrets/card":    "4111111111111111\n",
		"certs/big.yaml":  certYAML("big", "ssl_securesite_flex", strings.Replace(validSecureSite, "{file: csr.pem}", "{file: ../big.csr}", 1)),
		"certs/fifo.yaml": certYAML("fifo", "ssl_securesite_flex", strings.Replace(validSecureSite, "{file: csr.pem}", "{file: ../pipe}", 1)),
		"certs/card.yaml": certYAML("card", "ssl_securesite_flex", strings.Replace(validSecureSite, "{file: csr.pem}", "{file: ../csr.pem}", 1)+
			"payment_method: card\ncredit_card:\n  number: {file: ../secrets/big}\n  cvv: {file: ../secrets/pipe}\n  expiration_month: 12\n  expiration_year: 2030\n  cardholder_name: A B\nbilling_address: {address: x, city: y, country: us}\n"),
	}
	dir := t.TempDir()
	files[".git/HEAD"] = "ref: refs/heads/main\n"
	writeTree(t, dir, files)
	for _, p := range []string{"pipe", "secrets/pipe"} {
		if err := syscall.Mkfifo(filepath.Join(dir, p), 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
	}
	t.Chdir(dir)
	done := make(chan *Result)
	go func() {
		res, err := Load([]string{"certs"})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	var res *Result
	select {
	case res = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Load hangs on a named pipe")
	}
	got := strings.Join(diagStrings(res.Diagnostics), "\n")
	for _, want := range []string{
		"certs/big.yaml:11:12: spec.order.certificate.csr: cannot read CSR file big.csr: larger than 64 KiB",
		"certs/fifo.yaml:11:12: spec.order.certificate.csr: cannot read CSR file pipe: a named pipe, not a regular file",
		"certs/card.yaml:17:22: spec.order.credit_card.number: secret file " + filepath.Join(dir, "secrets/big") + " is larger than 4 KiB",
		"certs/card.yaml:18:19: spec.order.credit_card.cvv: secret file " + filepath.Join(dir, "secrets/pipe") + " is a named pipe, not a regular file",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing diagnostic %q in:\n%s", want, got)
		}
	}
	// Resolving (at plan for the warning, at apply for the request) is
	// bounded the same way, and an empty secret is an unset one.
	for file, want := range map[string]string{
		"secrets/big":   "larger than 4 KiB",
		"secrets/pipe":  "a named pipe, not a regular file",
		"secrets/empty": "an empty secret is an unset secret",
		"/dev/zero":     "a device, not a regular file",
	} {
		p := file
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, file)
		}
		v, err := SecretRef{File: p}.Resolve()
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) {
			t.Errorf("Resolve(%s) = %q, %v; want an error naming the file and saying %q", file, v, err, want)
		}
	}
	if v, err := (SecretRef{File: filepath.Join(dir, "secrets/card")}).Resolve(); err != nil || v != "4111111111111111" {
		t.Errorf("Resolve(card) = %q, %v", v, err)
	}
	// A link at the secret's path is not followed at apply time.
	if err := os.Symlink("card", filepath.Join(dir, "secrets/link")); err != nil {
		t.Fatal(err)
	}
	if _, err := (SecretRef{File: filepath.Join(dir, "secrets/link")}).Resolve(); err == nil || !strings.Contains(err.Error(), "a symbolic link") {
		t.Errorf("Resolve through a link: %v", err)
	}
}

// A reference through a link inside the project is resolved at load, so
// that apply reads the very file that was checked.
func TestSecretReferenceThroughLinkInsideProject(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		".git/HEAD":       "ref: refs/heads/main\n",
		"csr.pem":         "@csr:rsa2048.csr",
		"vault/card":      "4111111111111111\n",
		"certs/card.yaml": certYAML("card", "ssl_securesite_flex", strings.Replace(validSecureSite, "{file: csr.pem}", "{file: ../csr.pem}", 1)+"payment_method: card\ncredit_card:\n  number: {file: ../secrets/card}\n  cvv: {env: CVV}\n  expiration_month: 12\n  expiration_year: 2030\n  cardholder_name: A B\nbilling_address: {address: x, city: y, country: us}\n"),
	})
	if err := os.Symlink("vault", filepath.Join(dir, "secrets")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	res, err := Load([]string{"certs"})
	if err != nil || res.HasErrors() || len(res.Certificates) != 1 {
		t.Fatalf("Load: %v %v", err, diagStrings(res.Diagnostics))
	}
	ref := SecretRefs(res.Certificates[0].Order)["credit_card.number"]
	real, _ := filepath.EvalSymlinks(filepath.Join(dir, "vault", "card"))
	if ref.File != real {
		t.Errorf("secret reference names %s, want the resolved %s", ref.File, real)
	}
	if v, err := ref.Resolve(); err != nil || v != "4111111111111111" {
		t.Errorf("Resolve = %q, %v", v, err)
	}
}

// A saved plan's secret references are checked like a manifest's.
func TestCheckFileRefs(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{".git/HEAD": "x", "certs/a.yaml": "x", "secrets/card": "1"})
	t.Chdir(dir)
	ok := map[string]SecretRef{"credit_card.number": {File: filepath.Join(dir, "secrets/card")}, "credit_card.cvv": {Env: "CVV"}}
	if err := CheckFileRefs([]string{"certs/a.yaml"}, nil, ok); err != nil {
		t.Errorf("inside: %v", err)
	}
	bad := map[string]SecretRef{"credit_card.number": {File: "/etc/passwd"}}
	if err := CheckFileRefs([]string{"certs/a.yaml"}, nil, bad); err == nil || !strings.Contains(err.Error(), "credit_card.number: secret file /etc/passwd is outside") {
		t.Errorf("outside: %v", err)
	}
	if err := CheckFileRefs([]string{"certs/a.yaml"}, []string{"/etc"}, bad); err != nil {
		t.Errorf("allowed: %v", err)
	}
}

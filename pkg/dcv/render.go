package dcv

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/certplan/certplan/pkg/termsafe"
)

// DefaultTTL is the TTL of the BIND fragment's records: short, so that a
// record corrected after a typo is seen again soon.
const DefaultTTL = 300

// Safe makes text from a server or a state file safe to print on a
// terminal, in a CI log or in a comment line: termsafe.Text (control
// characters, invalid UTF-8 and other unprintable characters escaped).
func Safe(s string) string { return termsafe.Text(s) }

// quoteTXT renders a TXT value as a BIND character string: in double quotes,
// '"' and '\' escaped, bytes outside printable ASCII as \DDD.
func quoteTXT(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\%03d`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// fqdn is a name with the trailing dot a zone file needs.
func fqdn(name string) string {
	if strings.HasSuffix(name, ".") {
		return name
	}
	return name + "."
}

// dnsName reports whether s is safe as an owner name or CNAME target in a
// zone file: letters, digits, '-', '_', '.' and a leading "*.".
func dnsName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		case r == '*' && i == 0:
		default:
			return false
		}
	}
	return true
}

// WriteBIND writes the DNS records of the orders as a BIND zone file
// fragment, fully qualified, TTL 300, one comment line per order:
//
//	; shop-frontend: order 1000001 (pending), dns-txt-token, value expires 2026-04-01T12:00:00Z
//	_dnsauth.shop.example.com. 300 IN TXT "abc123"
//
// http-token records cannot go in a zone: they are written as comments
// naming the URL and the content. A record whose name or value is not a
// plain DNS name or token is written as a comment saying it was left out.
func WriteBIND(w io.Writer, orders []Pending) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "; certplan dcv records: domain validation records for DigiCert CertCentral")
	for _, p := range orders {
		fmt.Fprintf(bw, "; %s: order %d (%s), %s", Safe(p.Certificate), p.OrderID, Safe(p.OrderStatus), Safe(p.Method))
		if p.Expires != "" {
			fmt.Fprintf(bw, ", value expires %s", Safe(p.Expires))
		}
		fmt.Fprintln(bw)
		for _, r := range p.Records {
			switch {
			case r.Type == TypeHTTP:
				fmt.Fprintf(bw, "; http-token, not a DNS record: serve %s with the content %s\n", Safe(r.Name), Safe(r.Value))
			case !dnsName(r.Name) || (r.Type == TypeCNAME && !dnsName(r.Value)) || (r.Type == TypeTXT && !SafeValue(r.Value)):
				fmt.Fprintf(bw, "; left out: %s %s has characters a zone file must not carry\n", Safe(r.Name), Safe(r.Type))
			case r.Type == TypeTXT:
				fmt.Fprintf(bw, "%s %d IN TXT %s\n", fqdn(r.Name), DefaultTTL, quoteTXT(r.Value))
			case r.Type == TypeCNAME:
				fmt.Fprintf(bw, "%s %d IN CNAME %s\n", fqdn(r.Name), DefaultTTL, fqdn(r.Value))
			}
		}
	}
	return bw.Flush()
}

// WriteJSON writes the orders as {"orders":[Pending...]}, indented.
func WriteJSON(w io.Writer, orders []Pending) error {
	if orders == nil {
		orders = []Pending{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Orders []Pending `json:"orders"`
	}{orders})
}

// WriteText writes the orders for people: per order a heading, then one
// line per record (name, type, value, status).
func WriteText(w io.Writer, orders []Pending) error {
	bw := bufio.NewWriter(w)
	if len(orders) == 0 {
		fmt.Fprintln(bw, "No order awaits domain validation with a DNS or HTTP token.")
		return bw.Flush()
	}
	for i, p := range orders {
		if i > 0 {
			fmt.Fprintln(bw)
		}
		fmt.Fprintf(bw, "%s: order %d (%s), %s", Safe(p.Certificate), p.OrderID, Safe(p.OrderStatus), Safe(p.Method))
		if p.Expires != "" {
			fmt.Fprintf(bw, ", value expires %s", Safe(p.Expires))
		}
		fmt.Fprintln(bw)
		for _, r := range p.Records {
			fmt.Fprintf(bw, "  %s\n", RecordLine(r))
		}
	}
	return bw.Flush()
}

// RecordLine is one record on one line for people:
// `_dnsauth.shop.example.com TXT "abc123" (pending)`, or for http-token
// `http://shop.example.com/.well-known/pki-validation/fileauth.txt containing "abc123"`.
func RecordLine(r Record) string {
	var s string
	switch r.Type {
	case TypeHTTP:
		s = Safe(r.Name) + " containing " + quoteTXT(r.Value)
	case TypeCNAME:
		s = Safe(r.Name) + " CNAME " + Safe(r.Value)
	default:
		s = Safe(r.Name) + " " + Safe(r.Type) + " " + quoteTXT(r.Value)
	}
	if r.Status != "" {
		s += " (" + Safe(r.Status) + ")"
	}
	return s
}

package delivery

import (
	"fmt"

	"github.com/certplan/certplan/pkg/certcentral"
)

// Format is a CertCentral download format that fetch writes.
type Format string

// Formats fetch supports: CertCentral's download formats but
// pem_nointermediate, left out on purpose (a certificate without its
// intermediate breaks most TLS clients).
const (
	FormatPEMAll    Format = certcentral.FormatPEMAll    // end-entity, intermediates, root
	FormatPEMNoRoot Format = certcentral.FormatPEMNoRoot // end-entity and intermediates
	FormatP7B       Format = certcentral.FormatP7B       // PKCS#7 bundle
)

// Formats lists the supported formats, for help texts and errors.
var Formats = []Format{FormatPEMAll, FormatPEMNoRoot, FormatP7B}

// ParseFormat checks a format named by the user.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("format %q: want one of pem_all, pem_noroot, p7b", s)
}

// Ext is the file extension (without the dot) for files in this format.
func (f Format) Ext() string {
	if f == FormatP7B {
		return "p7b"
	}
	return "pem"
}

package delivery

import "fmt"

// Format is a CertCentral download format that fetch writes.
type Format string

// Formats fetch supports, spelled as CertCentral's download formats
// (certcentral.FormatPEMAll, ...; not imported, so this package depends on
// state only). pem_nointermediate is left out on purpose: a certificate
// without its intermediate breaks most TLS clients.
const (
	FormatPEMAll    Format = "pem_all"    // end-entity, intermediates, root
	FormatPEMNoRoot Format = "pem_noroot" // end-entity and intermediates
	FormatP7B       Format = "p7b"        // PKCS#7 bundle
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

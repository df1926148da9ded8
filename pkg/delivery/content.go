package delivery

import (
	"encoding/pem"
	"errors"
	"fmt"
)

// checkContent refuses a download that is not what was asked for, so that a
// truncated or wrong response never replaces a good file.
func checkContent(data []byte, f Format) error {
	if len(data) == 0 {
		return errors.New("CertCentral returned an empty certificate file")
	}
	if f == FormatP7B {
		return nil
	}
	rest, n := data, 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return fmt.Errorf("CertCentral returned a %q PEM block where only certificates belong", b.Type)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("CertCentral returned no PEM certificate for format %s", f)
	}
	return nil
}

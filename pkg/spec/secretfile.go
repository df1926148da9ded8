package spec

import "github.com/certplan/certplan/pkg/secret"

// Size limits of referenced files. A CSR is one or two KiB, a card number
// or CVV a few bytes: anything much larger is the wrong file, or /dev/zero.
// Both are read with secret.ReadFile: regular files only, not through a
// link at their path, and never more than the limit.
const (
	MaxCSRFileSize    = 64 << 10
	MaxSecretFileSize = secret.MaxFileSize
)

package spec

import (
	"fmt"
	"time"
)

// Pos is a position in a manifest file (1-based line and column).
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"column"`
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Certificate is one validated `kind: Certificate` manifest with its Defaults merged in.
type Certificate struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	// PreviousNames (metadata.previousNames) are names the state may still
	// track this certificate by: plan moves such an entry to Name.
	PreviousNames []string      `json:"previous_names,omitempty"`
	Product       Product       `json:"product"`
	RenewBefore   time.Duration `json:"renew_before"`
	// AllowDestructiveReissue (spec.allowDestructiveReissue) lets the plan
	// reissue a certificate whose names were removed or changed, after which
	// DigiCert revokes every earlier certificate of the order within 48–72 h.
	// Without it such a reissue is shown and blocked.
	AllowDestructiveReissue bool `json:"allow_destructive_reissue,omitempty"`
	// Order is the merged spec.order request body, ready to send but for secrets:
	// values are JSON-shaped (map[string]any, []any, string, int, bool, float64),
	// a CSR given as {file: PATH} has been replaced by the PEM text, and secret
	// references are Secret values. alternative_order_id is never present.
	Order map[string]any `json:"order"`
	// Pos is where the document starts (its first key).
	Pos Pos `json:"-"`
}

// DefaultRenewBefore applies when neither the manifest nor a Defaults document sets renewBefore.
const DefaultRenewBefore = 30 * 24 * time.Hour

package spec

import (
	"strconv"
	"time"

	"github.com/certplan/certplan/pkg/lifecycle"
)

// LoadOptions are what validation needs beyond the manifests: the planning
// clock and the dated certificate caps, so that `certplan validate` judges a
// manifest as `certplan plan` at the same instant would.
type LoadOptions struct {
	// Now is the planning instant (--now / CERTPLAN_NOW); zero means the wall clock.
	Now time.Time
	// Caps are the public TLS certificate caps by issuance date; nil means
	// lifecycle.DefaultCaps(), an empty table no limit.
	Caps lifecycle.Caps
	// AllowFilesIn are directories outside the project that {file: PATH}
	// references may also name (--allow-files-in).
	AllowFilesIn []string
}

func (o LoadOptions) now() time.Time {
	if o.Now.IsZero() {
		return time.Now().UTC()
	}
	return o.Now.UTC()
}

func (o LoadOptions) caps() lifecycle.Caps {
	if o.Caps == nil {
		return lifecycle.DefaultCaps()
	}
	return o.Caps
}

// lifecycleChecks judges a valid Certificate of a product with plans (public
// TLS) against the certificate caps in force on the planning date:
//
//   - renewBefore as long as the certificate can be (the cap, or a shorter
//     order) is an error: the certificate would be due as soon as it issues,
//     and every run would act on it;
//   - renewBefore as long as a cap that comes into force later is a warning
//     naming the date;
//   - certificate.cert_validity longer than the cap is a warning: CertCentral
//     clamps it to the cap rather than rejecting it.
func lifecycleChecks(root *tree, cert *Certificate, opts LoadOptions) []Diagnostic {
	if cert == nil || !cert.Product.HasPlans() {
		return nil
	}
	now, caps := opts.now(), opts.caps()
	spec := root.field("spec")
	order := spec.field("order")
	var diags []Diagnostic

	rbPos, rbPath := spec.reportPos(), "spec.renewBefore"
	if rb := spec.field("renewBefore"); rb != nil {
		rbPos = rb.reportPos()
	}
	rbDays := float64(cert.RenewBefore) / float64(lifecycle.Day)
	if capDays := caps.MaxDays(now); capDays > 0 {
		length, why := capDays, "public TLS certificates issued on "+now.Format(time.DateOnly)+" are capped at"
		if od, ok := orderDays(order, now); ok && od < length {
			length, why = od, "the order (order_validity) runs"
		}
		if rbDays >= float64(length) {
			diags = append(diags, errorAt(rbPos, rbPath,
				"renewBefore %s is as long as the certificate can be (%s %d days): every certificate would be due as soon as it issues and every run would act on it; choose a renewBefore shorter than %d days (see docs/lifecycle.md)",
				formatDays(cert.RenewBefore), why, length, length))
		}
	}
	if len(diags) == 0 {
		for _, next := range futureSteps(caps, now) {
			if rbDays >= float64(next.Days) {
				diags = append(diags, warningAt(rbPos, rbPath,
					"from %s public TLS certificates are capped at %d days: renewBefore %s will then make every run act on this certificate; choose a renewBefore shorter than %d days before then",
					next.From.Format(time.DateOnly), next.Days, formatDays(cert.RenewBefore), next.Days))
				break
			}
		}
	}

	cv := order.field("certificate").field("cert_validity")
	if capDays := caps.MaxDays(now); cv != nil && capDays > 0 {
		if days, ok := validityFor(cv, now); ok && days > capDays {
			diags = append(diags, warningAt(cv.reportPos(), "spec.order.certificate.cert_validity",
				"asks for %d days, but public TLS certificates issued on %s are capped at %d days: CertCentral clamps the certificate to %d days (and to the order's end)",
				days, now.Format(time.DateOnly), capDays, capDays))
		}
	}
	return diags
}

// futureSteps are the rows of caps that come into force after now, in order.
func futureSteps(caps lifecycle.Caps, now time.Time) []lifecycle.Step {
	var out []lifecycle.Step
	for _, s := range caps {
		if s.From.After(now) {
			out = append(out, s)
		}
	}
	return out
}

// orderDays reads the order's length in days: order_validity (days, years or
// custom_expiration_date), else the deprecated validity_years / validity_days.
func orderDays(order *tree, now time.Time) (int, bool) {
	if d, ok := validityFor(order.field("order_validity"), now); ok {
		return d, true
	}
	if d, ok := order.field("validity_days").intValue(); ok {
		return d, true
	}
	if y, ok := order.field("validity_years").intValue(); ok {
		return y * 365, true
	}
	return 0, false
}

// validityFor reads {custom_expiration_date} (which wins), {days} or {years}
// as a number of days from now; a year counts 365 days.
func validityFor(v *tree, now time.Time) (int, bool) {
	if v == nil || v.kind != kindMap {
		return 0, false
	}
	if s, ok := v.field("custom_expiration_date").str(); ok {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return 0, false
		}
		end := t.Add(lifecycle.Day) // the end of that day
		return lifecycle.BRDays(now, end.Add(-time.Second)), true
	}
	return validityDays(v, 365)
}

// formatDays renders a renewBefore as in manifests: "30d", else Go's form.
func formatDays(d time.Duration) string {
	if d > 0 && d%lifecycle.Day == 0 {
		return strconv.Itoa(int(d/lifecycle.Day)) + "d"
	}
	return d.String()
}

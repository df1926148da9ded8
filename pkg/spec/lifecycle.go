package spec

import (
	"strconv"
	"strings"
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

// lifecycleChecks judges a valid Certificate against its length and, for
// public TLS, the certificate caps in force on the planning date:
//
//   - renewBefore as long as the certificate can be is an error, for every
//     product: the certificate would be due as soon as it issues, and every
//     run would buy (or reissue) another. The length is the order's for
//     private SSL and document signing, whose certificate lives as long as
//     its order, and the order's bounded by the cap for public TLS (Secure
//     Site and legacy SSL);
//   - for public TLS, renewBefore as long as a cap that comes into force
//     later is a warning naming the date;
//   - certificate.cert_validity longer than the cap is a warning: CertCentral
//     clamps it to the cap rather than rejecting it.
func lifecycleChecks(root *tree, cert *Certificate, opts LoadOptions) []Diagnostic {
	if cert == nil {
		return nil
	}
	now, caps := opts.now(), opts.caps()
	publicTLS := cert.Product.HasPlans() || cert.Product.IsLegacy()
	if !publicTLS {
		caps = nil
	}
	spec := root.field("spec")
	order := spec.field("order")
	var diags []Diagnostic

	rbPos, rbPath := spec.reportPos(), "spec.renewBefore"
	if rb := spec.field("renewBefore"); rb != nil {
		rbPos = rb.reportPos()
	}
	rbDays := float64(cert.RenewBefore) / float64(lifecycle.Day)
	length, why := 0, ""
	if capDays := caps.MaxDays(now); capDays > 0 {
		length, why = capDays, "public TLS certificates issued on "+now.Format(time.DateOnly)+" are capped at"
	}
	if od, field, ok := orderLength(cert.Product, order, now); ok && od > 0 && (length == 0 || od < length) {
		length, why = od, "the order ("+field+") runs"
	}
	if length > 0 && rbDays >= float64(length) {
		diags = append(diags, errorAt(rbPos, rbPath,
			"renewBefore %s is as long as the certificate can be (%s %d days): every certificate would be due as soon as it issues and every run would act on it; choose a renewBefore shorter than %d days (see docs/lifecycle.md)",
			formatDays(cert.RenewBefore), why, length, length))
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
	if capDays := caps.MaxDays(now); cv != nil && capDays > 0 && cert.Product.HasPlans() {
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

// orderLength reads the order's length in days from now, and the field it
// comes from: order_validity (days, years or custom_expiration_date), else
// the deprecated validity_days, validity_years or custom_expiration_date
// (yyyy-MM-dd); for legacy_ssl, validity (years).
func orderLength(p Product, order *tree, now time.Time) (days int, field string, ok bool) {
	if p.IsLegacy() {
		if y, ok := order.field("validity").intValue(); ok {
			return y * 365, "validity", true
		}
		return 0, "", false
	}
	if d, ok := validityFor(order.field("order_validity"), now); ok {
		return d, "order_validity", true
	}
	if d, ok := order.field("validity_days").intValue(); ok {
		return d, "validity_days", true
	}
	if y, ok := order.field("validity_years").intValue(); ok {
		return y * 365, "validity_years", true
	}
	if s, ok := order.field("custom_expiration_date").str(); ok {
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			return daysUntil(now, t), "custom_expiration_date", true
		}
	}
	return 0, "", false
}

// validityFor reads {custom_expiration_date} (which wins), {days} or {years}
// as a number of days from now; a year counts 365 days.
func validityFor(v *tree, now time.Time) (int, bool) {
	if v == nil || v.kind != kindMap {
		return 0, false
	}
	if s, ok := v.field("custom_expiration_date").str(); ok {
		t, err := time.Parse("02 Jan 2006", titleMonth(s))
		if err != nil {
			return 0, false
		}
		return daysUntil(now, t), true
	}
	return validityDays(v, 365)
}

// daysUntil counts the days from now to the end of the day date, the
// Baseline Requirements' way; 0 when that is past.
func daysUntil(now, date time.Time) int {
	end := date.Add(lifecycle.Day) // the end of that day
	return lifecycle.BRDays(now, end.Add(-time.Second))
}

// titleMonth writes the month of a "dd MMM YYYY" date as Go parses it
// ("09 JUN 2025" -> "09 Jun 2025").
func titleMonth(s string) string {
	if len(s) != 11 {
		return s
	}
	return s[:3] + strings.ToUpper(s[3:4]) + strings.ToLower(s[4:6]) + s[6:]
}

// formatDays renders a renewBefore as in manifests: "30d", else Go's form.
func formatDays(d time.Duration) string {
	if d > 0 && d%lifecycle.Day == 0 {
		return strconv.Itoa(int(d/lifecycle.Day)) + "d"
	}
	return d.String()
}

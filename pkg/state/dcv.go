package state

import "time"

// DCV is what certplan knows of an order's domain control validation: the
// method, the order's random value and when it expires, and per name the
// status CertCentral last reported. It is optional (omitted when nothing is
// known) and the random value is no secret: it is published in DNS.
type DCV struct {
	// Method is the order's dcv_method: dns-txt-token, dns-cname-token,
	// http-token or email.
	Method string `json:"method"`
	// RandomValue is the order's random value ("" when not known yet).
	RandomValue string `json:"random_value,omitempty"`
	// ValueExpires is when CertCentral stops accepting RandomValue (values
	// live 30 days); nil when not known.
	ValueExpires *time.Time `json:"value_expires,omitempty"`
	// Names are the order's names to validate (a wildcard's base name
	// stands for it), in the order's order.
	Names []DCVName `json:"names,omitempty"`
	// CheckedAt is when certplan last asked CertCentral to check (check-dcv).
	CheckedAt *time.Time `json:"checked_at,omitempty"`
}

// DCVName is one name of an order under validation.
type DCVName struct {
	Name string `json:"name"`
	// Status is CertCentral's word for the name (pending, approved), or ""
	// when it was never checked.
	Status string `json:"status,omitempty"`
	// CheckedAt is when the status was last read.
	CheckedAt *time.Time `json:"checked_at,omitempty"`
	// ValidatedAt is when the name was seen validated (a check that approved
	// it, or the order issued after waiting for it): reuse periods count
	// from there.
	ValidatedAt *time.Time `json:"validated_at,omitempty"`
}

// Clone returns a deep copy (nil for nil).
func (d *DCV) Clone() *DCV {
	if d == nil {
		return nil
	}
	out := *d
	out.ValueExpires = cloneTime(d.ValueExpires)
	out.CheckedAt = cloneTime(d.CheckedAt)
	out.Names = make([]DCVName, len(d.Names))
	for i, n := range d.Names {
		n.CheckedAt = cloneTime(n.CheckedAt)
		n.ValidatedAt = cloneTime(n.ValidatedAt)
		out.Names[i] = n
	}
	if len(d.Names) == 0 {
		out.Names = nil
	}
	return &out
}

// keepValidated copies old's ValidatedAt to d's names of the same name that
// have none: newer facts of an order (a reissue waiting for validation,
// say) do not know when its names were validated before.
func (d *DCV) keepValidated(old *DCV) {
	if d == nil || old == nil {
		return
	}
	for i := range d.Names {
		if d.Names[i].ValidatedAt != nil {
			continue
		}
		for _, o := range old.Names {
			if o.Name == d.Names[i].Name && o.ValidatedAt != nil {
				d.Names[i].ValidatedAt = cloneTime(o.ValidatedAt)
				break
			}
		}
	}
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := *t
	return &v
}

package apply

import (
	"github.com/certplan/certplan/pkg/dcv"
	"github.com/certplan/certplan/pkg/state"
)

// placedDCV is what a create or reissue reply says of the order's domain validation:
// the random value (present when validation is needed) and the method the
// request asked for. Its expiry is not in the reply: the next refresh asks
// for it (dcv.Refresh). nil when there is nothing to record, or the value
// is not a plain token (the refresh then fetches, and refuses, it).
func placedDCV(request map[string]any, value string) *state.DCV {
	method := dcv.RequestMethod(request)
	if !dcv.SafeValue(value) || !dcv.TokenMethod(method) {
		return nil
	}
	d := &state.DCV{Method: method, RandomValue: value}
	for _, n := range dcv.RequestNames(request) {
		d.Names = append(d.Names, state.DCVName{Name: n})
	}
	return d
}

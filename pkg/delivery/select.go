package delivery

import (
	"fmt"
	"sort"
	"strings"

	"github.com/certplan/certplan/pkg/state"
)

// UnknownNamesError says which requested names are not in state and which are.
type UnknownNamesError struct {
	Unknown []string
	Known   []string // sorted
	Where   string   // the state file, if the caller knows it
}

// maxListed caps how many known names an error message lists.
const maxListed = 20

func (e *UnknownNamesError) Error() string {
	quoted := make([]string, len(e.Unknown))
	for i, n := range e.Unknown {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	what := "certificate " + quoted[0] + " is"
	if len(quoted) > 1 {
		what = "certificates " + strings.Join(quoted, ", ") + " are"
	}
	where := "state"
	if e.Where != "" {
		where += " " + e.Where
	}
	if len(e.Known) == 0 {
		return what + " not in " + where + ", which has no certificates yet: run `certplan apply` first"
	}
	known := e.Known
	more := ""
	if len(known) > maxListed {
		more = fmt.Sprintf(" and %d more", len(known)-maxListed)
		known = known[:maxListed]
	}
	return fmt.Sprintf("%s not in %s; it has: %s%s (`certplan state list` shows them all)", what, where, strings.Join(known, ", "), more)
}

// Select returns the names to fetch, sorted: all certificates in state when
// names is empty, else exactly those named (duplicates once). A name not in
// state is an *UnknownNamesError.
func Select(certs map[string]*state.Certificate, names []string) ([]string, error) {
	known := make([]string, 0, len(certs))
	for n := range certs {
		known = append(known, n)
	}
	sort.Strings(known)
	if len(names) == 0 {
		return known, nil
	}
	seen := map[string]bool{}
	var out, unknown []string
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		if _, ok := certs[n]; !ok {
			unknown = append(unknown, n)
			continue
		}
		out = append(out, n)
	}
	if len(unknown) > 0 {
		return nil, &UnknownNamesError{Unknown: unknown, Known: known}
	}
	sort.Strings(out)
	return out, nil
}

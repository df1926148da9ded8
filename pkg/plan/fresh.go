package plan

import (
	"fmt"
	"sort"

	"github.com/certplan/certplan/pkg/state"
)

// CheckFresh refuses a saved plan whose state changed since it was made: a
// different lineage (another state file) or serial (an apply, import or
// state command ran since).
func CheckFresh(p *Plan, st *state.State) error {
	if st == nil {
		st = &state.State{}
	}
	if p.Lineage == "" {
		// Planned against a state that did not exist yet.
		if st.Serial != p.Serial || len(st.Certificates) > 0 {
			return fmt.Errorf("saved plan is stale: it was made against an empty state, but the state now has serial %d and %d %s; run `certplan plan` again", st.Serial, len(st.Certificates), plural(int64(len(st.Certificates)), "certificate"))
		}
		return nil
	}
	if st.Lineage != p.Lineage {
		return fmt.Errorf("saved plan is stale: it was made against state lineage %s, but the state is lineage %s (another state file?); run `certplan plan` again", p.Lineage, st.Lineage)
	}
	if st.Serial != p.Serial {
		return fmt.Errorf("saved plan is stale: the state changed since it was made (serial %d, now %d); run `certplan plan` again", p.Serial, st.Serial)
	}
	return nil
}

// CheckBackend refuses a saved plan made against another kind of state
// backend than the one this run uses (a plan file without a backend, from
// an older certplan, is not checked). Names are not compared: the same state
// may be reached by another name (a relative path from elsewhere, --state),
// and lineage and serial (CheckFresh) tell whether it is the same state.
func CheckBackend(p *Plan, b state.BackendInfo) error {
	if p.Backend == nil || p.Backend.Kind == b.Kind {
		return nil
	}
	return fmt.Errorf("saved plan was made against a %s state (%s), but this run uses a %s state (%s): apply it with the same --state, or run `certplan plan` again",
		p.Backend.Kind, p.Backend.Name, b.Kind, b.Name)
}

// CheckManifests refuses a saved plan whose manifests changed since it was
// made: current maps each manifest file to its digest, as Input.ManifestDigests.
func CheckManifests(p *Plan, current map[string]string) error {
	var changed []string
	for f, d := range p.ManifestDigests {
		switch now, ok := current[f]; {
		case !ok:
			changed = append(changed, f+" (removed)")
		case now != d:
			changed = append(changed, f+" (changed)")
		}
	}
	for f := range current {
		if _, ok := p.ManifestDigests[f]; !ok {
			changed = append(changed, f+" (added)")
		}
	}
	if len(changed) == 0 {
		return nil
	}
	sort.Strings(changed)
	return fmt.Errorf("saved plan is stale: manifests changed since it was made: %s; run `certplan plan` again", listSome(changed, 5))
}

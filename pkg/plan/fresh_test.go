package plan

import (
	"strings"
	"testing"

	"github.com/certplan/certplan/pkg/state"
)

func TestCheckFresh(t *testing.T) {
	tests := []struct {
		name  string
		plan  Plan
		state *state.State
		want  string // "" = fresh
	}{
		{"same state", Plan{Lineage: "L", Serial: 4}, &state.State{Lineage: "L", Serial: 4}, ""},
		{"serial moved", Plan{Lineage: "L", Serial: 4}, &state.State{Lineage: "L", Serial: 5}, "serial 4, now 5"},
		{"other lineage", Plan{Lineage: "L", Serial: 4}, &state.State{Lineage: "M", Serial: 4}, "lineage L, but the state is lineage M"},
		{"empty then and now", Plan{}, &state.State{Lineage: "new"}, ""},
		{"empty then and nil now", Plan{}, nil, ""},
		{"empty then, applied since", Plan{}, &state.State{Lineage: "new", Serial: 1, Certificates: map[string]*state.Certificate{"a": {}}}, "made against an empty state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckFresh(&tt.plan, tt.state)
			if tt.want == "" {
				if err != nil {
					t.Errorf("CheckFresh = %v, want fresh", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "certplan plan") {
				t.Errorf("CheckFresh = %v, want a stale error with %q", err, tt.want)
			}
		})
	}
}

func TestCheckManifests(t *testing.T) {
	p := &Plan{ManifestDigests: map[string]string{"a.yaml": "1", "b.yaml": "2"}}
	if err := CheckManifests(p, map[string]string{"a.yaml": "1", "b.yaml": "2"}); err != nil {
		t.Errorf("unchanged: %v", err)
	}
	err := CheckManifests(p, map[string]string{"a.yaml": "9", "c.yaml": "3"})
	if err == nil || !strings.Contains(err.Error(), "a.yaml (changed), b.yaml (removed), c.yaml (added)") {
		t.Errorf("changed: %v", err)
	}
}

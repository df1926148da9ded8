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

func TestCheckBackend(t *testing.T) {
	file := &state.BackendInfo{Kind: "file", Name: "certplan.state.json"}
	tests := []struct {
		name string
		plan *state.BackendInfo
		run  state.BackendInfo
		want string // "" = fresh
	}{
		{"same", file, *file, ""},
		{"same kind, another name (e.g. --state)", file, state.BackendInfo{Kind: "file", Name: "./certplan.state.json"}, ""},
		{"plan file without a backend", nil, *file, ""},
		{"another kind", file, state.BackendInfo{Kind: "postgres", Name: "db.example.com/certplan"},
			"made against a file state (certplan.state.json), but this run uses a postgres state (db.example.com/certplan)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckBackend(&Plan{Backend: tt.plan}, tt.run)
			if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("CheckBackend = %v, want %q", err, tt.want)
			}
		})
	}
}

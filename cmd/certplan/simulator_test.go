package main

import "testing"

func TestSimulatorCapsFlag(t *testing.T) {
	for _, tc := range []struct {
		flag string
		want string // "" = defaults (nil)
		err  bool
	}{
		{flag: "", want: ""},
		{flag: "none", want: "none"},
		{flag: "397,2026-02-24=199,2027-02-15=99", want: "397,2026-02-24=199,2027-02-15=99"},
		{flag: "2026-02-24=zero", err: true},
	} {
		opts, err := simulatorFlags{approval: "immediate", caps: tc.flag}.options()
		if tc.err {
			if err == nil {
				t.Errorf("--caps %q: no error", tc.flag)
			}
			continue
		}
		if err != nil {
			t.Fatalf("--caps %q: %v", tc.flag, err)
		}
		switch {
		case tc.want == "" && opts.Caps != nil:
			t.Errorf("--caps %q: %s, want the defaults (nil)", tc.flag, opts.Caps)
		case tc.want != "" && opts.Caps.String() != tc.want:
			t.Errorf("--caps %q: %s", tc.flag, opts.Caps)
		}
	}
}

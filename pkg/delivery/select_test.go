package delivery

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certplan/certplan/pkg/state"
)

func TestSelect(t *testing.T) {
	three := map[string]*state.Certificate{"web": {}, "api": {}, "mail": {}}
	many := map[string]*state.Certificate{}
	for i := 0; i < 25; i++ {
		many[fmt.Sprintf("c%02d", i)] = &state.Certificate{}
	}
	tests := []struct {
		name    string
		certs   map[string]*state.Certificate
		names   []string
		want    []string
		wantErr string
	}{
		{"all, sorted", three, nil, []string{"api", "mail", "web"}, ""},
		{"empty state", map[string]*state.Certificate{}, nil, []string{}, ""},
		{"some", three, []string{"web", "api"}, []string{"api", "web"}, ""},
		{"duplicates once", three, []string{"web", "web"}, []string{"web"}, ""},
		{"one unknown", three, []string{"web", "wbe"}, nil,
			"certificate \"wbe\" is not in state; it has: api, mail, web (`certplan state list` shows them all)"},
		{"two unknown", three, []string{"x", "y"}, nil,
			"certificates \"x\", \"y\" are not in state; it has: api, mail, web (`certplan state list` shows them all)"},
		{"unknown, nothing in state", map[string]*state.Certificate{}, []string{"x"}, nil,
			"certificate \"x\" is not in state, which has no certificates yet: run `certplan apply` first"},
		{"long list capped", many, []string{"zz"}, nil,
			"certificate \"zz\" is not in state; it has: c00, c01, c02, c03, c04, c05, c06, c07, c08, c09, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19 and 5 more (`certplan state list` shows them all)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Select(tt.certs, tt.names)
			if tt.wantErr != "" {
				var ue *UnknownNamesError
				if !errors.As(err, &ue) || err.Error() != tt.wantErr {
					t.Fatalf("err = %v\nwant %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		ext     string
		wantErr bool
	}{
		{"pem_all", "pem", false},
		{"pem_noroot", "pem", false},
		{"p7b", "p7b", false},
		{"pem_nointermediate", "", true},
		{"PEM_ALL", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		f, err := ParseFormat(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseFormat(%q) err = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && f.Ext() != tt.ext {
			t.Errorf("ParseFormat(%q).Ext() = %q, want %q", tt.in, f.Ext(), tt.ext)
		}
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"shop-frontend", true},
		{"a", true},
		{"", false},
		{".hidden", false},
		{"..", false},
		{"../up", false},
		{"a/b", false},
		{`a\b`, false},
		{"a:b", false},
		{"nul\x00", false},
		{string(make([]byte, 201)), false},
	}
	for _, tt := range tests {
		if err := checkName(tt.name); (err == nil) != tt.ok {
			t.Errorf("checkName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestUnknownNamesErrorWhere(t *testing.T) {
	e := &UnknownNamesError{Unknown: []string{"x"}, Known: []string{"a"}, Where: "certs/certplan.state.json"}
	want := "certificate \"x\" is not in state certs/certplan.state.json; it has: a (`certplan state list` shows them all)"
	if e.Error() != want {
		t.Errorf("got  %s\nwant %s", e.Error(), want)
	}
}

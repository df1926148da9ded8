package backends

import (
	"strings"
	"testing"
)

func TestOpen(t *testing.T) {
	const pw = "Sw0rdf1sh-never-shown"
	tests := []struct {
		location, kind, name, err string
	}{
		{location: "certplan.state.json", kind: "file", name: "certplan.state.json"},
		{location: "/srv/state/postgres.json", kind: "file", name: "/srv/state/postgres.json"},
		{location: "postgres://ci:" + pw + "@db.internal:6543/certs?sslmode=require", kind: "postgres",
			name: "postgres://ci@db.internal:6543/certs?sslmode=require"},
		{location: "postgresql://ci:" + pw + "@db.internal/certs?certplan_workspace=payments&sslmode=disable", kind: "postgres",
			name: "postgres://ci@db.internal:5432/certs?certplan_workspace=payments&sslmode=disable"},
		{location: "POSTGRES://ci@db.internal/certs?password=" + pw + "&sslmode=disable", kind: "postgres",
			name: "postgres://ci@db.internal:5432/certs?sslmode=disable"},
		{location: "postgres://ci:" + pw + "@db.internal/certs?certplan_workspace=bad%20name", err: "certplan_workspace"},
		{location: "postgres://ci:" + pw + "@db.internal/certs?certplan_schema=Bad", err: "certplan_schema"},
		{location: "postgres://ci:" + pw + "@db.internal/certs?sslmode=bogus", err: "sslmode"},
		{location: "postgres://ci:" + pw + "@[::1/certs", err: "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.location, func(t *testing.T) {
			b, err := Open(tt.location)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Open = %v, want an error about %s", err, tt.err)
				}
				if strings.Contains(err.Error(), pw) {
					t.Fatalf("the error shows the password: %v", err)
				}
				lazy := OpenLazy(tt.location)
				if _, lerr := lazy.Load(bg); lerr == nil || lerr.Error() != err.Error() {
					t.Errorf("OpenLazy(...).Load = %v, want %v", lerr, err)
				}
				if strings.Contains(lazy.Describe().Name, pw) {
					t.Errorf("Describe shows the password")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			info := b.Describe()
			if info.Kind != tt.kind || info.Name != tt.name {
				t.Errorf("Describe() = %+v, want %s %s", info, tt.kind, tt.name)
			}
		})
	}
}

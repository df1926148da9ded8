package secret_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certplan/certplan/pkg/secret"
)

func TestValueNeverRendersItsReference(t *testing.T) {
	v := secret.Value{Ref: secret.Ref{Env: "CARD_NUMBER"}}
	b, err := json.Marshal(map[string]any{"number": v, "cvv": &v})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"cvv":"(sensitive)","number":"(sensitive)"}`; got != want {
		t.Errorf("json = %s, want %s", got, want)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if got := fmt.Sprintf(verb, v); strings.Contains(got, "CARD_NUMBER") {
			t.Errorf("%s shows the reference: %s", verb, got)
		}
	}
}

func TestRefsAndInjectRoundTrip(t *testing.T) {
	order := map[string]any{
		"credit_card": map[string]any{
			"number": secret.Value{Ref: secret.Ref{Env: "CARD_NUMBER"}},
			"cvv":    &secret.Value{Ref: secret.Ref{File: "/run/secrets/cvv"}},
			"name":   "A. Person",
		},
		"list": []any{secret.Value{Ref: secret.Ref{Env: "IN_LIST"}}},
	}
	want := map[string]secret.Ref{
		"credit_card.number": {Env: "CARD_NUMBER"},
		"credit_card.cvv":    {File: "/run/secrets/cvv"},
		"list[0]":            {Env: "IN_LIST"},
	}
	if diff := cmp.Diff(want, secret.Refs(order)); diff != "" {
		t.Errorf("Refs (-want +got):\n%s", diff)
	}

	decoded := map[string]any{"credit_card": map[string]any{"number": secret.Sensitive, "cvv": secret.Sensitive}}
	refs := map[string]secret.Ref{"credit_card.number": {Env: "CARD_NUMBER"}, "credit_card.cvv": {File: "/run/secrets/cvv"}}
	if err := secret.Inject(decoded, refs); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(refs, secret.Refs(decoded)); diff != "" {
		t.Errorf("Refs after Inject (-want +got):\n%s", diff)
	}
	if err := secret.Inject(map[string]any{"credit_card": "x"}, refs); err == nil {
		t.Error("Inject through a string: no error")
	}
}

func TestResolve(t *testing.T) {
	t.Setenv("CP_SECRET_TEST", "4111")
	file := filepath.Join(t.TempDir(), "cvv")
	if err := os.WriteFile(file, []byte("123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		ref     secret.Ref
		want    string
		wantErr string
	}{
		{ref: secret.Ref{Env: "CP_SECRET_TEST"}, want: "4111"},
		{ref: secret.Ref{File: file}, want: "123"},
		{ref: secret.Ref{Env: "CP_SECRET_TEST_UNSET"}, wantErr: "not set"},
		{ref: secret.Ref{File: file + ".missing"}, wantErr: "no such file"},
		{ref: secret.Ref{}, wantErr: "empty secret reference"},
	} {
		got, err := tt.ref.Resolve()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: Resolve() = %q, %v; want error containing %q", tt.ref, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%v: Resolve() = %q, %v; want %q", tt.ref, got, err, tt.want)
		}
	}
}

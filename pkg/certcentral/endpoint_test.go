package certcentral_test

import (
	"strings"
	"testing"

	"github.com/certplan/certplan/pkg/certcentral"
)

func TestResolveEndpoint(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "", want: certcentral.DefaultUSEndpoint},
		{in: "us", want: certcentral.DefaultUSEndpoint},
		{in: " US ", want: certcentral.DefaultUSEndpoint},
		{in: "eu", want: certcentral.EUEndpoint},
		{in: "EU", want: certcentral.EUEndpoint},
		{in: "https://certcentral.example.com/services/v2/", want: "https://certcentral.example.com/services/v2"},
		{in: "https://proxy.internal:8443/digicert/services/v2", want: "https://proxy.internal:8443/digicert/services/v2"},
		{in: "http://127.0.0.1:8443/services/v2", want: "http://127.0.0.1:8443/services/v2"},
		{in: "http://127.1.2.3:8443/services/v2", want: "http://127.1.2.3:8443/services/v2"},
		// A name is not an address: /etc/hosts can point localhost anywhere,
		// and the API key would follow in clear text. (This case used to be
		// accepted; that was the bug.)
		{in: "http://localhost:8443/services/v2", wantErr: "use http://127.0.0.1"},
		{in: "http://LOCALHOST./services/v2", wantErr: "use http://127.0.0.1"},
		{in: "http://api.localhost/services/v2", wantErr: "use http://127.0.0.1"},
		{in: "https://localhost:8443/services/v2", want: "https://localhost:8443/services/v2"},
		{in: "http://[::1]:8443/services/v2", want: "http://[::1]:8443/services/v2"},
		{in: "http://example.com/services/v2", wantErr: "only allowed for loopback"},
		{in: "http://10.0.0.1/services/v2", wantErr: "only allowed for loopback"},
		{in: "http://127.0.0.1.example.com/services/v2", wantErr: "only allowed for loopback"},
		{in: "http://[::2]/services/v2", wantErr: "only allowed for loopback"},
		{in: "ftp://example.com", wantErr: "https://"},
		{in: "www.digicert.com/services/v2", wantErr: "https://"},
		{in: "https://", wantErr: "no host"},
		{in: "https://user:pw@example.com/services/v2", wantErr: "credentials"},
		{in: "https://example.com/services/v2?x=1", wantErr: "query"},
		{in: "https://exa mple.com", wantErr: "not a URL"},
		{in: "asia", wantErr: "https://"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := certcentral.ResolveEndpoint(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ResolveEndpoint(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "pw") {
					t.Errorf("error shows URL credentials: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ResolveEndpoint(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestResolveLegacyEndpoint(t *testing.T) {
	if got, err := certcentral.ResolveLegacyEndpoint(""); err != nil || got != certcentral.DefaultLegacyEndpoint {
		t.Errorf(`ResolveLegacyEndpoint("") = %q, %v`, got, err)
	}
	if got, err := certcentral.ResolveLegacyEndpoint("http://127.0.0.1:9000/"); err != nil || got != "http://127.0.0.1:9000" {
		t.Errorf("loopback legacy = %q, %v", got, err)
	}
	if _, err := certcentral.ResolveLegacyEndpoint("http://api.digicert.com"); err == nil {
		t.Error("plain http legacy endpoint accepted")
	}
}

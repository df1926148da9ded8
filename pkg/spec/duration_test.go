package spec

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "30d", want: 30 * 24 * time.Hour},
		{in: "720h", want: 720 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "90m", want: 90 * time.Minute},
		{in: "1d1h1m", want: 25*time.Hour + time.Minute},
		{in: "0d", want: 0},
		{in: "", wantErr: "empty duration"},
		{in: "30", wantErr: "missing unit"},
		{in: "d", wantErr: "expected a number"},
		{in: "30s", wantErr: `unknown unit 's'`},
		{in: "1.5h", wantErr: `unknown unit '.'`},
		{in: "-1d", wantErr: "expected a number"},
		{in: "106752d", wantErr: "too large"},
		{in: "99999999999999999999d", wantErr: "too large"},
		{in: "106751d106751d", wantErr: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseDuration(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

package main

import (
	"bytes"
	"testing"
)

func TestRenderBar(t *testing.T) {
	tests := []struct {
		done, total, width int
		want               string
	}{
		{0, 50, 10, "[>         ] 0/50 orders"},
		{25, 50, 10, "[=====>    ] 25/50 orders"},
		{50, 50, 10, "[==========] 50/50 orders"},
		{60, 50, 10, "[==========] 50/50 orders"},
		{1, 0, 10, ""},
	}
	for _, tt := range tests {
		if got := renderBar(tt.done, tt.total, tt.width); got != tt.want {
			t.Errorf("renderBar(%d, %d) = %q, want %q", tt.done, tt.total, got, tt.want)
		}
	}
}

func TestProgressBarOnlyOnATerminal(t *testing.T) {
	var buf bytes.Buffer
	bar := newProgressBar(&buf, 100)
	printed := 0
	for i := 0; i < 100; i++ {
		bar.step(func() { printed++ })
	}
	if printed != 100 || buf.Len() != 0 {
		t.Fatalf("printed %d lines and %d bar bytes to a non-terminal; want 100 and 0", printed, buf.Len())
	}
}

package certcentral_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/certplan/certplan/pkg/certcentral"
)

// TestServerTextCannotDriveATerminal: error messages come from the server
// (or a proxy); in errors and logs they lose control characters and cannot
// carry a GitHub workflow command.
func TestServerTextCannotDriveATerminal(t *testing.T) {
	api := newFakeAPI(t, script(status(400, `{"errors":[{"code":"invalid_value","message":"\u001b[2J\u009b31m##[error]forged\n::warning::forged\u202e"}]}`)))
	var logs bytes.Buffer
	log := zerolog.New(&logs).Level(zerolog.DebugLevel)
	c := api.client(t, func(cfg *certcentral.Config) { cfg.Logger = &log })
	_, err := c.OrderInfo(context.Background(), 7)
	if err == nil {
		t.Fatal("want the 400")
	}
	for what, out := range map[string]string{"error": err.Error(), "log": logs.String()} {
		if strings.ContainsAny(out, "\x1b\u009b\u202e") || strings.Contains(out, "##[") {
			t.Errorf("%s carries the server's control text: %q", what, out)
		}
	}
	if !strings.Contains(err.Error(), `##\[error]forged ::warning::forged`) {
		t.Errorf("error %q does not show the message, defused", err)
	}
}

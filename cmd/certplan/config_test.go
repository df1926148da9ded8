package main

import (
	"io"
	"strings"
	"testing"
)

// One run, one client: refresh, apply and --wait share its rate limiter.
func TestClientAndLoggerAreBuiltOnce(t *testing.T) {
	t.Setenv("DIGICERT_API_KEY", "k")
	t.Setenv("CERTPLAN_ENDPOINT", "http://127.0.0.1:1/services/v2")
	g := &globals{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, logFormat: "json", logLevel: "warn"}
	c1, err := g.client()
	if err != nil {
		t.Fatal(err)
	}
	c2, err := g.client()
	if err != nil {
		t.Fatal(err)
	}
	if c1 != c2 {
		t.Fatal("client() built a second client (and a second rate limiter) in one run")
	}
	if g.log == nil {
		t.Fatal("the logger was not kept for the run")
	}
}

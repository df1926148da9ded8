// Package archtest pins which certplan packages may import which: the rules
// table and the test that enforces it are in imports_test.go. Run it with
// `go test ./internal/archtest`; a failure names the offending import.
package archtest

package state_test

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/state"
	"github.com/certplan/certplan/pkg/state/statetest"
)

// The file backend passes the conformance suite. A store is a directory
// holding one state file; its address is the state file's path.
func TestFileBackendConformance(t *testing.T) {
	statetest.Run(t, statetest.Harness{
		New: func(t *testing.T) string { return filepath.Join(t.TempDir(), "certplan.state.json") },
		Open: func(addr string) (state.Backend, error) {
			return state.NewFileBackend(addr), nil
		},
		PutSnapshot: func(t *testing.T, addr string, data []byte) {
			if err := os.WriteFile(addr, data, 0o600); err != nil {
				t.Fatal(err)
			}
		},
		Fingerprint: func(t *testing.T, addr string) string {
			dir := filepath.Dir(addr)
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range entries {
				fi, err := e.Info()
				if err != nil {
					t.Fatal(err)
				}
				data, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Sprintf("%s %v %s %x", e.Name(), fi.Mode(), fi.ModTime().Format(time.RFC3339Nano), sha256.Sum256(data)))
			}
			sort.Strings(out)
			return strings.Join(out, "; ")
		},
	})
}

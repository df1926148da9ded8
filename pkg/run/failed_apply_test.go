package run_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/certplan/certplan/pkg/run"
	"github.com/certplan/certplan/pkg/state"
)

// An apply whose only order CertCentral refuses (here a date that does not
// exist, as a manifest validated before that check had it) changes nothing:
// on a new project it leaves no state file behind.
func TestFailedApplyWritesNoState(t *testing.T) {
	r := newRig(t, 1)
	r.manifests.Certificates[0].Order["order_validity"] = map[string]any{"custom_expiration_date": "31 FEB 2027"}
	s := r.prepare(t, true)
	rep, err := s.Execute(context.Background(), context.Background(), run.ExecuteOptions{Parallelism: 1})
	s.Release()
	if err != nil || rep.Failed() != 1 {
		t.Fatalf("execute: %v, %d failed; want the order refused", err, rep.Failed())
	}
	path := r.env.Backend.(*state.FileBackend).Path()
	for _, p := range []string{path, state.JournalPath(path), state.BackupPath(path)} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("after a failed first apply %s exists (%v): nothing was bought, so nothing needed writing", p, err)
		}
	}
}

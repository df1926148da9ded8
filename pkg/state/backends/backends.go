// Package backends turns a --state / CERTPLAN_STATE value into a
// state.Backend: a postgres:// or postgresql:// URL is a PostgreSQL state
// (pkg/state/pgstate), anything else a state file (state.FileBackend).
package backends

import (
	"context"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/state"
	"github.com/certplan/certplan/pkg/state/pgstate"
)

// IsURL reports whether location names a PostgreSQL state.
func IsURL(location string) bool { return pgstate.IsURL(location) }

// Open returns the backend of the state at location. It checks a URL but
// does not connect; its errors never contain a password.
func Open(location string) (state.Backend, error) {
	if IsURL(location) {
		return pgstate.Open(location)
	}
	return state.NewFileBackend(location), nil
}

// OpenLazy is Open for callers that report errors when the state is first
// used: a location that does not open gives a backend whose every
// operation fails with Open's error.
func OpenLazy(location string) state.Backend {
	b, err := Open(location)
	if err != nil {
		return &broken{err: err, info: state.BackendInfo{Kind: kindOf(location), Name: "(unusable state location)"}}
	}
	return b
}

func kindOf(location string) string {
	if IsURL(location) {
		return "postgres"
	}
	return "file"
}

// broken is a backend that could not be opened.
type broken struct {
	err  error
	info state.BackendInfo
}

func (b *broken) Describe() state.BackendInfo { return b.info }
func (b *broken) Lock(context.Context, string, time.Duration) (state.Lock, error) {
	return nil, b.err
}
func (b *broken) ForceUnlock(context.Context) (*state.LockInfo, error)     { return nil, b.err }
func (b *broken) Load(context.Context) (*state.Loaded, error)              { return nil, b.err }
func (b *broken) OpenJournal(context.Context) (state.JournalWriter, error) { return nil, b.err }
func (b *broken) Commit(context.Context, *state.Loaded) error              { return b.err }

// SharedRateLimit returns the shared rate-limit log for apiKey when
// location is a PostgreSQL state (runs sharing the database and the key
// stay under the key's limits together), and nil for a state file. The key
// is kept only as a digest.
func SharedRateLimit(location, apiKey string) (certcentral.SharedWindow, error) {
	if !IsURL(location) {
		return nil, nil
	}
	return pgstate.NewRateWindow(location, pgstate.KeyDigest(apiKey))
}

package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// stateVersion is the state file format version.
const stateVersion = 1

// flushDelay bounds how far the state file lags behind the simulator.
const flushDelay = 200 * time.Millisecond

// stateFile is the persisted simulator: the CA and the store (orders, counters,
// clock offset). Card numbers and CVVs are redacted before they get here.
type stateFile struct {
	Version int     `json:"version"`
	CA      caState `json:"ca"`
	Store   *store  `json:"store"`
}

// snapshot encodes the state file under s.mu.
func (s *Server) snapshot() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, err := s.ca.state()
	if err != nil {
		return nil, err
	}
	return json.Marshal(stateFile{Version: stateVersion, CA: cs, Store: s.st})
}

// loadState reads a state file; a missing file yields nil and no error.
func loadState(path string) (*store, *ca, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load simulator state %s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // order bodies keep integers as integers
	var sf stateFile
	if err := dec.Decode(&sf); err != nil {
		return nil, nil, fmt.Errorf("load simulator state %s: %w (delete the file to start afresh)", path, err)
	}
	if sf.Version != stateVersion || sf.Store == nil {
		return nil, nil, fmt.Errorf("load simulator state %s: unsupported version %d (delete the file to start afresh)", path, sf.Version)
	}
	c, err := caFromState(sf.CA)
	if err != nil {
		return nil, nil, fmt.Errorf("load simulator state %s: CA: %w", path, err)
	}
	sf.Store.index()
	return sf.Store, c, nil
}

// writeFileAtomic writes b to path through a temporary file and a rename, 0600.
func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write simulator state %s: %w", path, err)
	}
	name := tmp.Name()
	defer os.Remove(name) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write simulator state %s: %w", path, err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write simulator state %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write simulator state %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write simulator state %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("write simulator state %s: %w", path, err)
	}
	return nil
}

// persister writes the state file in the background, at most flushDelay after
// a change, and once more on close.
type persister struct {
	path     string
	snapshot func() ([]byte, error)
	dirty    chan struct{}
	done     chan struct{}
	stopped  chan struct{}

	mu      sync.Mutex
	lastErr error
}

func newPersister(path string, snapshot func() ([]byte, error)) *persister {
	p := &persister{
		path: path, snapshot: snapshot,
		dirty: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{}),
	}
	go p.loop()
	return p
}

// markDirty never blocks, so it may be called with the server lock held.
func (p *persister) markDirty() {
	select {
	case p.dirty <- struct{}{}:
	default:
	}
}

func (p *persister) loop() {
	defer close(p.stopped)
	for {
		select {
		case <-p.done:
			return
		case <-p.dirty:
		}
		t := time.NewTimer(flushDelay)
		select {
		case <-p.done:
			t.Stop()
			return
		case <-t.C:
		}
		p.flush()
	}
}

func (p *persister) flush() {
	b, err := p.snapshot()
	if err == nil {
		err = writeFileAtomic(p.path, b)
	}
	p.mu.Lock()
	p.lastErr = err
	p.mu.Unlock()
}

// close stops the background writer and writes the final state.
func (p *persister) close() error {
	close(p.done)
	<-p.stopped
	p.flush()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastErr
}

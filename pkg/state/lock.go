package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// ToolVersion is recorded in lock-info; main may set it. When empty, the
// module version from the build info is used.
var ToolVersion string

// LockInfo says who holds (or held) a state lock.
type LockInfo struct {
	ID        string    `json:"id"`
	Who       string    `json:"who"` // user name
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Operation string    `json:"operation"` // e.g. "apply", "plan", "state rm"
	Created   time.Time `json:"created"`
	Version   string    `json:"version"` // certplan version
}

// fileLock is a held file lock: an OS lock (flock) on LockPath(statePath),
// kept until Release or process exit, with the holder's LockInfo written
// into the same file.
type fileLock struct {
	info LockInfo
	// tookOver is the lock-info a previous holder left behind when it died
	// without releasing (the OS released its lock); nil otherwise.
	tookOver *LockInfo

	path string
	mu   sync.Mutex
	f    *os.File
}

func (l *fileLock) Info() LockInfo      { return l.info }
func (l *fileLock) TookOver() *LockInfo { return l.tookOver }

// LockedError is returned by Backend.Lock when another process holds the lock.
type LockedError struct {
	Name   string // the backend's display name (the state file's path)
	Holder LockInfo
	Waited time.Duration
}

func (e *LockedError) Error() string {
	h := e.Holder
	holder := "another certplan process (it has not written its lock-info yet)"
	if h.PID != 0 || h.Host != "" {
		who := h.Who
		if who == "" {
			who = "unknown user"
		}
		holder = fmt.Sprintf("%s@%s (pid %d", who, h.Host, h.PID)
		if h.Operation != "" {
			holder += fmt.Sprintf(", running %q", h.Operation)
		}
		if !h.Created.IsZero() {
			holder += ", since " + h.Created.UTC().Format(time.RFC3339)
		}
		holder += ")"
	}
	waited := ""
	if e.Waited > 0 {
		waited = fmt.Sprintf(" (waited %s)", e.Waited)
	}
	return fmt.Sprintf("state %s is locked by %s%s: wait for it to finish or raise --lock-timeout; "+
		"if that process is gone for good, run `certplan force-unlock`", e.Name, holder, waited)
}

// locker holds the clock and poll interval, injectable for tests.
type locker struct {
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
	poll  time.Duration
}

var defaultLocker = locker{now: time.Now, sleep: sleepCtx, poll: 250 * time.Millisecond}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// acquire takes the lock of the state at statePath for operation. While
// another process holds it, it polls until timeout (0: tries once) and then
// returns a *LockedError naming the holder. A lock-info left by a holder
// that died is taken over and reported in TookOver.
func (lk locker) acquire(ctx context.Context, statePath, operation string, timeout time.Duration) (*fileLock, error) {
	start := lk.now()
	for {
		l, holder, err := tryLock(statePath, operation, lk.now)
		if err != nil || l != nil {
			return l, err
		}
		waited := lk.now().Sub(start)
		if timeout <= 0 || waited >= timeout {
			return nil, &LockedError{Name: statePath, Holder: holder, Waited: waited}
		}
		if err := lk.sleep(ctx, min(lk.poll, timeout-waited)); err != nil {
			return nil, fmt.Errorf("waiting for the lock of state %s: %w", statePath, err)
		}
	}
}

// tryLock makes one attempt. It returns the lock, or the holder's info when
// another process has it, or an error when locking itself failed.
func tryLock(statePath, operation string, now func() time.Time) (*fileLock, LockInfo, error) {
	path := LockPath(statePath)
	// A holder removes the file when it releases; a waiter may then hold a
	// lock on the removed file. Retry until the locked file is the one at path.
	for range 100 {
		f, err := openOwn(path, os.O_RDWR|os.O_CREATE, 0o600)
		var nr *NotRegularError
		if errors.As(err, &nr) {
			return nil, LockInfo{}, err
		}
		if err != nil {
			return nil, LockInfo{}, fmt.Errorf("open lock file %s: %w", path, err)
		}
		if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			info, _ := readLockInfo(f)
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, info, nil
			}
			return nil, LockInfo{}, fmt.Errorf("lock %s: %w (is the state on a filesystem without file locks?)", path, err)
		}
		if !isFileAt(f, path) {
			f.Close()
			continue
		}
		l := &fileLock{path: path, f: f, info: newLockInfo(operation, now())}
		if prev, ok := readLockInfo(f); ok {
			l.tookOver = &prev
		}
		if err := writeLockInfo(f, l.info); err != nil {
			l.Release()
			return nil, LockInfo{}, fmt.Errorf("write lock-info to %s: %w", path, err)
		}
		return l, LockInfo{}, nil
	}
	return nil, LockInfo{}, fmt.Errorf("lock %s: the lock file keeps being replaced", path)
}

// Release removes the lock file and releases the OS lock. It is idempotent.
func (l *fileLock) Release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	// Remove while still holding the lock, and only our own file (a
	// force-unlock may have replaced it).
	var err error
	if isFileAt(l.f, l.path) {
		if rerr := os.Remove(l.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = fmt.Errorf("remove lock file %s: %w", l.path, rerr)
		}
	}
	if cerr := l.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("release lock %s: %w", l.path, cerr)
	}
	l.f = nil
	return err
}

// forceUnlock clears the lock of the state at statePath and returns the
// lock-info it removed (nil if the state was not locked). Because the OS
// releases a dead process's lock by itself, Lock already takes over such
// locks; forceUnlock is for the rest: a holder on another host (a shared
// filesystem) or a lock held by an unrelated process that inherited it. It
// refuses while the holder named in the lock-info is a live process on this
// host: stop that process instead. Breaking a live lock unlinks the lock
// file, so the old holder keeps a lock on a file nobody else uses any more.
func forceUnlock(statePath string) (*LockInfo, error) {
	path := LockPath(statePath)
	f, err := openOwn(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	var nr *NotRegularError
	if errors.As(err, &nr) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("force-unlock %s: %w", path, err)
	}
	defer f.Close()
	info, ok := readLockInfo(f)
	var ret *LockInfo
	if ok {
		ret = &info
	}
	lerr := flock(f, unix.LOCK_EX|unix.LOCK_NB)
	switch {
	case lerr == nil:
		// Nobody holds it: only stale lock-info (or nothing) is left.
		if !isFileAt(f, path) {
			return nil, nil
		}
	case errors.Is(lerr, unix.EWOULDBLOCK):
		if ok && info.PID > 0 && info.Host == hostname() && processAlive(info.PID) {
			return ret, fmt.Errorf("state %s is locked by a running process: pid %d on this host (%s, %q since %s); "+
				"stop that process instead (its lock goes when it exits)",
				statePath, info.PID, info.Who, info.Operation, info.Created.UTC().Format(time.RFC3339))
		}
		if ret == nil {
			ret = &LockInfo{}
		}
	default:
		return nil, fmt.Errorf("force-unlock %s: %w", path, lerr)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("force-unlock: remove %s: %w", path, err)
	}
	return ret, nil
}

func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// isFileAt reports whether f is (still) the file at path (not a link to it).
func isFileAt(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Lstat(path)
	return err == nil && os.SameFile(a, b)
}

// readLockInfo reads the lock-info in f; ok is false when the file is empty.
// Unreadable contents give a LockInfo that says so rather than an error.
func readLockInfo(f *os.File) (LockInfo, bool) {
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<20))
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return LockInfo{}, false
	}
	var info LockInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return LockInfo{Operation: "(unreadable lock-info)"}, true
	}
	return info, true
}

func writeLockInfo(f *os.File, info LockInfo) error {
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		return err
	}
	return f.Sync()
}

func newLockInfo(operation string, now time.Time) LockInfo {
	return LockInfo{
		ID:        newUUID(),
		Who:       userName(),
		Host:      hostname(),
		PID:       os.Getpid(),
		Operation: operation,
		Created:   now.UTC(),
		Version:   toolVersion(),
	}
}

func userName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "uid " + strconv.Itoa(os.Getuid())
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown-host"
	}
	return h
}

func toolVersion() string {
	if ToolVersion != "" {
		return ToolVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// processAlive reports whether pid is a running process on this host (a
// process we may not signal still counts).
func processAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

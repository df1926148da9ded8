package state

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The lock-holder helper: the test binary re-executed with this variable set
// to a state path takes the lock, prints "locked", and holds it until its
// stdin closes (or until it is killed).
const helperEnv = "CERTPLAN_STATE_TEST_LOCK_HOLDER"

func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		os.Exit(holdLock(path))
	}
	os.Exit(m.Run())
}

func holdLock(path string) int {
	l, err := lockFile(path, "apply", 0)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("locked")
	bufio.NewReader(os.Stdin).ReadString('\n') // until stdin closes
	if err := l.Release(); err != nil {
		return 1
	}
	return 0
}

func mustAcquire(t *testing.T, path, op string) Lock {
	t.Helper()
	l, err := lockFile(path, op, 0)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestAcquireTwiceInOneProcess(t *testing.T) {
	path := tempState(t)
	l := mustAcquire(t, path, "apply")
	if l.TookOver() != nil || l.Info().PID != os.Getpid() || l.Info().Operation != "apply" || !isUUID(l.Info().ID) || l.Info().Host == "" || l.Info().Who == "" {
		t.Errorf("lock = %+v", l)
	}
	if m := fileMode(t, LockPath(path)); m != 0o600 {
		t.Errorf("lock file mode %o", m)
	}
	var onDisk LockInfo
	data, _ := os.ReadFile(LockPath(path))
	if err := json.Unmarshal(data, &onDisk); err != nil || onDisk.ID != l.Info().ID {
		t.Errorf("lock-info on disk: %v %s", err, data)
	}

	_, err := lockFile(path, "plan", 0)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Acquire: %v, want a *LockedError", err)
	}
	if le.Holder.ID != l.Info().ID || le.Name != path {
		t.Errorf("holder = %+v", le.Holder)
	}
	msg := err.Error()
	for _, want := range []string{path, "pid " + strconv.Itoa(os.Getpid()), `"apply"`, "since ", l.Info().Host, "--lock-timeout", "certplan force-unlock"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}

	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	if exists(LockPath(path)) {
		t.Error("Release left the lock file")
	}
	l2 := mustAcquire(t, path, "plan")
	if l2.TookOver() != nil {
		t.Errorf("took over %+v after a clean release", l2.TookOver())
	}
	l2.Release()
}

// fakeWait is a locker whose sleep advances a fake clock, with a hook.
func fakeWait(poll time.Duration, onSleep func(n int)) (*locker, *int) {
	now := t0
	n := 0
	return &locker{
		now:  func() time.Time { return now },
		poll: poll,
		sleep: func(ctx context.Context, d time.Duration) error {
			n++
			now = now.Add(d)
			if onSleep != nil {
				onSleep(n)
			}
			return ctx.Err()
		},
	}, &n
}

func TestAcquireWaitsUntilTimeout(t *testing.T) {
	path := tempState(t)
	held := mustAcquire(t, path, "apply")
	defer held.Release()

	lk, sleeps := fakeWait(time.Second, nil)
	_, err := lk.acquire(context.Background(), path, "plan", 5500*time.Millisecond)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("acquire: %v", err)
	}
	if *sleeps != 6 || le.Waited != 5500*time.Millisecond || !strings.Contains(err.Error(), "waited 5.5s") {
		t.Errorf("slept %d times, waited %s: %v", *sleeps, le.Waited, err)
	}

	// Zero timeout: one try, no sleeping.
	lk, sleeps = fakeWait(time.Second, nil)
	if _, err := lk.acquire(context.Background(), path, "plan", 0); !errors.As(err, &le) || *sleeps != 0 {
		t.Errorf("timeout 0: %v after %d sleeps", err, *sleeps)
	}

	// Cancelled while waiting.
	ctx, cancel := context.WithCancel(context.Background())
	lk, _ = fakeWait(time.Second, func(int) { cancel() })
	if _, err := lk.acquire(ctx, path, "plan", time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: %v", err)
	}
}

func TestAcquireGetsTheLockWhenReleased(t *testing.T) {
	path := tempState(t)
	held := mustAcquire(t, path, "apply")
	lk, sleeps := fakeWait(time.Second, func(n int) {
		if n == 3 {
			held.Release()
		}
	})
	l, err := lk.acquire(context.Background(), path, "plan", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if *sleeps != 3 || l.TookOver() != nil || l.Info().Operation != "plan" || !l.Info().Created.Equal(t0.Add(3*time.Second)) {
		t.Errorf("after %d sleeps: %+v took over %+v", *sleeps, l.Info(), l.TookOver())
	}
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if processAlive(pid) {
		t.Skipf("pid %d was reused already", pid)
	}
	return pid
}

func writeLockFile(t *testing.T, statePath string, info LockInfo) {
	t.Helper()
	data, _ := json.Marshal(info)
	if err := os.WriteFile(LockPath(statePath), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestAcquireTakesOverStaleLockInfo(t *testing.T) {
	path := tempState(t)
	stale := LockInfo{ID: "x", Who: "ci", Host: hostname(), PID: deadPID(t), Operation: "apply", Created: t0, Version: "v0.1.0"}
	writeLockFile(t, path, stale)
	l := mustAcquire(t, path, "plan")
	defer l.Release()
	if l.TookOver() == nil || *l.TookOver() != stale {
		t.Errorf("TookOver = %+v, want %+v", l.TookOver(), stale)
	}
}

func TestForceUnlock(t *testing.T) {
	t.Run("not locked", func(t *testing.T) {
		info, err := forceUnlockFile(tempState(t))
		if info != nil || err != nil {
			t.Errorf("= %v, %v", info, err)
		}
	})
	t.Run("stale lock-info", func(t *testing.T) {
		path := tempState(t)
		stale := LockInfo{ID: "x", Host: "elsewhere", PID: 42, Operation: "apply", Created: t0}
		writeLockFile(t, path, stale)
		info, err := forceUnlockFile(path)
		if err != nil || info == nil || *info != stale || exists(LockPath(path)) {
			t.Errorf("= %+v, %v; file left: %v", info, err, exists(LockPath(path)))
		}
	})
	t.Run("held by a live process on this host", func(t *testing.T) {
		path := tempState(t)
		l := mustAcquire(t, path, "apply")
		defer l.Release()
		info, err := forceUnlockFile(path)
		if err == nil || !strings.Contains(err.Error(), "running process") || !strings.Contains(err.Error(), strconv.Itoa(os.Getpid())) {
			t.Fatalf("ForceUnlock of a live lock: %v", err)
		}
		if info == nil || info.ID != l.Info().ID || !exists(LockPath(path)) {
			t.Errorf("info %+v; lock file kept: %v", info, exists(LockPath(path)))
		}
	})
	t.Run("held for a holder on another host", func(t *testing.T) {
		path := tempState(t)
		remote := LockInfo{ID: "r", Who: "ci", Host: "runner-7", PID: 4242, Operation: "apply", Created: t0}
		writeLockFile(t, path, remote)
		// An OS lock held through an open file, as a process elsewhere would.
		f, err := os.OpenFile(LockPath(path), os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			t.Fatal(err)
		}
		if _, err := lockFile(path, "plan", 0); err == nil {
			t.Fatal("Acquire succeeded while the lock is held")
		}
		info, err := forceUnlockFile(path)
		if err != nil || info == nil || *info != remote {
			t.Fatalf("ForceUnlock = %+v, %v", info, err)
		}
		l, err := lockFile(path, "plan", 0)
		if err != nil {
			t.Fatalf("Acquire after force-unlock: %v", err)
		}
		if l.TookOver() != nil {
			t.Errorf("TookOver = %+v on a fresh lock file", l.TookOver())
		}
		l.Release()
	})
}

// A real second process: while it holds the lock we are refused with its
// pid; when it exits cleanly we get the lock; when it is killed we take over.
func TestLockAcrossProcesses(t *testing.T) {
	path := tempState(t)
	start := func() (*exec.Cmd, func()) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"="+path)
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		if line != "locked\n" {
			t.Fatalf("helper said %q", line)
		}
		return cmd, func() { stdin.Close() }
	}

	cmd, done := start()
	_, err := lockFile(path, "plan", 0)
	var le *LockedError
	if !errors.As(err, &le) || le.Holder.PID != cmd.Process.Pid || le.Holder.Operation != "apply" {
		t.Fatalf("Acquire while a helper holds the lock: %v", err)
	}
	if _, err := forceUnlockFile(path); err == nil {
		t.Error("ForceUnlock broke the lock of a live process on this host")
	}

	// Waiting: the helper is told to release once we have found the lock
	// held and started to poll (real time: it is another process).
	sleeps := 0
	lk := locker{now: time.Now, poll: 5 * time.Millisecond, sleep: func(ctx context.Context, d time.Duration) error {
		if sleeps++; sleeps == 1 {
			done()
		}
		return sleepCtx(ctx, d)
	}}
	l, err := lk.acquire(context.Background(), path, "plan", time.Minute)
	if err != nil || sleeps == 0 {
		t.Fatalf("waiting for a releasing helper: %v after %d polls", err, sleeps)
	}
	if l.TookOver() != nil {
		t.Errorf("took over %+v from a clean release", l.TookOver())
	}
	l.Release()
	cmd.Wait()

	// kill -9: the OS drops its lock; its lock-info is left and taken over.
	cmd, done = start()
	defer done()
	pid := cmd.Process.Pid
	cmd.Process.Kill()
	cmd.Wait()
	l2, err := lockFile(path, "plan", 0)
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	defer l2.Release()
	if l2.TookOver() == nil || l2.TookOver().PID != pid || l2.TookOver().Operation != "apply" {
		t.Errorf("TookOver = %+v, want the killed helper (pid %d)", l2.TookOver(), pid)
	}
}

func TestLockedErrorWithoutInfo(t *testing.T) {
	err := &LockedError{Name: "s.json"}
	if !strings.Contains(err.Error(), "has not written its lock-info yet") {
		t.Errorf("Error() = %q", err.Error())
	}
}

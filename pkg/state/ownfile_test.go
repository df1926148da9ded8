package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// precious is a file elsewhere on the host that a link in the repository
// points at: nothing certplan does may change it.
func precious(t *testing.T) (path string, check func()) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "precious")
	const content = "do not touch\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, func() {
		t.Helper()
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Errorf("the file the link points at was changed: %q, %v", got, err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("the file the link points at changed mode: %v, %v", fi.Mode(), err)
		}
	}
}

func wantNotRegular(t *testing.T, err error, path, what string) {
	t.Helper()
	var nr *NotRegularError
	if !errors.As(err, &nr) {
		t.Fatalf("error = %v, want a *NotRegularError", err)
	}
	for _, want := range []string{path, what, "rm " + path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

// A pull request that makes the lock file a link must not make `certplan
// plan` truncate and overwrite the file it points at.
func TestLockRefusesSymlink(t *testing.T) {
	path := tempState(t)
	target, unchanged := precious(t)
	if err := os.Symlink(target, LockPath(path)); err != nil {
		t.Fatal(err)
	}
	l, err := lockFile(path, "plan", 0)
	if err == nil {
		l.Release()
		t.Fatal("locked through a symbolic link")
	}
	wantNotRegular(t, err, LockPath(path), "a symbolic link")
	unchanged()
	// force-unlock does not write through it either.
	if _, err := forceUnlockFile(path); err == nil {
		t.Error("force-unlock accepted a symbolic link")
	}
	unchanged()
}

// A linked journal must not receive order data.
func TestJournalRefusesSymlink(t *testing.T) {
	path := tempState(t)
	target, unchanged := precious(t)
	if err := os.Symlink(target, JournalPath(path)); err != nil {
		t.Fatal(err)
	}
	if j, err := NewFileBackend(path).OpenJournal(context.Background()); err == nil {
		j.Append(intent("shop", ActionCreate, "k1", 0))
		j.Close()
		t.Fatal("opened a journal through a symbolic link")
	} else {
		wantNotRegular(t, err, JournalPath(path), "a symbolic link")
	}
	if _, err := load(path); err == nil {
		t.Error("loaded a journal through a symbolic link")
	} else {
		wantNotRegular(t, err, JournalPath(path), "a symbolic link")
	}
	unchanged()
	// A dangling link is refused too (not created through).
	dangling := filepath.Join(t.TempDir(), "nowhere")
	path2 := tempState(t)
	if err := os.Symlink(dangling, JournalPath(path2)); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFileBackend(path2).OpenJournal(context.Background()); err == nil {
		t.Error("opened a journal through a dangling link")
	}
	if _, err := os.Lstat(dangling); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the dangling link's target was created: %v", err)
	}
}

// The snapshot is neither read nor backed up through a link: its bytes
// would land in the backup file (or in an error message).
func TestSnapshotRefusesSymlink(t *testing.T) {
	path := tempState(t)
	target, unchanged := precious(t)
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if _, err := load(path); err == nil {
		t.Error("loaded a snapshot through a symbolic link")
	} else {
		wantNotRegular(t, err, path, "a symbolic link")
	}
	err := Save(path, testState())
	if err == nil {
		t.Error("saved over a symbolic link, copying what it points at into the backup")
	} else {
		wantNotRegular(t, err, path, "a symbolic link")
	}
	if _, err := os.Lstat(BackupPath(path)); !errors.Is(err, os.ErrNotExist) {
		b, _ := os.ReadFile(BackupPath(path))
		t.Errorf("a backup was written: %q", b)
	}
	unchanged()
}

// Special files: a FIFO must not hang certplan, a directory must not be
// taken for a missing file.
func TestOwnFilesRefuseSpecialFiles(t *testing.T) {
	path := tempState(t)
	if err := syscall.Mkfifo(LockPath(path), 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(JournalPath(path), 0o700); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := lockFile(path, "plan", 0)
		wantNotRegular(t, err, LockPath(path), "a named pipe")
		_, err = load(path)
		wantNotRegular(t, err, path, "a named pipe")
		os.Remove(path)
		_, err = load(path)
		wantNotRegular(t, err, JournalPath(path), "a directory")
		_, err = NewFileBackend(path).OpenJournal(context.Background())
		wantNotRegular(t, err, JournalPath(path), "a directory")
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("certplan hangs on a named pipe")
	}
}

// A hard link to a file elsewhere is refused for the files certplan writes
// in place (journal, lock).
func TestJournalRefusesHardLink(t *testing.T) {
	path := tempState(t)
	other := filepath.Join(filepath.Dir(path), "other")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(other, JournalPath(path)); err != nil {
		t.Skipf("link: %v", err)
	}
	_, err := NewFileBackend(path).OpenJournal(context.Background())
	wantNotRegular(t, err, JournalPath(path), "2 hard links")
}

// A journal or lock file with a looser mode (a Git checkout gives 0644) is
// made 0600 before certplan writes order data or lock-info into it.
func TestOwnFilesTightenLooseModes(t *testing.T) {
	path := tempState(t)
	line, _ := encodeRecord(intent("api", ActionCreate, "k1", 0))
	if err := os.WriteFile(JournalPath(path), line, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(JournalPath(path), 0o644); err != nil {
		t.Fatal(err)
	}
	j, err := NewFileBackend(path).OpenJournal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Append(intent("shop", ActionCreate, "k2", 1)); err != nil {
		t.Fatal(err)
	}
	j.Close()
	if m := fileMode(t, JournalPath(path)); m != 0o600 {
		t.Errorf("journal mode %v after apply appended to it, want 0600", m)
	}
	if err := os.WriteFile(LockPath(path), nil, 0o666); err != nil {
		t.Fatal(err)
	}
	os.Chmod(LockPath(path), 0o666)
	l, err := lockFile(path, "apply", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if m := fileMode(t, LockPath(path)); m != 0o600 {
		t.Errorf("lock file mode %v while held, want 0600", m)
	}
}

//go:build linux

package main

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"
)

func init() {
	scriptCmds["watch"] = cmdWatch
	scriptCmds["nowrites"] = cmdNoWrites
}

// watches holds each script's inotify descriptor and the watched paths by
// watch descriptor.
var watches sync.Map // *testscript.TestScript -> *dirWatch

type dirWatch struct {
	fd    int
	names map[int]string
}

// writeEvents are the inotify events of anything written in a directory:
// a file created, removed, renamed, written, re-moded, or closed after
// being opened for writing (even if nothing was written).
const writeEvents = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
	unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_CLOSE_WRITE | unix.IN_DELETE_SELF

// cmdWatch starts recording every write in the directories (not their
// subdirectories), for nowrites to check. As root, a directory of mode 0555
// does not stop a write, so this is how a script proves there was none:
//
//	watch DIR...
func cmdWatch(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: watch DIR...")
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	ts.Check(err)
	w := &dirWatch{fd: fd, names: map[int]string{}}
	for _, dir := range args {
		wd, err := unix.InotifyAddWatch(fd, ts.MkAbs(dir), writeEvents)
		ts.Check(err)
		w.names[wd] = dir
	}
	if old, ok := watches.Swap(ts, w); ok {
		unix.Close(old.(*dirWatch).fd)
	}
	ts.Defer(func() {
		if cur, ok := watches.LoadAndDelete(ts); ok {
			unix.Close(cur.(*dirWatch).fd)
		}
	})
}

// cmdNoWrites fails, naming each file and event, if anything was written in
// the watched directories since watch:
//
//	nowrites
func cmdNoWrites(ts *testscript.TestScript, neg bool, args []string) {
	v, ok := watches.Load(ts)
	if neg || len(args) != 0 || !ok {
		ts.Fatalf("usage: watch DIR... first, then nowrites")
	}
	w := v.(*dirWatch)
	var seen []string
	buf := make([]byte, 64*1024)
	for {
		n, err := unix.Read(w.fd, buf)
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		ts.Check(err)
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			nameBytes := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			name := strings.TrimRight(string(nameBytes), "\x00")
			seen = append(seen, fmt.Sprintf("%s/%s: %s", w.names[int(ev.Wd)], name, eventNames(ev.Mask)))
			off += unix.SizeofInotifyEvent + int(ev.Len)
		}
	}
	if len(seen) > 0 {
		ts.Fatalf("written since watch:\n%s", strings.Join(seen, "\n"))
	}
}

func eventNames(mask uint32) string {
	var out []string
	for _, e := range []struct {
		bit  uint32
		name string
	}{{unix.IN_CREATE, "created"}, {unix.IN_DELETE, "removed"}, {unix.IN_MOVED_FROM, "renamed away"},
		{unix.IN_MOVED_TO, "renamed into place"}, {unix.IN_MODIFY, "written"}, {unix.IN_ATTRIB, "attributes changed"},
		{unix.IN_CLOSE_WRITE, "closed after opening for writing"}, {unix.IN_DELETE_SELF, "directory removed"}} {
		if mask&e.bit != 0 {
			out = append(out, e.name)
		}
	}
	return strings.Join(out, ", ")
}

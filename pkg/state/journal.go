package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Journal is the file backend's append-only write-ahead log of an apply:
// one JSON record per line, each fsynced before Append returns. Open it only while holding
// the state lock. It is safe for concurrent use; records are written by one
// writer at a time and concurrent Appends share fsyncs (group commit).
type Journal struct {
	// Now stamps records; tests and --now replace it. Defaults to time.Now.
	Now func() time.Time

	path string

	mu   sync.Mutex // guards the fields below and the file offset
	f    *os.File
	seq  int64 // last sequence number written
	size int64 // bytes written (all complete lines)
	err  error // sticky: after a failed write or fsync nothing more is written

	syncMu sync.Mutex // serialises fsyncs
	synced int64      // bytes known to be durable (guarded by syncMu)
}

// openJournal opens (creating, 0600) the journal of the state at statePath
// for appending. A symbolic link or anything but a regular file there is
// refused (openOwn), and a looser mode is tightened to 0600. An existing journal is checked: a torn last line (a write
// cut short by a crash) is truncated away so that new records follow the
// last complete one, and numbering continues after its highest seq. A
// corrupt line before the last is an error.
func openJournal(statePath string) (*Journal, error) {
	path := JournalPath(statePath)
	j := &Journal{Now: time.Now, path: path}
	f, err := openOwn(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err == nil {
		j.f = f
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, fmt.Errorf("open journal %s: %w", path, err)
		}
		return j, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	f, err = openOwn(path, os.O_RDWR|os.O_APPEND, 0)
	var nr *NotRegularError
	if errors.As(err, &nr) {
		return nil, err // names the path already
	}
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read journal %s: %w", path, err)
	}
	scan, err := scanJournal(path, data)
	if err != nil {
		f.Close()
		return nil, err
	}
	if scan.valid < int64(len(data)) {
		if err := f.Truncate(scan.valid); err != nil {
			f.Close()
			return nil, fmt.Errorf("cut the torn last record off journal %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("fsync journal %s: %w", path, err)
		}
	}
	j.f = f
	j.seq = scan.maxSeq
	j.size = scan.valid
	j.synced = scan.valid
	return j, nil
}

// Path is the journal's file name.
func (j *Journal) Path() string { return j.path }

// Append writes rec as one line and returns once it is on disk. It sets
// rec.Seq (one more than the last) and rec.Time (from Now, in UTC). An
// invalid record is refused and nothing is written. After a write or fsync
// error the journal refuses all further records: the caller must stop.
func (j *Journal) Append(rec Record) error {
	j.mu.Lock()
	if j.err != nil {
		j.mu.Unlock()
		return j.err
	}
	if j.f == nil {
		j.mu.Unlock()
		return fmt.Errorf("journal %s: append after close", j.path)
	}
	rec.Seq = j.seq + 1
	rec.Time = j.now().UTC()
	if err := rec.ValidateNew(); err != nil {
		j.mu.Unlock()
		return fmt.Errorf("journal %s: refusing record: %w", j.path, err)
	}
	line, err := encodeRecord(rec)
	if err != nil {
		j.mu.Unlock()
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if n, err := j.f.Write(line); err != nil {
		// Cut a partial line off so that the file stays a sequence of
		// complete records (best effort; a torn tail is tolerated anyway).
		if n > 0 {
			_ = j.f.Truncate(j.size)
		}
		j.err = fmt.Errorf("write journal %s: %w", j.path, err)
		j.mu.Unlock()
		return j.err
	}
	j.seq = rec.Seq
	j.size += int64(len(line))
	end := j.size
	j.mu.Unlock()
	return j.syncTo(end)
}

// syncTo returns once the first end bytes are durable. Appends that arrive
// while an fsync runs are covered by the next one, together.
func (j *Journal) syncTo(end int64) error {
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	if j.synced >= end {
		return nil
	}
	j.mu.Lock()
	if j.err != nil {
		err := j.err
		j.mu.Unlock()
		return err
	}
	target, f := j.size, j.f
	j.mu.Unlock()
	if f == nil {
		return fmt.Errorf("journal %s: closed before the record was synced", j.path)
	}
	if err := f.Sync(); err != nil {
		// After a failed fsync the page cache cannot be trusted: stop.
		j.mu.Lock()
		j.err = fmt.Errorf("fsync journal %s: %w", j.path, err)
		err = j.err
		j.mu.Unlock()
		return err
	}
	j.synced = target
	return nil
}

// Close syncs anything written but not yet synced and closes the file.
// Close is idempotent.
func (j *Journal) Close() error {
	j.syncMu.Lock() // let a running fsync finish
	defer j.syncMu.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	var err error
	if j.err == nil && j.synced < j.size {
		if err = j.f.Sync(); err == nil {
			j.synced = j.size
		}
	}
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	j.f = nil
	if err != nil {
		return fmt.Errorf("close journal %s: %w", j.path, err)
	}
	return nil
}

func (j *Journal) now() time.Time {
	if j.Now == nil {
		return time.Now()
	}
	return j.Now()
}

// encodeRecord renders one journal line (compact JSON and a newline).
func encodeRecord(rec Record) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return nil, fmt.Errorf("encode %s record for %s: %w", rec.Type, rec.Name, err)
	}
	return buf.Bytes(), nil
}

// journalScan is what scanJournal found in a journal's bytes.
type journalScan struct {
	recs    []Record
	valid   int64 // length of the prefix made of complete, valid lines
	torn    bool  // a torn last line was ignored
	maxSeq  int64
	firstOK []byte // the first complete line (seeds a journal-only lineage)
}

// scanJournal parses journal bytes. A record counts only once its newline
// is on disk: a last line without one, or a last line that is not JSON (a
// write cut short, or zeros after a power loss), is torn and ignored. Any
// other bad line is corruption and an error naming file and line. Blank
// lines are skipped.
func scanJournal(name string, data []byte) (journalScan, error) {
	var sc journalScan
	pos, lineNo := 0, 0
	for pos < len(data) {
		lineNo++
		nl := bytes.IndexByte(data[pos:], '\n')
		if nl < 0 {
			sc.torn = true // no newline: the write never completed
			break
		}
		line := data[pos : pos+nl]
		last := pos+nl+1 == len(data)
		if len(bytes.TrimSpace(line)) == 0 {
			pos += nl + 1
			sc.valid = int64(pos)
			continue
		}
		if !json.Valid(line) {
			if last {
				sc.torn = true
				break
			}
			return sc, corrupt(name, lineNo, errors.New("not valid JSON"))
		}
		rec, err := decodeRecord(line)
		if err != nil {
			return sc, corrupt(name, lineNo, err)
		}
		if sc.firstOK == nil {
			sc.firstOK = line
		}
		sc.recs = append(sc.recs, rec)
		sc.maxSeq = max(sc.maxSeq, rec.Seq)
		pos += nl + 1
		sc.valid = int64(pos)
	}
	return sc, nil
}

// recordKeys checks journal lines for keys given twice.
var recordKeys = NewKeyChecker("request")

func decodeRecord(line []byte) (Record, error) {
	if err := recordKeys.Check(line); err != nil {
		var de *DuplicateKeyError
		if errors.As(err, &de) {
			de.Line = 0 // a record is one line: the journal names it
		}
		return Record{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var rec Record
	if err := dec.Decode(&rec); err != nil {
		return Record{}, err
	}
	if dec.More() {
		return Record{}, errors.New("more than one JSON value on the line")
	}
	if err := rec.Validate(); err != nil {
		return Record{}, err
	}
	return rec, nil
}

func corrupt(name string, line int, err error) error {
	return fmt.Errorf("state journal %s:%d: %v: the journal is corrupt before its last line, "+
		"which an interrupted write cannot cause; inspect the file (keep a copy), "+
		"then remove the bad line or move the journal aside and run `certplan plan` "+
		"(orders already placed are found again by their alternative_order_id)", name, line, err)
}

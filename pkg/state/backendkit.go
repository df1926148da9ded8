package state

import "time"

// Helpers for backends kept outside this package (pkg/state/pgstate), so
// that every backend stamps lock-info and encodes journal records the same
// way as the file backend.

// NewLockInfo describes this process as the holder of a lock taken now for
// operation, with a fresh lock id.
func NewLockInfo(operation string, now time.Time) LockInfo { return newLockInfo(operation, now) }

// Hostname is the host name lock-info records ("unknown-host" if unknown).
func Hostname() string { return hostname() }

// ProcessAlive reports whether pid is a running process on this host.
func ProcessAlive(pid int) bool { return processAlive(pid) }

// EncodeRecord renders a journal record as the file backend writes it: one
// line of compact JSON ending in a newline.
func EncodeRecord(rec Record) ([]byte, error) { return encodeRecord(rec) }

// DecodeRecord parses one record written by EncodeRecord and validates it;
// unknown fields are refused.
func DecodeRecord(line []byte) (Record, error) { return decodeRecord(line) }

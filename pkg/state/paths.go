package state

// The files certplan keeps beside a state snapshot. They share the
// snapshot's name so that several states can live in one directory.

// JournalPath is the write-ahead journal of the state at statePath.
func JournalPath(statePath string) string { return statePath + ".journal" }

// BackupPath is where Save keeps the previous snapshot.
func BackupPath(statePath string) string { return statePath + ".backup" }

// LockPath is the lock file (OS lock plus lock-info JSON) of the state.
func LockPath(statePath string) string { return statePath + ".lock" }

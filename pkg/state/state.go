package state

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"
)

// New returns an empty state with a fresh random lineage.
func New() *State {
	return &State{
		Version:      FormatVersion,
		Lineage:      newUUID(),
		Certificates: map[string]*Certificate{},
	}
}

// VersionError says a state was written by a newer certplan.
type VersionError struct {
	Name    string // the backend's display name (a file's path); empty when parsed from bytes
	Version int
}

func (e *VersionError) Error() string {
	what := "state"
	if e.Name != "" {
		what = "state " + e.Name
	}
	return fmt.Sprintf("%s has format version %d, this certplan understands up to %d: upgrade certplan",
		what, e.Version, FormatVersion)
}

// stateKeys checks snapshots for keys given twice. Certificate names are
// lower case, so only request bodies may hold keys that differ in case.
var stateKeys = NewKeyChecker("certificates.*.request")

// Parse decodes and checks a snapshot. It is strict: a key given twice in
// one object is an error (a *DuplicateKeyError naming its JSON path),
// unknown fields are errors (a newer certplan adds fields only with a new format version, and an
// older one must not silently drop them on its next save), a newer version is
// a *VersionError, and the lineage must be a UUID. An older version is
// upgraded: the result is always in FormatVersion. Numbers inside request
// bodies stay json.Number, so integers survive a round trip exactly.
func Parse(data []byte) (*State, error) {
	if err := stateKeys.Check(data); err != nil {
		if verr := checkVersion(data); verr != nil {
			var ve *VersionError
			if errors.As(verr, &ve) {
				return nil, verr
			}
		}
		return nil, fmt.Errorf("invalid state: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var s State
	err := dec.Decode(&s)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("data after the JSON object")
		}
	}
	if err != nil || s.Version != FormatVersion {
		// A newer format may not fit this binary's types: "upgrade certplan"
		// is the useful message then, whatever else is wrong.
		if verr := checkVersion(data); verr != nil {
			return nil, verr
		}
	}
	if err != nil {
		return nil, fmt.Errorf("invalid state: %w", err)
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("invalid state: %w", err)
	}
	if s.Certificates == nil {
		s.Certificates = map[string]*Certificate{}
	}
	upgrade(&s)
	return &s, nil
}

// upgrade brings a snapshot of an older format version to FormatVersion, in
// memory. Saving it then writes the current version.
func upgrade(s *State) {
	if s.Version < 2 {
		// Version 1 history holds at most one entry per order (version 1
		// replaced an order's entry when it came back), which version 2
		// reads as one entry per (order, certificate): nothing to convert.
		s.Version = 2
	}
}

// checkVersion reads only the version of a snapshot and says what is wrong
// with it, if anything.
func checkVersion(data []byte) error {
	var head struct {
		Version json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("not a certplan state (invalid JSON: %w)", err)
	}
	if len(head.Version) == 0 || string(head.Version) == "null" {
		return errors.New("not a certplan state: no \"version\" field")
	}
	var version int
	if err := json.Unmarshal(head.Version, &version); err != nil {
		return fmt.Errorf("state \"version\" must be an integer, got %s", head.Version)
	}
	if version > FormatVersion {
		return &VersionError{Version: version}
	}
	if version < 1 {
		return fmt.Errorf("state has format version %d: the first format is 1", version)
	}
	return nil
}

func (s *State) check() error {
	if s.Lineage == "" {
		return errors.New("no \"lineage\"")
	}
	if !isUUID(s.Lineage) {
		return fmt.Errorf("lineage %q is not a UUID", s.Lineage)
	}
	if s.Serial < 0 {
		return fmt.Errorf("serial %d is negative", s.Serial)
	}
	for name, c := range s.Certificates {
		if name == "" {
			return errors.New("a certificate has an empty name")
		}
		if c == nil {
			return fmt.Errorf("certificate %q is null", name)
		}
	}
	return nil
}

// Names returns the certificate names in sorted order.
func (s *State) Names() []string {
	names := make([]string, 0, len(s.Certificates))
	for name := range s.Certificates {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Remove forgets a certificate (its orders are left alone in CertCentral).
// It reports whether the name was there.
func (s *State) Remove(name string) bool {
	if _, ok := s.Certificates[name]; !ok {
		return false
	}
	delete(s.Certificates, name)
	return true
}

// SetOrder adopts an existing order as the current order of name (`certplan
// import` and `state set-order`). The previous current order moves to the
// history; an order already in the history moves back to current. Product,
// spec digest and request of an existing entry are kept (the user says this
// order is the one for this certificate); product replaces Product when not
// empty. A new entry has no spec digest: plan treats it as imported.
func (s *State) SetOrder(name string, facts OrderFacts, product string, at time.Time) error {
	if name == "" {
		return errors.New("set order: empty certificate name")
	}
	if facts.OrderID <= 0 {
		return fmt.Errorf("set order for %s: order id must be positive, got %d", name, facts.OrderID)
	}
	if s.Certificates == nil {
		s.Certificates = map[string]*Certificate{}
	}
	at = at.UTC()
	old := s.Certificates[name]
	c := &Certificate{}
	if old != nil {
		c.Product, c.SpecDigest, c.RequestDigest, c.Request = old.Product, old.SpecDigest, old.RequestDigest, old.Request
	}
	if product != "" {
		c.Product = product
	}
	action := ActionImport
	if old != nil && old.OrderID == facts.OrderID && old.Action != "" {
		action = old.Action // the same order again: only its facts change
	}
	s.makeCurrent(name, old, c, action, facts, at)
	return nil
}

// uuidPattern checks the 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand.Read never fails on supported platforms (Go 1.24+).
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

// uuidFrom derives a stable UUID (version 8, "custom") from a hash, for a
// state that exists only as a journal: every load must see the same lineage.
func uuidFrom(sum []byte) string {
	var b [16]byte
	copy(b[:], sum)
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

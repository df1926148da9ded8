// Package delivery writes issued certificates from CertCentral into files:
// one file per certificate in state, named after the certificate, written
// atomically and only when its content changed. It reads the state and
// never writes it.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/certplan/certplan/pkg/state"
)

// Downloader is the part of the CertCentral API delivery needs;
// *certcentral.Client satisfies it.
type Downloader interface {
	DownloadCertificate(ctx context.Context, certificateID int64, format string) ([]byte, error)
	DownloadByOrder(ctx context.Context, orderID int64, format string) ([]byte, error)
}

// Status is what happened to one certificate.
type Status string

// Statuses.
const (
	StatusWritten   Status = "written"   // the file was created or replaced
	StatusUnchanged Status = "unchanged" // the file already held these exact bytes
	StatusSkipped   Status = "skipped"   // nothing to download (not issued, no id)
	StatusFailed    Status = "failed"    // download or write failed; the old file is untouched
)

// Result is the outcome for one certificate.
type Result struct {
	Name   string
	Path   string // the file written or that would be written
	Status Status
	Reason string // why it was skipped
	Err    error  // why it failed
}

// Report is the outcome of one Fetch, in name order.
type Report struct {
	Results []Result
}

// Count returns how many results have status s.
func (r Report) Count(s Status) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == s {
			n++
		}
	}
	return n
}

// Failed returns how many certificates failed.
func (r Report) Failed() int { return r.Count(StatusFailed) }

// Options says what to fetch and where.
type Options struct {
	API    Downloader
	Dir    string   // created (0755) if missing
	Format Format   // default FormatPEMAll
	Names  []string // empty: every certificate in state
	// Progress, if set, is called after each certificate.
	Progress func(Result)
}

// Fetch downloads the selected certificates and writes each to
// Dir/NAME.EXT. One certificate's failure never stops the others; it is in
// the report. Fetch returns an error only when nothing could be attempted:
// an unknown name (*UnknownNamesError), a bad format, or an unusable Dir.
func Fetch(ctx context.Context, certs map[string]*state.Certificate, opt Options) (Report, error) {
	if opt.API == nil {
		return Report{}, errors.New("fetch: no CertCentral client")
	}
	if opt.Format == "" {
		opt.Format = FormatPEMAll
	}
	if _, err := ParseFormat(string(opt.Format)); err != nil {
		return Report{}, err
	}
	if opt.Dir == "" {
		return Report{}, errors.New("fetch: no directory given: pass --dir DIR")
	}
	names, err := Select(certs, opt.Names)
	if err != nil {
		return Report{}, err
	}
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return Report{}, fmt.Errorf("create directory %s for certificates: %w", opt.Dir, err)
	}
	rep := Report{Results: make([]Result, 0, len(names))}
	for _, name := range names {
		res := fetchOne(ctx, name, certs[name], opt)
		rep.Results = append(rep.Results, res)
		if opt.Progress != nil {
			opt.Progress(res)
		}
	}
	return rep, nil
}

// Path is the file a certificate is written to.
func Path(dir, name string, f Format) string {
	return filepath.Join(dir, name+"."+f.Ext())
}

func fetchOne(ctx context.Context, name string, c *state.Certificate, opt Options) Result {
	res := Result{Name: name, Path: Path(opt.Dir, name, opt.Format)}
	fail := func(err error) Result {
		res.Status, res.Err = StatusFailed, err
		return res
	}
	if err := checkName(name); err != nil {
		return fail(err)
	}
	if reason := skipReason(c); reason != "" {
		res.Status, res.Reason = StatusSkipped, reason
		return res
	}
	if err := ctx.Err(); err != nil {
		return fail(fmt.Errorf("not downloaded: %w", err))
	}
	data, err := download(ctx, opt.API, c, opt.Format)
	if err != nil {
		return fail(err)
	}
	if err := checkContent(data, opt.Format); err != nil {
		return fail(err)
	}
	out, err := writeIfChanged(res.Path, data)
	if err != nil {
		return fail(err)
	}
	res.Status = StatusWritten
	if out == sameContent {
		res.Status = StatusUnchanged
	}
	return res
}

// skipReason says why a certificate has nothing to download, or "".
func skipReason(c *state.Certificate) string {
	switch {
	case c == nil:
		return "no entry in state"
	case c.Status != state.StatusIssued:
		return fmt.Sprintf("not issued (order %d is %s)", c.OrderID, c.Status)
	case c.CertificateID <= 0 && c.OrderID <= 0:
		return "no certificate id or order id in state"
	}
	return ""
}

// download uses the certificate id when state has one, else the order's
// active certificate.
func download(ctx context.Context, api Downloader, c *state.Certificate, f Format) ([]byte, error) {
	if c.CertificateID > 0 {
		data, err := api.DownloadCertificate(ctx, c.CertificateID, string(f))
		if err != nil {
			return nil, fmt.Errorf("download certificate %d (order %d): %w", c.CertificateID, c.OrderID, err)
		}
		return data, nil
	}
	data, err := api.DownloadByOrder(ctx, c.OrderID, string(f))
	if err != nil {
		return nil, fmt.Errorf("download the certificate of order %d: %w", c.OrderID, err)
	}
	return data, nil
}

package delivery

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certplan/certplan/pkg/state"
)

// fakeAPI serves downloads from maps and records every call.
type fakeAPI struct {
	byCert  map[int64][]byte
	byOrder map[int64][]byte
	fail    map[int64]error // by certificate or order id
	calls   []string
}

func (f *fakeAPI) DownloadCertificate(_ context.Context, id int64, format string) ([]byte, error) {
	f.calls = append(f.calls, fmt.Sprintf("cert %d %s", id, format))
	if err := f.fail[id]; err != nil {
		return nil, err
	}
	if b, ok := f.byCert[id]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("no certificate %d", id)
}

func (f *fakeAPI) DownloadByOrder(_ context.Context, id int64, format string) ([]byte, error) {
	f.calls = append(f.calls, fmt.Sprintf("order %d %s", id, format))
	if err := f.fail[id]; err != nil {
		return nil, err
	}
	if b, ok := f.byOrder[id]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("no order %d", id)
}

func certPEM(s string) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte(s)})
}

func issued(orderID, certID int64) *state.Certificate {
	return &state.Certificate{Status: state.StatusIssued, OrderID: orderID, CertificateID: certID}
}

// results maps name -> status (and reason or error text) for comparison.
func results(rep Report) map[string]string {
	out := map[string]string{}
	for _, r := range rep.Results {
		v := string(r.Status)
		if r.Reason != "" {
			v += ": " + r.Reason
		}
		if r.Err != nil {
			v += ": " + r.Err.Error()
		}
		out[r.Name] = v
	}
	return out
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestFetchOutcomes(t *testing.T) {
	certs := map[string]*state.Certificate{
		"shop":         issued(1, 11),
		"byorder":      issued(2, 0),
		"pending":      {Status: state.StatusPending, OrderID: 3},
		"docsign":      {Status: state.StatusWaitingPickup, OrderID: 4},
		"noids":        {Status: state.StatusIssued},
		"broken":       issued(5, 55),
		"garbage":      issued(6, 66),
		"wrongpem":     issued(7, 77),
		"x/../../evil": issued(8, 88),
	}
	api := &fakeAPI{
		byCert: map[int64][]byte{
			11: certPEM("shop"),
			66: []byte("<html>oops</html>"),
			77: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("k")}),
			88: certPEM("evil"),
		},
		byOrder: map[int64][]byte{2: certPEM("byorder")},
		fail:    map[int64]error{55: errors.New("HTTP 500")},
	}
	dir := t.TempDir()
	var progressed []string
	rep, err := Fetch(context.Background(), certs, Options{API: api, Dir: dir,
		Progress: func(r Result) { progressed = append(progressed, r.Name) }})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"shop":         "written",
		"byorder":      "written",
		"pending":      "skipped: not issued (order 3 is pending)",
		"docsign":      "skipped: not issued (order 4 is waiting_pickup)",
		"noids":        "skipped: no certificate id or order id in state",
		"broken":       "failed: download certificate 55 (order 5): HTTP 500",
		"garbage":      "failed: CertCentral returned no PEM certificate for format pem_all",
		"wrongpem":     `failed: CertCentral returned a "PRIVATE KEY" PEM block where only certificates belong`,
		"x/../../evil": `failed: certificate name "x/../../evil" contains a path separator or reserved character: not usable as a file name`,
	}
	if diff := cmp.Diff(want, results(rep)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if rep.Failed() != 4 || rep.Count(StatusWritten) != 2 || rep.Count(StatusSkipped) != 3 {
		t.Errorf("counts: %d failed, %d written, %d skipped", rep.Failed(), rep.Count(StatusWritten), rep.Count(StatusSkipped))
	}
	if !sort.StringsAreSorted(progressed) || len(progressed) != len(certs) {
		t.Errorf("progress calls %v: want every name once, in order", progressed)
	}
	// Only what succeeded is on disk: no temp files, nothing for failures,
	// nothing outside dir.
	if diff := cmp.Diff([]string{"byorder.pem", "shop.pem"}, listDir(t, dir)); diff != "" {
		t.Errorf("dir (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "evil.pem")); err == nil {
		t.Error("a name with a path separator wrote outside the directory")
	}
	got, err := os.ReadFile(filepath.Join(dir, "shop.pem"))
	if err != nil || string(got) != string(certPEM("shop")) {
		t.Errorf("shop.pem = %q, %v", got, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "shop.pem"))
	if err != nil || fi.Mode().Perm() != CertMode {
		t.Errorf("shop.pem mode = %v, %v; want %v", fi.Mode().Perm(), err, CertMode)
	}
	// Skipped certificates cost no API call.
	for _, c := range api.calls {
		if strings.Contains(c, " 3 ") || strings.Contains(c, " 4 ") {
			t.Errorf("downloaded a certificate that is not issued: %s", c)
		}
	}
}

func TestFetchSecondRunUnchangedThenRewritten(t *testing.T) {
	certs := map[string]*state.Certificate{"a": issued(1, 11), "b": issued(2, 22)}
	api := &fakeAPI{byCert: map[int64][]byte{11: certPEM("a1"), 22: certPEM("b1")}}
	dir := t.TempDir()
	opt := Options{API: api, Dir: dir}
	run := func() map[string]string {
		t.Helper()
		rep, err := Fetch(context.Background(), certs, opt)
		if err != nil {
			t.Fatal(err)
		}
		return results(rep)
	}
	if diff := cmp.Diff(map[string]string{"a": "written", "b": "written"}, run()); diff != "" {
		t.Fatalf("first run (-want +got):\n%s", diff)
	}
	before, err := os.Stat(filepath.Join(dir, "a.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"a": "unchanged", "b": "unchanged"}, run()); diff != "" {
		t.Fatalf("second run (-want +got):\n%s", diff)
	}
	after, err := os.Stat(filepath.Join(dir, "a.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("unchanged a.pem was replaced (a rename makes a new file)")
	}

	// A renewal issued a new certificate for b.
	certs["b"] = issued(3, 33)
	api.byCert[33] = certPEM("b2")
	if diff := cmp.Diff(map[string]string{"a": "unchanged", "b": "written"}, run()); diff != "" {
		t.Fatalf("after renewal (-want +got):\n%s", diff)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "b.pem"))
	if string(got) != string(certPEM("b2")) {
		t.Errorf("b.pem = %q, want the renewed certificate", got)
	}
	if diff := cmp.Diff([]string{"a.pem", "b.pem"}, listDir(t, dir)); diff != "" {
		t.Errorf("dir (-want +got):\n%s", diff)
	}
}

func TestFetchFailureKeepsOldFileAndOthersContinue(t *testing.T) {
	dir := t.TempDir()
	old := certPEM("old")
	if err := os.WriteFile(filepath.Join(dir, "a.pem"), old, 0o644); err != nil {
		t.Fatal(err)
	}
	certs := map[string]*state.Certificate{"a": issued(1, 11), "b": issued(2, 22), "c": issued(3, 33)}
	api := &fakeAPI{
		byCert: map[int64][]byte{22: certPEM("b"), 33: certPEM("c")},
		fail:   map[int64]error{11: errors.New("connection reset")},
	}
	rep, err := Fetch(context.Background(), certs, Options{API: api, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "failed: download certificate 11 (order 1): connection reset", "b": "written", "c": "written"}
	if diff := cmp.Diff(want, results(rep)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "a.pem"))
	if string(got) != string(old) {
		t.Errorf("a failed download changed a.pem to %q", got)
	}
}

func TestFetchWriteFailureLeavesNoTempFile(t *testing.T) {
	dir := t.TempDir()
	// A directory where the file should go: reading the old file fails.
	if err := os.Mkdir(filepath.Join(dir, "a.pem"), 0o755); err != nil {
		t.Fatal(err)
	}
	certs := map[string]*state.Certificate{"a": issued(1, 11), "b": issued(2, 22)}
	api := &fakeAPI{byCert: map[int64][]byte{11: certPEM("a"), 22: certPEM("b")}}
	rep, err := Fetch(context.Background(), certs, Options{API: api, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	got := results(rep)
	if !strings.HasPrefix(got["a"], "failed: ") || got["b"] != "written" {
		t.Errorf("results = %v; want a failed, b written", got)
	}
	if diff := cmp.Diff([]string{"a.pem", "b.pem"}, listDir(t, dir)); diff != "" {
		t.Errorf("dir (-want +got), a temp file was left behind:\n%s", diff)
	}
}

func TestFetchFormats(t *testing.T) {
	tests := []struct {
		format   Format
		body     []byte
		wantFile string
		wantCall string
	}{
		{"", certPEM("x"), "a.pem", "cert 11 pem_all"},
		{FormatPEMAll, certPEM("x"), "a.pem", "cert 11 pem_all"},
		{FormatPEMNoRoot, certPEM("x"), "a.pem", "cert 11 pem_noroot"},
		{FormatP7B, []byte{0x30, 0x82, 0x01}, "a.p7b", "cert 11 p7b"},
	}
	for _, tt := range tests {
		t.Run(string(tt.format), func(t *testing.T) {
			dir := t.TempDir()
			api := &fakeAPI{byCert: map[int64][]byte{11: tt.body}}
			rep, err := Fetch(context.Background(), map[string]*state.Certificate{"a": issued(1, 11)},
				Options{API: api, Dir: dir, Format: tt.format})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Count(StatusWritten) != 1 || rep.Results[0].Path != filepath.Join(dir, tt.wantFile) {
				t.Errorf("results = %+v", rep.Results)
			}
			if diff := cmp.Diff([]string{tt.wantCall}, api.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			got, _ := os.ReadFile(filepath.Join(dir, tt.wantFile))
			if string(got) != string(tt.body) {
				t.Errorf("%s = %q, want %q", tt.wantFile, got, tt.body)
			}
		})
	}
}

func TestFetchErrors(t *testing.T) {
	certs := map[string]*state.Certificate{"a": issued(1, 11)}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opt  Options
		want string
	}{
		{"no api", Options{Dir: t.TempDir()}, "no CertCentral client"},
		{"no dir", Options{API: &fakeAPI{}}, "pass --dir DIR"},
		{"bad format", Options{API: &fakeAPI{}, Dir: t.TempDir(), Format: "pem_nointermediate"}, `format "pem_nointermediate": want one of pem_all, pem_noroot, p7b`},
		{"unknown name", Options{API: &fakeAPI{}, Dir: t.TempDir(), Names: []string{"zz"}}, `certificate "zz" is not in state; it has: a`},
		{"dir is a file", Options{API: &fakeAPI{}, Dir: filepath.Join(file, "sub")}, "create directory " + filepath.Join(file, "sub")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Fetch(context.Background(), certs, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestFetchCanceledDownloadsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	api := &fakeAPI{byCert: map[int64][]byte{11: certPEM("a")}}
	rep, err := Fetch(ctx, map[string]*state.Certificate{"a": issued(1, 11)}, Options{API: api, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() != 1 || len(api.calls) != 0 {
		t.Errorf("results %v, calls %v: want one failure and no calls", results(rep), api.calls)
	}
}

func TestFetchSelectedNamesOnly(t *testing.T) {
	certs := map[string]*state.Certificate{"a": issued(1, 11), "b": issued(2, 22), "c": issued(3, 33)}
	api := &fakeAPI{byCert: map[int64][]byte{11: certPEM("a"), 22: certPEM("b"), 33: certPEM("c")}}
	dir := t.TempDir()
	rep, err := Fetch(context.Background(), certs, Options{API: api, Dir: dir, Names: []string{"c", "a"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"a": "written", "c": "written"}, results(rep)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a.pem", "c.pem"}, listDir(t, dir)); diff != "" {
		t.Errorf("dir (-want +got):\n%s", diff)
	}
}

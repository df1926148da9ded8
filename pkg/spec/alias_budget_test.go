package spec

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// aliasDocs is n small YAML documents, each expanding aliases to 9,900
// nodes: under a budget per document (what certplan had), over any sane
// budget per file once there are a few of them.
func aliasDocs(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString("k: &a [" + strings.Repeat("x,", 98) + "x]\nv: [" + strings.Repeat("*a,", 98) + "*a]\n---\n")
	}
	return b.String()
}

// allocated runs f and returns the bytes it allocated.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Item 10 of issue 11: the alias budget was per document, so a 1 MiB file
// of many small documents used 11.8 GB. It is per file and per run now: the
// loader refuses such input after a bounded amount of work, saying why.
func TestAliasBudgetPerFile(t *testing.T) {
	docs := aliasDocs(2000) // just under 1 MiB: 19.8 million nodes, expanded
	if len(docs) > MaxFileSize {
		t.Fatalf("generated %d bytes, more than a manifest may have", len(docs))
	}
	checkAliasBomb(t, map[string]string{"bomb.yaml": docs},
		"bomb.yaml:", "YAML aliases expand to more than 10000 nodes in this file (all its documents together)", 64<<20)
}

func TestAliasBudgetPerRun(t *testing.T) {
	files := map[string]string{}
	for i := 0; i < 200; i++ { // 1,980,000 nodes, 9,900 per file
		files[fmt.Sprintf("f%03d.yaml", i)] = aliasDocs(1)
	}
	checkAliasBomb(t, files, "", "YAML aliases expand to more than 250000 nodes in the files of this run together", 96<<20)
}

func checkAliasBomb(t *testing.T, files map[string]string, at, want string, maxAlloc uint64) {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, files)
	var res *Result
	var err error
	n := allocated(func() { res, err = Load([]string{dir}) })
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range res.Diagnostics {
		rel, _ := filepath.Rel(dir, d.Pos.File)
		found = found || (strings.Contains(d.Message, want) && strings.HasPrefix(fmt.Sprintf("%s:%d:", rel, d.Pos.Line), at))
	}
	if !found {
		t.Errorf("no diagnostic %q at %q in %d diagnostics: %v", want, at, len(res.Diagnostics), diagStrings(res.Diagnostics[:min(5, len(res.Diagnostics))]))
	}
	t.Logf("allocated %d MiB", n>>20)
	if n > maxAlloc {
		t.Errorf("Load allocated %d MiB, want at most %d MiB", n>>20, maxAlloc>>20)
	}
}

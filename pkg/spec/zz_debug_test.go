package spec

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestDebugLoad(t *testing.T) {
	paths := strings.Fields(os.Getenv("DBG_PATHS"))
	if len(paths) == 0 {
		t.Skip()
	}
	r, err := Load(paths)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range r.Diagnostics {
		fmt.Println(d)
	}
	for _, c := range r.Certificates {
		fmt.Printf("%s %s %v %v\n", c.Name, c.Product, c.RenewBefore, len(c.Order))
	}
	fmt.Println(r.Files, r.Manifests)
}

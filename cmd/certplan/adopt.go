package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/run"
	"github.com/certplan/certplan/pkg/spec"
	"github.com/certplan/certplan/pkg/state"
	"github.com/certplan/certplan/pkg/state/backends"
)

// trackedBy is the name other than name whose current order is id, or "".
func trackedBy(st *state.State, id int64, name string) string {
	for _, n := range st.Names() {
		if c := st.Certificates[n]; n != name && c != nil && c.OrderID == id {
			return n
		}
	}
	return ""
}

// checkAdoption refuses to adopt order o for NAME (`import`, `state
// set-order`; #12 item 9) when another name in the state tracks it, or when
// it is of another product or for other names than NAME's manifest, saying
// every problem at once. (The change itself checks the first again under the
// lock.)
func (g *globals) checkAdoption(ctx context.Context, name string, o *certcentral.Order) error {
	var problems []string
	b, err := g.openState(nil)
	if err != nil {
		return err
	}
	env, err := g.runEnv(b)
	if err != nil {
		return err
	}
	if l, err := run.Load(ctx, env); err == nil {
		if other := trackedBy(l.State, o.ID, name); other != "" {
			problems = append(problems, fmt.Sprintf("it is already tracked as %s: two certificates on one order would renew it twice (`certplan state rm %s` first if that entry is wrong)", other, other))
		}
	}
	where, more, err := g.orderFitsManifest(name, o)
	if err != nil {
		return err
	}
	problems = append(problems, more...)
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("order %d does not fit %s%s: %s. Fix the manifest to describe the order, pick the right order, or --force",
		o.ID, name, where, strings.Join(problems, "; "))
}

// orderFitsManifest says how order o differs from NAME's manifest: another
// product, other names (the first renewal would order the manifest's names
// and let the order's own expire). where names the manifest. The manifest is
// found by name among the manifests of the project: the directory of the
// state file, else the current directory. Without a manifest of that name
// nothing can be compared; that is said, not refused (an import often comes
// before the manifest).
func (g *globals) orderFitsManifest(name string, o *certcentral.Order) (where string, problems []string, err error) {
	dir := "."
	if p, err := g.statePath(nil); err == nil && !backends.IsURL(p) {
		if d := filepath.Dir(p); d != "" {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				dir = d
			}
		}
	}
	opts, err := g.loadOptions()
	if err != nil {
		return "", nil, err
	}
	res, err := spec.LoadWith([]string{dir}, opts)
	if err != nil {
		return "", nil, fmt.Errorf("find the manifest of %s: %w", name, err)
	}
	var m *spec.Certificate
	for _, c := range res.Certificates {
		if c.Name == name {
			m = c
		}
	}
	if m == nil {
		g.note("Warning", fmt.Sprintf("no valid manifest named %s under %s: the order's product and names are not compared with it (write the manifest first, `certplan validate` shows what is wrong)", name, dir))
		return "", nil, nil
	}
	if !m.Product.IsLegacy() && o.Product.NameID != "" && o.Product.NameID != string(m.Product) {
		problems = append(problems, fmt.Sprintf("it is a %s order, the manifest says %s", o.Product.NameID, m.Product))
	}
	want, got := manifestNames(m), orderNames(o)
	if len(want) > 0 && len(got) > 0 && !slices.Equal(want, got) {
		problems = append(problems, fmt.Sprintf("it is for %s, the manifest for %s", strings.Join(got, ", "), strings.Join(want, ", ")))
	}
	if len(problems) > 0 {
		problems = append(problems, "its first renewal would order the manifest's certificate and let this order's expire")
	}
	return fmt.Sprintf(" (manifest %s)", m.Pos), problems, nil
}

// manifestNames are a manifest's common name and SANs, lower-cased, sorted,
// without duplicates.
func manifestNames(c *spec.Certificate) []string {
	var names []string
	add := func(v any) {
		switch x := v.(type) {
		case string:
			names = append(names, x)
		case []any:
			for _, e := range x {
				if s, ok := e.(string); ok {
					names = append(names, s)
				}
			}
		}
	}
	if c.Product.IsLegacy() {
		add(c.Order["common_name"])
		add(c.Order["sans"])
	} else if cert, ok := c.Order["certificate"].(map[string]any); ok {
		add(cert["common_name"])
		add(cert["dns_names"])
	}
	return normalizeNames(names)
}

// orderNames are an order's common name and DNS names, as manifestNames.
func orderNames(o *certcentral.Order) []string {
	return normalizeNames(append([]string{o.Certificate.CommonName}, o.Certificate.DNSNames...))
}

func normalizeNames(names []string) []string {
	var out []string
	for _, n := range names {
		if n = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(n), ".")); n != "" {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

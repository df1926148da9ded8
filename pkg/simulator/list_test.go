package simulator

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestListOrders(t *testing.T) {
	// The validities below are the order pages' without the 2026 date caps.
	s := newSim(t, Options{Caps: noDateCaps})
	var ids []int64
	// Four secure site orders whose certificates end 90, 180, 270, 360 days out,
	// one private SSL order (two years), and a one-year order forced back to
	// needs_approval.
	for _, days := range []int{90, 180, 270, 360} {
		body := edit(secureSiteBody(t), "certificate.cert_validity", map[string]any{"days": days})
		ids = append(ids, s.place("ssl_securesite_flex", body).ID)
	}
	ids = append(ids, s.place("private_ssl_plus", privateSSLBody(t)).ID)
	if err := s.s.SetStatus(ids[1], "revoked"); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, s.place("ssl_securesite_flex", secureSiteBody(t)).ID)
	if err := s.s.SetStatus(ids[5], "needs_approval"); err != nil {
		t.Fatal(err)
	}

	q := func(params ...string) listResponse {
		t.Helper()
		path := listPath
		if len(params) > 0 {
			path += "?" + strings.Join(params, "&")
		}
		r := s.do("GET", path, nil)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		var out listResponse
		r.decode(t, &out)
		return out
	}
	idsOf := func(l listResponse) []int64 {
		out := []int64{}
		for _, o := range l.Orders {
			out = append(out, o.ID)
		}
		return out
	}
	esc := url.QueryEscape
	tests := []struct {
		name   string
		params []string
		want   []int64
		total  int
	}{
		{"everything in id order", nil, ids, 6},
		{"by ids", []string{"filters[id]=" + itoa(ids[4]) + "," + itoa(ids[0]) + ",999"}, []int64{ids[0], ids[4]}, 2},
		{"by ids, brackets escaped", []string{esc("filters[id]") + "=" + itoa(ids[2])}, []int64{ids[2]}, 1},
		{"by status", []string{"filters[status]=revoked,needs_approval"}, []int64{ids[1], ids[5]}, 2},
		{"by product", []string{"filters[product_name_id]=private_ssl_plus"}, []int64{ids[4]}, 1},
		{"valid_till <=", []string{"filters[valid_till]=" + esc("<=2026-09-01")}, []int64{ids[0], ids[1]}, 2},
		{"valid_till >=", []string{"filters[valid_till]=" + esc(">=2027-01-01")}, []int64{ids[3], ids[4], ids[5]}, 3},
		{"valid_till <", []string{"filters[valid_till]=" + esc("<2026-05-30")}, []int64{}, 0},
		{"renewed", []string{"filters[is_renewed]=true"}, []int64{}, 0},
		{"valid_till exact", []string{"filters[valid_till]=2026-05-30"}, []int64{ids[0]}, 1},
		{"common name", []string{"filters[common_name]=WWW.example.com"}, []int64{ids[0], ids[1], ids[2], ids[3], ids[5]}, 5},
		{"paging", []string{"limit=2", "offset=2"}, []int64{ids[2], ids[3]}, 6},
		{"paging past the end", []string{"limit=2", "offset=10"}, []int64{}, 6},
		{"filters and paging", []string{"filters[product_name_id]=ssl_securesite_flex", "limit=3", "offset=3"}, []int64{ids[3], ids[5]}, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := q(tc.params...)
			if !slices.Equal(idsOf(got), tc.want) || got.Page.Total != tc.total {
				t.Errorf("ids %v total %d, want %v total %d", idsOf(got), got.Page.Total, tc.want, tc.total)
			}
		})
	}

	if p := q("limit=5000").Page; p.Limit != 1000 || p.Offset != 0 {
		t.Errorf("limit above the maximum: page %+v, want limit 1000", p)
	}
	if p := q().Page; p.Limit != 1000 {
		t.Errorf("default limit %d, want 1000", p.Limit)
	}
	// The list shows the same facts as order info.
	list := q("filters[id]=" + itoa(ids[0]))
	info := s.info(ids[0])
	if o := list.Orders[0]; o.Certificate.Thumbprint != info.Certificate.Thumbprint || o.Certificate.ValidTill != info.Certificate.ValidTill || o.Status != info.Status {
		t.Errorf("list entry %+v differs from order info %+v", o, info)
	}

	for _, bad := range []string{"filters[id]=1,x", "limit=-1", "offset=x", "filters[valid_till]=" + esc("<=01-09-2026"), "filters[is_renewed]=maybe"} {
		r := s.do("GET", listPath+"?"+bad, nil)
		if r.status != http.StatusBadRequest || len(r.codes(t)) != 1 || !strings.HasPrefix(r.codes(t)[0], "invalid_value:") {
			t.Errorf("%s: %d %s", bad, r.status, r.body)
		}
	}
}

func TestListAtScale(t *testing.T) {
	s := newSim(t, Options{})
	for range 25 {
		s.place("private_ssl_flex", privateSSLBody(t))
	}
	seen := 0
	for offset := 0; ; offset += 10 {
		r := s.do("GET", listPath+"?limit=10&offset="+itoa(int64(offset)), nil)
		var l listResponse
		r.decode(t, &l)
		seen += len(l.Orders)
		if offset+10 >= l.Page.Total {
			break
		}
	}
	if seen != 25 {
		t.Errorf("paged through %d orders, want 25", seen)
	}
}

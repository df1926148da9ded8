package certcentral_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/certplan/certplan/pkg/certcentral"
)

// pageOf answers a list call with count orders numbered from offset+1 and the
// given total.
func pageOf(w http.ResponseWriter, offset, count, total int) {
	var orders []string
	for i := 0; i < count; i++ {
		orders = append(orders, fmt.Sprintf(`{"id":%d,"status":"issued"}`, offset+i+1))
	}
	writeJSON(w, 200, fmt.Sprintf(`{"orders":[%s],"page":{"total":%d,"limit":%d,"offset":%d}}`, strings.Join(orders, ","), total, count, offset))
}

func offsetOf(r *http.Request) int {
	n, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	return n
}

// TestListPagingIsBounded: a server that keeps announcing a larger total
// (or ignores the offset) used to be paged forever; the listing now stops
// after what the first page announced, plus one page, with an error naming
// the endpoint.
func TestListPagingIsBounded(t *testing.T) {
	t.Run("total keeps growing", func(t *testing.T) {
		var calls atomic.Int64
		api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) > 50 {
				t.Error("still paging after 50 calls")
				writeJSON(w, 500, `{}`)
				return
			}
			off := offsetOf(r)
			pageOf(w, off, 2, off+3) // always one more than this page holds
		})
		got, err := api.client(t).ListOrders(context.Background(), certcentral.ListFilter{})
		if err == nil {
			t.Fatalf("listing of a growing total ended with %d orders and no error", len(got))
		}
		for _, want := range []string{"GET /order/certificate", "still more orders after 3 pages", "first page announced 3"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
		if n := calls.Load(); n != 3 {
			t.Errorf("server saw %d list calls, want 3 (ceil(3/2) pages + 1)", n)
		}
	})

	t.Run("offset ignored", func(t *testing.T) {
		var calls atomic.Int64
		api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) > 50 {
				t.Error("still paging after 50 calls")
				writeJSON(w, 500, `{}`)
				return
			}
			pageOf(w, 0, 2, 10)
		})
		_, err := api.client(t).ListOrders(context.Background(), certcentral.ListFilter{})
		if err == nil || !strings.Contains(err.Error(), "ignores the offset") || !strings.Contains(err.Error(), "/order/certificate") {
			t.Fatalf("err = %v, want the offset-ignoring server named", err)
		}
		if n := calls.Load(); n != 2 {
			t.Errorf("server saw %d list calls, want 2", n)
		}
	})

	t.Run("small pages and a few orders added meanwhile still list", func(t *testing.T) {
		var calls atomic.Int64
		api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			off := offsetOf(r)
			total := 250 + min(off/100, 1) // one order added after the first page
			pageOf(w, off, min(100, total-off), total)
		})
		got, err := api.client(t).ListOrders(context.Background(), certcentral.ListFilter{})
		if err != nil || len(got) != 251 {
			t.Fatalf("ListOrders = %d orders, %v; want 251", len(got), err)
		}
		if n := calls.Load(); n != 3 {
			t.Errorf("server saw %d list calls, want 3", n)
		}
	})
}

// TestListOrdersReturnsOnlyWhatWasAsked: a server that ignores or misreads
// the filters answers with orders that were not asked for; the client drops
// them (ids, statuses, product), with one warning per page.
func TestListOrdersReturnsOnlyWhatWasAsked(t *testing.T) {
	api := newFakeAPI(t, status(200, `{"orders":[
		{"id":1,"status":"revoked"},{"id":2,"status":"revoked"},{"id":3,"status":"issued"},
		{"id":4,"status":"canceled","product":{"name_id":"ssl_basic"}},{"id":5,"status":"expired"},
		{"id":6,"status":"issued"}],"page":{"total":6}}`).handler())
	var logs bytes.Buffer
	log := zerolog.New(&logs).Level(zerolog.WarnLevel)
	c := api.client(t, func(cfg *certcentral.Config) { cfg.Logger = &log })
	got, err := c.ListOrders(context.Background(), certcentral.ListFilter{
		IDs: []int64{2, 3, 4, 5}, Statuses: []string{"revoked", "canceled", "issued"}, ProductNameID: "ssl_securesite_flex"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, o := range got {
		ids = append(ids, o.ID)
	}
	// 1 and 6 were not asked for, 4 is another product; 3 is issued and 5
	// expired, which the issued filter includes.
	if want := []int64{2, 3, 5}; !slices.Equal(ids, want) {
		t.Errorf("ListOrders = %v, want %v", ids, want)
	}
	if !strings.Contains(logs.String(), "filter ignored or misread") || !strings.Contains(logs.String(), `"ignored":3`) {
		t.Errorf("no warning about the ignored orders:\n%s", logs.String())
	}
}

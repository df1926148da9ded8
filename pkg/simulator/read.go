package simulator

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
)

// List paging bounds.
const (
	defaultListLimit = 1000
	maxListLimit     = 1000
)

type listResponse struct {
	Orders []certcentral.Order `json:"orders"`
	Page   certcentral.Page    `json:"page"`
}

type alternateResponse struct {
	Orders []certcentral.AlternateOrder `json:"orders"`
	Page   certcentral.Page             `json:"page"`
}

func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// writeNoOrder answers 404 not_found|order for the path's {id}.
func writeNoOrder(w http.ResponseWriter, r *http.Request) {
	writeErrors(w, apiV2, http.StatusNotFound, apiError{Code: codeNotFoundOrder, Message: "no order with id " + r.PathValue("id")})
}

// lockOrder takes the store lock, brings timed work up to the clock and
// returns the path's order and the time; without one it answers 404,
// unlocks and returns false. On true the caller holds s.mu.
func (s *Server) lockOrder(w http.ResponseWriter, r *http.Request) (*order, time.Time, bool) {
	id, ok := pathID(r, "id")
	s.mu.Lock()
	now := s.clockLocked()
	s.advance(now)
	o := s.st.get(id)
	if !ok || o == nil {
		s.mu.Unlock()
		writeNoOrder(w, r)
		return nil, now, false
	}
	return o, now, true
}

// orderInfo is GET /order/certificate/{id}.
func (s *Server) orderInfo(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	s.mu.Lock()
	o := s.st.get(id)
	if !ok || o == nil {
		s.mu.Unlock()
		writeNoOrder(w, r)
		return
	}
	now := s.clockLocked()
	s.settle(o, now)
	v := s.infoView(o, now)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, contentJSON, v)
}

// listQuery is the parsed query of GET /order/certificate.
type listQuery struct {
	ids        map[int64]bool
	certIDs    map[int64]bool
	statuses   map[string]bool
	products   map[string]bool
	commonName string
	isRenewed  string // "", "true", "false"
	tillOp     string // "", "<=", ">=", "<", ">", "="
	tillDate   string
	offset     int
	limit      int
}

func parseIDs(q url.Values, key string) (map[int64]bool, *apiError) {
	v := q.Get(key)
	if v == "" {
		return nil, nil
	}
	out := map[int64]bool{}
	for _, part := range strings.Split(v, ",") {
		id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
		if err != nil {
			e := invalid(key, "must be comma-separated integers")
			return nil, &e
		}
		out[id] = true
	}
	return out, nil
}

func parseSet(q url.Values, key string) map[string]bool {
	v := q.Get(key)
	if v == "" {
		return nil
	}
	out := map[string]bool{}
	for _, part := range strings.Split(v, ",") {
		out[strings.TrimSpace(part)] = true
	}
	return out
}

func parseListQuery(q url.Values) (listQuery, []apiError) {
	var lq listQuery
	var errs []apiError
	var e *apiError
	if lq.ids, e = parseIDs(q, "filters[id]"); e != nil {
		errs = append(errs, *e)
	}
	if lq.certIDs, e = parseIDs(q, "filters[certificate_id]"); e != nil {
		errs = append(errs, *e)
	}
	lq.statuses = parseSet(q, "filters[status]")
	lq.products = parseSet(q, "filters[product_name_id]")
	lq.commonName = q.Get("filters[common_name]")
	switch v := q.Get("filters[is_renewed]"); v {
	case "", "true", "false":
		lq.isRenewed = v
	case "1":
		lq.isRenewed = "true"
	case "0":
		lq.isRenewed = "false"
	default:
		errs = append(errs, invalid("filters[is_renewed]", "must be true or false"))
	}
	if v := q.Get("filters[valid_till]"); v != "" {
		op := ""
		for _, cand := range []string{"<=", ">=", "<", ">", "="} {
			if strings.HasPrefix(v, cand) {
				op = cand
				break
			}
		}
		date := strings.TrimSpace(strings.TrimPrefix(v, op))
		if _, ok := parseExpiry(layoutISO, date); !ok {
			errs = append(errs, invalid("filters[valid_till]", "must be a yyyy-MM-dd date, optionally prefixed with <=, >=, < or >"))
		}
		if op == "" {
			op = "="
		}
		lq.tillOp, lq.tillDate = op, date
	}
	lq.limit = defaultListLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 0:
			errs = append(errs, invalid("limit", "must be a non-negative integer"))
		case n > maxListLimit:
			lq.limit = maxListLimit
		case n > 0:
			lq.limit = n
		}
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, invalid("offset", "must be a non-negative integer"))
		}
		lq.offset = n
	}
	return lq, errs
}

func (lq listQuery) match(o certcentral.Order) bool {
	switch {
	case lq.ids != nil && !lq.ids[o.ID],
		lq.certIDs != nil && !lq.certIDs[o.Certificate.ID],
		lq.statuses != nil && !lq.statuses[o.Status],
		lq.products != nil && !lq.products[o.Product.NameID],
		lq.commonName != "" && !strings.EqualFold(lq.commonName, o.Certificate.CommonName),
		lq.isRenewed != "" && (lq.isRenewed == "true") != o.IsRenewed:
		return false
	}
	if lq.tillOp == "" {
		return true
	}
	till := o.Certificate.ValidTill // yyyy-MM-dd compares as text
	if till == "" {
		return false
	}
	switch lq.tillOp {
	case "<=":
		return till <= lq.tillDate
	case ">=":
		return till >= lq.tillDate
	case "<":
		return till < lq.tillDate
	case ">":
		return till > lq.tillDate
	}
	return till == lq.tillDate
}

// listOrders is GET /order/certificate with filters[...], offset and limit, in id order.
func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) {
	lq, errs := parseListQuery(r.URL.Query())
	if len(errs) > 0 {
		writeErrors(w, apiV2, http.StatusBadRequest, errs...)
		return
	}
	s.mu.Lock()
	now := s.clockLocked()
	s.settleAll(now)
	var matched []certcentral.Order
	for _, o := range s.st.Orders {
		if lq.ids != nil && !lq.ids[o.ID] || lq.statuses != nil && !lq.statuses[o.Status] ||
			lq.products != nil && !lq.products[string(o.Product)] {
			continue // cheap pre-filters before rendering
		}
		if v := s.view(o, now); lq.match(v) {
			matched = append(matched, v)
		}
	}
	s.mu.Unlock()

	resp := listResponse{Orders: []certcentral.Order{}, Page: certcentral.Page{Total: len(matched), Limit: lq.limit, Offset: lq.offset}}
	if lq.offset < len(matched) {
		resp.Orders = matched[lq.offset:min(lq.offset+lq.limit, len(matched))]
	}
	writeJSON(w, http.StatusOK, contentJSON, resp)
}

// alternateOrders is GET /order/alternate/{altid}: every order carrying the id.
func (s *Server) alternateOrders(w http.ResponseWriter, r *http.Request) {
	altID := r.PathValue("altid")
	s.mu.Lock()
	now := s.clockLocked()
	out := []certcentral.AlternateOrder{}
	lag := s.faults.get().LookupLag
	for _, o := range s.st.byAlternativeID(altID) {
		if lag > 0 && now.Before(o.CreatedAt.Add(lag)) {
			continue // the look-up index has not caught up with the commit
		}
		s.settle(o, now)
		out = append(out, certcentral.AlternateOrder{OrderID: o.ID, CertificateID: o.current().id, Status: o.Status})
	}
	s.mu.Unlock()
	if len(out) == 0 && s.opts.AlternateLookup404 {
		writeErrors(w, apiV2, http.StatusNotFound, apiError{Code: codeNotFoundOrder, Message: "no order with this alternative_order_id"})
		return
	}
	writeJSON(w, http.StatusOK, contentJSON, alternateResponse{Orders: out, Page: certcentral.Page{Total: len(out), Limit: defaultListLimit}})
}

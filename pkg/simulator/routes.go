package simulator

import (
	"crypto/subtle"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// v2Prefix is the Services API v2 base path.
const v2Prefix = "/services/v2"

// legacyOrderPath is the REST v1 "Order an SSL Certificate" endpoint.
const legacyOrderPath = "/order/ssl"

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	v2 := func(method, path string, h http.HandlerFunc) {
		pattern := method + " " + v2Prefix + path
		mux.Handle(pattern, s.wrap(pattern, apiV2, h))
	}
	v2("POST", "/order/certificate/{product}", s.placeOrder)
	v2("GET", "/order/certificate/{id}", s.orderInfo)
	v2("POST", "/order/certificate/{id}/reissue", s.reissueOrder)
	v2("GET", "/order/certificate/{id}/reissue", s.listReissues)
	v2("PUT", "/order/certificate/{id}/auto-reissue", s.setAutoReissue)
	v2("PUT", "/order/certificate/{id}/dcv-random-value", s.dcvRandomValue)
	v2("PUT", "/order/certificate/{id}/check-dcv", s.checkDCV)
	v2("GET", "/order/certificate", s.listOrders)
	v2("GET", "/order/alternate/{altid}", s.alternateOrders)
	v2("GET", "/certificate/{id}/download/format/{format}", s.downloadCertificate)
	v2("GET", "/certificate/download/order/{id}/format/{format}", s.downloadByOrder)
	v2("GET", "/certificate/{id}/chain", s.certificateChain)

	legacy := "POST " + legacyOrderPath
	mux.Handle(legacy, s.wrap(legacy, apiV1, s.placeLegacyOrder))

	admin := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.wrapAdmin(h)) }
	admin("GET /_sim/orders", s.adminOrders)
	admin("GET /_sim/stats", s.adminStats)
	admin("GET /_sim/faults", s.adminGetFaults)
	admin("POST /_sim/faults", s.adminSetFaults)
	admin("POST /_sim/orders/{id}/approve", s.adminApprove)
	admin("POST /_sim/orders/{id}/reject", s.adminReject)
	admin("POST /_sim/orders/{id}/status", s.adminStatus)
	admin("GET /_sim/clock", s.adminGetClock)
	admin("POST /_sim/clock", s.adminClock)
	admin("GET /_sim/ca.pem", s.adminCA)
	admin("/_sim/", func(w http.ResponseWriter, r *http.Request) {
		writeErrors(w, apiAdmin, http.StatusNotFound, apiError{Code: codeNotFound, Message: "no admin endpoint " + r.Method + " " + r.URL.Path})
	})

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.stats.update(func(st *Stats) { st.Requests["unmatched"]++; st.Total++ })
		rec := &recorder{ResponseWriter: w, req: r, start: time.Now()}
		writeErrors(rec, apiV2, http.StatusNotFound, apiError{Code: codeNotFound, Message: "no endpoint " + r.Method + " " + r.URL.Path})
		s.logRequest(rec)
	})
	return mux
}

// recorder remembers the status for the request log and keeps Hijack reachable
// through http.ResponseController.
type recorder struct {
	http.ResponseWriter
	req     *http.Request
	start   time.Time
	status  int
	dropped bool
	logged  bool
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// wrap applies, in order: latency, a pending 429 burst, the 5xx share, auth and
// the rolling rate limit, then calls h.
func (s *Server) wrap(route string, dialect api, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, req: r, start: time.Now()}
		defer s.logRequest(rec)
		s.stats.update(func(st *Stats) { st.Requests[route]++; st.Total++ })

		if lat := s.faults.get().Latency; lat > 0 {
			t := time.NewTimer(lat)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		v := s.faults.decide()
		if v.status429 {
			s.tooMany(rec, dialect, v.retryAfter, time.Second, false)
			return
		}
		if v.status5xx != 0 {
			s.serverError(rec, dialect, v.status5xx)
			return
		}
		key, ok := s.authenticate(r, dialect)
		if !ok {
			s.stats.update(func(st *Stats) { st.Unauthorized++ })
			s.unauthorized(rec, dialect)
			return
		}
		if allowed, wait := s.limiter.allow(key, s.clock()); !allowed {
			s.tooMany(rec, dialect, v.retryAfter, wait, true)
			return
		}
		s.tick()
		h(rec, r)
	})
}

// authenticate returns the API key of an authorized request.
func (s *Server) authenticate(r *http.Request, dialect api) (string, bool) {
	var key string
	if dialect == apiV1 {
		user, pass, ok := r.BasicAuth()
		if !ok || (s.opts.AccountID != "" && !equal(user, s.opts.AccountID)) {
			return "", false
		}
		key = pass
	} else {
		key = r.Header.Get("X-DC-DEVKEY")
	}
	if key == "" || (s.opts.APIKey != "" && !equal(key, s.opts.APIKey)) {
		return "", false
	}
	return key, true
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func (s *Server) unauthorized(w http.ResponseWriter, dialect api) {
	if dialect == apiV1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="DigiCert API"`)
		writeErrors(w, apiV1, http.StatusUnauthorized, apiError{Code: codeAccessDenied, Message: "missing or invalid account id or API key (HTTP Basic auth)"})
		return
	}
	writeErrors(w, apiV2, http.StatusUnauthorized, apiError{Code: codeInvalidKey, Message: "missing or invalid API key in the X-DC-DEVKEY header"})
}

func (s *Server) tooMany(w http.ResponseWriter, dialect api, retryAfter bool, wait time.Duration, byLimiter bool) {
	s.stats.update(func(st *Stats) {
		st.TooManyRequests++
		if byLimiter {
			st.RateLimited++
		}
	})
	if retryAfter {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	writeErrors(w, dialect, http.StatusTooManyRequests, apiError{Code: codeRateLimited, Message: "request limit exceeded; slow down and retry later"})
}

func (s *Server) serverError(w http.ResponseWriter, dialect api, status int) {
	s.stats.update(func(st *Stats) { st.ServerErrors++ })
	if status == http.StatusInternalServerError {
		writeErrors(w, dialect, status, apiError{Code: codeServerError, Message: "internal server error (injected by the simulator)"})
		return
	}
	// Gateways in front of the API answer with HTML, not the API's JSON.
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>\n", status, http.StatusText(status))
}

// wrapAdmin serves the admin API to loopback clients only, without faults,
// auth or rate limits.
func (s *Server) wrapAdmin(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			writeErrors(w, apiAdmin, http.StatusForbidden, apiError{Code: codeForbidden, Message: "the simulator admin API answers loopback clients only"})
			return
		}
		h(w, r)
	})
}

// logRequest writes one line per request, once: time, method, path and query,
// status, duration. Headers and bodies (the API key, card data) are never logged.
func (s *Server) logRequest(rec *recorder) {
	if s.opts.Logger == nil || rec.logged {
		return
	}
	rec.logged = true
	status := strconv.Itoa(rec.status)
	switch {
	case rec.dropped:
		status = "dropped"
	case rec.status == 0:
		status = "aborted"
	}
	line := fmt.Sprintf("%s %s %s %s %s\n", time.Now().UTC().Format(time.RFC3339), rec.req.Method,
		strings.ReplaceAll(rec.req.URL.RequestURI(), "\n", ""), status, time.Since(rec.start).Round(time.Microsecond))
	s.logMu.Lock()
	defer s.logMu.Unlock()
	_, _ = io.WriteString(s.opts.Logger, line)
}

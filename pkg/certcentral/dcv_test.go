package certcentral_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/certplan/certplan/pkg/certcentral"
)

func TestGetDCVRandomValue(t *testing.T) {
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"dcv_random_value":"a1b2c3","expiration_date":"2026-04-21T17:31:22+00:00"}`))
	})
	v, err := f.client(t).GetDCVRandomValue(context.Background(), 42)
	if err != nil {
		t.Fatal(err)
	}
	if v.Value != "a1b2c3" {
		t.Errorf("value %q", v.Value)
	}
	exp, ok := v.Expires()
	if !ok || !exp.Equal(time.Date(2026, 4, 21, 17, 31, 22, 0, time.UTC)) {
		t.Errorf("expires %v %v", exp, ok)
	}
	reqs := f.requests()
	if len(reqs) != 1 || reqs[0].Method != http.MethodPut || reqs[0].Path != "/services/v2/order/certificate/42/dcv-random-value" {
		t.Fatalf("requests %+v", reqs)
	}
	if _, err := f.client(t).GetDCVRandomValue(context.Background(), 0); err == nil {
		t.Error("order 0 accepted")
	}
}

func TestGetDCVRandomValueWithoutValue(t *testing.T) {
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"expiration_date":"2026-04-21"}`))
	})
	if _, err := f.client(t).GetDCVRandomValue(context.Background(), 42); err == nil {
		t.Error("a reply without a value was accepted")
	}
}

func TestCheckDCV(t *testing.T) {
	reply := `{"order_status":"issued","certificate_id":"not a number","dcv_status":"valid",
	  "dns_name_validations":[{"dns_name":"example.com","status":"approved"}]}`
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(reply))
	})
	c := f.client(t)
	got, err := c.CheckDCV(context.Background(), 7)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Validated() || got.OrderStatus != "issued" || len(got.DNSNameValidations) != 1 {
		t.Errorf("reply %+v", got)
	}
	if reqs := f.requests(); reqs[0].Method != http.MethodPut || reqs[0].Path != "/services/v2/order/certificate/7/check-dcv" {
		t.Errorf("request %+v", reqs[0])
	}
	reply = `{"order_status":"pending","dcv_status":"pending","dns_name_validations":[{"dns_name":"a.example.com","status":"approved"},{"dns_name":"b.example.com","status":"pending"}]}`
	if got, err := c.CheckDCV(context.Background(), 7); err != nil || got.Validated() {
		t.Errorf("pending reply read as validated: %+v %v", got, err)
	}
}

func TestCheckDCVNotFound(t *testing.T) {
	for _, code := range []string{"invalid_dns_txt", "file_random_value_not_found"} {
		f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"errors":[{"code":"` + code + `","message":"not found"}]}`))
		})
		_, err := f.client(t).CheckDCV(context.Background(), 7)
		if !certcentral.IsDCVNotFound(err) {
			t.Errorf("%s: IsDCVNotFound(%v) = false", code, err)
		}
		if got := len(f.requests()); got != 1 {
			t.Errorf("%s: %d requests: a check is not retried on 400", code, got)
		}
	}
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"errors":[{"code":"invalid_value","message":"x"}]}`))
	})
	if _, err := f.client(t).CheckDCV(context.Background(), 7); certcentral.IsDCVNotFound(err) {
		t.Error("invalid_value read as not found")
	}
}

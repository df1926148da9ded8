package certcentral_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/spec"
)

// TestSecretsNeverReachLogsOrErrors runs every kind of call, success and
// failure, with debug logging, against a server that even echoes secrets back,
// and checks that neither the log nor any error carries the API key, the
// Basic credentials, the card number, the CVV or the CSR.
func TestSecretsNeverReachLogsOrErrors(t *testing.T) {
	cardSecrets(t)
	var n atomic.Int64
	basic := base64.StdEncoding.EncodeToString([]byte(testAccountID + ":" + testKey))
	echo := `{"errors":[{"code":"invalid_value|credit_card","message":"key ` + testKey + ` card ` + testCardNumber + ` auth ` + basic + `"}]}`
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		switch i := n.Add(1); {
		case r.URL.Path == "/order/ssl":
			w.Header().Set("Content-Type", "application/vnd.digicert.error+json")
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"errors":[{"code":"required_param:org_name","description":"bad ` + basic + ` ` + testKey + `"}]}`))
		case strings.HasSuffix(r.URL.Path, "/ssl_securesite_flex") && i == 1:
			writeJSON(w, 400, echo)
		case strings.HasSuffix(r.URL.Path, "/private_ssl_flex"):
			writeJSON(w, 503, echo)
		case strings.HasSuffix(r.URL.Path, "/private_ssl_plus"):
			hangUp(w)
		case strings.HasSuffix(r.URL.Path, "/order/certificate/7") && i%2 == 1:
			writeJSON(w, 502, "<html>"+testKey+"</html>")
		case strings.HasPrefix(r.URL.Path, "/services/v2/order/alternate/"):
			writeJSON(w, 404, echo)
		case r.Method == "POST":
			writeJSON(w, 201, `{"id":1001}`)
		default:
			writeJSON(w, 200, `{"id":7,"status":"issued"}`)
		}
	})
	var logs bytes.Buffer
	logger := zerolog.New(&logs).Level(zerolog.DebugLevel)
	c := api.client(t, func(cfg *certcentral.Config) {
		cfg.Logger = &logger
		cfg.Now = func() time.Time { return fixedNow }
		cfg.Sleep = (&sleepRecorder{}).Sleep
	})
	ctx := context.Background()
	order := bodyExamples()[spec.SecureSiteFlex].order

	var errs []error
	for _, p := range []spec.Product{spec.SecureSiteFlex, spec.SecureSiteFlex, spec.PrivateSSLFlex, spec.PrivateSSLPlus} {
		body, err := certcentral.BuildOrderBody(p, order, "cpredact", 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.PlaceOrder(ctx, p, body)
		errs = append(errs, err)
	}
	_, err := c.OrderInfo(ctx, 7)
	errs = append(errs, err)
	_, err = c.OrdersByAlternateID(ctx, "cpredact")
	errs = append(errs, err)
	_, err = c.PlaceLegacyOrder(ctx, map[string]string{"csr": testCSR, "validity": "1"})
	errs = append(errs, err)
	// A build error with an unset card secret.
	_, err = certcentral.BuildOrderBody(spec.SecureSiteFlex, map[string]any{"credit_card": map[string]any{"number": envSecret("CP_TEST_NOT_SET")}}, "", 0)
	errs = append(errs, err)

	var failures int
	var text strings.Builder
	for _, err := range errs {
		if err != nil {
			failures++
			text.WriteString(err.Error() + "\n")
		}
	}
	// The look-up's 404 carries no not_found code, so it is a failed look-up
	// (it used to count as "none", which was the bug of issue 11, item 2).
	if failures != 6 {
		t.Fatalf("got %d failures, want 6 (400, 503, reset, look-up 404 without not_found, legacy 400, build):\n%s", failures, text.String())
	}
	all := logs.String() + text.String()
	forbidden := []string{testKey, basic, testCardNumber, `"cvv"`, ":" + testCardCVV, `"` + testCardCVV + `"`,
		"BEGIN CERTIFICATE REQUEST", "X-Dc-Devkey", "X-DC-DEVKEY", "Authorization", "Basic "}
	for _, s := range forbidden {
		if strings.Contains(all, s) {
			t.Errorf("log or error contains %q:\n%s", s, all)
		}
	}
	// The log is useful: method, path, status, attempt, duration, error codes.
	for _, s := range []string{`"method":"POST"`, `"path":"/order/certificate/ssl_securesite_flex"`, `"status":400`,
		`"attempt":2`, `"duration":`, `"error_codes":["invalid_value|credit_card"]`, `"status":503`, `"path":"/order/ssl"`} {
		if !strings.Contains(logs.String(), s) {
			t.Errorf("log lacks %s:\n%s", s, logs.String())
		}
	}
}

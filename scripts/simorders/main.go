// Command simorders prints the orders the simulator holds for one common
// name, with every certificate of each order, for scripts/demo.sh:
//
//	simorders ADDR COMMON_NAME
//
// Orders come from the simulator's admin API (GET /_sim/orders), the
// certificates of each from the CertCentral API it serves (GET
// /services/v2/order/certificate/{id}/reissue, with DIGICERT_API_KEY). It
// reads the JSON as any client would and imports nothing of certplan's.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

// order is what simorders reads of an order in GET /_sim/orders.
type order struct {
	ID                   int64          `json:"id"`
	Product              string         `json:"product"`
	Status               string         `json:"status"`
	Body                 map[string]any `json:"body"`
	CreatedAt            time.Time      `json:"created_at"`
	OrderValidTill       time.Time      `json:"order_valid_till"`
	RenewalOfOrderID     int64          `json:"renewal_of_order_id"`
	RenewedOrderID       int64          `json:"renewed_order_id"`
	CurrentCertificateID int64          `json:"current_certificate_id"`
}

// certificate is one certificate of GET /order/certificate/{id}/reissue.
type certificate struct {
	ID        int64  `json:"id"`
	Status    string `json:"status"`
	ValidFrom string `json:"valid_from"`
	ValidTill string `json:"valid_till"`
	ReceiptID any    `json:"receipt_id"` // "0" (or absent) unless billed
}

// billed: a receipt for an actual charge.
func (c certificate) billed() bool {
	s := fmt.Sprint(c.ReceiptID)
	return c.ReceiptID != nil && s != "" && s != "0"
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: simorders ADDR COMMON_NAME")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "simorders:", err)
		os.Exit(1)
	}
}

func get(url string, out any) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-DC-DEVKEY", os.Getenv("DIGICERT_API_KEY"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func run(addr, cn string) error {
	var admin struct {
		Orders []order `json:"orders"`
	}
	if err := get("http://"+addr+"/_sim/orders", &admin); err != nil {
		return err
	}
	for _, o := range admin.Orders {
		cert, _ := o.Body["certificate"].(map[string]any)
		if name, _ := cert["common_name"].(string); !strings.EqualFold(name, cn) {
			continue
		}
		line := fmt.Sprintf("order %d  %s  %s  plan %s..%s", o.ID, o.Product, o.Status,
			o.CreatedAt.UTC().Format(time.DateOnly), o.OrderValidTill.UTC().Format(time.DateOnly))
		if o.RenewalOfOrderID != 0 {
			line += fmt.Sprintf("  renews order %d", o.RenewalOfOrderID)
		}
		if o.RenewedOrderID != 0 {
			line += fmt.Sprintf("  renewed by order %d", o.RenewedOrderID)
		}
		fmt.Println(line)
		var list struct {
			Certificates []certificate `json:"certificates"`
		}
		if err := get(fmt.Sprintf("http://%s/services/v2/order/certificate/%d/reissue", addr, o.ID), &list); err != nil {
			return err
		}
		for i, c := range list.Certificates {
			kind := "first"
			if i > 0 {
				kind = "reissue"
				if c.billed() {
					kind += ", billed"
				} else {
					kind += ", free"
				}
			}
			current := ""
			if c.ID == o.CurrentCertificateID {
				current = "  <- current"
			}
			fmt.Printf("  certificate %d  %-17s %-8s valid %s..%s%s\n", c.ID, "("+kind+")", c.Status, c.ValidFrom, c.ValidTill, current)
		}
	}
	return nil
}

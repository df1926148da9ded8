package apply

import (
	"crypto/x509"
	"encoding/pem"

	"github.com/certplan/certplan/pkg/certcentral"
	"github.com/certplan/certplan/pkg/plan"
	"github.com/certplan/certplan/pkg/state"
)

const dateLayout = "2006-01-02"

// FactsFromOrder converts CertCentral order info into the facts state
// records (plan.FactsFromOrder), for an order apply placed, found or polled:
// one that reports no status is taken as pending.
func FactsFromOrder(o *certcentral.Order) state.OrderFacts {
	return pendingUnlessSaid(plan.FactsFromOrder(o))
}

// pendingUnlessSaid takes an order without a status as pending.
func pendingUnlessSaid(f state.OrderFacts) state.OrderFacts {
	if f.Status == "" {
		f.Status = state.StatusPending
	}
	return f
}

// factsFromPlacement converts the place-order response into facts. The API is
// not consistent about what it returns: the order is issued when a certificate
// id is present and the request is approved; validity dates come from the
// end-entity certificate of certificate_chain when it is returned.
func factsFromPlacement(altID string, renewalOf int64, r *certcentral.PlaceOrderResponse) state.OrderFacts {
	f := state.OrderFacts{
		OrderID:            r.ID,
		AlternativeOrderID: altID,
		CertificateID:      r.CertificateID,
		RenewalOfOrderID:   renewalOf,
		Status:             state.StatusPending,
	}
	if len(r.Requests) > 0 {
		f.RequestID = r.Requests[0].ID
		f.RequestStatus = r.Requests[0].Status
	}
	// Issued only when the certificate itself came back: an approved request
	// without a chain (document signing awaiting pickup, say) is still
	// processing, and the next refresh reads its real status.
	switch f.RequestStatus {
	case "rejected":
		f.Status = state.StatusRejected
	case "approved":
		f.Status = state.StatusProcessing
	}
	if len(r.CertificateChain) > 0 && r.CertificateID != 0 {
		if from, till, ok := leafValidity(r.CertificateChain[0].PEM); ok {
			f.ValidFrom, f.ValidTill = from, till
			f.Status = state.StatusIssued
		}
	}
	return f
}

func leafValidity(pemText string) (from, till string, ok bool) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return "", "", false
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", "", false
	}
	return c.NotBefore.UTC().Format(dateLayout), c.NotAfter.UTC().Format(dateLayout), true
}

// factsFromAlternate is the little the alternate look-up says about an order;
// the applier completes it with order info when it can.
func factsFromAlternate(altID string, a certcentral.AlternateOrder) state.OrderFacts {
	st := state.OrderStatus(a.Status)
	if st == "" {
		st = state.StatusPending
	}
	return state.OrderFacts{OrderID: a.OrderID, AlternativeOrderID: altID, CertificateID: a.CertificateID, Status: st}
}

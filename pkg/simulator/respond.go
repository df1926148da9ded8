package simulator

import (
	"encoding/json"
	"net/http"
)

// Error codes the simulator returns. Codes taken from the API facts are marked;
// the others are the simulator's choice and documented in docs/simulator.md.
const (
	codeBadRequestFormat     = "bad_request_format"                      // documented
	codeNotFound             = "not_found"                               // documented
	codeNotFoundOrder        = "not_found|order"                         // documented
	codeNotFoundProduct      = "not_found|product"                       // documented
	codeNotFoundCertificate  = "not_found|certificate"                   // simulator choice
	codeInvalidKey           = "access_denied|access_denied_invalid_key" // documented
	codeAccessDenied         = "access_denied"                           // v1, simulator choice
	codeForbidden            = "access_denied|missing_permission"        // documented
	codeRateLimited          = "request_limit_exceeded"                  // documented
	codeCSRInvalid           = "csr_invalid_cannot_parse"                // documented
	codeCertExceedsOrder     = "cert_validity_exceeds_order_validity"    // documented
	codeDuplicateAltID       = "duplicate_alternative_order_id"          // simulator choice (UNCONFIRMED)
	codeServerError          = "internal_server_error"                   // simulator choice
	codeUnsupportedMediaType = "unsupported_media_type"                  // v1, simulator choice
)

// Content types.
const (
	contentJSON    = "application/json"
	contentV1      = "application/vnd.digicert.rest-v1+json"
	contentV1Error = "application/vnd.digicert.error+json"
)

// apiError is one element of an error body.
type apiError struct {
	Code    string
	Message string
}

func required(path string) apiError {
	return apiError{Code: "required_param:" + path, Message: path + " is required"}
}

func invalid(path, why string) apiError {
	return apiError{Code: "invalid_value:" + path, Message: path + ": " + why}
}

// v2ErrorBody is {"errors":[{"code","message"}]}.
type v2ErrorBody struct {
	Errors []v2Error `json:"errors"`
}
type v2Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// v1ErrorBody is {"errors":[{"code","description"}]}.
type v1ErrorBody struct {
	Errors []v1Error `json:"errors"`
}
type v1Error struct {
	Code        string `json:"code"`
	Description string `json:"description"`
}

// api says which dialect a route speaks.
type api int

const (
	apiV2 api = iota
	apiV1
	apiAdmin
)

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeErrors writes an error body in the route's dialect.
func writeErrors(w http.ResponseWriter, dialect api, status int, errs ...apiError) {
	if dialect == apiV1 {
		body := v1ErrorBody{Errors: make([]v1Error, 0, len(errs))}
		for _, e := range errs {
			body.Errors = append(body.Errors, v1Error{Code: e.Code, Description: e.Message})
		}
		writeJSON(w, status, contentV1Error, body)
		return
	}
	body := v2ErrorBody{Errors: make([]v2Error, 0, len(errs))}
	for _, e := range errs {
		body.Errors = append(body.Errors, v2Error(e))
	}
	writeJSON(w, status, contentJSON, body)
}

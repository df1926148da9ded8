// Package simulator is an in-process DigiCert CertCentral: the Services API v2
// endpoints certplan uses, the legacy REST v1 order endpoint, a local CA that
// issues real X.509 certificates, rolling-window rate limits, approval modes,
// fault injection and an admin API under /_sim/. It backs `certplan simulator`
// and every integration test (httptest.NewServer(s.Handler())).
//
// docs/simulator.md documents the endpoints, the validation rules, the error
// codes and the choices made where the API documentation is silent.
package simulator

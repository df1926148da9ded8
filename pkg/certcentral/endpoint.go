package certcentral

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Base URLs of the CertCentral instances and of the legacy REST v1 API.
const (
	DefaultUSEndpoint     = "https://www.digicert.com/services/v2"
	EUEndpoint            = "https://certcentral.digicert.eu/services/v2"
	DefaultLegacyEndpoint = "https://api.digicert.com"
)

// ResolveEndpoint turns the --endpoint value into a v2 base URL: "" or "us" is
// the US instance, "eu" the EU one, anything else must be an absolute URL.
// Plain http:// is accepted only for loopback IP addresses (the simulator),
// because the API key travels in a header.
func ResolveEndpoint(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "us":
		return DefaultUSEndpoint, nil
	case "eu":
		return EUEndpoint, nil
	}
	return resolveURL("endpoint", s)
}

// ResolveLegacyEndpoint turns the --legacy-endpoint value into a v1 base URL:
// "" is DefaultLegacyEndpoint, anything else follows the rules of ResolveEndpoint.
func ResolveLegacyEndpoint(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return DefaultLegacyEndpoint, nil
	}
	return resolveURL("legacy endpoint", s)
}

func resolveURL(what, s string) (string, error) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%s %q is not a URL (use \"us\", \"eu\" or https://HOST/services/v2): %w", what, s, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", fmt.Errorf("%s %q: want an https:// URL (or \"us\" / \"eu\")", what, s)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("%s %q: the URL has no host", what, s)
	}
	if u.User != nil {
		return "", fmt.Errorf("%s: the URL must not carry credentials; the API key comes from DIGICERT_API_KEY", what)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%s %q: the URL must not have a query or fragment", what, s)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		if isLocalhostName(u.Hostname()) {
			// A name is only as loopback as /etc/hosts (or DNS) says: trust
			// the address itself, never a name that can be pointed elsewhere.
			return "", fmt.Errorf("%s %q: plain http is only allowed for loopback hosts given as IP addresses, not the name %q (a hosts file can point it anywhere): use http://127.0.0.1 or http://[::1] instead", what, s, u.Hostname())
		}
		return "", fmt.Errorf("%s %q: plain http is only allowed for loopback hosts given as IP addresses (127.0.0.0/8, ::1) because the API key would cross the network unencrypted; use https://", what, s)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// isLoopback reports a literal loopback IP address (127.0.0.0/8, ::1). Names,
// "localhost" included, are not loopback: what they resolve to is up to the
// hosts file and the resolver, not to the URL.
func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isLocalhostName(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

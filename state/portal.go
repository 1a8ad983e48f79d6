package state

import (
	"net"
	"net/url"
	"strings"
)

// Portal is the name under which the state database knows the portal at
// rawURL, the same for every spelling of one portal's base URL: scheme and host
// in lower case, the default port dropped, the host's trailing dot dropped, the
// loopback names (localhost, 127.0.0.1, ::1) as one, the path without trailing
// slashes and without the /api/2.0 that a user may paste from the API docs.
// Never the user name or password a URL may carry, nor its query or fragment.
func Portal(rawURL string) string {
	s := strings.TrimSpace(rawURL)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		// Not a URL with a host: keep it, minus anything that looks like userinfo.
		if i := strings.LastIndex(s, "@"); i >= 0 {
			s = s[i+1:]
		}
		if i := strings.IndexAny(s, "?#"); i >= 0 {
			s = s[:i]
		}
		return strings.TrimRight(s, "/")
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if loopbackName(host) {
		host = "localhost"
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6
	}
	if port := u.Port(); port != "" && !(scheme == "https" && port == "443") && !(scheme == "http" && port == "80") {
		host += ":" + port
	}
	return scheme + "://" + host + apiPath(u.EscapedPath())
}

// apiPath is a base URL's path without trailing slashes and without a pasted
// /api/2.0 (or /api/2.0.json) suffix.
func apiPath(p string) string {
	p = strings.TrimRight(p, "/")
	for _, suffix := range []string{"/api/2.0", "/api/2.0.json"} {
		if len(p) >= len(suffix) && strings.EqualFold(p[len(p)-len(suffix):], suffix) {
			return strings.TrimRight(p[:len(p)-len(suffix)], "/")
		}
	}
	return p
}

// loopbackName tells the names of this machine's own loopback portal.
func loopbackName(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.Equal(net.IPv4(127, 0, 0, 1)) || ip.Equal(net.IPv6loopback))
}

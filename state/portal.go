package state

import (
	"net/url"
	"strings"
)

// Portal is the name under which the state database knows the portal at
// rawURL: scheme, lower-case host (default port dropped) and path without
// trailing slash; never the user name or password a URL may carry, nor its
// query or fragment. Two spellings of one portal's base URL give one name.
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
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6
	}
	if port := u.Port(); port != "" && !(scheme == "https" && port == "443") && !(scheme == "http" && port == "80") {
		host += ":" + port
	}
	return scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/")
}

package console

import (
	"net"
	"strconv"
	"strings"
)

// An Option configures [Handler].
type Option func(*config)

type config struct {
	hosts      map[string]bool // allowed besides the loopback names; "*" allows any
	maxStreams int
}

// defaultMaxStreams is how many event streams a Handler serves at once
// unless [MaxStreams] says otherwise.
const defaultMaxStreams = 32

// AllowHosts lets the console answer requests whose Host header names one
// of hosts (a host name or IP address, without a port; matched without
// regard to case), besides the loopback names it always answers:
// localhost, 127.0.0.1 and [::1]. The name "*" allows any host: use it only
// behind a proxy that checks the Host itself.
//
// The Host check is what keeps a page on another origin from reading the
// console through DNS rebinding (its own name resolving to 127.0.0.1): a
// console reached under another name, such as through an SSH tunnel to a
// machine's name, must list that name.
func AllowHosts(hosts ...string) Option {
	for _, h := range hosts {
		if h == "" || (strings.ContainsAny(h, ":/ ") && net.ParseIP(strings.Trim(h, "[]")) == nil) {
			panic("async: console.AllowHosts: " + strconv.Quote(h) + " is not a host name or IP address")
		}
	}
	return func(c *config) {
		for _, h := range hosts {
			c.hosts[canonicalHost(h)] = true
		}
	}
}

// MaxStreams sets how many live event streams (/api/events) the console
// serves at once; beyond it a new stream is refused with 503 Service
// Unavailable, and the page falls back to polling. The default is 32. It
// panics if n < 1.
func MaxStreams(n int) Option {
	if n < 1 {
		panic("async: console.MaxStreams: n < 1")
	}
	return func(c *config) { c.maxStreams = n }
}

// canonicalHost returns a host without brackets, in lower case.
func canonicalHost(h string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"))
}

// hostAllowed reports whether a request's Host header (with or without a
// port) is one the console answers.
func (c *config) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if strings.Contains(strings.Trim(hostport, "[]"), ":") && !strings.HasPrefix(hostport, "[") {
		return false // an IPv6 address must be in brackets
	}
	host = canonicalHost(host)
	switch host {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return host != "" && (c.hosts[host] || c.hosts["*"])
}

package sipedge

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/tandem-cc/tandem/internal/config/field"
)

// Config is the SIP edge's sections of tandem's configuration, which sit
// at the top of the file: sip (listeners and identity), trunks, users,
// registrar, server_groups and dial_plan. The console's SIP page edits all
// but sip at run time (Edge.Reload).
//
//	sip:
//	  listen: [{transport: udp, address: "0.0.0.0:5060"}]
//	trunks: [{name: carrier, networks: ["192.0.2.0/24"]}]
//	users: [{user: "1001", password: secret}]
//	server_groups:
//	  - {name: vxml, destinations: [{address: "10.0.0.5:5060"}]}
//	dial_plan:
//	  - {pattern: "1XXX", registered: true}
//	  - {pattern: "7777!", server_group: vxml}
type Config struct {
	SIP SIP `yaml:"sip"`
	// Trunks are the ingress gateways and proxies trusted by source address.
	Trunks []Trunk `yaml:"trunks"`
	// Users are the endpoints that may register and call after digest auth.
	Users        []User        `yaml:"users"`
	Registrar    Registrar     `yaml:"registrar"`
	ServerGroups []ServerGroup `yaml:"server_groups"`
	DialPlan     []DialRule    `yaml:"dial_plan"`
}

// SIP configures the SIP edge's listeners and identity.
type SIP struct {
	Listen []Listener `yaml:"listen"`
	// Host is the address tandem puts in Via, Contact and Record-Route of the
	// requests it originates; by default the first listener's IP.
	Host string `yaml:"host"`
	// Realm is the digest authentication realm.
	Realm     string `yaml:"realm"`
	UserAgent string `yaml:"user_agent"`
	// AuthAlgorithms are the digest algorithms offered, one challenge each,
	// in order of preference (RFC 8760 §2.4: a client answers the first it
	// supports). The default offers MD5 alone: SIPp gives up on a list
	// that starts with SHA-256, and baresip 1.0 (libre) fails to register
	// at all when a SHA-256 challenge is anywhere in the list (ENOSYS)
	// instead of skipping it. Offer [SHA-256, MD5] where the phones cope.
	AuthAlgorithms []string `yaml:"auth_algorithms"`
	// TCPIdleTimeout closes a TCP or TLS connection that carried nothing
	// (RFC 5626 CRLF keep-alives count) for this long, unless a live
	// registration came over it. Default 5m; at least 1s.
	TCPIdleTimeout field.Duration `yaml:"tcp_idle_timeout"`
}

// Listener is one SIP socket.
type Listener struct {
	Transport string `yaml:"transport"` // udp, tcp or tls
	Address   string `yaml:"address"`   // host:port
	// Cert and Key are PEM files; required for tls.
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Trunk is a peer trusted by source address: an ingress voice gateway or a
// proxy in front of tandem. Its INVITEs are not challenged.
type Trunk struct {
	Name     string   `yaml:"name"`
	Networks []string `yaml:"networks"` // CIDRs or single addresses

	prefixes []netip.Prefix
}

// Prefixes returns the parsed networks (valid after Validate).
func (t Trunk) Prefixes() []netip.Prefix { return t.prefixes }

// User is an endpoint that authenticates with digest credentials: an agent
// phone or a soft client. Its user name is also its extension.
type User struct {
	User     string `yaml:"user"`
	Password string `yaml:"password"`
}

// Registrar configures REGISTER handling.
type Registrar struct {
	MinExpires     field.Duration `yaml:"min_expires"`
	MaxExpires     field.Duration `yaml:"max_expires"`
	DefaultExpires field.Duration `yaml:"default_expires"`
	// MaxContacts bounds the bindings one address-of-record may hold.
	MaxContacts int `yaml:"max_contacts"`
	// FailedAuthLimit failed attempts from one source within FailedAuthWindow
	// slow that source down (its requests are answered after a delay that
	// doubles with each further failure).
	FailedAuthLimit  int            `yaml:"failed_auth_limit"`
	FailedAuthWindow field.Duration `yaml:"failed_auth_window"`
}

// ServerGroup is a set of equivalent destinations (CVP's SIP server group).
type ServerGroup struct {
	Name         string        `yaml:"name"`
	Destinations []Destination `yaml:"destinations"`
	Heartbeat    Heartbeat     `yaml:"heartbeat"`
}

// Destination is one element of a server group.
type Destination struct {
	Address   string `yaml:"address"`   // host:port
	Transport string `yaml:"transport"` // udp or tcp
	// Priority: lower is tried first; Weight shares load among equals.
	Priority int `yaml:"priority"`
	Weight   int `yaml:"weight"`
}

// Heartbeat is the OPTIONS ping of a server group, CVP style: every
// UpInterval while a destination is up, every DownInterval while it is down;
// Failures consecutive failures mark it down, one success marks it up.
type Heartbeat struct {
	Enabled      *bool          `yaml:"enabled"`
	UpInterval   field.Duration `yaml:"up_interval"`
	DownInterval field.Duration `yaml:"down_interval"`
	Timeout      field.Duration `yaml:"timeout"`
	Failures     int            `yaml:"failures"`
}

// On reports whether heartbeats run (default true).
func (h Heartbeat) On() bool { return h.Enabled == nil || *h.Enabled }

// DialRule maps dialed strings to where they go. Exactly one of ServerGroup
// and Registered is set.
type DialRule struct {
	// Pattern: digits and letters match themselves, X any digit, [1-5] a
	// class, and a final ! one or more characters, a final * zero or more.
	Pattern     string `yaml:"pattern"`
	ServerGroup string `yaml:"server_group"`
	// Registered sends the call to the contacts registered for the dialed
	// extension.
	Registered bool `yaml:"registered"`
}

// Fill puts the named defaults in every field left empty.
func (c *Config) Fill() {
	if c.SIP.Realm == "" {
		c.SIP.Realm = "tandem"
	}
	if c.SIP.UserAgent == "" {
		c.SIP.UserAgent = "tandem"
	}
	// Long enough for a call's quiet middle on a trunk's connection, short
	// enough that idle sockets cannot pile up (sipgo keeps them for ever).
	c.SIP.TCPIdleTimeout.Default(5 * time.Minute)
	if len(c.SIP.AuthAlgorithms) == 0 {
		c.SIP.AuthAlgorithms = []string{"MD5"}
	}
	for i := range c.SIP.Listen {
		c.SIP.Listen[i].Transport = strings.ToLower(c.SIP.Listen[i].Transport)
	}
	if c.SIP.Host == "" && len(c.SIP.Listen) > 0 {
		if h, _, err := net.SplitHostPort(c.SIP.Listen[0].Address); err == nil && h != "" && h != "0.0.0.0" && h != "::" {
			c.SIP.Host = h
		} else {
			c.SIP.Host = "127.0.0.1"
		}
	}
	// RFC 3261 §10.2.1.1 suggests an hour; phones usually ask for less.
	c.Registrar.DefaultExpires.Default(time.Hour)
	c.Registrar.MinExpires.Default(60 * time.Second)
	c.Registrar.MaxExpires.Default(2 * time.Hour)
	if c.Registrar.MaxContacts == 0 {
		c.Registrar.MaxContacts = 10
	}
	if c.Registrar.FailedAuthLimit == 0 {
		c.Registrar.FailedAuthLimit = 5
	}
	c.Registrar.FailedAuthWindow.Default(time.Minute)
	for i := range c.ServerGroups {
		g := &c.ServerGroups[i]
		// CVP's defaults: ping every 30 s while up, 5 s while down.
		g.Heartbeat.UpInterval.Default(30 * time.Second)
		g.Heartbeat.DownInterval.Default(5 * time.Second)
		g.Heartbeat.Timeout.Default(2 * time.Second)
		if g.Heartbeat.Failures == 0 {
			g.Heartbeat.Failures = 3
		}
		for j := range g.Destinations {
			d := &g.Destinations[j]
			if d.Transport == "" {
				d.Transport = "udp"
			}
			d.Transport = strings.ToLower(d.Transport)
			if d.Priority == 0 {
				d.Priority = 1
			}
			if d.Weight == 0 {
				d.Weight = 1
			}
		}
	}
}

// Validate returns every problem of the sections, at their paths. It also
// compiles the trunks' networks (Trunk.Prefixes).
func (c *Config) Validate() []field.Error {
	var errs field.Errors
	seen := map[string]bool{}
	if len(c.SIP.Listen) == 0 {
		errs.Add("sip.listen", "at least one listener is needed")
	}
	if c.SIP.TCPIdleTimeout.D() < time.Second {
		errs.Add("sip.tcp_idle_timeout", "%s is too short (at least 1s)", c.SIP.TCPIdleTimeout.D())
	}
	for i, l := range c.SIP.Listen {
		p := fmt.Sprintf("sip.listen[%d]", i)
		switch l.Transport {
		case "udp", "tcp":
		case "tls":
			if l.Cert == "" || l.Key == "" {
				errs.Add(p+".cert", "tls needs cert and key files")
			} else {
				for _, f := range []string{l.Cert, l.Key} {
					if _, err := os.Stat(f); err != nil {
						errs.Add(p+".cert", "cannot read %s: %v", f, errors.Unwrap(err))
					}
				}
			}
		default:
			errs.Add(p+".transport", "unknown transport %q (want udp, tcp or tls)", l.Transport)
		}
		if _, _, err := field.HostPort(l.Address); err != nil {
			errs.Add(p+".address", "%v", err)
		}
	}
	if c.SIP.Host != "" && strings.ContainsAny(c.SIP.Host, " :;<>") && net.ParseIP(c.SIP.Host) == nil {
		errs.Add("sip.host", "%q is not a host name or IP address", c.SIP.Host)
	}
	for i, a := range c.SIP.AuthAlgorithms {
		if a != "MD5" && a != "SHA-256" {
			errs.Add(fmt.Sprintf("sip.auth_algorithms[%d]", i), "unknown algorithm %q (want MD5 or SHA-256)", a)
		}
	}
	for i := range c.Trunks {
		t := &c.Trunks[i]
		p := fmt.Sprintf("trunks[%d]", i)
		if t.Name == "" {
			errs.Add(p+".name", "a trunk needs a name")
		}
		if len(t.Networks) == 0 {
			errs.Add(p+".networks", "a trunk needs at least one network (CIDR or address)")
		}
		t.prefixes = t.prefixes[:0]
		for j, n := range t.Networks {
			pr, err := parsePrefix(n)
			if err != nil {
				errs.Add(fmt.Sprintf("%s.networks[%d]", p, j), "%v", err)
				continue
			}
			t.prefixes = append(t.prefixes, pr)
		}
	}
	for i, u := range c.Users {
		p := fmt.Sprintf("users[%d]", i)
		switch {
		case u.User == "":
			errs.Add(p+".user", "a user needs a name")
		case strings.ContainsAny(u.User, " @:;<>\""):
			errs.Add(p+".user", "%q has characters not allowed in a SIP user part", u.User)
		case seen["user "+u.User]:
			errs.Add(p+".user", "user %q is defined twice", u.User)
		}
		seen["user "+u.User] = true
		if u.Password == "" {
			errs.Add(p+".password", "user %q needs a password", u.User)
		}
	}
	r := c.Registrar
	if r.MinExpires > r.MaxExpires {
		errs.Add("registrar.min_expires", "%s is more than max_expires %s", r.MinExpires.D(), r.MaxExpires.D())
	}
	if r.DefaultExpires < r.MinExpires || r.DefaultExpires > r.MaxExpires {
		errs.Add("registrar.default_expires", "%s is outside [min_expires, max_expires]", r.DefaultExpires.D())
	}
	if r.MaxContacts < 1 {
		errs.Add("registrar.max_contacts", "must be at least 1")
	}
	groups := map[string]bool{}
	for i, g := range c.ServerGroups {
		p := fmt.Sprintf("server_groups[%d]", i)
		if g.Name == "" {
			errs.Add(p+".name", "a server group needs a name")
		} else if groups[g.Name] {
			errs.Add(p+".name", "server group %q is defined twice", g.Name)
		}
		groups[g.Name] = true
		if len(g.Destinations) == 0 {
			errs.Add(p+".destinations", "server group %q has no destinations", g.Name)
		}
		for j, d := range g.Destinations {
			dp := fmt.Sprintf("%s.destinations[%d]", p, j)
			if _, _, err := field.HostPort(d.Address); err != nil {
				errs.Add(dp+".address", "%v", err)
			}
			if d.Transport != "udp" && d.Transport != "tcp" {
				errs.Add(dp+".transport", "unknown transport %q (want udp or tcp)", d.Transport)
			}
			if d.Priority < 1 {
				errs.Add(dp+".priority", "must be 1 or more")
			}
			if d.Weight < 1 {
				errs.Add(dp+".weight", "must be 1 or more")
			}
		}
		h := g.Heartbeat
		if h.Failures < 1 {
			errs.Add(p+".heartbeat.failures", "must be 1 or more")
		}
		if h.UpInterval < field.Duration(100*time.Millisecond) || h.DownInterval < field.Duration(100*time.Millisecond) {
			errs.Add(p+".heartbeat", "intervals must be at least 100ms")
		}
	}
	for i, d := range c.DialPlan {
		p := fmt.Sprintf("dial_plan[%d]", i)
		if _, err := field.CompilePattern(d.Pattern); err != nil {
			errs.Add(p+".pattern", "%v", err)
		}
		switch {
		case d.ServerGroup != "" && d.Registered:
			errs.Add(p, "set server_group or registered, not both")
		case d.ServerGroup == "" && !d.Registered:
			errs.Add(p, "set server_group or registered: true")
		case d.ServerGroup != "" && !groups[d.ServerGroup]:
			errs.Add(p+".server_group", "unknown server group %q", d.ServerGroup)
		}
	}
	return errs
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR network", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR network", s)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

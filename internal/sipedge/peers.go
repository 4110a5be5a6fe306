package sipedge

import (
	"net"
	"net/netip"
)

// FromTrunk reports whether ip is in a trunk's networks as the tables are
// now: such a source may call the VoiceXML gateway or the bridge straight,
// without the call server's X-Tandem-Call-ID (mediaua.Config.Direct).
// The edge's own addresses are not trunks: a leg the call server dialed
// always carries the header.
func (e *Edge) FromTrunk(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && e.trunkOf(ip.String()) != ""
}

// Admits reports whether ip may send INVITEs to the roles behind the call
// server (the VoiceXML gateway, the conference bridge): one of the edge's
// own addresses, which the call server's legs leave from, or an address in
// a trunk's networks as the tables are now (reloads included). Anyone else
// reaching those ports directly would get media and VoiceXML sessions
// without passing the edge's admission.
func (e *Edge) Admits(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() {
		return false
	}
	if e.trunkOf(ip.String()) != "" {
		return true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.own {
		if a == ip {
			return true
		}
	}
	return false
}

// ownAddrsLocked lists the addresses the edge's sockets send from: each
// listener's IP, every interface address for a listener on an unspecified
// address (the kernel picks the source by route), and sip.host when it is
// an IP. e.mu is held.
func (e *Edge) ownAddrsLocked() []netip.Addr {
	var own []netip.Addr
	add := func(a netip.Addr) {
		a = a.Unmap()
		for _, o := range own {
			if o == a {
				return
			}
		}
		own = append(own, a)
	}
	wild := false
	for _, l := range e.listeners {
		ap, err := netip.ParseAddrPort(l.addr.String())
		if err != nil {
			continue
		}
		if ap.Addr().IsUnspecified() {
			wild = true
			continue
		}
		add(ap.Addr())
	}
	if wild {
		if ifas, err := net.InterfaceAddrs(); err == nil {
			for _, ifa := range ifas {
				if p, err := netip.ParsePrefix(ifa.String()); err == nil {
					add(p.Addr())
				}
			}
		} else {
			e.log.Warn("cannot list the host's addresses: the VoiceXML gateway and the bridge admit only trunks and sip.host", "error", err)
		}
	}
	if h, err := netip.ParseAddr(e.cfg.SIP.Host); err == nil {
		add(h)
	}
	return own
}

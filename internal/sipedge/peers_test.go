package sipedge

import (
	"net/netip"
	"testing"
)

// TestAdmits: the roles behind the call server admit the edge's own
// addresses and the trunks as the tables are now.
func TestAdmits(t *testing.T) {
	e := newTestEdge(t, reloadBefore) // udp 127.0.0.1:0, trunk gw 10.0.0.0/8
	if err := e.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.mu.Lock()
		e.closeListenersLocked()
		e.mu.Unlock()
	})
	check := func(when string, want map[string]bool) {
		t.Helper()
		for a, w := range want {
			if got := e.Admits(netip.MustParseAddr(a)); got != w {
				t.Errorf("%s: Admits(%s) = %v, want %v", when, a, got, w)
			}
		}
	}
	check("before reload", map[string]bool{
		"127.0.0.1":        true, // the listener's address
		"::ffff:127.0.0.1": true, // the same, mapped
		"10.2.3.4":         true, // trunk gw
		"127.0.0.2":        false,
		"192.168.1.1":      false,
		"203.0.113.9":      false,
	})
	if e.Admits(netip.Addr{}) {
		t.Error("the zero address (a source that did not parse) admitted")
	}
	if err := e.Reload(parseCfg(t, reloadAfter)); err != nil { // gw 192.168.0.0/16, new 10.1.0.0/16
		t.Fatal(err)
	}
	check("after reload", map[string]bool{
		"127.0.0.1":   true,
		"10.2.3.4":    false,
		"10.1.0.9":    true,
		"192.168.1.1": true,
	})
}

// TestFromTrunk: only a trunk's addresses may call the roles behind the
// call server without its call id; the edge's own are not trunks.
func TestFromTrunk(t *testing.T) {
	e := newTestEdge(t, reloadBefore) // trunk gw 10.0.0.0/8
	for a, want := range map[string]bool{"10.2.3.4": true, "::ffff:10.2.3.4": true, "127.0.0.1": false, "203.0.113.9": false} {
		if got := e.FromTrunk(netip.MustParseAddr(a)); got != want {
			t.Errorf("FromTrunk(%s) = %v, want %v", a, got, want)
		}
	}
	if e.FromTrunk(netip.Addr{}) {
		t.Error("the zero address is no trunk")
	}
}

package mediaua

import (
	"net/netip"
	"sync"
	"testing"
	"time"
)

// TestSources: an INVITE from a source Config.Sources does not admit is
// refused with 403 before the role sees it; an admitted source goes on to
// Route (404 for a user nobody serves). Sources sees the real source.
func TestSources(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	for _, tc := range []struct {
		name, user, code string
		admit            netip.Addr
	}{
		{"not the call server", "app", "403", netip.MustParseAddr("127.0.0.2")},
		{"the call server", "nobody", "404", lo},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex // guards seen: Sources runs on sipgo's goroutines
			var seen []netip.Addr
			u, rec := startUA(t, nil, func(c *Config) {
				c.Sources = func(a netip.Addr) bool {
					mu.Lock()
					seen = append(seen, a)
					mu.Unlock()
					return a == tc.admit
				}
			})
			if !runSIPp(t, u.Addr(), tc.user, "uac-expect.xml", "CODE", tc.code, "PROTO", "RTP/AVP", "PT", "0", "CODEC", "PCMU") {
				t.Fatalf("no %s", tc.code)
			}
			waitFor(t, 10*time.Second, "no dialog", func() bool { return u.Active() == 0 })
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.calls) != 0 || len(rec.ends) != 0 {
				t.Errorf("a refused INVITE reached the role: sessions %q, ends %q", rec.calls, rec.ends)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(seen) == 0 || seen[0] != lo {
				t.Errorf("Sources saw %v, want the caller's address %s", seen, lo)
			}
		})
	}
}

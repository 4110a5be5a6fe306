package sipedge

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/config/field"
)

// Target is one place to send an outbound INVITE for a label.
type Target struct {
	// URI is the Request-URI: the label at the destination.
	URI sip.Uri
	// Addr is the host:port the INVITE is sent to, over Transport.
	Addr      string
	Transport string
	// Group names the server group the destination belongs to, or is empty
	// for a registered contact.
	Group string
	dest  *destination
}

func (t Target) String() string { return t.URI.String() + " via " + t.Transport + ":" + t.Addr }

type dialRule struct {
	pat        *field.Pattern
	group      *serverGroup
	registered bool
}

// dialPlan turns labels into targets. Read-only after construction apart
// from the destinations' health, which each destination guards itself; a
// reload builds a new one (tables) instead of changing it.
type dialPlan struct {
	rules  []dialRule // most specific first
	groups map[string]*serverGroup
	reg    *registrar
}

func newDialPlan(cfg *Config, reg *registrar) (*dialPlan, error) {
	dp := &dialPlan{groups: map[string]*serverGroup{}, reg: reg}
	for _, g := range cfg.ServerGroups {
		sg := &serverGroup{name: g.Name, hb: g.Heartbeat}
		for _, d := range g.Destinations {
			dest := &destination{addr: d.Address, transport: d.Transport, priority: d.Priority, weight: d.Weight, up: true}
			if !g.Heartbeat.On() {
				dest.retryAfter = g.Heartbeat.DownInterval.D()
			}
			sg.dests = append(sg.dests, dest)
		}
		dp.groups[g.Name] = sg
	}
	for i, r := range cfg.DialPlan {
		p, err := field.CompilePattern(r.Pattern)
		if err != nil {
			return nil, fmt.Errorf("sipedge: dial_plan[%d]: %w", i, err)
		}
		dp.rules = append(dp.rules, dialRule{pat: p, group: dp.groups[r.ServerGroup], registered: r.Registered})
	}
	sort.SliceStable(dp.rules, func(i, j int) bool { return dp.rules[i].pat.Specificity() > dp.rules[j].pat.Specificity() })
	return dp, nil
}

// resolve returns the targets for label in the order to try them.
func (dp *dialPlan) resolve(label string) ([]Target, error) {
	for _, r := range dp.rules {
		if !r.pat.Match(label) {
			continue
		}
		if r.registered {
			bs := dp.reg.lookup(label)
			if len(bs) == 0 {
				return nil, fmt.Errorf("%w: %s", ErrNotRegistered, label)
			}
			out := make([]Target, 0, len(bs))
			for _, b := range bs {
				u := *b.Contact.Clone()
				// Over UDP the phone is reached at its Contact (RFC 3261
				// §10.3); over TCP/TLS through the connection it registered
				// on, which is the only way back to a phone behind NAT.
				addr := u.HostPort()
				if u.Port == 0 {
					addr = fmt.Sprintf("%s:%d", u.Host, 5060)
				}
				tr := "udp"
				if t, ok := u.UriParams.Get("transport"); ok {
					tr = strings.ToLower(t)
				}
				if b.Transport != "UDP" && b.Transport != "" {
					addr, tr = b.Source, strings.ToLower(b.Transport)
				}
				out = append(out, Target{URI: u, Addr: addr, Transport: tr})
			}
			return out, nil
		}
		return r.group.targets(label)
	}
	return nil, fmt.Errorf("%w for %q", ErrNoRoute, label)
}

// serverGroup is CVP's SIP server group: destinations tried by priority,
// shared by weight among equal priority, skipped while marked down.
type serverGroup struct {
	name  string
	hb    Heartbeat
	dests []*destination
}

type destination struct {
	addr      string
	transport string
	priority  int
	weight    int

	// retryAfter, when set, lets a destination marked down by failed calls
	// be tried again once it has been down this long: without heartbeats
	// nothing else would ever bring it back.
	retryAfter time.Duration

	mu        sync.Mutex // guards up, failures and downSince
	up        bool
	failures  int
	downSince time.Time
}

func (d *destination) isUp() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.up && d.retryAfter > 0 && time.Since(d.downSince) >= d.retryAfter {
		// Half open: the next call tries it; a success marks it up, a
		// failure starts the wait again.
		d.downSince = time.Now()
		return true
	}
	return d.up
}

// result records a heartbeat or call outcome; it returns true when the
// destination changed state.
func (d *destination) result(ok bool, failuresToDown int) (changed bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ok {
		d.failures = 0
		changed = !d.up
		d.up = true
		return changed
	}
	d.failures++
	if d.up && d.failures >= failuresToDown {
		d.up = false
		d.downSince = time.Now()
		return true
	}
	return false
}

func (g *serverGroup) targets(label string) ([]Target, error) {
	byPrio := map[int][]*destination{}
	var prios []int
	for _, d := range g.dests {
		if !d.isUp() {
			continue
		}
		if _, ok := byPrio[d.priority]; !ok {
			prios = append(prios, d.priority)
		}
		byPrio[d.priority] = append(byPrio[d.priority], d)
	}
	if len(prios) == 0 {
		return nil, fmt.Errorf("%w: server group %s", ErrAllDown, g.name)
	}
	sort.Ints(prios)
	out := make([]Target, 0, len(g.dests))
	for _, p := range prios {
		for _, d := range weightedOrder(byPrio[p]) {
			host, port, _ := sip.ParseAddr(d.addr)
			u := sip.Uri{Scheme: "sip", User: label, Host: host, Port: port}
			if d.transport != "udp" {
				u.UriParams = sip.NewParams()
				u.UriParams.Add("transport", d.transport)
			}
			out = append(out, Target{URI: u, Addr: d.addr, Transport: d.transport, Group: g.name, dest: d})
		}
	}
	return out, nil
}

// weightedOrder returns ds in a random order where each destination's chance
// to come first is proportional to its weight.
func weightedOrder(ds []*destination) []*destination {
	if len(ds) < 2 {
		return ds
	}
	rest := append([]*destination(nil), ds...)
	out := make([]*destination, 0, len(ds))
	for len(rest) > 0 {
		total := 0
		for _, d := range rest {
			total += d.weight
		}
		n := rand.IntN(total)
		for i, d := range rest {
			if n < d.weight {
				out = append(out, d)
				rest = append(rest[:i], rest[i+1:]...)
				break
			}
			n -= d.weight
		}
	}
	return out
}

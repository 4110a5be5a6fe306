package sipedge

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/tandem-cc/tandem/internal/config/field"
)

// tables are what Reload replaces: everything the edge reads from the
// trunks, users, server_groups and dial_plan sections. A request loads the
// pointer once (Edge.tables) and works on that snapshot, so it never sees
// half a change and no lock is held while it does network I/O. A table
// once published is never written; only the destinations' health (which
// each destination guards) changes in place.
type tables struct {
	trunks []trunk
	users  map[string]string
	dp     *dialPlan
}

type trunk struct {
	name     string
	networks []string
	prefixes []netip.Prefix
}

// TrunkInfo is a trunk as the edge currently trusts it.
type TrunkInfo struct {
	Name     string
	Networks []string
}

// buildTables makes the tables of cfg's SIP sections. The destinations of
// old (nil at start) that survive, by group and address, hand their health
// to their successors, so a reload neither revives a dead destination nor
// kills a live one.
func buildTables(cfg *Config, reg *registrar, old *tables) (*tables, error) {
	t := &tables{users: make(map[string]string, len(cfg.Users))}
	for i, tr := range cfg.Trunks {
		// Prefixes are compiled by Validate; a trunk with none was not
		// validated, and would silently trust nobody.
		if len(tr.Prefixes()) != len(tr.Networks) {
			return nil, fmt.Errorf("sipedge: trunks[%d] (%s): networks not validated", i, tr.Name)
		}
		t.trunks = append(t.trunks, trunk{name: tr.Name, networks: slices.Clone(tr.Networks), prefixes: slices.Clone(tr.Prefixes())})
	}
	for _, u := range cfg.Users {
		t.users[u.User] = u.Password
	}
	dp, err := newDialPlan(cfg, reg)
	if err != nil {
		return nil, err
	}
	t.dp = dp
	if old != nil {
		for _, g := range dp.groups {
			for _, d := range g.dests {
				if prev := old.dp.find(g.name, d.addr); len(prev) > 0 {
					d.inherit(prev[0])
				}
			}
		}
	}
	return t, nil
}

// find returns the destinations of group at addr (normally one).
func (dp *dialPlan) find(group, addr string) []*destination {
	g := dp.groups[group]
	if g == nil {
		return nil
	}
	var out []*destination
	for _, d := range g.dests {
		if d.addr == addr {
			out = append(out, d)
		}
	}
	return out
}

// inherit takes prev's health: up or down, the failures counted and since
// when it is down.
func (d *destination) inherit(prev *destination) {
	prev.mu.Lock()
	up, failures, since := prev.up, prev.failures, prev.downSince
	prev.mu.Unlock()
	d.mu.Lock()
	d.up, d.failures, d.downSince = up, failures, since
	d.mu.Unlock()
}

func (e *Edge) tables() *tables { return e.tab.Load() }

// password is the authenticator's lookup in the current tables.
func (e *Edge) password(user string) (string, bool) {
	p, ok := e.tables().users[user]
	return p, ok
}

// hasUser reports whether user is among the current credentials.
func (e *Edge) hasUser(user string) bool {
	_, ok := e.password(user)
	return ok
}

// Reload replaces the trunks, users, server groups and dial plan with
// cfg's, at once: the new tables are built and checked first, then one
// pointer swap publishes them, so a request sees either the old set or the
// new one. Nothing changes when it returns an error.
//
// Kept: the health of each destination whose group and address survive;
// registrations of users that survive; calls in progress (the call server
// holds their resolved targets). Dropped: the registrations of removed
// users. Heartbeats start for new destinations and stop for removed ones.
//
// Not reloadable: sip (listeners, host, realm, algorithms) and registrar
// settings, which the edge keeps from New; changing them needs a restart.
func (e *Edge) Reload(cfg *Config) error {
	if cfg == nil {
		return errors.New("sipedge: reload: no configuration")
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		return fmt.Errorf("sipedge: reload: %w", errors.Join(fieldErrors(errs)...))
	}
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	old := e.tables()
	t, err := buildTables(cfg, e.reg, old)
	if err != nil {
		return fmt.Errorf("sipedge: reload: %w", err)
	}
	e.tab.Store(t)
	// After the swap, so that a REGISTER admitted on the old users either
	// lands before this and is dropped, or is caught by onRegister's
	// second look at the users.
	var dropped []string
	for u := range old.users {
		if _, ok := t.users[u]; !ok {
			if e.reg.drop(u) {
				dropped = append(dropped, u)
			}
		}
	}
	e.syncDestMetrics(old, t)
	e.reconcileHeartbeats()
	e.log.Info("sip configuration reloaded", "trunks", len(t.trunks), "users", len(t.users),
		"server_groups", len(t.dp.groups), "dial_rules", len(t.dp.rules), "registrations_dropped", dropped)
	return nil
}

func fieldErrors(fe []field.Error) []error { return field.Join(fe) }

// syncDestMetrics forgets the gauges of removed destinations and sets
// those of the current ones.
func (e *Edge) syncDestMetrics(old, cur *tables) {
	if old != nil {
		for _, g := range old.dp.groups {
			for _, d := range g.dests {
				if len(cur.dp.find(g.name, d.addr)) == 0 {
					e.mDestsUp.DeleteLabelValues(g.name, d.addr)
				}
			}
		}
	}
	e.setDestMetrics(cur)
}

func (e *Edge) setDestMetrics(t *tables) {
	for _, g := range t.dp.groups {
		for _, d := range g.dests {
			e.setDestUp(g.name, d.addr, d.state())
		}
	}
}

func (e *Edge) setDestUp(group, addr string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	e.mDestsUp.WithLabelValues(group, addr).Set(v)
}

// state reads up without half-opening (isUp may).
func (d *destination) state() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.up
}

// Trunks returns the trunks as the edge currently trusts them, in
// configured order.
func (e *Edge) Trunks() []TrunkInfo {
	t := e.tables()
	out := make([]TrunkInfo, 0, len(t.trunks))
	for _, tr := range t.trunks {
		out = append(out, TrunkInfo{Name: tr.name, Networks: slices.Clone(tr.networks)})
	}
	return out
}

// drop removes every binding of aor; it reports whether there were any.
func (r *registrar) drop(aor string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.aors[aor]
	delete(r.aors, aor)
	return ok
}

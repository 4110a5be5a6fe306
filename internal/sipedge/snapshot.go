package sipedge

import (
	"slices"
	"strings"
	"time"
)

// DestinationHealth is one server-group destination as the OPTIONS
// heartbeats (and call outcomes) left it.
type DestinationHealth struct {
	Address   string
	Transport string
	Priority  int
	Weight    int
	Up        bool
	// DownSince is when it was marked down (zero while up).
	DownSince time.Time
}

// GroupHealth is one server group's destinations, in configured order.
type GroupHealth struct {
	Name         string
	Heartbeat    bool // OPTIONS pings on; without them only calls mark a destination
	Destinations []DestinationHealth
}

// Registration is one live registered contact.
type Registration struct {
	Extension string
	Contact   string
	Source    string
	Transport string
	Expires   time.Time
}

// ServerGroups returns every server group's destination states, in name
// order, for monitoring. It reads the state as is: unlike Resolve it does
// not half-open a destination whose retry time has come.
func (e *Edge) ServerGroups() []GroupHealth {
	dp := e.tables().dp
	out := make([]GroupHealth, 0, len(dp.groups))
	for _, g := range dp.groups {
		gh := GroupHealth{Name: g.name, Heartbeat: g.hb.On()}
		for _, d := range g.dests {
			d.mu.Lock()
			gh.Destinations = append(gh.Destinations, DestinationHealth{Address: d.addr, Transport: d.transport,
				Priority: d.priority, Weight: d.weight, Up: d.up, DownSince: d.downSince})
			d.mu.Unlock()
		}
		out = append(out, gh)
	}
	slices.SortFunc(out, func(a, b GroupHealth) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Registrations returns every live registered contact, by extension.
func (e *Edge) Registrations() []Registration {
	r := e.reg
	now := r.now()
	r.mu.Lock()
	var out []Registration
	for aor := range r.aors {
		for _, b := range r.live(aor, now) {
			out = append(out, Registration{Extension: aor, Contact: b.Contact.String(), Source: b.Source, Transport: b.Transport, Expires: b.Expires})
		}
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b Registration) int {
		if c := strings.Compare(a.Extension, b.Extension); c != 0 {
			return c
		}
		return strings.Compare(a.Contact, b.Contact)
	})
	return out
}

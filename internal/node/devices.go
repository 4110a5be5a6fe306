package node

import (
	"errors"
	"fmt"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/sipedge"
)

// Devices answers CTI's questions about agents' phones from the SIP edge:
// the registrar's users are the contact center's phones, and an extension
// can ring when the dial plan resolves it the way an offer to the agent
// would be routed (a live registration, or a server group with a
// destination up).
type Devices struct {
	Edge *sipedge.Edge
	// Extensions are cti.extensions, compiled: more phones where agents
	// may log in (behind a PBX).
	Extensions []*config.Pattern
}

var _ cti.Devices = (*Devices)(nil)

// NewDevices compiles cfg's cti.extensions (Validate has checked them).
func NewDevices(edge *sipedge.Edge, cfg *config.Config) (*Devices, error) {
	d := &Devices{Edge: edge}
	for i, s := range cfg.CTI.Extensions {
		p, err := config.CompilePattern(s)
		if err != nil {
			return nil, fmt.Errorf("cti.extensions[%d]: %q: %w", i, s, err)
		}
		d.Extensions = append(d.Extensions, p)
	}
	return d, nil
}

// Permitted: a SIP user of the edge, or within cti.extensions.
func (d *Devices) Permitted(ext string) bool {
	if d.Edge.IsUser(ext) {
		return true
	}
	for _, p := range d.Extensions {
		if p.Match(ext) {
			return true
		}
	}
	return false
}

// Reachable resolves ext as the call server will when it offers a call.
func (d *Devices) Reachable(ext string) error {
	if ext == "" {
		return errors.New("the agent has no extension")
	}
	_, err := d.Edge.Resolve(ext)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sipedge.ErrNotRegistered):
		return fmt.Errorf("extension %s has no registered phone", ext)
	case errors.Is(err, sipedge.ErrNoRoute):
		return fmt.Errorf("extension %s has no route in the dial plan", ext)
	case errors.Is(err, sipedge.ErrAllDown):
		return fmt.Errorf("extension %s: every destination of its server group is down", ext)
	}
	return fmt.Errorf("extension %s cannot be reached: %w", ext, err)
}

package cti

import (
	"fmt"

	"github.com/tandem-cc/tandem/internal/router"
)

// Devices is what CTI asks about the phones agents work at. In tandem serve
// it is the SIP edge's registrar and dial plan (internal/node wires it);
// CTI never reaches into the edge itself.
type Devices interface {
	// Permitted reports whether any agent may log in at extension besides
	// the one the router's configuration gives it: a phone of this contact
	// center (a user of the SIP registrar) or one within the configured
	// extension ranges (cti.extensions, for phones behind a PBX).
	Permitted(extension string) bool
	// Reachable returns nil when a call to extension can ring a phone now,
	// or an error that says why not ("extension 1001 has no registered
	// phone").
	Reachable(extension string) error
}

// maxExtension bounds an extension's length; a dial-plan label is short.
const maxExtension = 64

// checkExtension decides where agent id may log in: its configured
// extension (what an empty request means), or a device Permitted for every
// agent (hot desking). Anything else — a dialed number, a conference room,
// a SIP URI elsewhere — would let an agent divert customers' calls or run
// up toll charges, and is refused (403) with the reason.
func (s *Server) checkExtension(id router.AgentID, ext string) (string, error) {
	configured := ""
	if st, err := s.eng.Agent(id); err == nil {
		// Logged out, the router reports the configured extension;
		// logged in, the one in use, which passed this check.
		configured = st.Extension
	}
	if ext == "" || ext == configured {
		return configured, nil
	}
	if len(ext) <= maxExtension && s.devices.Permitted(ext) {
		return ext, nil
	}
	if configured == "" {
		return "", fmt.Errorf("cti: login %s: extension %q is not a phone of this contact center (neither a SIP user nor within cti.extensions): %w", id, ext, ErrForbidden)
	}
	return "", fmt.Errorf("cti: login %s: extension %q is not a phone of this contact center (neither a SIP user nor within cti.extensions); log in at your own extension %s: %w", id, ext, configured, ErrForbidden)
}

// checkReachable refuses ready to an agent whose extension cannot ring: its
// every call would end in ring-no-answer.
func (s *Server) checkReachable(id router.AgentID) error {
	st, err := s.eng.Agent(id)
	if err != nil {
		return err
	}
	if err := s.devices.Reachable(st.Extension); err != nil {
		return fmt.Errorf("cti: agent %s cannot be ready: %w: %w", id, err, ErrConflict)
	}
	return nil
}

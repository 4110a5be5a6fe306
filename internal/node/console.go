package node

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/tandem-cc/tandem/internal/console"
	"github.com/tandem-cc/tandem/internal/report"
)

// buildConsole makes the web console (with the router: its pages
// configure and watch the router's contact center) and opens its
// listener. console.listen "off" leaves it out.
func (n *Node) buildConsole(rc *RouterConfig) error {
	cc := n.cfg.Console
	if cc.Listen == "off" || n.Engine == nil || n.CTI == nil {
		return nil
	}
	deps := console.Deps{Log: n.log, RouterConfig: rc, Live: n.Engine, CTI: n.CTI, Health: n.health}
	if n.SIP != nil {
		deps.SIPConfig = n.SIP
	}
	if n.control != nil {
		deps.Calls = n.control // the live view's clear call
	}
	if n.Reports != nil {
		// The same reporting API as on the CTI listener, reached through
		// the console's session (admins and supervisors).
		deps.Reports = report.Handler(n.Reports, report.Options{Live: n.liveFigures, Authorize: consoleReports(n.CTI), Log: n.log})
	}
	var err error
	if cc.MediaDir == "" {
		cc.MediaDir = filepath.Join(n.cfg.DataDir, "media")
	}
	n.Console, err = console.New(cc, deps)
	if err != nil {
		return err
	}
	if n.consoleLn, err = net.Listen("tcp", cc.Listen); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	return nil
}

// consoleReports admits what the console passes on to the reporting API:
// the console has already checked the session's role; a supervisor's
// request carries its CTI token and is checked as on the CTI listener (a
// CTI session ended ends its reports too); an admin has no CTI identity
// and is admitted on the console's word, which only the console can give
// (a context value, see console.PrincipalOf).
func consoleReports(sups Supervisors) func(*http.Request) error {
	sup := supervisorOnly(sups)
	return func(r *http.Request) error {
		p, ok := console.PrincipalOf(r.Context())
		switch {
		case !ok:
			return errors.New("report: not passed on by the console")
		case p.Role == console.RoleAdmin:
			return nil
		case p.Role == console.RoleSupervisor:
			return sup(r)
		}
		return fmt.Errorf("report: console role %s may not read reports", p.Role)
	}
}

// ConsoleAddr is the console's address, or "".
func (n *Node) ConsoleAddr() string {
	if n.consoleLn == nil {
		return ""
	}
	return n.consoleLn.Addr().String()
}

// health is the console's health page: the roles of this process, the SIP
// edge's peers and the calls in progress.
func (n *Node) health() console.Health {
	h := console.Health{Started: n.started, ActiveCalls: n.Calls.Active()}
	sip := ""
	for _, l := range n.cfg.SIP.Listen {
		sip += l.Transport + ":" + n.Edge.Addr(l.Transport) + " "
	}
	h.Roles = append(h.Roles, console.RoleHealth{Name: "SIP edge", Up: true, Addr: sip},
		console.RoleHealth{Name: "call server", Up: true, Detail: fmt.Sprintf("%d calls", h.ActiveCalls)})
	gw := console.RoleHealth{Name: "VoiceXML gateway"}
	if n.Gateway != nil {
		h.GatewaySessions = n.Gateway.Active()
		gw.Up, gw.Addr, gw.Detail = true, n.Gateway.Addr(), fmt.Sprintf("%d sessions", h.GatewaySessions)
	}
	h.Roles = append(h.Roles, gw,
		console.RoleHealth{Name: "router", Up: n.Engine != nil},
		console.RoleHealth{Name: "CTI", Up: n.CTI != nil, Addr: n.CTIAddr()},
		console.RoleHealth{Name: "IVR service", Up: n.IVR != nil, Addr: addrOf(n.ivrLn)},
		console.RoleHealth{Name: "reporting", Up: n.Reports != nil, Detail: n.cfg.Report.Driver},
		console.RoleHealth{Name: "metrics", Up: n.metricLn != nil, Addr: n.MetricsAddr()},
		console.RoleHealth{Name: "console", Up: n.consoleLn != nil, Addr: n.ConsoleAddr()})
	h.ServerGroups = n.Edge.ServerGroups()
	h.Registrations = n.Edge.Registrations()
	for _, t := range n.Edge.Trunks() { // as reloaded, not as the file has them
		h.Trunks = append(h.Trunks, console.Trunk{Name: t.Name, Networks: t.Networks})
	}
	return h
}

func addrOf(l net.Listener) string {
	if l == nil {
		return ""
	}
	return l.Addr().String()
}

// startedNow stamps the node's start for the health page.
func startedNow() time.Time { return time.Now().UTC() }

// Package field holds what every section of tandem's configuration is made
// of: the value types read from YAML (Duration, a dial-plan Pattern), the
// checks of an address, and Error, one problem at a field's path. Each
// role's section (callserver.Config, gateway.Config, cti.Config...) is
// built from these and validated beside its role; package config composes
// the sections into one file, places each problem at its line, and checks
// what spans sections.
//
// It imports no role, so every role may import it.
package field

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// Error is one problem of a configuration: the field's dotted path
// (call_server.ring_timeout, sip.listen[0].transport) and what is wrong.
type Error struct {
	Path string
	Msg  string
	// Line is the problem's line in the file when the check placed it;
	// 0 lets the loader find it from Path.
	Line int
}

func (e Error) Error() string { return e.Path + ": " + e.Msg }

// Errors collects a section's problems, every one rather than the first,
// so one run names everything wrong.
type Errors []Error

// Add records a problem at path.
func (e *Errors) Add(path, format string, a ...any) {
	*e = append(*e, Error{Path: path, Msg: fmt.Sprintf(format, a...)})
}

// Duration is a time.Duration read from YAML as "30s" or "5m", or a bare
// number of seconds.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalYAML reads "1m30s" style durations, or a bare number of seconds.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration such as 30s", n.Line)
	}
	if secs, err := strconv.Atoi(n.Value); err == nil {
		*d = Duration(time.Duration(secs) * time.Second)
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: bad duration %q (want e.g. 30s, 5m)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as text.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Default sets *d to v when it is zero: a named default, filled in the
// section's Fill.
func (d *Duration) Default(v time.Duration) {
	if *d == 0 {
		*d = Duration(v)
	}
}

// HostPort splits a host:port address and checks the port.
func HostPort(s string) (string, int, error) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not host:port", s)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q has a bad port", s)
	}
	return h, port, nil
}

// SRTPPolicy says whether s spells an SRTP policy ("" is optional).
func SRTPPolicy(s string) bool {
	return s == "" || s == "optional" || s == "required" || s == "off"
}

// Join returns errs as errors, for errors.Join: a role's New refuses a
// section that does not validate with every problem named.
func Join(errs []Error) []error {
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return out
}

package callserver

import (
	"fmt"
	"time"

	"github.com/tandem-cc/tandem/internal/config/field"
)

// Config is the call_server section of tandem's configuration: the
// B2BUA's limits and timers.
//
//	call_server:
//	  max_calls: 10000
//	  ring_timeout: 30s
//	  session_expires: 30m
type Config struct {
	// MaxCalls is the limit of concurrent calls; past it new INVITEs get 503.
	MaxCalls int `yaml:"max_calls"`
	// RetryAfter is the Retry-After given with those 503s.
	RetryAfter field.Duration `yaml:"retry_after"`
	// RingTimeout is how long a label may ring before the next is tried.
	RingTimeout field.Duration `yaml:"ring_timeout"`
	// DrainTimeout is how long a stopping server lets calls finish.
	DrainTimeout field.Duration `yaml:"drain_timeout"`
	// MaxCallDuration ends an answered call that exceeds it (a guard
	// against legs whose BYE was lost; 0 keeps calls up for ever).
	MaxCallDuration field.Duration `yaml:"max_call_duration"`
	// ConferenceLabel is the label a conference room is dialed at: the
	// call's id is appended, and the dial plan must lead it to a
	// conference bridge (default "conf-", the bridge's room URI scheme).
	ConferenceLabel string `yaml:"conference_label"`
	// SessionExpires is the session interval tandem asks for on each leg
	// (RFC 4028): a leg not refreshed within it is released, so a peer
	// that vanished without a BYE is found (default 30m). tandem refreshes
	// at half the interval when it is the refresher.
	SessionExpires field.Duration `yaml:"session_expires"`
	// MinSE is the shortest session interval tandem accepts; a request
	// offering less gets 422 with this Min-SE (default and floor 90s,
	// RFC 4028 §5).
	MinSE field.Duration `yaml:"min_se"`
}

// Fill puts the named defaults in every field left empty.
func (c *Config) Fill() {
	if c.ConferenceLabel == "" {
		c.ConferenceLabel = "conf-"
	}
	if c.MaxCalls == 0 {
		c.MaxCalls = 10000
	}
	c.RetryAfter.Default(30 * time.Second)
	c.RingTimeout.Default(30 * time.Second)
	c.DrainTimeout.Default(30 * time.Second)
	// RFC 4028 §4 recommends 30 minutes; 90 s is its floor for Min-SE.
	c.SessionExpires.Default(30 * time.Minute)
	c.MinSE.Default(90 * time.Second)
}

// Validate returns every problem of the section, at its path.
func (c Config) Validate() []field.Error {
	var errs field.Errors
	if c.MaxCalls < 1 {
		errs.Add("call_server.max_calls", "must be 1 or more")
	}
	if c.RingTimeout < field.Duration(time.Second) {
		errs.Add("call_server.ring_timeout", "must be at least 1s")
	}
	if c.MinSE < field.Duration(90*time.Second) {
		errs.Add("call_server.min_se", "must be at least 90s (RFC 4028 §5)")
	}
	if c.SessionExpires < c.MinSE {
		errs.Add("call_server.session_expires", "%v is less than call_server.min_se (%v)", c.SessionExpires.D(), c.MinSE.D())
	}
	if c.RetryAfter < 0 || c.DrainTimeout < 0 || c.MaxCallDuration < 0 {
		errs.Add("call_server", "retry_after, drain_timeout and max_call_duration must not be negative")
	}
	return errs
}

// Routing is the routing section: how the call server decides where a new
// call goes when there is no router section (StaticRouter).
type Routing struct {
	Static []StaticRoute `yaml:"static"`
}

// StaticRoute sends a dialed number (DNIS) to labels, tried in order.
type StaticRoute struct {
	DNIS   string   `yaml:"dnis"`
	Labels []string `yaml:"labels"`
}

// Validate returns every problem of the section, at its path. Whether the
// dial plan can reach each label is config's check: it spans sections.
func (r Routing) Validate() []field.Error {
	var errs field.Errors
	dnis := map[string]bool{}
	for i, s := range r.Static {
		p := fmt.Sprintf("routing.static[%d]", i)
		if s.DNIS == "" {
			errs.Add(p+".dnis", "a route needs a dialed number")
		} else if dnis[s.DNIS] {
			errs.Add(p+".dnis", "dialed number %q is routed twice", s.DNIS)
		}
		dnis[s.DNIS] = true
		if len(s.Labels) == 0 {
			errs.Add(p+".labels", "a route needs at least one label")
		}
	}
	return errs
}

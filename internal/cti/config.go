package cti

import (
	"errors"
	"fmt"
	"time"

	"github.com/tandem-cc/tandem/internal/config/field"
	"github.com/tandem-cc/tandem/internal/router"
)

// Config is the cti section of tandem's configuration: the agent and
// supervisor API (HTTP + WebSocket), which runs when the file has a router
// section.
//
//	cti:
//	  listen: 127.0.0.1:8080
//	  supervisors:
//	    - {id: sue, password: secret}
//	  extensions: ["2XXX"]
type Config struct {
	// Listen is the API's host:port (default 127.0.0.1:8080).
	Listen string `yaml:"listen"`
	// Supervisors may list agents and queues and force agents' states.
	Supervisors []Supervisor `yaml:"supervisors"`
	// Extensions are dial-plan patterns of the phones any agent may log
	// in at besides its configured extension and the registrar's users
	// (phones behind a PBX, reached through a server group). Empty: only
	// those two.
	Extensions []string `yaml:"extensions"`
	// TokenTTL is how long a token from a login stays valid. Default 12h:
	// one shift, so a desktop does not have to log in again mid-shift.
	TokenTTL field.Duration `yaml:"token_ttl"`
	// SendQueue is how many events may wait for one WebSocket before the
	// client is judged too slow and disconnected. Default 256: a burst of
	// every agent changing state at a supervisor's screen, with room.
	SendQueue int `yaml:"send_queue"`
	// WriteTimeout bounds one event's write to a WebSocket. Default 10s.
	WriteTimeout field.Duration `yaml:"write_timeout"`
	// OriginPatterns are the host patterns a browser desktop may connect
	// from across origins (coder/websocket's AcceptOptions.OriginPatterns);
	// empty allows only same-origin browsers.
	OriginPatterns []string `yaml:"origin_patterns"`
}

// Supervisor is one supervisor credential.
type Supervisor struct {
	ID       string `yaml:"id"`
	Password string `yaml:"password"`
}

// Defaults, with the reasons beside the fields above.
const (
	DefaultListen       = "127.0.0.1:8080"
	DefaultTokenTTL     = 12 * time.Hour
	DefaultSendQueue    = 256
	DefaultWriteTimeout = 10 * time.Second
)

// Fill puts the named defaults in every field left empty.
func (c *Config) Fill() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	c.TokenTTL.Default(DefaultTokenTTL)
	if c.SendQueue == 0 {
		c.SendQueue = DefaultSendQueue
	}
	c.WriteTimeout.Default(DefaultWriteTimeout)
}

// Validate returns every problem of the section, at its path. An empty
// Listen passes: a server built in process (the tests) has no listener.
func (c Config) Validate() []field.Error {
	var errs field.Errors
	if c.Listen != "" {
		if _, _, err := field.HostPort(c.Listen); err != nil {
			errs.Add("cti.listen", "%v", err)
		}
	}
	seen := map[string]bool{}
	for i, s := range c.Supervisors {
		p := fmt.Sprintf("cti.supervisors[%d]", i)
		switch {
		case s.ID == "" || s.Password == "":
			errs.Add(p, "a supervisor needs an id and a password")
		case seen[s.ID]:
			errs.Add(p+".id", "supervisor %q is defined twice", s.ID)
		}
		seen[s.ID] = true
	}
	for i, p := range c.Extensions {
		if _, err := field.CompilePattern(p); err != nil {
			errs.Add(fmt.Sprintf("cti.extensions[%d]", i), "%q: %v", p, err)
		}
	}
	if c.TokenTTL < 0 {
		errs.Add("cti.token_ttl", "%s is negative", c.TokenTTL.D())
	}
	if c.SendQueue < 0 {
		errs.Add("cti.send_queue", "%d is negative", c.SendQueue)
	}
	if c.WriteTimeout < 0 {
		errs.Add("cti.write_timeout", "%s is negative", c.WriteTimeout.D())
	}
	return errs
}

// validate is Validate as New's error.
func (c Config) validate() error {
	if errs := c.Validate(); len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrConfig, errors.Join(field.Join(errs)...))
	}
	return nil
}

// DirectoryOf lists the agents and queues (skill groups and precision
// queues) of a router configuration, for Deps.Agents and Deps.Queues.
func DirectoryOf(rc router.Config) (agents []router.AgentID, queues []router.QueueName) {
	for _, a := range rc.Agents {
		agents = append(agents, router.AgentID(a.ID))
	}
	for _, g := range rc.SkillGroups {
		queues = append(queues, router.QueueName(g.Name))
	}
	for _, q := range rc.PrecisionQueues {
		queues = append(queues, router.QueueName(q.Name))
	}
	return agents, queues
}

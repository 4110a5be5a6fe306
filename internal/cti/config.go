package cti

import (
	"errors"
	"fmt"
	"time"

	"github.com/tandem-cc/tandem/internal/router"
)

// Config is the CTI server's section of tandem's configuration.
type Config struct {
	// Supervisors may list agents and queues and force agents' states.
	Supervisors []Supervisor `yaml:"supervisors"`
	// Agents and Queues are what a supervisor's lists walk: the router
	// answers for one id or name at a time. DirectoryOf fills both from the
	// router's configuration.
	Agents []router.AgentID   `yaml:"agents"`
	Queues []router.QueueName `yaml:"queues"`
	// TokenTTL is how long a token from a login stays valid. Default 12h:
	// one shift, so a desktop does not have to log in again mid-shift.
	TokenTTL time.Duration `yaml:"token_ttl"`
	// SendQueue is how many events may wait for one WebSocket before the
	// client is judged too slow and disconnected. Default 256: a burst of
	// every agent changing state at a supervisor's screen, with room.
	SendQueue int `yaml:"send_queue"`
	// WriteTimeout bounds one event's write to a WebSocket. Default 10s.
	WriteTimeout time.Duration `yaml:"write_timeout"`
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
	DefaultTokenTTL     = 12 * time.Hour
	DefaultSendQueue    = 256
	DefaultWriteTimeout = 10 * time.Second
)

func (c Config) withDefaults() Config {
	if c.TokenTTL == 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	if c.SendQueue == 0 {
		c.SendQueue = DefaultSendQueue
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	return c
}

// Validate returns every problem in c, each naming its path.
func (c Config) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, s := range c.Supervisors {
		switch {
		case s.ID == "":
			errs = append(errs, fmt.Errorf("cti.supervisors[%d].id: empty", i))
		case seen[s.ID]:
			errs = append(errs, fmt.Errorf("cti.supervisors[%s].id: duplicate", s.ID))
		}
		seen[s.ID] = true
		if s.Password == "" {
			errs = append(errs, fmt.Errorf("cti.supervisors[%s].password: empty", s.ID))
		}
	}
	if c.TokenTTL < 0 {
		errs = append(errs, fmt.Errorf("cti.token_ttl: %s is negative", c.TokenTTL))
	}
	if c.SendQueue < 0 {
		errs = append(errs, fmt.Errorf("cti.send_queue: %d is negative", c.SendQueue))
	}
	if c.WriteTimeout < 0 {
		errs = append(errs, fmt.Errorf("cti.write_timeout: %s is negative", c.WriteTimeout))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
	}
	return nil
}

// DirectoryOf lists the agents and queues (skill groups and precision
// queues) of a router configuration, for Config.Agents and Config.Queues.
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

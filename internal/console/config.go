package console

import (
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Config is the console's section of tandem's configuration.
type Config struct {
	// Listen is the console's HTTP address. Default 127.0.0.1:8088:
	// loopback, because the console holds the keys to the whole contact
	// center; put a TLS-terminating proxy in front to open it wider.
	Listen string
	// Admin is the bootstrap administrator.
	Admin Admin
	// SessionTTL is how long a sign-in lasts. Default 8h: one shift.
	SessionTTL time.Duration
	// MediaDir is where uploaded prompts are kept.
	MediaDir string
}

// Admin is the bootstrap administrator's credential: PasswordHash (a
// bcrypt hash, "$2a$10$...", as `htpasswd -nbB user pw` prints after the
// colon) is preferred to Password, which is hashed at start so that only the hash
// stays in memory. With neither, New makes up a password and logs it once.
type Admin struct {
	User         string
	Password     string
	PasswordHash string
}

// Defaults, with the reasons beside the fields above.
const (
	DefaultListen     = "127.0.0.1:8088"
	DefaultSessionTTL = 8 * time.Hour
	DefaultAdminUser  = "admin"
	// bcryptCost is bcrypt's default: about 50 ms a check here, slow for a
	// guesser and quick for a person.
	bcryptCost = bcrypt.DefaultCost
)

func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.Admin.User == "" {
		c.Admin.User = DefaultAdminUser
	}
	return c
}

// Validate returns every problem in c, each naming its path.
func (c Config) Validate() error {
	var errs []error
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			errs = append(errs, fmt.Errorf("console.listen: %w", err))
		}
	}
	if c.SessionTTL < 0 {
		errs = append(errs, fmt.Errorf("console.session_ttl: %s is negative", c.SessionTTL))
	}
	if c.Admin.Password != "" && c.Admin.PasswordHash != "" {
		errs = append(errs, errors.New("console.admin: give password or password_hash, not both"))
	}
	if c.Admin.PasswordHash != "" {
		if _, err := bcrypt.Cost([]byte(c.Admin.PasswordHash)); err != nil {
			errs = append(errs, fmt.Errorf("console.admin.password_hash: not a bcrypt hash: %w", err))
		}
	}
	if c.Admin.Password != "" && len(c.Admin.Password) < 8 {
		errs = append(errs, errors.New("console.admin.password: shorter than 8 characters"))
	}
	if len(c.Admin.Password) > 72 {
		errs = append(errs, errors.New("console.admin.password: longer than bcrypt's 72 bytes"))
	}
	if c.MediaDir == "" {
		errs = append(errs, errors.New("console: media dir is empty"))
	}
	return errors.Join(errs...)
}

package console

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tandem-cc/tandem/internal/config/field"
)

// Config is the console section of tandem's configuration: the web
// console and agent desktop, which run with the router (their pages
// configure and watch the router's contact center).
//
//	console:
//	  listen: 127.0.0.1:8088
//	  admin: {user: admin, password_hash: "$2a$10$..."}
//	  session_ttl: 8h
type Config struct {
	// Listen is the console's HTTP address; "off" turns the console off.
	// Default 127.0.0.1:8088: loopback, because the console holds the
	// keys to the whole contact center; put a TLS-terminating proxy in
	// front, or https.mode on, to open it wider.
	Listen string `yaml:"listen"`
	// Admin is the bootstrap administrator.
	Admin Admin `yaml:"admin"`
	// SessionTTL is how long a sign-in lasts. Default 8h: one shift.
	SessionTTL field.Duration `yaml:"session_ttl"`
	// MediaDir is where prompts uploaded on the media page are kept
	// (in tandem's file, empty is data_dir/media).
	MediaDir string `yaml:"media_dir"`
}

// Admin is the bootstrap administrator's credential: PasswordHash (a
// bcrypt hash, "$2a$10$...", as `htpasswd -nbB user pw` prints after the
// colon) is preferred to Password, which is hashed at start so that only the hash
// stays in memory. With neither, New makes up a password and logs it once.
type Admin struct {
	User         string `yaml:"user"`
	Password     string `yaml:"password"`
	PasswordHash string `yaml:"password_hash"`
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

// Fill puts the named defaults in every field left empty.
func (c *Config) Fill() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	c.SessionTTL.Default(DefaultSessionTTL)
	if c.Admin.User == "" {
		c.Admin.User = DefaultAdminUser
	}
}

// Validate returns every problem of the section, at its path.
func (c Config) Validate() []field.Error {
	var errs field.Errors
	if c.Listen != "off" && c.Listen != "" {
		if _, _, err := field.HostPort(c.Listen); err != nil {
			errs.Add("console.listen", "%v", err)
		}
	}
	if c.SessionTTL < 0 {
		errs.Add("console.session_ttl", "%s is negative", c.SessionTTL.D())
	}
	if c.Admin.Password != "" && c.Admin.PasswordHash != "" {
		errs.Add("console.admin", "give password or password_hash, not both")
	}
	if c.Admin.PasswordHash != "" {
		if _, err := bcrypt.Cost([]byte(c.Admin.PasswordHash)); err != nil {
			errs.Add("console.admin.password_hash", "not a bcrypt hash: %v", err)
		}
	}
	if p := c.Admin.Password; p != "" && (len(p) < 8 || len(p) > 72) {
		errs.Add("console.admin.password", "want 8 to 72 characters (bcrypt's limit), have %d", len(p))
	}
	return errs
}

// validate is Validate as New's error; New also needs the media
// directory, which the file may leave to data_dir.
func (c Config) validate() error {
	errs := c.Validate()
	if c.MediaDir == "" {
		errs = append(errs, field.Error{Path: "console.media_dir", Msg: "the console needs a directory for its media"})
	}
	if len(errs) > 0 {
		return fmt.Errorf("console: %w", errors.Join(field.Join(errs)...))
	}
	return nil
}

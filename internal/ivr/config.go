package ivr

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/tandem-cc/tandem/internal/config/field"
)

// Config is the ivr section of tandem's configuration: the IVR service
// (CVP's), which serves the router's run-script requests as VoiceXML to
// the gateway; it runs with a router section.
//
//	ivr:
//	  listen: 127.0.0.1:8081
//	  media_base: http://media.example/en-us/sys/
//	  hold_audio: music
//	  announce: {caller_number: "Vous êtes l'appelant numéro"}
type Config struct {
	// Listen is the host:port of the service's HTTP server, which the
	// gateway fetches documents from (default 127.0.0.1:8081).
	Listen string `yaml:"listen"`
	// MediaBase is the absolute URL that media names and GS grammar names
	// are relative to ("http://media.example/en-us/sys/"). In tandem's
	// file, empty serves the demo's audio from the service's own
	// listener.
	MediaBase string `yaml:"media_base"`
	// NoInputText and NoMatchText are spoken before a reprompt.
	NoInputText string `yaml:"no_input_text"`
	NoMatchText string `yaml:"no_match_text"`
	// HoldAudio is what a caller hears at the VRU while the call server
	// moves it (to an agent being rung), relative to media_base; "" is
	// silence (in tandem's file with no media_base: the demo's music).
	HoldAudio string `yaml:"hold_audio"`
	// HoldPause is one round of the hold loop's silence (and the audio's
	// fallback); HoldRounds bounds the loop, so a caller whose move never
	// comes is released rather than held for ever.
	HoldPause  field.Duration `yaml:"hold_pause"`
	HoldRounds int            `yaml:"hold_rounds"`
	// IdleTimeout drops a call nobody has asked about for this long;
	// MaxCalls caps the table.
	IdleTimeout field.Duration `yaml:"idle_timeout"`
	MaxCalls    int            `yaml:"max_calls"`
	// AppsDir holds the external VoiceXML applications, one folder each
	// with its entry document main.vxml, served under /ivr/apps/<app>/
	// (in tandem's file, "" is data_dir/vxml-apps).
	AppsDir string `yaml:"apps_dir"`
	// Announce are the phrases of QT's announcements.
	Announce Announcements `yaml:"announce"`
}

// Announcements are the phrases QT speaks, each its own prompt so that a
// gateway caching TTS by text renders each once: numbers are spoken as
// their own prompt ("3"), so "You are caller number" "3" needs no text
// per position. Empty fields take the English defaults.
type Announcements struct {
	// CallerNumber precedes the position, 1..MaxAnnouncedPosition.
	CallerNumber string `yaml:"caller_number"`
	// ManyAhead replaces the position beyond MaxAnnouncedPosition.
	ManyAhead string `yaml:"many_ahead"`
	// WaitAbout precedes the wait in whole minutes, followed by Minute
	// or Minutes.
	WaitAbout string `yaml:"wait_about"`
	Minute    string `yaml:"minute"`
	Minutes   string `yaml:"minutes"`
	// ShortWait replaces a wait under a minute; LongWait one beyond
	// MaxAnnouncedWait.
	ShortWait string `yaml:"short_wait"`
	LongWait  string `yaml:"long_wait"`
}

// DefaultListen is the IVR service's address: loopback, beside the
// gateway that fetches from it.
const DefaultListen = "127.0.0.1:8081"

// Defaults, with why.
const (
	// A caller rarely stays at one micro-app (or on hold) for 10 minutes
	// without a fetch; a call the gateway forgot must not stay forever.
	DefaultIdleTimeout = 10 * time.Minute
	// Far above the calls one VoiceXML gateway farm holds at once, low
	// enough to bound memory if calls leak.
	DefaultMaxCalls = 100000
	// 5 s rounds × 120 = 10 minutes on hold at most, matching IdleTimeout.
	DefaultHoldPause  = 5 * time.Second
	DefaultHoldRounds = 120
)

// The default reprompt phrases (Config.NoInputText, NoMatchText).
const (
	DefaultNoInputText = "Sorry, I did not hear anything."
	DefaultNoMatchText = "Sorry, that is not a valid entry."
)

// Fill puts the named defaults in every field left empty.
func (c *Config) Fill() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.NoInputText == "" {
		c.NoInputText = DefaultNoInputText
	}
	if c.NoMatchText == "" {
		c.NoMatchText = DefaultNoMatchText
	}
	c.HoldPause.Default(DefaultHoldPause)
	if c.HoldRounds == 0 {
		c.HoldRounds = DefaultHoldRounds
	}
	c.IdleTimeout.Default(DefaultIdleTimeout)
	if c.MaxCalls == 0 {
		c.MaxCalls = DefaultMaxCalls
	}
	c.Announce.setDefaults()
}

// Validate returns every problem of the section, at its path. An empty
// Listen passes: a service built in process (the tests) has no listener.
func (c Config) Validate() []field.Error {
	var errs field.Errors
	if c.Listen != "" {
		if _, _, err := field.HostPort(c.Listen); err != nil {
			errs.Add("ivr.listen", "%v", err)
		}
	}
	if c.MediaBase != "" {
		u, err := url.Parse(c.MediaBase)
		if err != nil || !u.IsAbs() {
			errs.Add("ivr.media_base", "%q is not an absolute URL", c.MediaBase)
		}
	}
	if c.HoldPause < 0 {
		errs.Add("ivr.hold_pause", "negative (%v)", c.HoldPause.D())
	}
	if c.HoldRounds < 0 {
		errs.Add("ivr.hold_rounds", "negative (%d)", c.HoldRounds)
	}
	if c.IdleTimeout < 0 {
		errs.Add("ivr.idle_timeout", "negative (%v)", c.IdleTimeout.D())
	}
	if c.MaxCalls < 0 {
		errs.Add("ivr.max_calls", "negative (%d)", c.MaxCalls)
	}
	return errs
}

// validate is Validate as New's error.
func (c Config) validate() error {
	if errs := c.Validate(); len(errs) > 0 {
		return fmt.Errorf("ivr: %w", errors.Join(field.Join(errs)...))
	}
	return nil
}

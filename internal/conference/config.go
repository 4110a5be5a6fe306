package conference

import (
	"net"
	"time"

	"github.com/tandem-cc/tandem/internal/config/field"
)

// Config is the conference section of tandem's configuration: the bridge
// mixes the parties the call server sends to sip:conf-<room>@listen
// (CUCM's conference bridge in UCCE terms).
//
//	conference:
//	  listen: 127.0.0.1:5092
//	  max_rooms: 500
//	  max_parties: 8
type Config struct {
	// Listen is the bridge's own SIP address (UDP); port 0 picks one.
	// In tandem's file, empty turns the bridge off.
	Listen string `yaml:"listen"`
	// MediaIP is the address RTP is received on and offered in SDP.
	MediaIP string `yaml:"media_ip"`
	// MaxRooms bounds the rooms open at once; past it a new room gets 503.
	MaxRooms int `yaml:"max_rooms"`
	// MaxParties bounds the parties of one room; past it, 503.
	MaxParties int `yaml:"max_parties"`
	// RTPTimeout hangs up a party that sent no RTP for this long while it
	// should be sending; 0 disables it.
	RTPTimeout field.Duration `yaml:"rtp_timeout"`
	// SRTP is when a party's media is protected (SDES, RFC 4568): "" or
	// optional, required, off (media.ParseSRTPPolicy).
	SRTP string `yaml:"srtp"`
}

// Fill puts the named defaults in every field left empty.
func (c *Config) Fill() {
	if c.MediaIP == "" {
		c.MediaIP = "127.0.0.1"
	}
	// A room's work per 20 ms grows with its parties, and a contact
	// center's conference is a caller and a few agents or supervisors.
	if c.MaxRooms == 0 {
		c.MaxRooms = 500
	}
	if c.MaxParties == 0 {
		c.MaxParties = 8
	}
	c.RTPTimeout.Default(30 * time.Second)
}

// Validate returns every problem of the section, at its path.
func (c Config) Validate() []field.Error {
	var errs field.Errors
	if _, _, err := field.HostPort(c.Listen); err != nil {
		errs.Add("conference.listen", "%v", err)
	}
	if net.ParseIP(c.MediaIP) == nil {
		errs.Add("conference.media_ip", "%q is not an IP address", c.MediaIP)
	}
	if c.MaxRooms < 1 {
		errs.Add("conference.max_rooms", "must be 1 or more")
	}
	if c.MaxParties < 2 {
		errs.Add("conference.max_parties", "must be 2 or more")
	}
	if c.RTPTimeout < 0 {
		errs.Add("conference.rtp_timeout", "must not be negative")
	}
	if !field.SRTPPolicy(c.SRTP) {
		errs.Add("conference.srtp", "unknown policy %q (want optional, required or off)", c.SRTP)
	}
	return errs
}

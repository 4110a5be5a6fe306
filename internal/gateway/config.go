package gateway

import (
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/tandem-cc/tandem/internal/config/field"
)

// Config is the vxml_gateway section of tandem's configuration: a SIP
// endpoint of its own that answers calls, plays prompts, collects DTMF and
// speech and records, driven by VoiceXML documents (CVP's IOS VXML
// gateway).
//
//	vxml_gateway:
//	  listen: 127.0.0.1:5090
//	  apps:
//	    - {pattern: "7777!", url: "builtin:ivr"}
//	    - {pattern: "*", url: "http://apps.example/main.vxml"}
type Config struct {
	// Listen is the gateway's own SIP address (UDP); empty turns it off.
	Listen string `yaml:"listen"`
	// MediaIP is the address RTP is received on and offered in SDP.
	MediaIP string `yaml:"media_ip"`
	// Apps map dialed numbers (dial-plan patterns) to the VoiceXML document
	// a call starts with; the first match wins.
	Apps []App `yaml:"apps"`
	// Voice is the espeak-ng voice for text prompts ("" for its default).
	Voice string `yaml:"voice"`
	// RTPTimeout ends a call whose caller sent no RTP for this long.
	RTPTimeout field.Duration `yaml:"rtp_timeout"`
	// MaxSessions bounds concurrent VoiceXML sessions; past it, 503.
	MaxSessions int `yaml:"max_sessions"`
	// SRTP is when calls' media is protected (SDES, RFC 4568): optional
	// (the default: SRTP when the caller offers it), required, or off.
	SRTP string `yaml:"srtp"`
}

// App is one dialed-number → document mapping.
type App struct {
	Pattern string `yaml:"pattern"`
	URL     string `yaml:"url"`
}

// DemoApp names the demo IVR shipped in the binary; serve installs it
// under data_dir and runs it from there.
const DemoApp = "builtin:demo"

// IVRApp names this process's own IVR service as a VoiceXML application:
// serve replaces it with the IVR service's bootstrap URL
// (http://<ivr.listen>/ivr/start?call={call}), so the address is written
// once, in ivr.listen.
const IVRApp = "builtin:ivr"

// Fill puts the named defaults in every field left empty.
func (c *Config) Fill() {
	if c.MediaIP == "" {
		c.MediaIP = "127.0.0.1"
	}
	// A caller silent for 30 s has gone (a lost BYE); DTMF-only callers
	// still send RTP.
	c.RTPTimeout.Default(30 * time.Second)
	if c.MaxSessions == 0 {
		c.MaxSessions = 2000
	}
}

// Validate returns every problem of the section, at its path; a gateway
// turned off (no listen) has none.
func (c Config) Validate() []field.Error {
	var errs field.Errors
	if c.Listen == "" {
		return nil
	}
	if _, _, err := field.HostPort(c.Listen); err != nil {
		errs.Add("vxml_gateway.listen", "%v", err)
	}
	if net.ParseIP(c.MediaIP) == nil {
		errs.Add("vxml_gateway.media_ip", "%q is not an IP address", c.MediaIP)
	}
	if len(c.Apps) == 0 {
		errs.Add("vxml_gateway.apps", "the gateway needs at least one application")
	}
	for i, a := range c.Apps {
		p := fmt.Sprintf("vxml_gateway.apps[%d]", i)
		if _, err := field.CompilePattern(a.Pattern); err != nil {
			errs.Add(p+".pattern", "%v", err)
		}
		if u, err := url.Parse(a.URL); a.URL != DemoApp && a.URL != IVRApp && (err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "file")) {
			errs.Add(p+".url", "%q is not an http, https or file URL (or %s, %s)", a.URL, DemoApp, IVRApp)
		}
	}
	if c.MaxSessions < 1 {
		errs.Add("vxml_gateway.max_sessions", "must be 1 or more")
	}
	if c.RTPTimeout < 0 {
		errs.Add("vxml_gateway.rtp_timeout", "must not be negative")
	}
	if !field.SRTPPolicy(c.SRTP) {
		errs.Add("vxml_gateway.srtp", "unknown policy %q (want optional, required or off)", c.SRTP)
	}
	return errs
}

// Package config loads, defaults and validates tandem's YAML configuration.
//
// One struct per role, defaults filled in one place (Default and fill), and one
// Validate that returns every problem with its path and, when the value came
// from a file, its line: "tandem.yaml:12: sip.listen[0].transport: unknown
// transport "sctp" (want udp, tcp or tls)". Unknown keys are errors.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "embed"

	"gopkg.in/yaml.v3"
)

// demoRouter is the router document of the demo contact center that runs
// when tandem has no config (see demo.yaml).
//
//go:embed demo.yaml
var demoRouter []byte

// DemoRouter returns the demo's router document, for tools (tandem sim,
// the tests) that drive the demo.
func DemoRouter() []byte { return bytes.Clone(demoRouter) }

// Config is the whole of tandem's configuration.
type Config struct {
	// DataDir holds everything tandem writes (stores, caches, recordings).
	DataDir string `yaml:"data_dir"`
	Log     Log    `yaml:"log"`
	SIP     SIP    `yaml:"sip"`
	// Trunks are the ingress gateways and proxies trusted by source address.
	Trunks []Trunk `yaml:"trunks"`
	// Users are the endpoints that may register and call after digest auth.
	Users        []User        `yaml:"users"`
	Registrar    Registrar     `yaml:"registrar"`
	ServerGroups []ServerGroup `yaml:"server_groups"`
	DialPlan     []DialRule    `yaml:"dial_plan"`
	Routing      Routing       `yaml:"routing"`
	// Router is the routing engine's configuration (dialed numbers, call
	// types, scripts, skill groups, precision queues, agents...), checked by
	// the router role itself; when present it replaces routing.static.
	Router      yaml.Node   `yaml:"router"`
	CallServer  CallServer  `yaml:"call_server"`
	VXMLGateway VXMLGateway `yaml:"vxml_gateway"`
	Conference  Conference  `yaml:"conference"`
	CTI         CTI         `yaml:"cti"`
	Report      Report      `yaml:"report"`
	IVR         IVR         `yaml:"ivr"`
	Metrics     Metrics     `yaml:"metrics"`
	Console     Console     `yaml:"console"`
	HTTPS       HTTPS       `yaml:"https"`
}

// HTTPS configures TLS on the web console's and the CTI API's listeners.
type HTTPS struct {
	// Mode is auto (the default: HTTPS when a certificate is configured
	// or a listener is on an address other than loopback, plain HTTP on
	// loopback, as the demo runs), on (HTTPS everywhere) or off (plain
	// HTTP everywhere: behind a TLS-terminating proxy).
	Mode string `yaml:"mode"`
	// Cert and Key are PEM files. Without them HTTPS uses a self-signed
	// certificate made at the first start and kept in data_dir/tls; its
	// SHA-256 fingerprint is logged at each start.
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Console configures the web console and agent desktop; it runs with the
// router (its pages configure and watch the router's contact center).
type Console struct {
	// Listen is host:port; "off" turns the console off.
	Listen string `yaml:"listen"`
	// Admin is the bootstrap administrator. Prefer password_hash (bcrypt);
	// with neither, a password is made up at each start and logged once.
	Admin ConsoleAdmin `yaml:"admin"`
	// SessionTTL is how long a sign-in lasts (default 8h: one shift).
	SessionTTL Duration `yaml:"session_ttl"`
}

// ConsoleAdmin is the console's bootstrap administrator.
type ConsoleAdmin struct {
	User         string `yaml:"user"`
	Password     string `yaml:"password"`
	PasswordHash string `yaml:"password_hash"`
}

// VXMLGateway configures the VoiceXML gateway role: a SIP endpoint of its
// own that answers calls, plays prompts, collects DTMF and records, driven
// by VoiceXML documents (CVP's IOS VXML gateway).
type VXMLGateway struct {
	// Listen is the gateway's own SIP address (UDP); empty turns it off.
	Listen string `yaml:"listen"`
	// MediaIP is the address RTP is received on and offered in SDP.
	MediaIP string `yaml:"media_ip"`
	// Apps map dialed numbers (dial-plan patterns) to the VoiceXML document
	// a call starts with; the first match wins.
	Apps []VXMLApp `yaml:"apps"`
	// Voice is the espeak-ng voice for text prompts ("" for its default).
	Voice string `yaml:"voice"`
	// RTPTimeout ends a call whose caller sent no RTP for this long.
	RTPTimeout Duration `yaml:"rtp_timeout"`
	// MaxSessions bounds concurrent VoiceXML sessions; past it, 503.
	MaxSessions int `yaml:"max_sessions"`
	// SRTP is when calls' media is protected (SDES, RFC 4568): optional
	// (the default: SRTP when the caller offers it), required, or off.
	SRTP string `yaml:"srtp"`
}

// Conference configures the conference bridge: a SIP endpoint of its own
// that mixes the parties the call server sends to sip:conf-<room>@listen
// (CUCM's conference bridge in UCCE terms).
type Conference struct {
	// Listen is the bridge's own SIP address (UDP); empty turns it off.
	Listen string `yaml:"listen"`
	// MediaIP is the address RTP is received on and offered in SDP.
	MediaIP string `yaml:"media_ip"`
	// MaxRooms bounds the rooms open at once; past it, 503.
	MaxRooms int `yaml:"max_rooms"`
	// MaxParties bounds the parties of one room; past it, 503.
	MaxParties int `yaml:"max_parties"`
	// RTPTimeout hangs up a party that sent no RTP for this long.
	RTPTimeout Duration `yaml:"rtp_timeout"`
	// SRTP is as vxml_gateway.srtp, for each party's media.
	SRTP string `yaml:"srtp"`
}

// IVR configures the IVR service (CVP's): the router's run-script requests
// served as VoiceXML to the gateway; it runs with a router section.
type IVR struct {
	Listen string `yaml:"listen"` // host:port of its HTTP server
	// MediaBase is the URL micro-app media names are relative to.
	MediaBase string `yaml:"media_base"`
	// HoldAudio is what a caller hears at the VRU while the call server
	// moves it (to an agent being rung), relative to media_base; "" is
	// silence. With the default media_base it is the demo's music.
	HoldAudio string `yaml:"hold_audio"`
	// AppsDir holds the external VoiceXML applications the EXT micro-app
	// reaches (one folder each, entry main.vxml); "" is data_dir/vxml-apps.
	AppsDir string `yaml:"apps_dir"`
}

// Report configures the durable event store every role's events go to.
type Report struct {
	// Driver is sqlite (the embedded default, data_dir/events.db) or
	// postgres (DSN); "off" keeps events in memory and the log only.
	Driver string `yaml:"driver"`
	DSN    string `yaml:"dsn"`
	// Interval is the interval tables' period: 15m or 30m (default 30m).
	Interval Duration `yaml:"interval"`
	// ServiceLevel is the service-level threshold (default 20s) and
	// ShortCall the short-call threshold (default 5s).
	ServiceLevel Duration `yaml:"service_level"`
	ShortCall    Duration `yaml:"short_call"`
	// RetentionDays: events and records older than this many days are
	// purged once a day; 0 keeps everything.
	RetentionDays int `yaml:"retention_days"`
}

// CTI configures the agent and supervisor API (HTTP + WebSocket); it runs
// when the config has a router section.
type CTI struct {
	Listen      string          `yaml:"listen"` // host:port
	Supervisors []CTISupervisor `yaml:"supervisors"`
	// Extensions are dial-plan patterns of the phones any agent may log
	// in at besides its configured extension and the registrar's users
	// (phones behind a PBX, reached through a server group). Empty: only
	// those two.
	Extensions []string `yaml:"extensions"`
}

// CTISupervisor is one supervisor's credentials.
type CTISupervisor struct {
	ID       string `yaml:"id"`
	Password string `yaml:"password"`
}

// DemoApp names the demo IVR shipped in the binary; serve installs it
// under data_dir and runs it from there.
const DemoApp = "builtin:demo"

// IVRApp names this process's own IVR service as a VoiceXML application:
// serve replaces it with the IVR service's bootstrap URL
// (http://<ivr.listen>/ivr/start?call={call}), so the address is written
// once, in ivr.listen.
const IVRApp = "builtin:ivr"

// VXMLApp is one dialed-number → document mapping.
type VXMLApp struct {
	Pattern string `yaml:"pattern"`
	URL     string `yaml:"url"`
}

// Log configures the structured logger.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is text or json.
	Format string `yaml:"format"`
}

// SIP configures the SIP edge's listeners and identity.
type SIP struct {
	Listen []Listener `yaml:"listen"`
	// Host is the address tandem puts in Via, Contact and Record-Route of the
	// requests it originates; by default the first listener's IP.
	Host string `yaml:"host"`
	// Realm is the digest authentication realm.
	Realm     string `yaml:"realm"`
	UserAgent string `yaml:"user_agent"`
	// AuthAlgorithms are the digest algorithms offered, one challenge each,
	// in order of preference (RFC 8760 §2.4: a client answers the first it
	// supports). The default offers MD5 alone: SIPp gives up on a list
	// that starts with SHA-256, and baresip 1.0 (libre) fails to register
	// at all when a SHA-256 challenge is anywhere in the list (ENOSYS)
	// instead of skipping it. Offer [SHA-256, MD5] where the phones cope.
	AuthAlgorithms []string `yaml:"auth_algorithms"`
	// TCPIdleTimeout closes a TCP or TLS connection that carried nothing
	// (RFC 5626 CRLF keep-alives count) for this long, unless a live
	// registration came over it. Default 5m; at least 1s.
	TCPIdleTimeout Duration `yaml:"tcp_idle_timeout"`
}

// Listener is one SIP socket.
type Listener struct {
	Transport string `yaml:"transport"` // udp, tcp or tls
	Address   string `yaml:"address"`   // host:port
	// Cert and Key are PEM files; required for tls.
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Trunk is a peer trusted by source address: an ingress voice gateway or a
// proxy in front of tandem. Its INVITEs are not challenged.
type Trunk struct {
	Name     string   `yaml:"name"`
	Networks []string `yaml:"networks"` // CIDRs or single addresses

	prefixes []netip.Prefix
}

// Prefixes returns the parsed networks (valid after Validate).
func (t Trunk) Prefixes() []netip.Prefix { return t.prefixes }

// User is an endpoint that authenticates with digest credentials: an agent
// phone or a soft client. Its user name is also its extension.
type User struct {
	User     string `yaml:"user"`
	Password string `yaml:"password"`
}

// Registrar configures REGISTER handling.
type Registrar struct {
	MinExpires     Duration `yaml:"min_expires"`
	MaxExpires     Duration `yaml:"max_expires"`
	DefaultExpires Duration `yaml:"default_expires"`
	// MaxContacts bounds the bindings one address-of-record may hold.
	MaxContacts int `yaml:"max_contacts"`
	// FailedAuthLimit failed attempts from one source within FailedAuthWindow
	// slow that source down (its requests are answered after a delay that
	// doubles with each further failure).
	FailedAuthLimit  int      `yaml:"failed_auth_limit"`
	FailedAuthWindow Duration `yaml:"failed_auth_window"`
}

// ServerGroup is a set of equivalent destinations (CVP's SIP server group).
type ServerGroup struct {
	Name         string        `yaml:"name"`
	Destinations []Destination `yaml:"destinations"`
	Heartbeat    Heartbeat     `yaml:"heartbeat"`
}

// Destination is one element of a server group.
type Destination struct {
	Address   string `yaml:"address"`   // host:port
	Transport string `yaml:"transport"` // udp or tcp
	// Priority: lower is tried first; Weight shares load among equals.
	Priority int `yaml:"priority"`
	Weight   int `yaml:"weight"`
}

// Heartbeat is the OPTIONS ping of a server group, CVP style: every
// UpInterval while a destination is up, every DownInterval while it is down;
// Failures consecutive failures mark it down, one success marks it up.
type Heartbeat struct {
	Enabled      *bool    `yaml:"enabled"`
	UpInterval   Duration `yaml:"up_interval"`
	DownInterval Duration `yaml:"down_interval"`
	Timeout      Duration `yaml:"timeout"`
	Failures     int      `yaml:"failures"`
}

// On reports whether heartbeats run (default true).
func (h Heartbeat) On() bool { return h.Enabled == nil || *h.Enabled }

// DialRule maps dialed strings to where they go. Exactly one of ServerGroup
// and Registered is set.
type DialRule struct {
	// Pattern: digits and letters match themselves, X any digit, [1-5] a
	// class, and a final ! one or more characters, a final * zero or more.
	Pattern     string `yaml:"pattern"`
	ServerGroup string `yaml:"server_group"`
	// Registered sends the call to the contacts registered for the dialed
	// extension.
	Registered bool `yaml:"registered"`
}

// Routing configures how the call server decides where a new call goes.
// Until the router role replaces it, a static table serves.
type Routing struct {
	Static []StaticRoute `yaml:"static"`
}

// StaticRoute sends a dialed number (DNIS) to labels, tried in order.
type StaticRoute struct {
	DNIS   string   `yaml:"dnis"`
	Labels []string `yaml:"labels"`
}

// CallServer configures the B2BUA.
type CallServer struct {
	// MaxCalls is the limit of concurrent calls; past it new INVITEs get 503.
	MaxCalls int `yaml:"max_calls"`
	// RetryAfter is the Retry-After given with those 503s.
	RetryAfter Duration `yaml:"retry_after"`
	// RingTimeout is how long a label may ring before the next is tried.
	RingTimeout Duration `yaml:"ring_timeout"`
	// DrainTimeout is how long a stopping server lets calls finish.
	DrainTimeout Duration `yaml:"drain_timeout"`
	// SessionTimeout ends an answered call that exceeds it (a guard against
	// legs whose BYE was lost; 0 keeps calls up for ever).
	MaxCallDuration Duration `yaml:"max_call_duration"`
	// ConferenceLabel is the label a conference room is dialed at: the
	// call's id is appended, and the dial plan must lead it to a
	// conference bridge (default "conf-", the bridge's room URI scheme).
	ConferenceLabel string `yaml:"conference_label"`
	// SessionExpires is the session interval tandem asks for on each leg
	// (RFC 4028): a leg not refreshed within it is released, so a peer
	// that vanished without a BYE is found (default 30m). tandem refreshes
	// at half the interval when it is the refresher.
	SessionExpires Duration `yaml:"session_expires"`
	// MinSE is the shortest session interval tandem accepts; a request
	// offering less gets 422 with this Min-SE (default and floor 90s,
	// RFC 4028 §5).
	MinSE Duration `yaml:"min_se"`
}

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	Listen string `yaml:"listen"` // host:port; empty turns it off
	// Pprof adds Go's /debug/pprof handlers to the metrics listener, for
	// finding where CPU and memory go in a running server.
	Pprof bool `yaml:"pprof"`
}

// Duration is a time.Duration read from YAML as "30s" or "5m".
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

// Default is the built-in configuration: everything on loopback, a trunk for
// 127.0.0.0/8, no destinations. `tandem serve` without -c runs it.
func Default() *Config {
	c := &Config{
		SIP: SIP{Listen: []Listener{
			{Transport: "udp", Address: "127.0.0.1:5060"},
			{Transport: "tcp", Address: "127.0.0.1:5060"},
		}},
		Trunks: []Trunk{{Name: "loopback", Networks: []string{"127.0.0.0/8", "::1/128"}}},
		// The demo contact center (demo.yaml): 1000 reaches the IVR menu
		// and the queues of agents 1001-1010, whose phones register as
		// the users below; 5000 reaches the stand-alone VoiceXML demo.
		// Both IVRs run on the built-in VoiceXML gateway, which the call
		// server reaches through server group vxml.
		ServerGroups: []ServerGroup{
			{Name: "vxml", Destinations: []Destination{{Address: "127.0.0.1:5090"}}},
			{Name: "conference", Destinations: []Destination{{Address: "127.0.0.1:5092"}}},
		},
		DialPlan: []DialRule{
			{Pattern: "1XXX", Registered: true},
			{Pattern: "5XXX", ServerGroup: "vxml"},
			{Pattern: "7777!", ServerGroup: "vxml"},        // the network VRU label + correlation id
			{Pattern: "conf-!", ServerGroup: "conference"}, // a conference room (call_server.conference_label)
		},
		Conference: Conference{Listen: "127.0.0.1:5092"},
		VXMLGateway: VXMLGateway{Listen: "127.0.0.1:5090", Apps: []VXMLApp{
			{Pattern: "7777!", URL: IVRApp},
			{Pattern: "*", URL: DemoApp},
		}},
		Metrics: Metrics{Listen: "127.0.0.1:9060"},
	}
	for i := 1001; i <= 1010; i++ {
		c.Users = append(c.Users, User{User: strconv.Itoa(i), Password: "pw" + strconv.Itoa(i)})
	}
	if err := yaml.Unmarshal(demoRouter, &c.Router); err != nil {
		panic(fmt.Sprintf("config: built-in demo router document: %v", err))
	}
	if c.Router.Kind == yaml.DocumentNode && len(c.Router.Content) == 1 {
		c.Router = *c.Router.Content[0]
	}
	c.fill()
	// Validate also compiles the trunks' networks; the default is a
	// constant, so an error here is a bug (TestDefaultIsValid).
	if errs := c.Validate(); len(errs) > 0 {
		panic(fmt.Sprintf("config: built-in default invalid: %v", errs))
	}
	return c
}

// Fill puts the named defaults in every field left empty, as Parse does;
// for configuration assembled in parts (the SIP document of the config
// store over the file's other sections).
func (c *Config) Fill() { c.fill() }

// LineIndex returns the line of every mapping key and sequence item of the
// YAML text data under its dotted path (sip.listen[0].transport), for
// LineAt; nil when data is not YAML.
func LineIndex(data []byte) map[string]int {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return nil
	}
	lines := map[string]int{}
	indexLines(&root, "", lines)
	return lines
}

// LineAt is the line of a FieldError's path in a LineIndex, or of its
// nearest parent present; 0 when none is.
func LineAt(lines map[string]int, path string) int { return lineOf(lines, path) }

// fill puts the named defaults in every field left empty.
func (c *Config) fill() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	defD := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	defI := func(i *int, v int) {
		if *i == 0 {
			*i = v
		}
	}
	def(&c.DataDir, "./tandem-data")
	def(&c.Log.Level, "info")
	def(&c.Log.Format, "text")
	def(&c.SIP.Realm, "tandem")
	def(&c.SIP.UserAgent, "tandem")
	// Long enough for a call's quiet middle on a trunk's connection, short
	// enough that idle sockets cannot pile up (sipgo keeps them for ever).
	defD(&c.SIP.TCPIdleTimeout, 5*time.Minute)
	if len(c.SIP.AuthAlgorithms) == 0 {
		c.SIP.AuthAlgorithms = []string{"MD5"}
	}
	for i := range c.SIP.Listen {
		c.SIP.Listen[i].Transport = strings.ToLower(c.SIP.Listen[i].Transport)
	}
	if c.SIP.Host == "" && len(c.SIP.Listen) > 0 {
		if h, _, err := net.SplitHostPort(c.SIP.Listen[0].Address); err == nil && h != "" && h != "0.0.0.0" && h != "::" {
			c.SIP.Host = h
		} else {
			c.SIP.Host = "127.0.0.1"
		}
	}
	// RFC 3261 §10.2.1.1 suggests an hour; phones usually ask for less.
	defD(&c.Registrar.DefaultExpires, time.Hour)
	defD(&c.Registrar.MinExpires, 60*time.Second)
	defD(&c.Registrar.MaxExpires, 2*time.Hour)
	defI(&c.Registrar.MaxContacts, 10)
	defI(&c.Registrar.FailedAuthLimit, 5)
	defD(&c.Registrar.FailedAuthWindow, time.Minute)
	for i := range c.ServerGroups {
		g := &c.ServerGroups[i]
		// CVP's defaults: ping every 30 s while up, 5 s while down.
		defD(&g.Heartbeat.UpInterval, 30*time.Second)
		defD(&g.Heartbeat.DownInterval, 5*time.Second)
		defD(&g.Heartbeat.Timeout, 2*time.Second)
		defI(&g.Heartbeat.Failures, 3)
		for j := range g.Destinations {
			d := &g.Destinations[j]
			def(&d.Transport, "udp")
			d.Transport = strings.ToLower(d.Transport)
			defI(&d.Priority, 1)
			defI(&d.Weight, 1)
		}
	}
	def(&c.VXMLGateway.MediaIP, "127.0.0.1")
	def(&c.CTI.Listen, "127.0.0.1:8080")
	def(&c.CallServer.ConferenceLabel, "conf-")
	def(&c.Console.Listen, "127.0.0.1:8088")
	def(&c.HTTPS.Mode, "auto")
	def(&c.Console.Admin.User, "admin")
	defD(&c.Console.SessionTTL, 8*time.Hour)
	def(&c.Report.Driver, "sqlite")
	def(&c.IVR.Listen, "127.0.0.1:8081")
	defD(&c.VXMLGateway.RTPTimeout, 30*time.Second)
	defI(&c.VXMLGateway.MaxSessions, 2000)
	def(&c.Conference.MediaIP, "127.0.0.1")
	// A room's work per 20 ms grows with its parties, and a contact
	// center's conference is a caller and a few agents or supervisors.
	defI(&c.Conference.MaxRooms, 500)
	defI(&c.Conference.MaxParties, 8)
	defD(&c.Conference.RTPTimeout, 30*time.Second)
	defI(&c.CallServer.MaxCalls, 10000)
	defD(&c.CallServer.RetryAfter, 30*time.Second)
	defD(&c.CallServer.RingTimeout, 30*time.Second)
	defD(&c.CallServer.DrainTimeout, 30*time.Second)
	// RFC 4028 §4 recommends 30 minutes; 90 s is its floor for Min-SE.
	defD(&c.CallServer.SessionExpires, 30*time.Minute)
	defD(&c.CallServer.MinSE, 90*time.Second)
}

// Check validates a section that package config cannot check itself:
// the router's, whose package imports this one. It returns every problem
// with its path and, when it can place it, its Line in the file (the
// section's yaml.Node keeps the file's lines). Parse reports them with
// its own, so one run names everything wrong.
type Check func(*Config) []FieldError

// Load reads, defaults and validates the YAML file at path, and runs
// checks on what it read. The error names the file, the line and the field
// of every problem found.
func Load(path string, checks ...Check) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data, checks...)
}

// Parse is Load for bytes already read; name is used in error messages.
func Parse(name string, data []byte, checks ...Check) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// An empty file decodes to io.EOF: it is the default config without
	// listeners, which Validate then refuses with a clear message.
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	c.fill()
	lines := map[string]int{}
	indexLines(&root, "", lines)
	errs := c.Validate()
	for _, check := range checks {
		errs = append(errs, check(c)...)
	}
	if len(errs) > 0 {
		msgs := make([]string, 0, len(errs))
		for _, e := range errs {
			loc := name
			l := e.Line
			if l == 0 {
				l = lineOf(lines, e.Path)
			}
			if l > 0 {
				loc = fmt.Sprintf("%s:%d", name, l)
			}
			msgs = append(msgs, fmt.Sprintf("%s: %s: %s", loc, e.Path, e.Msg))
		}
		return nil, fmt.Errorf("config invalid:\n  %s", strings.Join(msgs, "\n  "))
	}
	return c, nil
}

// indexLines records the line of every mapping key and sequence item under
// its dotted path (sip.listen[0].transport).
func indexLines(n *yaml.Node, path string, out map[string]int) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			indexLines(c, path, out)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			out[p] = k.Line
			indexLines(v, p, out)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			out[p] = c.Line
			indexLines(c, p, out)
		}
	}
}

// lineOf finds the line of path or of its nearest parent present in the file.
func lineOf(lines map[string]int, path string) int {
	for path != "" {
		if l, ok := lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return 0
		}
		path = path[:i]
	}
	return 0
}

// FieldError is one validation problem.
type FieldError struct {
	Path string
	Msg  string
	// Line is the problem's line in the file when the check placed it
	// (a Check); 0 lets Parse find it from Path.
	Line int
}

func (e FieldError) Error() string { return e.Path + ": " + e.Msg }

// Validate checks the whole configuration and returns every problem found.
func (c *Config) Validate() []FieldError {
	var errs []FieldError
	bad := func(path, format string, a ...any) {
		errs = append(errs, FieldError{Path: path, Msg: fmt.Sprintf(format, a...)})
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "unknown level %q (want debug, info, warn or error)", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "unknown format %q (want text or json)", c.Log.Format)
	}
	if len(c.SIP.Listen) == 0 {
		bad("sip.listen", "at least one listener is needed")
	}
	if c.SIP.TCPIdleTimeout.D() < time.Second {
		bad("sip.tcp_idle_timeout", "%s is too short (at least 1s)", c.SIP.TCPIdleTimeout.D())
	}
	for i, l := range c.SIP.Listen {
		p := fmt.Sprintf("sip.listen[%d]", i)
		switch l.Transport {
		case "udp", "tcp":
		case "tls":
			if l.Cert == "" || l.Key == "" {
				bad(p+".cert", "tls needs cert and key files")
			} else {
				for _, f := range []string{l.Cert, l.Key} {
					if _, err := os.Stat(f); err != nil {
						bad(p+".cert", "cannot read %s: %v", f, errors.Unwrap(err))
					}
				}
			}
		default:
			bad(p+".transport", "unknown transport %q (want udp, tcp or tls)", l.Transport)
		}
		if _, _, err := hostPort(l.Address); err != nil {
			bad(p+".address", "%v", err)
		}
	}
	if c.SIP.Host != "" && strings.ContainsAny(c.SIP.Host, " :;<>") && net.ParseIP(c.SIP.Host) == nil {
		bad("sip.host", "%q is not a host name or IP address", c.SIP.Host)
	}
	for i, a := range c.SIP.AuthAlgorithms {
		if a != "MD5" && a != "SHA-256" {
			bad(fmt.Sprintf("sip.auth_algorithms[%d]", i), "unknown algorithm %q (want MD5 or SHA-256)", a)
		}
	}
	seen := map[string]bool{}
	for i := range c.Trunks {
		t := &c.Trunks[i]
		p := fmt.Sprintf("trunks[%d]", i)
		if t.Name == "" {
			bad(p+".name", "a trunk needs a name")
		}
		if len(t.Networks) == 0 {
			bad(p+".networks", "a trunk needs at least one network (CIDR or address)")
		}
		t.prefixes = t.prefixes[:0]
		for j, n := range t.Networks {
			pr, err := parsePrefix(n)
			if err != nil {
				bad(fmt.Sprintf("%s.networks[%d]", p, j), "%v", err)
				continue
			}
			t.prefixes = append(t.prefixes, pr)
		}
	}
	for i, u := range c.Users {
		p := fmt.Sprintf("users[%d]", i)
		switch {
		case u.User == "":
			bad(p+".user", "a user needs a name")
		case strings.ContainsAny(u.User, " @:;<>\""):
			bad(p+".user", "%q has characters not allowed in a SIP user part", u.User)
		case seen["user "+u.User]:
			bad(p+".user", "user %q is defined twice", u.User)
		}
		seen["user "+u.User] = true
		if u.Password == "" {
			bad(p+".password", "user %q needs a password", u.User)
		}
	}
	r := c.Registrar
	if r.MinExpires > r.MaxExpires {
		bad("registrar.min_expires", "%s is more than max_expires %s", r.MinExpires.D(), r.MaxExpires.D())
	}
	if r.DefaultExpires < r.MinExpires || r.DefaultExpires > r.MaxExpires {
		bad("registrar.default_expires", "%s is outside [min_expires, max_expires]", r.DefaultExpires.D())
	}
	if r.MaxContacts < 1 {
		bad("registrar.max_contacts", "must be at least 1")
	}
	groups := map[string]bool{}
	for i, g := range c.ServerGroups {
		p := fmt.Sprintf("server_groups[%d]", i)
		if g.Name == "" {
			bad(p+".name", "a server group needs a name")
		} else if groups[g.Name] {
			bad(p+".name", "server group %q is defined twice", g.Name)
		}
		groups[g.Name] = true
		if len(g.Destinations) == 0 {
			bad(p+".destinations", "server group %q has no destinations", g.Name)
		}
		for j, d := range g.Destinations {
			dp := fmt.Sprintf("%s.destinations[%d]", p, j)
			if _, _, err := hostPort(d.Address); err != nil {
				bad(dp+".address", "%v", err)
			}
			if d.Transport != "udp" && d.Transport != "tcp" {
				bad(dp+".transport", "unknown transport %q (want udp or tcp)", d.Transport)
			}
			if d.Priority < 1 {
				bad(dp+".priority", "must be 1 or more")
			}
			if d.Weight < 1 {
				bad(dp+".weight", "must be 1 or more")
			}
		}
		h := g.Heartbeat
		if h.Failures < 1 {
			bad(p+".heartbeat.failures", "must be 1 or more")
		}
		if h.UpInterval < Duration(100*time.Millisecond) || h.DownInterval < Duration(100*time.Millisecond) {
			bad(p+".heartbeat", "intervals must be at least 100ms")
		}
	}
	for i, d := range c.DialPlan {
		p := fmt.Sprintf("dial_plan[%d]", i)
		if _, err := CompilePattern(d.Pattern); err != nil {
			bad(p+".pattern", "%v", err)
		}
		switch {
		case d.ServerGroup != "" && d.Registered:
			bad(p, "set server_group or registered, not both")
		case d.ServerGroup == "" && !d.Registered:
			bad(p, "set server_group or registered: true")
		case d.ServerGroup != "" && !groups[d.ServerGroup]:
			bad(p+".server_group", "unknown server group %q", d.ServerGroup)
		}
	}
	dnis := map[string]bool{}
	for i, s := range c.Routing.Static {
		p := fmt.Sprintf("routing.static[%d]", i)
		if s.DNIS == "" {
			bad(p+".dnis", "a route needs a dialed number")
		} else if dnis[s.DNIS] {
			bad(p+".dnis", "dialed number %q is routed twice", s.DNIS)
		}
		dnis[s.DNIS] = true
		if len(s.Labels) == 0 {
			bad(p+".labels", "a route needs at least one label")
		}
		for j, l := range s.Labels {
			if !c.dialable(l) {
				bad(fmt.Sprintf("%s.labels[%d]", p, j), "label %q matches no dial_plan pattern", l)
			}
		}
	}
	cs := c.CallServer
	if cs.MaxCalls < 1 {
		bad("call_server.max_calls", "must be 1 or more")
	}
	if cs.RingTimeout < Duration(time.Second) {
		bad("call_server.ring_timeout", "must be at least 1s")
	}
	if cs.MinSE < Duration(90*time.Second) {
		bad("call_server.min_se", "must be at least 90s (RFC 4028 §5)")
	}
	if cs.SessionExpires < cs.MinSE {
		bad("call_server.session_expires", "%v is less than call_server.min_se (%v)", cs.SessionExpires.D(), cs.MinSE.D())
	}
	if g := c.VXMLGateway; g.Listen != "" {
		if _, _, err := hostPort(g.Listen); err != nil {
			bad("vxml_gateway.listen", "%v", err)
		}
		if net.ParseIP(g.MediaIP) == nil {
			bad("vxml_gateway.media_ip", "%q is not an IP address", g.MediaIP)
		}
		if len(g.Apps) == 0 {
			bad("vxml_gateway.apps", "the gateway needs at least one application")
		}
		for i, a := range g.Apps {
			p := fmt.Sprintf("vxml_gateway.apps[%d]", i)
			if _, err := CompilePattern(a.Pattern); err != nil {
				bad(p+".pattern", "%v", err)
			}
			if u, err := url.Parse(a.URL); a.URL != DemoApp && a.URL != IVRApp && (err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "file")) {
				bad(p+".url", "%q is not an http, https or file URL (or %s, %s)", a.URL, DemoApp, IVRApp)
			}
		}
		if g.MaxSessions < 1 {
			bad("vxml_gateway.max_sessions", "must be 1 or more")
		}
		if !srtpPolicy(g.SRTP) {
			bad("vxml_gateway.srtp", "unknown policy %q (want optional, required or off)", g.SRTP)
		}
	}
	if cf := c.Conference; cf.Listen != "" {
		if _, _, err := hostPort(cf.Listen); err != nil {
			bad("conference.listen", "%v", err)
		}
		if net.ParseIP(cf.MediaIP) == nil {
			bad("conference.media_ip", "%q is not an IP address", cf.MediaIP)
		}
		if cf.MaxRooms < 1 {
			bad("conference.max_rooms", "must be 1 or more")
		}
		if cf.MaxParties < 2 {
			bad("conference.max_parties", "must be 2 or more")
		}
		if !srtpPolicy(cf.SRTP) {
			bad("conference.srtp", "unknown policy %q (want optional, required or off)", cf.SRTP)
		}
	}
	switch c.Report.Driver {
	case "sqlite", "off":
	case "postgres":
		if c.Report.DSN == "" {
			bad("report.dsn", "postgres needs a dsn")
		}
	default:
		bad("report.driver", "unknown driver %q (want sqlite, postgres or off)", c.Report.Driver)
	}
	if iv := c.Report.Interval.D(); iv != 0 && iv != 15*time.Minute && iv != 30*time.Minute {
		bad("report.interval", "%v: want 15m or 30m", iv)
	}
	if c.Report.ServiceLevel < 0 || c.Report.ShortCall < 0 || c.Report.RetentionDays < 0 {
		bad("report", "service_level, short_call and retention_days must not be negative")
	}
	if _, _, err := hostPort(c.IVR.Listen); err != nil {
		bad("ivr.listen", "%v", err)
	}
	if _, _, err := hostPort(c.CTI.Listen); err != nil {
		bad("cti.listen", "%v", err)
	}
	if c.Console.Listen != "off" {
		if _, _, err := hostPort(c.Console.Listen); err != nil {
			bad("console.listen", "%v", err)
		}
	}
	switch c.HTTPS.Mode {
	case "auto", "on", "off":
	default:
		bad("https.mode", "unknown mode %q (want auto, on or off)", c.HTTPS.Mode)
	}
	if (c.HTTPS.Cert == "") != (c.HTTPS.Key == "") {
		bad("https.cert", "give both cert and key, or neither (self-signed)")
	}
	for _, f := range []string{c.HTTPS.Cert, c.HTTPS.Key} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			bad("https.cert", "cannot read %s: %v", f, errors.Unwrap(err))
		}
	}
	if c.Console.Admin.Password != "" && c.Console.Admin.PasswordHash != "" {
		bad("console.admin", "give password or password_hash, not both")
	}
	if p := c.Console.Admin.Password; p != "" && (len(p) < 8 || len(p) > 72) {
		bad("console.admin.password", "want 8 to 72 characters (bcrypt's limit), have %d", len(p))
	}
	for i, sv := range c.CTI.Supervisors {
		if sv.ID == "" || sv.Password == "" {
			bad(fmt.Sprintf("cti.supervisors[%d]", i), "a supervisor needs an id and a password")
		}
	}
	for i, p := range c.CTI.Extensions {
		if _, err := CompilePattern(p); err != nil {
			bad(fmt.Sprintf("cti.extensions[%d]", i), "%q: %v", p, err)
		}
	}
	if c.Metrics.Listen != "" {
		if _, _, err := hostPort(c.Metrics.Listen); err != nil {
			bad("metrics.listen", "%v", err)
		}
	}
	if c.DataDir != "" && !filepath.IsLocal(c.DataDir) && !filepath.IsAbs(c.DataDir) {
		bad("data_dir", "%q is neither relative nor absolute", c.DataDir)
	}
	return errs
}

// srtpPolicy says whether s spells an SRTP policy ("" is optional).
func srtpPolicy(s string) bool {
	return s == "" || s == "optional" || s == "required" || s == "off"
}

func (c *Config) dialable(label string) bool {
	for _, d := range c.DialPlan {
		if p, err := CompilePattern(d.Pattern); err == nil && p.Match(label) {
			return true
		}
	}
	return false
}

func hostPort(s string) (string, int, error) {
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

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR network", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR network", s)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

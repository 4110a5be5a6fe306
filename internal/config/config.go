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
	"os"
	"path/filepath"
	"strconv"
	"strings"

	_ "embed"

	"gopkg.in/yaml.v3"

	"github.com/tandem-cc/tandem/internal/callserver"
	"github.com/tandem-cc/tandem/internal/conference"
	"github.com/tandem-cc/tandem/internal/config/field"
	"github.com/tandem-cc/tandem/internal/console"
	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/gateway"
	"github.com/tandem-cc/tandem/internal/ivr"
	"github.com/tandem-cc/tandem/internal/report"
	"github.com/tandem-cc/tandem/internal/sipedge"
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
	// The SIP edge's sections (sip, trunks, users, registrar,
	// server_groups, dial_plan) sit at the top of the file.
	sipedge.Config `yaml:",inline"`
	Routing        callserver.Routing `yaml:"routing"`
	// Router is the routing engine's configuration (dialed numbers, call
	// types, scripts, skill groups, precision queues, agents...), checked by
	// the router role itself; when present it replaces routing.static.
	Router      yaml.Node         `yaml:"router"`
	CallServer  callserver.Config `yaml:"call_server"`
	VXMLGateway gateway.Config    `yaml:"vxml_gateway"`
	Conference  conference.Config `yaml:"conference"`
	CTI         cti.Config        `yaml:"cti"`
	Report      report.Config     `yaml:"report"`
	IVR         ivr.Config        `yaml:"ivr"`
	Metrics     Metrics           `yaml:"metrics"`
	Console     console.Config    `yaml:"console"`
	HTTPS       HTTPS             `yaml:"https"`
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

// Log configures the structured logger.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is text or json.
	Format string `yaml:"format"`
}

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	Listen string `yaml:"listen"` // host:port; empty turns it off
	// Pprof adds Go's /debug/pprof handlers to the metrics listener, for
	// finding where CPU and memory go in a running server.
	Pprof bool `yaml:"pprof"`
}

// Default is the built-in configuration: everything on loopback, a trunk for
// 127.0.0.0/8, no destinations. `tandem serve` without -c runs it.
func Default() *Config {
	c := &Config{Config: sipedge.Config{
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
	},
		Conference: conference.Config{Listen: "127.0.0.1:5092"},
		VXMLGateway: gateway.Config{Listen: "127.0.0.1:5090", Apps: []gateway.App{
			{Pattern: "7777!", URL: gateway.IVRApp},
			{Pattern: "*", URL: gateway.DemoApp},
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
	def(&c.DataDir, "./tandem-data")
	def(&c.Log.Level, "info")
	def(&c.Log.Format, "text")
	c.Config.Fill()
	def(&c.HTTPS.Mode, "auto")
	// Each role fills its own section's named defaults. What depends on
	// data_dir (console.media_dir, ivr.apps_dir) is left to the node, so a
	// data_dir changed after Fill still holds everything.
	c.CallServer.Fill()
	c.VXMLGateway.Fill()
	c.Conference.Fill()
	c.CTI.Fill()
	c.Report.Fill()
	c.IVR.Fill()
	c.Console.Fill()
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
	errs = append(errs, c.Config.Validate()...)
	// Each role's section checks itself; what spans sections is checked
	// here.
	errs = append(errs, c.Routing.Validate()...)
	for i, s := range c.Routing.Static {
		for j, l := range s.Labels {
			if !c.dialable(l) {
				bad(fmt.Sprintf("routing.static[%d].labels[%d]", i, j), "label %q matches no dial_plan pattern", l)
			}
		}
	}
	errs = append(errs, c.CallServer.Validate()...)
	errs = append(errs, c.VXMLGateway.Validate()...)
	if c.Conference.Listen != "" { // empty turns the bridge off
		errs = append(errs, c.Conference.Validate()...)
	}
	errs = append(errs, c.Report.Validate()...)
	errs = append(errs, c.IVR.Validate()...)
	errs = append(errs, c.CTI.Validate()...)
	errs = append(errs, c.Console.Validate()...)
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

func (c *Config) dialable(label string) bool {
	for _, d := range c.DialPlan {
		if p, err := CompilePattern(d.Pattern); err == nil && p.Match(label) {
			return true
		}
	}
	return false
}

func hostPort(s string) (string, int, error) { return field.HostPort(s) }

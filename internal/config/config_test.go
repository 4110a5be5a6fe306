package config

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	if errs := Default().Validate(); len(errs) > 0 {
		t.Fatalf("default config invalid: %v", errs)
	}
}

func TestParseErrorsNameFileLineAndField(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"unknown key", "sip:\n  listen: []\n  bogus: 1\n", []string{"x.yaml", "line 3", "bogus"}},
		{"bad transport", "sip:\n  listen:\n    - {transport: sctp, address: \"127.0.0.1:5060\"}\n", []string{"x.yaml:3", "sip.listen[0].transport", `unknown transport "sctp"`}},
		{"no listeners", "log: {level: info}\n", []string{"sip.listen", "at least one listener"}},
		{"bad address", "sip:\n  listen:\n    - {transport: udp, address: \"nowhere\"}\n", []string{"x.yaml:3", "sip.listen[0].address", "not host:port"}},
		{"tls without cert", "sip:\n  listen:\n    - {transport: tls, address: \"127.0.0.1:5061\"}\n", []string{"sip.listen[0].cert", "needs cert and key"}},
		{"bad cidr", "sip:\n  listen: [{transport: udp, address: \"127.0.0.1:5060\"}]\ntrunks:\n  - name: gw\n    networks: [\"10.0.0.0/99\"]\n", []string{"x.yaml:5", "trunks[0].networks[0]", "not a CIDR"}},
		{"unknown group", "sip:\n  listen: [{transport: udp, address: \"127.0.0.1:5060\"}]\ndial_plan:\n  - {pattern: \"2000\", server_group: nope}\n", []string{"dial_plan[0].server_group", `unknown server group "nope"`}},
		{"bad pattern", "sip:\n  listen: [{transport: udp, address: \"127.0.0.1:5060\"}]\ndial_plan:\n  - {pattern: \"2[00\", registered: true}\n", []string{"dial_plan[0].pattern", "without ]"}},
		{"label with no route", "sip:\n  listen: [{transport: udp, address: \"127.0.0.1:5060\"}]\nrouting:\n  static:\n    - {dnis: \"2000\", labels: [\"5555\"]}\n", []string{"x.yaml:5", "routing.static[0].labels[0]", "matches no dial_plan pattern"}},
		{"bad duration", "sip:\n  listen: [{transport: udp, address: \"127.0.0.1:5060\"}]\ncall_server:\n  ring_timeout: soon\n", []string{"line 4", "bad duration"}},
		{"user without password", "sip:\n  listen: [{transport: udp, address: \"127.0.0.1:5060\"}]\nusers:\n  - {user: \"1001\"}\n", []string{"users[0].password", "needs a password"}},
		{"bad algorithm", "sip:\n  listen: [{transport: udp, address: \"127.0.0.1:5060\"}]\n  auth_algorithms: [SHA-1]\n", []string{"sip.auth_algorithms[0]", "unknown algorithm"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("accepted a bad config")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestExampleCallDirector(t *testing.T) {
	c, err := Load("../../examples/call-director.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.SIP.Listen[0].Address != "127.0.0.1:5060" || len(c.Routing.Static) != 2 {
		t.Fatalf("unexpected example: %+v", c)
	}
}

// TestRoleKnobsFromYAML: the knobs that live in the roles' own Config types
// are reached from the file, and a bad one is named at its path and line.
func TestRoleKnobsFromYAML(t *testing.T) {
	const head = "sip:\n  listen: [{transport: udp, address: \"127.0.0.1:5060\"}]\n"
	c, err := Parse("k.yaml", []byte(head+`cti:
  token_ttl: 1h
  send_queue: 64
  write_timeout: 3s
  origin_patterns: ["desk.example"]
ivr:
  hold_pause: 2s
  hold_rounds: 30
  idle_timeout: 5m
  max_calls: 500
  no_input_text: "Rien entendu."
  announce: {caller_number: "Vous êtes l'appelant numéro", minutes: minutes}
report:
  buckets: [10s, 20s, 40s]
console:
  media_dir: /srv/prompts
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.CTI.TokenTTL.D() != time.Hour || c.CTI.SendQueue != 64 || c.CTI.WriteTimeout.D() != 3*time.Second || c.CTI.OriginPatterns[0] != "desk.example" {
		t.Errorf("cti section: %+v", c.CTI)
	}
	if c.IVR.HoldPause.D() != 2*time.Second || c.IVR.HoldRounds != 30 || c.IVR.IdleTimeout.D() != 5*time.Minute || c.IVR.MaxCalls != 500 ||
		c.IVR.NoInputText != "Rien entendu." || c.IVR.Announce.CallerNumber != "Vous êtes l'appelant numéro" {
		t.Errorf("ivr section: %+v", c.IVR)
	}
	if c.IVR.NoMatchText == "" || c.IVR.Announce.ManyAhead == "" {
		t.Errorf("ivr defaults not filled beside what the file set: %+v", c.IVR)
	}
	if b := c.Report.Records().Buckets; len(b) != 3 || b[2] != 40*time.Second {
		t.Errorf("report buckets: %v", b)
	}
	if c.Console.MediaDir != "/srv/prompts" {
		t.Errorf("console.media_dir: %q", c.Console.MediaDir)
	}
	for _, tt := range []struct{ yaml, want string }{
		{"ivr:\n  hold_rounds: -1\n", "k.yaml:4: ivr.hold_rounds: negative"},
		{"report:\n  buckets: [20s, 10s]\n", "k.yaml:4: report.buckets[1]: 10s: bounds must be positive and ascending"},
		{"cti:\n  supervisors: [{id: sue}]\n", "k.yaml:4: cti.supervisors[0]: a supervisor needs an id and a password"},
		{"cti:\n  token_ttl: -1h\n", "cti.token_ttl: -1h0m0s is negative"},
		{"console:\n  admin: {password_hash: nothash}\n", "console.admin.password_hash: not a bcrypt hash"},
		{"conference:\n  listen: \"127.0.0.1:5092\"\n  max_parties: 1\n", "k.yaml:5: conference.max_parties: must be 2 or more"},
		{"vxml_gateway:\n  listen: \"127.0.0.1:5090\"\n  apps: [{pattern: \"*\", url: \"ftp://x\"}]\n", "vxml_gateway.apps[0].url"},
		{"call_server:\n  min_se: 30s\n", "k.yaml:4: call_server.min_se: must be at least 90s"},
	} {
		_, err := Parse("k.yaml", []byte(head+tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want an error with %q", tt.yaml, err, tt.want)
		}
	}
}

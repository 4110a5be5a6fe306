package config

import (
	"strings"
	"testing"
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

package sipedge

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tandem-cc/tandem/internal/config/field"
)

// parseConfig reads the edge's sections of a tandem file as the file's
// loader does (package config, which imports this one): decode, fill the
// named defaults, validate. Other sections are ignored.
func parseConfig(name, text string) (*Config, error) {
	c := &Config{}
	if err := yaml.Unmarshal([]byte(text), c); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c.Fill()
	if errs := c.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", name, errors.Join(field.Join(errs)...))
	}
	return c, nil
}

// TestConfigValidate: each section's problem is named at its path.
func TestConfigValidate(t *testing.T) {
	const listen = "sip: {listen: [{transport: udp, address: \"127.0.0.1:5060\"}]}\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"no listener", "sip: {realm: x}\n", "sip.listen: at least one listener"},
		{"tcp idle", "sip: {listen: [{transport: tcp, address: \"127.0.0.1:5060\"}], tcp_idle_timeout: 10ms}\n", "sip.tcp_idle_timeout"},
		{"trunk without networks", listen + "trunks: [{name: gw}]\n", "trunks[0].networks"},
		{"expires", listen + "registrar: {min_expires: 2h, max_expires: 1h}\n", "registrar.min_expires"},
		{"destination transport", listen + "server_groups: [{name: g, destinations: [{address: \"127.0.0.1:5070\", transport: sctp}]}]\n", "server_groups[0].destinations[0].transport"},
		{"rule both", listen + "server_groups: [{name: g, destinations: [{address: \"127.0.0.1:5070\"}]}]\ndial_plan: [{pattern: \"2XXX\", server_group: g, registered: true}]\n", "dial_plan[0]: set server_group or registered, not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig("t.yaml", tt.yaml)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
	c, err := parseConfig("ok.yaml", listen)
	if err != nil {
		t.Fatal(err)
	}
	if c.SIP.Host != "127.0.0.1" || c.Registrar.MaxContacts != 10 || c.SIP.AuthAlgorithms[0] != "MD5" {
		t.Errorf("defaults not filled: %+v", c)
	}
}

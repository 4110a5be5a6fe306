package config

import (
	"gopkg.in/yaml.v3"

	"github.com/tandem-cc/tandem/internal/config/field"
	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/gateway"
	"github.com/tandem-cc/tandem/internal/sipedge"
)

// The types a file is made of, under the names the code that loads and
// edits whole files (node, the e2e tests) uses. Each is defined, with its
// defaults and checks, beside the role it configures.
type (
	// Duration is a time.Duration read from YAML (field.Duration).
	Duration = field.Duration
	// FieldError is one validation problem (field.Error).
	FieldError = field.Error
	// Pattern is a compiled dial-plan pattern (field.Pattern).
	Pattern = field.Pattern

	SIP         = sipedge.SIP
	Listener    = sipedge.Listener
	Trunk       = sipedge.Trunk
	User        = sipedge.User
	Registrar   = sipedge.Registrar
	ServerGroup = sipedge.ServerGroup
	Destination = sipedge.Destination
	Heartbeat   = sipedge.Heartbeat
	DialRule    = sipedge.DialRule

	VXMLGateway   = gateway.Config
	VXMLApp       = gateway.App
	CTISupervisor = cti.Supervisor
)

// DemoApp and IVRApp are the gateway's built-in application names
// (gateway.DemoApp, gateway.IVRApp).
const (
	DemoApp = gateway.DemoApp
	IVRApp  = gateway.IVRApp
)

// CompilePattern parses a dial-plan pattern (field.CompilePattern).
func CompilePattern(s string) (*Pattern, error) { return field.CompilePattern(s) }

// NodeLine is field.NodeLine: the line of a field path in a YAML node.
func NodeLine(n *yaml.Node, path string) int { return field.NodeLine(n, path) }

// ItemName is field.ItemName: how a validation path names a sequence item.
func ItemName(item *yaml.Node, index int) string { return field.ItemName(item, index) }

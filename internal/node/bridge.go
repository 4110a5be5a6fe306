// Package node composes tandem's roles into one process. Each role stays
// ignorant of the others; node builds them from one config and joins their
// interfaces (package contract), keeping no state of calls or agents of
// its own, so cmd/tandem and the end-to-end tests build the same process.
package node

import (
	"fmt"
	"log/slog"

	"gopkg.in/yaml.v3"

	"github.com/tandem-cc/tandem/internal/contract"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/ivr"
	"github.com/tandem-cc/tandem/internal/router"
)

// NewRouter builds the routing engine from the router section of a tandem
// config and its side of the contract with the call server (attach the
// call server to it before calls arrive).
func NewRouter(section *yaml.Node, log *slog.Logger) (*router.Engine, *router.Calls, error) {
	data, err := yaml.Marshal(section)
	if err != nil {
		return nil, nil, fmt.Errorf("router: %w", err)
	}
	return NewRouterFrom(data, log)
}

// NewRouterFrom is NewRouter for a router configuration document.
func NewRouterFrom(doc []byte, log *slog.Logger) (*router.Engine, *router.Calls, error) {
	return NewRouterWithEvents(doc, log, nil)
}

// NewRouterWithEvents is NewRouterFrom with a sink for the engine's
// reporting events (routing decisions, queues, offers, agent states).
func NewRouterWithEvents(doc []byte, log *slog.Logger, events event.Sink) (*router.Engine, *router.Calls, error) {
	cfg, err := router.ParseConfig(doc)
	if err != nil {
		return nil, nil, err
	}
	e, err := router.New(cfg, router.Deps{Log: log, Events: events})
	if err != nil {
		return nil, nil, fmt.Errorf("config invalid: %w", err)
	}
	return e, router.NewCalls(e, log), nil
}

// vru is the IVR service as the router sees it (contract.VRU): a VRU
// script it is told of before the call server sends the caller there.
type vru struct{ ivr *ivr.Server }

// Expect implements contract.VRU.
func (v vru) Expect(req contract.RunScript) error {
	return v.ivr.Expect(string(req.Call), req.Script, ivr.MicroAppParams(req.Params, req.ECC))
}

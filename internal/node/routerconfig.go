package node

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/router"
)

// routerKind names the router's documents in the config store.
const routerKind = "router"

// RouterConfig keeps the router's configuration in the config store and
// applies changes to the running engine (cti.RouterConfig).
type RouterConfig struct {
	Store  *config.Store
	Engine *router.Engine
	// Directory, if set, hears the new configuration after a change (CTI's
	// lists of agents and queues).
	Directory func(router.Config)
	// Bridge, if set, learns the new ring_no_answer.
	Bridge *RouterBridge

	mu sync.Mutex // serialises Apply: one change at a time, in version order
}

// Seed returns the configuration to start the router with: the newest
// stored version, or, on a first start, fromFile, which is stored as
// version 1. Changes made at run time therefore survive a restart.
func (rc *RouterConfig) Seed(ctx context.Context, fromFile []byte) ([]byte, int, error) {
	d, err := rc.Store.Latest(ctx, routerKind)
	switch {
	case err == nil:
		return d.Body, d.Version, nil
	case !errors.Is(err, config.ErrNoDocument):
		return nil, 0, err
	}
	v, err := rc.Store.Save(ctx, routerKind, fromFile, "config file")
	return fromFile, v, err
}

// Current implements cti.RouterConfig.
func (rc *RouterConfig) Current(ctx context.Context) (int, []byte, error) {
	d, err := rc.Store.Latest(ctx, routerKind)
	if err != nil {
		return 0, nil, err
	}
	return d.Version, d.Body, nil
}

// Apply implements cti.RouterConfig: parse, validate and apply to the
// running engine (calls in progress keep the script version they started
// on), then store. Nothing changes when any step fails before the store.
func (rc *RouterConfig) Apply(ctx context.Context, body []byte, author string) (int, error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	cfg, err := router.ParseConfig(body)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", router.ErrConfig, err)
	}
	if err := rc.Engine.Reload(cfg); err != nil {
		return 0, err
	}
	v, err := rc.Store.Save(ctx, routerKind, body, author)
	if err != nil {
		return 0, fmt.Errorf("router configuration applied but not stored: %w", err)
	}
	if rc.Bridge != nil {
		rc.Bridge.SyncRing()
	}
	if rc.Directory != nil {
		rc.Directory(cfg)
	}
	return v, nil
}

package sipedge

import (
	"context"
	"time"
)

// hbKey names a heartbeated destination across reloads: its group and
// address, the identity under which its health survives a reload.
type hbKey struct{ group, addr string }

// hbRunner is the goroutine that pings one destination.
type hbRunner struct {
	cancel context.CancelFunc
}

// startHeartbeats starts a heartbeat for every heartbeated destination of
// the current tables; reloads add and stop them until stopHeartbeats.
func (e *Edge) startHeartbeats(ctx context.Context) {
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	e.hbCtx = ctx
	e.reconcileHeartbeats()
}

// stopHeartbeats stops every heartbeat and waits for their goroutines.
func (e *Edge) stopHeartbeats() {
	e.cfgMu.Lock()
	e.hbCtx = nil
	for k, r := range e.beats {
		r.cancel()
		delete(e.beats, k)
	}
	e.cfgMu.Unlock()
	e.hbWG.Wait()
}

// reconcileHeartbeats makes the running heartbeats those the current
// tables ask for: one goroutine per destination of a group with
// heartbeats on. A destination that survives a reload keeps its goroutine
// (and its timer); the goroutine reads its settings from the tables at
// each beat, so a changed interval applies from the next one. Call with
// cfgMu held; outside Run (hbCtx nil) it does nothing.
func (e *Edge) reconcileHeartbeats() {
	if e.hbCtx == nil {
		return
	}
	want := map[hbKey]bool{}
	for _, g := range e.tables().dp.groups {
		if !g.hb.On() {
			continue
		}
		for _, d := range g.dests {
			want[hbKey{g.name, d.addr}] = true
		}
	}
	for k, r := range e.beats {
		if !want[k] {
			// It exits at its next wait or when its ping gives up; it
			// records nothing once cancelled.
			r.cancel()
			delete(e.beats, k)
		}
	}
	for k := range want {
		if e.beats[k] != nil {
			continue
		}
		ctx, cancel := context.WithCancel(e.hbCtx)
		e.beats[k] = &hbRunner{cancel: cancel}
		e.hbWG.Add(1)
		go func() {
			defer e.hbWG.Done()
			defer cancel()
			e.beat(ctx, k)
		}()
	}
}

// heartbeatTarget returns k's group and destinations in the current
// tables, or nil when k is gone or its group's heartbeats are off.
func (e *Edge) heartbeatTarget(k hbKey) (*serverGroup, []*destination) {
	dp := e.tables().dp
	g := dp.groups[k.group]
	if g == nil || !g.hb.On() {
		return nil, nil
	}
	ds := dp.find(k.group, k.addr)
	if len(ds) == 0 {
		return nil, nil
	}
	return g, ds
}

// beat pings one destination, CVP style: every up_interval while it is up,
// every down_interval while it is down, until ctx ends or a reload removes
// it.
func (e *Edge) beat(ctx context.Context, k hbKey) {
	for {
		g, ds := e.heartbeatTarget(k)
		if ds == nil {
			return
		}
		interval := g.hb.UpInterval.D()
		if !ds[0].state() {
			interval = g.hb.DownInterval.D()
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		// The tables may have changed while waiting.
		if g, ds = e.heartbeatTarget(k); ds == nil {
			return
		}
		pctx, cancel := context.WithTimeout(ctx, g.hb.Timeout.D())
		err := e.ping(pctx, k.addr, ds[0].transport)
		cancel()
		if ctx.Err() != nil {
			return
		}
		changed := false
		for _, d := range ds {
			if d.result(err == nil, g.hb.Failures) {
				changed = true
			}
		}
		if !changed {
			continue
		}
		e.setDestUp(g.name, k.addr, err == nil)
		if err == nil {
			e.log.Info("destination up", "group", g.name, "dest", k.addr)
		} else {
			e.log.Warn("destination down", "group", g.name, "dest", k.addr, "error", err)
		}
	}
}

// heartbeats returns how many heartbeat goroutines are wanted, for tests.
func (e *Edge) heartbeats() int {
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	return len(e.beats)
}

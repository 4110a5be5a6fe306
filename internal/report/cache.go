package report

import (
	"sort"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// callCache holds, for the Writer, the events of the calls whose events it
// has committed itself from its queue, so that deriving their records does
// not read them back from the database (that read was about half of the
// derivation's cost). It is owned by the writer goroutine.
//
// A call's events are all in memory only if its first event reached the
// cache with Seq 1 (a call.new or route.request: the call started in this
// process) and every Seq from 1 to the highest is there once. Anything
// else reads the database: a call that straddles a restart, events that
// went through the spool (an overflow, a store outage: replaying them
// marks the call), an event stored twice.
type callCache struct {
	calls  map[event.CallID]*cachedCall
	events int // held, over all calls
	max    int // events held at most; past it new calls are not cached
	// early: calls with events written from the spool before the cache
	// took any of theirs (a spilled event overtook the call's first one,
	// still in the queue), by when: such a call is never cached.
	early map[event.CallID]time.Time
}

type cachedCall struct {
	evs    []event.Event
	maxSeq uint64
	// spoiled: some of the call's events came another way; the database
	// has the whole call, the cache does not.
	spoiled bool
	ended   bool
	last    time.Time // when the cache last took an event of the call
	// answered and wrapped count agent.answered and agent.wrapup: an
	// ended call whose answered agents have all wrapped up expects no
	// more events.
	answered, wrapped int
	derived           int // events the call had when last derived from the cache
}

// Cache retention: an ended call is kept a while for the events that
// trail it (wrap-up), a call without events for an hour is dropped.
const (
	cacheKeepEnded = 2 * time.Minute
	cacheKeepIdle  = time.Hour
	// DefaultCacheEvents bounds the events held: about 100 MB at some
	// 400 bytes an event, or 16,000 calls of 16 events; calls beyond it
	// are derived from the database as before.
	DefaultCacheEvents = 1 << 18
)

func newCallCache(max int) *callCache {
	return &callCache{calls: map[event.CallID]*cachedCall{}, early: map[event.CallID]time.Time{}, max: max}
}

// add takes events just committed from the queue.
func (c *callCache) add(evs []event.Event, now time.Time) {
	for i := range evs {
		e := &evs[i]
		if e.Call == "" {
			continue
		}
		cc := c.calls[e.Call]
		if cc == nil {
			if e.Seq != 1 || (e.Kind != event.CallNew && e.Kind != event.RouteRequest) || c.events >= c.max {
				continue
			}
			if _, ok := c.early[e.Call]; ok {
				continue
			}
			cc = &cachedCall{}
			c.calls[e.Call] = cc
		}
		cc.last = now
		if cc.spoiled {
			continue
		}
		ev := *e
		// As the database gives it back: wall clock only, so durations
		// come out the same whichever way the call is derived.
		ev.Time = time.Unix(0, e.Time.UnixNano())
		cc.evs = append(cc.evs, ev)
		c.events++
		cc.maxSeq = max(cc.maxSeq, e.Seq)
		switch e.Kind {
		case event.CallEnded, event.CallData:
			cc.ended = true
		case event.AgentAnswered:
			cc.answered++
		case event.AgentWrapUp:
			cc.wrapped++
		}
	}
}

// spoil marks the calls of evs (written from the spool) as no longer
// whole in memory, or never to be cached if the cache has none of them.
func (c *callCache) spoil(evs []event.Event, now time.Time) {
	for i := range evs {
		id := evs[i].Call
		if id == "" {
			continue
		}
		cc := c.calls[id]
		switch {
		case cc == nil:
			c.early[id] = now
		case !cc.spoiled:
			cc.spoiled = true
			c.events -= len(cc.evs)
			cc.evs = nil
		}
	}
}

// lookup returns the call's events in journey order if all of them are
// in memory, else nil.
func (c *callCache) lookup(id event.CallID) []event.Event {
	cc := c.calls[id]
	if cc == nil || cc.spoiled || uint64(len(cc.evs)) != cc.maxSeq {
		return nil
	}
	sort.SliceStable(cc.evs, func(i, j int) bool { return cc.evs[i].Seq < cc.evs[j].Seq })
	for i := range cc.evs {
		if cc.evs[i].Seq != uint64(i+1) {
			return nil // a Seq twice (an event stored twice) and one missing
		}
	}
	cc.derived = len(cc.evs)
	return cc.evs
}

// sweep drops the calls that are over: ended, derived with every event
// the cache has, and every answering agent wrapped up; ended calls past
// cacheKeepEnded (a wrap-up may still come: it reads the database); idle
// ones past cacheKeepIdle.
func (c *callCache) sweep(now time.Time) {
	for id, cc := range c.calls {
		over := cc.ended && cc.derived == len(cc.evs) && cc.wrapped >= cc.answered && !cc.spoiled
		if idle := now.Sub(cc.last); over || (cc.ended && idle > cacheKeepEnded) || idle > cacheKeepIdle {
			c.events -= len(cc.evs)
			delete(c.calls, id)
		}
	}
	// A call's first event is at most a queue behind its spilled ones.
	for id, t := range c.early {
		if now.Sub(t) > cacheKeepEnded {
			delete(c.early, id)
		}
	}
}

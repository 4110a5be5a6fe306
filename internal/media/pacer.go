package media

import (
	"sync"
	"sync/atomic"
	"time"
)

// Pacer sends the packets of many sessions from a few goroutines.
//
// With one goroutine per session, each 20 ms packet costs a timer, a wake-up
// and a goroutine switch besides the send itself; at thousands of calls that
// overhead is a third of the CPU. A Pacer has one shard per CPU; a shard
// wakes once a millisecond, on an absolute clock like a session's own loop,
// and sends for the sessions whose 20 ms slot falls in that millisecond. A
// session joins the bucket of the next millisecond when it starts, so calls
// are spread over the 20 buckets as they arrive, and each keeps exact 20 ms
// spacing. Lateness is measured per packet against the slot, as without a
// Pacer.
type Pacer struct {
	shards []*pacerShard
	next   atomic.Uint32 // round robin over shards
}

// pacedSession is a session's membership of a shard.
type pacedSession struct {
	shard  *pacerShard
	s      *Session
	st     *sender // owned by the shard's goroutine while registered
	bucket int
}

type pacerShard struct {
	quit chan struct{}
	wake chan struct{} // cap 1: a session joined an idle shard
	done chan struct{}

	// mu guards the buckets. The shard's goroutine holds it while it sends
	// a bucket's packets, so remove waits for a slot in progress (at most a
	// millisecond's work).
	mu      sync.Mutex
	base    time.Time // the shard's clock: tick m is at base + m ms
	buckets [20][]*pacedSession
	count   int
}

const pacerTick = time.Millisecond

// NewPacer starts a pacer with the given number of shards (goroutines);
// 0 means 2. Close it after the sessions using it.
func NewPacer(shards int) *Pacer {
	if shards <= 0 {
		shards = 2
	}
	p := &Pacer{}
	for range shards {
		sh := &pacerShard{quit: make(chan struct{}), wake: make(chan struct{}, 1), done: make(chan struct{}), base: time.Now()}
		p.shards = append(p.shards, sh)
		go sh.run()
	}
	return p
}

// Close stops the pacer's goroutines. Sessions still registered stop sending.
func (p *Pacer) Close() {
	for _, sh := range p.shards {
		close(sh.quit)
		<-sh.done
	}
}

func (p *Pacer) add(s *Session, st *sender) *pacedSession {
	sh := p.shards[int(p.next.Add(1))%len(p.shards)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.count == 0 {
		sh.base = time.Now()
	}
	b := (int(time.Since(sh.base)/pacerTick) + 1) % len(sh.buckets)
	ps := &pacedSession{shard: sh, s: s, st: st, bucket: b}
	sh.buckets[b] = append(sh.buckets[b], ps)
	sh.count++
	select {
	case sh.wake <- struct{}{}:
	default:
	}
	return ps
}

func (ps *pacedSession) remove(*Session) {
	sh := ps.shard
	sh.mu.Lock()
	defer sh.mu.Unlock()
	list := sh.buckets[ps.bucket]
	for i, x := range list {
		if x == ps {
			list[i] = list[len(list)-1]
			list[len(list)-1] = nil
			sh.buckets[ps.bucket] = list[:len(list)-1]
			sh.count--
			return
		}
	}
}

func (sh *pacerShard) run() {
	defer close(sh.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var m int64
	var lastBase time.Time
	for {
		sh.mu.Lock()
		idle := sh.count == 0
		base := sh.base
		sh.mu.Unlock()
		if idle {
			select {
			case <-sh.wake:
				continue
			case <-sh.quit:
				return
			}
		}
		if !base.Equal(lastBase) {
			// The clock restarts when the first session joins an idle shard.
			lastBase = base
			m = int64(time.Since(base)/pacerTick) + 1
		}
		slot := base.Add(time.Duration(m) * pacerTick)
		if d := time.Until(slot); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-sh.quit:
				return
			}
		}
		now := time.Now()
		if now.Sub(slot) > maxCatchUp {
			// Starved for a while: skip to now rather than burst.
			m = int64(now.Sub(base) / pacerTick)
			slot = base.Add(time.Duration(m) * pacerTick)
		}
		sh.mu.Lock()
		if sh.base.Equal(base) {
			for _, ps := range sh.buckets[m%int64(len(sh.buckets))] {
				// Each packet's own send time, so that a long bucket
				// shows up in the lateness figures.
				ps.s.sendSlot(ps.st, slot, time.Now())
			}
		}
		sh.mu.Unlock()
		m++
	}
}

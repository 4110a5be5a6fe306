package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// WriterConfig tunes the Writer. Zero fields take the defaults below.
// It is built by the node (paths under data_dir, report.retention_days)
// and by tests; tandem's file reaches the store through report.Config.
type WriterConfig struct {
	// SpoolPath is the file events wait in while the store is down.
	SpoolPath string
	// SpoolMaxBytes bounds the spool file.
	SpoolMaxBytes int64
	// QueueSize bounds the in-memory queue between Emit and the writer.
	QueueSize int
	// BatchSize and BatchDelay: a batch is committed when it holds
	// BatchSize events or its first event is BatchDelay old.
	BatchSize  int
	BatchDelay time.Duration
	// StoreTimeout bounds one batch's transaction; past it the store
	// counts as slow and the batch goes to the spool.
	StoreTimeout time.Duration
	// RetryInterval is how often a down store is tried again.
	RetryInterval time.Duration
	// CacheEvents bounds the events the writer keeps in memory to derive
	// records from without reading them back (see callCache); negative
	// keeps none.
	CacheEvents int
	// Retention, if positive, is how long events and records are kept:
	// the writer purges older ones a minute after it starts and then
	// once a day.
	Retention time.Duration
	// Logger receives the writer's log lines; nil means slog.Default().
	Logger *slog.Logger
}

// Writer defaults, with the reason for each.
const (
	// 256 MiB holds about a million events (~250 bytes each as JSON): at
	// 60,000 events/s, some 15 s of a store outage at full load, hours at
	// ordinary load.
	DefaultSpoolMaxBytes = 256 << 20
	// 65,536 events cover one StoreTimeout of a stalled store at 30,000
	// events/s before Emit has to wait.
	DefaultQueueSize = 1 << 16
	// 1,000 events per transaction is where SQLite's gain from batching
	// levels off; 10 ms bounds the latency batching adds.
	DefaultBatchSize  = 1000
	DefaultBatchDelay = 10 * time.Millisecond
	// A healthy batch commits in milliseconds; two seconds is a store in
	// trouble.
	DefaultStoreTimeout  = 2 * time.Second
	DefaultRetryInterval = time.Second
)

func (c *WriterConfig) defaults() {
	if c.SpoolMaxBytes == 0 {
		c.SpoolMaxBytes = DefaultSpoolMaxBytes
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.BatchDelay == 0 {
		c.BatchDelay = DefaultBatchDelay
	}
	if c.StoreTimeout == 0 {
		c.StoreTimeout = DefaultStoreTimeout
	}
	if c.RetryInterval == 0 {
		c.RetryInterval = DefaultRetryInterval
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.CacheEvents == 0 {
		c.CacheEvents = DefaultCacheEvents
	}
}

// Validate returns every problem of c, each naming its field.
func (c WriterConfig) Validate() error {
	var errs []error
	if c.SpoolPath == "" {
		errs = append(errs, fmt.Errorf("%w: report.writer.spool_path: required", ErrConfig))
	}
	if c.SpoolMaxBytes < 0 || c.QueueSize < 0 || c.BatchSize < 0 || c.BatchDelay < 0 ||
		c.StoreTimeout < 0 || c.RetryInterval < 0 || c.Retention < 0 {
		errs = append(errs, fmt.Errorf("%w: report.writer: sizes and durations must not be negative", ErrConfig))
	}
	return errors.Join(errs...)
}

// Stats are the Writer's counters since it started.
type Stats struct {
	Emitted  uint64 // accepted into the queue
	Stored   uint64 // committed to the store straight from the queue
	Spooled  uint64 // appended to the spool
	Replayed uint64 // written from the spool to the store
	// Overflowed counts events Emit sent to the spool because the queue
	// was full (they are in Spooled too, once appended).
	Overflowed uint64
	Dropped    uint64 // lost: spool full or failing, or emitted after Close
	// SpoolBytes is the spool's size; StoreDown says whether the last
	// attempt on the store failed.
	SpoolBytes int64
	StoreDown  bool
	// Recovered says the start-up recovery is done (CloseOrphans ran, or
	// the store has no node id); OrphanCalls and OrphanAgents are what
	// it closed.
	Recovered    bool
	OrphanCalls  uint64
	OrphanAgents uint64
}

// Writer is the event.Sink that makes events durable: Emit queues, one
// goroutine commits the queue in batches, and spills to the spool when
// the store is slow or down. Create it with NewWriter; stop it with Close.
type Writer struct {
	store *Store
	cfg   WriterConfig
	log   *slog.Logger
	seq   event.Sequencer

	q   chan event.Event
	req chan flushRequest

	// mu makes Close and Emit's send exclusive: once Close holds it, no
	// Emit is half-way into the queue, so the final drain sees them all.
	mu     sync.RWMutex
	closed bool
	done   chan struct{} // closed when the goroutine has returned

	emitted, stored, spooled, replayed, dropped, overflowed atomic.Uint64
	spoolBytes                                              atomic.Int64
	storeDown                                               atomic.Bool
	dropLog                                                 atomic.Int64 // unix ns of the last drop log line
	dropSince                                               atomic.Uint64

	// Overflow: events that found the queue full, on their way to the
	// spool through the spiller goroutine. ovMu guards overflow.
	ovMu      sync.Mutex
	overflow  []event.Event
	ovSignal  chan struct{} // cap 1: overflow has events
	spilled   chan struct{} // cap 1: the spiller appended to the spool
	stopSpill chan struct{}
	spillDone chan struct{}

	// spoolMu guards spool: the writer goroutine appends, replays and
	// advances it, the spiller (and an Emit whose overflow is full)
	// appends. Never held across a store call.
	spoolMu sync.Mutex
	spool   *spool

	// Start-up recovery (CloseOrphans): until it has run, Emit notes the
	// calls and agents this process has events for, so they are not taken
	// for orphans of the run before. liveMu guards liveCalls and
	// liveAgents; they are dropped once recovered is set.
	started       time.Time
	recovered     atomic.Bool
	liveMu        sync.Mutex
	liveCalls     map[event.CallID]struct{}
	liveAgents    map[event.AgentID]struct{}
	orphanCalls   atomic.Uint64
	orphanAgents  atomic.Uint64
	recoverAt     time.Time // goroutine only: no attempt before (after a failure)
	recoverFailed int       // goroutine only: failed attempts, for the log

	// Owned by the goroutine (run and what it calls).
	batch   []event.Event
	down    bool
	lastErr error
	cache   *callCache
	derives int // derive ticks, to sweep the cache every few
}

type flushRequest struct {
	ctx   context.Context
	close bool
	reply chan error
}

// NewWriter opens the spool (replaying whatever a previous run left in it
// once the store answers) and starts the writer goroutine.
func NewWriter(store *Store, cfg WriterConfig) (*Writer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	log := cfg.Logger.With("role", "report")
	sp, err := openSpool(cfg.SpoolPath, cfg.SpoolMaxBytes, log)
	if err != nil {
		return nil, err
	}
	w := &Writer{
		store: store, cfg: cfg, log: log, spool: sp,
		q:        make(chan event.Event, cfg.QueueSize),
		req:      make(chan flushRequest),
		done:     make(chan struct{}),
		batch:    make([]event.Event, 0, cfg.BatchSize),
		cache:    newCallCache(cfg.CacheEvents),
		ovSignal: make(chan struct{}, 1), spilled: make(chan struct{}, 1),
		stopSpill: make(chan struct{}), spillDone: make(chan struct{}),
	}
	w.spoolBytes.Store(sp.size)
	w.started = time.Now()
	w.liveCalls, w.liveAgents = map[event.CallID]struct{}{}, map[event.AgentID]struct{}{}
	if store.node == "" {
		w.recovered.Store(true) // no node id: no owner to recover for
	}
	if sp.pending() {
		log.Info("report: spool holds events from a previous run; replaying", "spool", cfg.SpoolPath, "bytes", sp.size)
	}
	go w.run()
	go w.spiller()
	return w, nil
}

// Emit implements event.Sink. It stamps the event (ID, per-call Seq, and
// Time if unset) and queues it. When the queue is full (the store is slow)
// it does not wait and does not drop: the event goes to the overflow,
// which the spiller goroutine appends to the persistent spool in batches,
// to be replayed into the store like any spooled event. Only a full (or
// failing) spool drops events, counted in Stats().Dropped and logged. If
// the overflow itself holds QueueSize events (the spiller is behind too),
// Emit appends them to the spool itself: one fsync on the call path,
// rather than a loss.
func (w *Writer) Emit(e event.Event) {
	now := time.Now()
	if e.Time.IsZero() {
		e.Time = now
	}
	w.seq.Stamp(&e, now)
	if !w.recovered.Load() {
		w.noteLive(&e)
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		w.drop(1, "emitted after close")
		return
	}
	select {
	case w.q <- e:
		w.emitted.Add(1)
		return
	default:
	}
	w.emitted.Add(1)
	w.overflowed.Add(1)
	w.ovMu.Lock()
	w.overflow = append(w.overflow, e)
	if len(w.overflow) < w.cfg.QueueSize {
		w.ovMu.Unlock()
		select {
		case w.ovSignal <- struct{}{}:
		default:
		}
		return
	}
	evs := w.overflow
	w.overflow = nil
	w.ovMu.Unlock()
	w.spillOverflow(evs)
}

// noteLive records that this process has events for e's call and agent.
func (w *Writer) noteLive(e *event.Event) {
	w.liveMu.Lock()
	defer w.liveMu.Unlock()
	if w.liveCalls == nil {
		return // recovered meanwhile
	}
	if e.Call != "" {
		w.liveCalls[e.Call] = struct{}{}
	}
	if e.Agent != "" {
		w.liveAgents[e.Agent] = struct{}{}
	}
}

// recoverOrphans runs the start-up recovery once the store answers and
// the spool of the earlier run is replayed (its events first, or a call
// whose end is still in the spool would be closed as an orphan): the
// calls and agents the earlier runs of this node left open are closed
// (Store.CloseOrphans). A failure is logged and tried again later.
func (w *Writer) recoverOrphans() {
	if w.recovered.Load() || w.down || w.spoolPending() || time.Now().Before(w.recoverAt) {
		return
	}
	// Closing a few thousand calls takes seconds; a minute is a store in
	// trouble.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w.liveMu.Lock()
	liveCalls, liveAgents := w.liveCalls, w.liveAgents
	w.liveMu.Unlock()
	// Emit may add to the maps while CloseOrphans reads them: read under
	// the lock.
	isLive := func(id event.CallID) bool {
		w.liveMu.Lock()
		defer w.liveMu.Unlock()
		_, ok := liveCalls[id]
		return ok
	}
	isLiveAgent := func(a event.AgentID) bool {
		w.liveMu.Lock()
		defer w.liveMu.Unlock()
		_, ok := liveAgents[a]
		return ok
	}
	o, err := w.store.CloseOrphans(ctx, w.started, isLive, isLiveAgent)
	if err != nil {
		w.recoverFailed++
		w.recoverAt = time.Now().Add(w.cfg.RetryInterval)
		if w.recoverFailed == 1 || w.recoverFailed%60 == 0 {
			w.log.Warn("report: closing what an earlier run left open failed; will retry", "attempts", w.recoverFailed, "err", err)
		}
		return
	}
	w.orphanCalls.Store(uint64(o.Calls))
	w.orphanAgents.Store(uint64(o.Agents))
	w.liveMu.Lock()
	w.liveCalls, w.liveAgents = nil, nil
	w.recovered.Store(true)
	w.liveMu.Unlock()
	if o.Calls > 0 || o.Agents > 0 {
		w.log.Warn("report: closed the calls and agents an earlier run of this node left open (it stopped without ending them)",
			"node", w.store.node, "calls", o.Calls, "agents", o.Agents, "last_seen", o.Died, "disposition", DispositionNodeRestart)
	} else {
		w.log.Info("report: nothing left open by an earlier run", "node", w.store.node)
	}
}

// spiller appends the overflow to the spool until Close stops it.
func (w *Writer) spiller() {
	defer close(w.spillDone)
	for {
		select {
		case <-w.stopSpill:
			return
		case <-w.ovSignal:
			w.spillOverflow(w.takeOverflow())
		}
	}
}

func (w *Writer) takeOverflow() []event.Event {
	w.ovMu.Lock()
	defer w.ovMu.Unlock()
	evs := w.overflow
	w.overflow = nil
	return evs
}

// spillOverflow appends evs to the spool and tells the writer goroutine
// there is something to replay.
func (w *Writer) spillOverflow(evs []event.Event) {
	if len(evs) == 0 {
		return
	}
	w.spill(evs)
	select {
	case w.spilled <- struct{}{}:
	default:
	}
}

// drop counts lost events and says so at error level, at most once a
// second so an overload does not also drown the log.
func (w *Writer) drop(n int, why string) {
	w.dropped.Add(uint64(n))
	since := w.dropSince.Add(uint64(n))
	now := time.Now().UnixNano()
	last := w.dropLog.Load()
	if now-last < int64(time.Second) || !w.dropLog.CompareAndSwap(last, now) {
		return
	}
	w.dropSince.Add(-since)
	w.log.Error("report: EVENTS DROPPED", "count", since, "dropped_total", w.dropped.Load(), "why", why)
}

// Flush returns once every event emitted before it is committed to the
// store. If the store cannot be reached the events are durable in the
// spool instead and Flush returns an error wrapping ErrSpooled.
func (w *Writer) Flush(ctx context.Context) error {
	return w.request(ctx, false)
}

// Close stops the writer: later Emits are dropped and counted, the queue
// is committed, and the spool replayed while the store answers and ctx
// lasts. What remains in the spool is replayed by the next NewWriter.
// Close does not close the Store.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	w.mu.Unlock()
	return w.request(ctx, true)
}

func (w *Writer) request(ctx context.Context, close bool) error {
	r := flushRequest{ctx: ctx, close: close, reply: make(chan error, 1)}
	select {
	case w.req <- r:
	case <-w.done:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("report: flush: %w", ctx.Err())
	}
	select {
	case err := <-r.reply:
		return err
	case <-ctx.Done():
		return fmt.Errorf("report: flush: %w", ctx.Err())
	}
}

// Stats returns the counters.
func (w *Writer) Stats() Stats {
	return Stats{
		Emitted: w.emitted.Load(), Stored: w.stored.Load(), Spooled: w.spooled.Load(),
		Replayed: w.replayed.Load(), Dropped: w.dropped.Load(), Overflowed: w.overflowed.Load(),
		SpoolBytes: w.spoolBytes.Load(), StoreDown: w.storeDown.Load(),
		Recovered: w.recovered.Load(), OrphanCalls: w.orphanCalls.Load(), OrphanAgents: w.orphanAgents.Load(),
	}
}

// run is the writer goroutine: it alone touches batch, spool and down.
func (w *Writer) run() {
	defer close(w.done)
	batchT := time.NewTimer(time.Hour)
	batchT.Stop()
	batchOn := false
	retryT := time.NewTimer(0) // try a spool left by a previous run at once
	if !w.spoolPending() {
		retryT.Stop()
	}
	deriveT := time.NewTicker(deriveEvery)
	defer deriveT.Stop()
	purgeT := time.NewTimer(purgeFirst)
	if w.cfg.Retention <= 0 {
		purgeT.Stop()
	}
	w.recoverOrphans()
	for {
		select {
		case <-w.spilled:
			retryT.Reset(0) // overflow reached the spool: replay it
		case <-purgeT.C:
			purgeT.Reset(purgeEvery)
			if !w.down {
				w.purge(time.Now())
			}
		case <-deriveT.C:
			if !w.down {
				w.recoverOrphans()
				w.derive(time.Now())
			}
		case e := <-w.q:
			w.batch = append(w.batch, e)
			if len(w.batch) >= w.cfg.BatchSize {
				if batchOn {
					batchT.Stop()
					batchOn = false
				}
				w.commit()
			} else if !batchOn {
				batchT.Reset(w.cfg.BatchDelay)
				batchOn = true
			}
		case <-batchT.C:
			batchOn = false
			w.commit()
		case <-retryT.C:
			if w.retry(context.Background()) {
				retryT.Reset(0) // progress: go on with the next chunk
			} else if w.down || w.spoolPending() {
				retryT.Reset(w.cfg.RetryInterval)
			}
		case r := <-w.req:
			if batchOn {
				batchT.Stop()
				batchOn = false
			}
			if r.close {
				// No Emit runs now (closed is set); stop the spiller so
				// the final flush sees the whole overflow.
				close(w.stopSpill)
				<-w.spillDone
			}
			err := w.flush(r.ctx)
			if r.close {
				w.spoolMu.Lock()
				cerr := w.spool.close()
				w.spoolMu.Unlock()
				if cerr != nil && err == nil {
					err = cerr
				}
				r.reply <- err
				return
			}
			r.reply <- err
			if w.down || w.spoolPending() {
				retryT.Reset(w.cfg.RetryInterval)
			}
		}
	}
}

// flush commits what is queued now, then replays the spool while the
// store takes it and ctx lasts.
func (w *Writer) flush(ctx context.Context) error {
	w.spillOverflow(w.takeOverflow())
	for n := len(w.q); n > 0; n-- {
		w.batch = append(w.batch, <-w.q)
		if len(w.batch) >= w.cfg.BatchSize {
			w.commit()
		}
	}
	w.commit()
	for (w.down || w.spoolPending()) && ctx.Err() == nil {
		if !w.retry(ctx) {
			break
		}
	}
	// Flush also promises that what an earlier run left open is closed.
	w.recoverOrphans()
	if !w.down {
		// Flush promises records too: derive every marked call now.
		w.derive(time.Now().Add(100 * 365 * 24 * time.Hour))
	}
	if w.down || w.spoolPending() {
		w.spoolMu.Lock()
		defer w.spoolMu.Unlock()
		return fmt.Errorf("%w: %d bytes in %s: %v", ErrSpooled, w.spool.size-w.spool.read, w.spool.path, w.lastErr)
	}
	return nil
}

// Purge schedule: soon after start (a node restarted daily still purges),
// then daily.
const (
	purgeFirst = time.Minute
	purgeEvery = 24 * time.Hour
)

// purge deletes what is older than Retention. It runs in the writer's
// goroutine, so it delays batches while it runs: a daily purge of a day's
// rows.
func (w *Writer) purge(now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	before := now.Add(-w.cfg.Retention)
	n, err := w.store.Purge(ctx, before)
	if err != nil {
		w.log.Warn("report: purge failed; will try again tomorrow", "err", err)
		return
	}
	w.log.Info("report: purged old events and records", "before", before, "rows", n)
}

// deriveEvery is how often the writer brings records up to date.
const deriveEvery = 250 * time.Millisecond

// derive runs Store.Derive for the calls due by now. A failure leaves the
// calls marked; the next tick tries again.
func (w *Writer) derive(now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*w.cfg.StoreTimeout)
	defer cancel()
	if _, err := w.store.DeriveWith(ctx, now, w.cache.lookup); err != nil {
		w.log.Warn("report: records not derived; will retry", "err", err)
	}
	if w.derives++; w.derives%4 == 0 {
		w.cache.sweep(time.Now())
	}
}

// commit writes the batch to the store, or to the spool when the store is
// down or fails now.
func (w *Writer) commit() {
	if len(w.batch) == 0 {
		return
	}
	defer func() { w.batch = w.batch[:0] }()
	if !w.down {
		ctx, cancel := context.WithTimeout(context.Background(), w.cfg.StoreTimeout)
		err := w.store.Insert(ctx, w.batch)
		cancel()
		if err == nil {
			w.stored.Add(uint64(len(w.batch)))
			w.cache.add(w.batch, time.Now())
			return
		}
		w.setDown(err)
	}
	w.spill(w.batch)
}

func (w *Writer) setDown(err error) {
	if !w.down {
		w.log.Warn("report: store unavailable; spooling events until it is back", "store", w.store.name, "err", err)
	}
	w.down, w.lastErr = true, err
	w.storeDown.Store(true)
}

func (w *Writer) setUp() {
	if w.down {
		w.log.Info("report: store is back; replaying the spool", "store", w.store.name)
	}
	w.down, w.lastErr = false, nil
	w.storeDown.Store(false)
}

func (w *Writer) spill(events []event.Event) {
	w.spoolMu.Lock()
	defer w.spoolMu.Unlock()
	err := w.spool.append(events)
	if err != nil {
		if errors.Is(err, errSpoolFull) {
			err = fmt.Errorf("%w: %s at %d of %d bytes", err, w.spool.path, w.spool.size, w.spool.max)
		}
		w.drop(len(events), err.Error())
		return
	}
	w.spooled.Add(uint64(len(events)))
	w.spoolBytes.Store(w.spool.size)
}

func (w *Writer) spoolPending() bool {
	w.spoolMu.Lock()
	defer w.spoolMu.Unlock()
	return w.spool.pending()
}

// retry tries the store once: the next chunk of the spool, or a ping when
// the spool is empty. It reports whether it made progress and more
// remains.
func (w *Writer) retry(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.StoreTimeout)
	defer cancel()
	if !w.spoolPending() {
		if !w.down {
			return false
		}
		if err := w.store.Ping(ctx); err != nil {
			w.lastErr = err
			return false
		}
		w.setUp()
		return false
	}
	w.spoolMu.Lock()
	events, off, err := w.spool.next(5 * w.cfg.BatchSize)
	if err != nil {
		// Records were checked when appended and when the spool was opened;
		// failing now is a disk fault. Skip the rest rather than wedge.
		lost := w.spool.size - w.spool.read
		w.log.Error("report: EVENTS DROPPED: spool unreadable; discarding the rest", "bytes", lost, "err", err)
		w.dropped.Add(1) // at least one; the byte count is in the log line
		if aerr := w.spool.advance(w.spool.size); aerr != nil {
			w.log.Error("report: spool", "err", aerr)
		}
		w.spoolBytes.Store(w.spool.size)
		w.spoolMu.Unlock()
		return false
	}
	w.spoolMu.Unlock()
	// The lock is not held across the store: the spiller may append
	// meanwhile (after off), which advance keeps.
	if err := w.store.Insert(ctx, events); err != nil {
		w.setDown(err)
		return false
	}
	w.cache.spoil(events, time.Now()) // their calls are whole in the database only
	w.setUp()
	w.replayed.Add(uint64(len(events)))
	w.spoolMu.Lock()
	defer w.spoolMu.Unlock()
	if err := w.spool.advance(off); err != nil {
		w.log.Error("report: spool", "err", err)
	}
	w.spoolBytes.Store(w.spool.size)
	return w.spool.pending()
}

// Package report is the reporting role: the durable store of every event
// the other roles emit, joined on the global call id. In CVP/UCCE terms it
// is the Logger (and later the HDS) and the CVP Reporting Server in one.
//
// # Plugging in
//
// Roles emit through event.Sink and never import report. cmd/tandem opens
// a Store, starts a Writer on it and hands the roles an event.Fanout that
// holds the Writer beside the logger and counters:
//
//	store, _ := report.Open(ctx, report.StoreConfig{Driver: "sqlite", Path: "data/events.db"})
//	w, _ := report.NewWriter(store, report.WriterConfig{SpoolPath: "data/events.spool"})
//	sink := event.Fanout{w, event.Logger{Log: log}, counter}
//	...
//	w.Close(ctx) // after the roles have drained
//	store.Close()
//
// # Stores
//
// SQLite (modernc.org/sqlite, WAL, synchronous=FULL) is the embedded
// default; PostgreSQL through a pgx/v5 pool when configured. One schema,
// numbered migrations recorded in schema_migrations, SQL written once with
// ? placeholders; the dialect type holds what differs.
//
// # Ownership
//
// One writer goroutine owns the open transaction, the batch being built
// and the spool file; Emit only stamps the event (ID, per-call Seq, Time)
// and hands it over a bounded channel. Readers (CallJourney, Count) use
// the database's own concurrency.
//
// # Durability, exactly as built
//
//   - A batch is committed when it holds BatchSize events (1,000) or its
//     first event is BatchDelay old (10 ms): many events per transaction,
//     one fsync each.
//   - Writes are idempotent by event id (ON CONFLICT (id) DO NOTHING), so a
//     replay or a retry of a batch whose commit did land stores nothing
//     twice.
//   - If a transaction fails or takes longer than StoreTimeout, the batch
//     and every later one go to the spool: an append-only file of
//     length-prefixed, CRC-32C-checked records, fsynced once per batch. The
//     store is retried every RetryInterval; the spool is replayed in
//     chunks, and emptied once all of it is stored. A spool left by a
//     crashed or closed writer is replayed by the next one; a torn tail is
//     cut off when it is opened.
//   - Flush returns nil once every event emitted before it is committed to
//     the store, or an error wrapping ErrSpooled when they are durable in
//     the spool instead. Either way a kill -9 (SQLite: also a power cut)
//     after Flush returns loses none of them. Events not yet flushed may
//     be lost: at most the queue (QueueSize) and one batch.
//   - A full queue (the store is slow) does not drop and does not stall
//     Emit: the event goes to an overflow list that a spiller goroutine
//     appends to the spool in batches (Stats().Overflowed), replayed like
//     any spooled event. If the overflow itself reaches QueueSize, Emit
//     appends it to the spool itself (one fsync). Events are dropped only
//     when the spool is full (SpoolMaxBytes) or fails, or when emitted
//     after Close; each drop is counted in Stats().Dropped and logged at
//     error level (at most once a second, with the count).
//
// # Records
//
// Insert marks, in the batch's own transaction, every call it touched
// (pending_calls, due a settle time later) and writes agent state changes
// as agent state detail rows. The Writer runs Derive every 250 ms (and
// on Flush, for every marked call): each due call's events are taken from
// the writer's memory (callCache: the events it committed itself from its
// queue, when it has all of the call's) or else read back from the
// database (a call from before a restart, events that went through the
// spool), and buildCall, a pure function, turns them into its termination call
// details (caller leg, one per agent offer, one per SIP dialog), route
// call details, IVR steps (VoiceXML items visited, micro-app results),
// and, once it has ended, its contributions to the interval
// rows of its call type, each skill group it queued to and each agent it
// was offered to, in the interval it ended in. buildCall is a loop over
// record families, one file each (family_<name>.go: call, callback, ivr,
// queue, route, hold, agent, transfer, sip), each with the events it
// reads, its accumulators and the records it writes, run in rank order
// (RecordFamilies lists them); adding a family is adding such a file.
// The tables a call's records go to are recordTables (derive.go). The contributions are kept
// per call (call_facts) and taken off before the new ones are added, so
// deriving a call again (a late wrap-up event, a replayed spool) never
// counts it twice. Rates (the three service-level formulas, ASA, AHT) are
// computed from the additive counters when read (Counters.Figures).
//
// Agent rows also hold the agent's time per state (StateTimes). Insert
// marks each agent with a new state change (pending_agents, with its
// earliest new change); deriveAgents recomputes the agent's rows from the
// interval of the change before that on, from agent state detail, and
// sets those columns (splitStates, a pure function, cuts each state's
// span at interval boundaries), so it too may run any number of times.
//
// # Start-up recovery
//
// A process killed mid-call (kill -9, a crash, a power cut) leaves the
// records of its live calls in progress and its agents in talking or
// ready: nothing owns them any more, since the router's state died with
// it. Each stored event carries the node that stored it (column owner,
// StoreConfig.Node, the node id kept in data_dir/node-id). When a Writer
// of a node with an id starts, once the store answers and the spool the
// dead run left is replayed, Store.CloseOrphans closes what the earlier
// runs of this node left open: agent.call_end, leg.ended and call.ended
// (outcome node_restart) for each such call, agent.state logged_out
// (reason -2) for each such agent, at the last moment the earlier run was
// seen; derived as any event, they close the records and count the calls
// in the intervals. The calls and agents the running process has emitted
// events for are not touched, nor another node's: with a PostgreSQL store
// shared by several nodes, each closes only its own.
//
// Handler serves them as JSON or CSV (docs/report-api.md); Purge, run
// daily by the Writer with Retention set, deletes by age.
//
// Seq is per call and per Writer (per process): two processes emitting
// for one call would each count from 1; CallJourney then orders by seq,
// time and id.
package report

package report

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// What CloseOrphans writes.
const (
	// OutcomeNodeRestart is the outcome of a call closed at start: the
	// process that had it died (kill -9, a crash, a power cut) and no
	// process owns it any more. It is the caller record's disposition.
	OutcomeNodeRestart event.Outcome = "node_restart"
	// DispositionNodeRestart is the disposition of an agent leg closed
	// at start, and the Reason of the events that close them.
	DispositionNodeRestart = "node_restart"
	// ReasonNodeRestart is the logout reason code of an agent logged out
	// at start: UCCE's -2, "the PG reset the agent, normally due to a PG
	// failure" (tandem's node is the PG). Configured reason codes are 1 to
	// 32766, so it cannot clash.
	ReasonNodeRestart = -2
)

// Orphans is what CloseOrphans closed.
type Orphans struct {
	Calls  int // calls whose records were open
	Agents int // agents left in a state other than logged out
	// Died is when the earlier run was last seen (its last stored event),
	// the end time given to what was open then; zero when the store holds
	// nothing of an earlier run.
	Died time.Time
}

// farFuture derives every marked call and agent, due or not.
var farFuture = time.Unix(0, 1<<62)

// CloseOrphans closes what the earlier runs of this node (StoreConfig.Node)
// left open: after a kill -9 the calls alive then stay in progress for
// ever and their agents in talking or ready, since no process owns them
// any more (the router's state was in the dead process's memory). Each
// such call gets the events its end would have had, written now with the
// reason node_restart: agent.call_end for the agent legs still open,
// leg.ended for its SIP dialogs, and call.ended with OutcomeNodeRestart;
// each such agent gets agent.state logged_out with ReasonNodeRestart. Their
// time is when the earlier run was last seen (its last event before
// since), or the call's or agent's own last event if later. Derived like
// any event, they close the records and count the calls in the interval
// tables (offered includes them).
//
// A call or agent is this node's when its first event (an agent's last
// state change) was stored by this node, or by a tandem that did not record
// owners yet (owner ”): with several nodes on one PostgreSQL, each closes
// only its own. liveCall and liveAgent say which calls and agents the
// running process has emitted events for (they are alive: not orphans);
// since is when the running process started. Run it once, after the spool
// of the earlier run is replayed; running it again closes nothing twice.
func (s *Store) CloseOrphans(ctx context.Context, since time.Time, liveCall func(event.CallID) bool, liveAgent func(event.AgentID) bool) (Orphans, error) {
	var o Orphans
	if s.node == "" {
		return o, fmt.Errorf("report: close orphans in %s: %w: no node id", s.name, ErrConfig)
	}
	fail := func(what string, err error) (Orphans, error) {
		return o, fmt.Errorf("report: close orphans of node %s in %s: %s: %w", s.node, s.name, what, err)
	}
	// Records up to date: a call whose events came in just before the
	// crash (or from the spool) may not be derived yet.
	if _, err := s.Derive(ctx, farFuture); err != nil {
		return o, err
	}
	var died int64
	err := s.db.QueryRowContext(ctx, s.dialect.rebind(`SELECT time_ns FROM events WHERE owner = ? AND time_ns < ? ORDER BY time_ns DESC LIMIT 1`),
		s.node, since.UnixNano()).Scan(&died)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fail("last event", err)
	}
	if died != 0 {
		o.Died = time.Unix(0, died)
	}
	open, err := s.openCalls(ctx)
	if err != nil {
		return fail("open calls", err)
	}
	var closing []event.Event
	now := time.Now()
	for _, id := range open {
		if liveCall != nil && liveCall(id) {
			continue
		}
		evs, err := s.orphanCall(ctx, id, died, now)
		if err != nil {
			return fail("call "+string(id), err)
		}
		if len(evs) > 0 {
			o.Calls++
			closing = append(closing, evs...)
		}
	}
	agents, err := s.orphanAgents(ctx, died, now, liveAgent)
	if err != nil {
		return fail("agents", err)
	}
	o.Agents = len(agents)
	closing = append(closing, agents...)
	if len(closing) == 0 {
		return o, nil
	}
	if err := s.Insert(ctx, closing); err != nil {
		return o, err
	}
	if _, err := s.Derive(ctx, farFuture); err != nil {
		return o, err
	}
	return o, nil
}

// openCalls lists the calls with a record in progress (the caller's or an
// agent leg's).
func (s *Store) openCalls(ctx context.Context) ([]event.CallID, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT call_id FROM tcd WHERE disposition = 'in_progress' ORDER BY call_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []event.CallID
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, event.CallID(id))
	}
	return out, rows.Err()
}

// orphanCall returns the events that close call, if it is this node's:
// nothing when another node owns it.
func (s *Store) orphanCall(ctx context.Context, call event.CallID, died int64, now time.Time) ([]event.Event, error) {
	var owner string
	err := s.db.QueryRowContext(ctx, s.dialect.rebind(`SELECT owner FROM events WHERE call_id = ? ORDER BY seq, time_ns, id LIMIT 1`), string(call)).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != s.node && owner != "") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var seqN, lastN sql.NullInt64
	if err := s.db.QueryRowContext(ctx, s.dialect.rebind(`SELECT MAX(seq), MAX(time_ns) FROM events WHERE call_id = ?`), string(call)).Scan(&seqN, &lastN); err != nil {
		return nil, err
	}
	maxSeq, last := seqN.Int64, lastN.Int64
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(`SELECT leg, leg_kind, agent, end_ns, disposition FROM tcd WHERE call_id = ? ORDER BY leg`), string(call))
	if err != nil {
		return nil, err
	}
	type leg struct {
		leg, kind, agent, disp string
		end                    int64
	}
	var legs []leg
	callerOpen := false
	for rows.Next() {
		var l leg
		if err := rows.Scan(&l.leg, &l.kind, &l.agent, &l.end, &l.disp); err != nil {
			rows.Close()
			return nil, err
		}
		if l.kind == "caller" && l.disp == "in_progress" {
			callerOpen = true
		}
		legs = append(legs, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// A call still open was alive until the process died; one that ended
	// with an agent leg left open (its end lost in the crash) ends that
	// leg at the call's last event.
	end := last
	if callerOpen && died > end {
		end = died
	}
	at := time.Unix(0, end)
	var out []event.Event
	add := func(e event.Event) {
		maxSeq++
		e.ID, e.Call, e.Seq, e.Time, e.Reason = event.NewEventID(now), call, uint64(maxSeq), at, DispositionNodeRestart
		out = append(out, e)
	}
	for _, l := range legs {
		switch {
		case l.kind == "agent" && l.disp == "in_progress":
			add(event.Event{Kind: event.AgentCallEnd, Agent: event.AgentID(l.agent)})
		case l.kind == "sip" && l.end == 0 && callerOpen:
			add(event.Event{Kind: event.LegEnded, Leg: event.LegID(l.leg)})
		}
	}
	if callerOpen {
		add(event.Event{Kind: event.CallEnded, Outcome: OutcomeNodeRestart})
	}
	return out, nil
}

// orphanAgents returns the logouts of this node's agents whose last state
// is not logged out.
func (s *Store) orphanAgents(ctx context.Context, died int64, now time.Time, live func(event.AgentID) bool) ([]event.Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT agent FROM agent_state ORDER BY agent`)
	if err != nil {
		return nil, err
	}
	var agents []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			rows.Close()
			return nil, err
		}
		agents = append(agents, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	lastQ := s.dialect.rebind(`SELECT a.state, a.time_ns, COALESCE(e.owner, '') FROM agent_state a LEFT JOIN events e ON e.id = a.id
		WHERE a.agent = ? ORDER BY a.time_ns DESC, a.id DESC LIMIT 1`)
	var out []event.Event
	for _, a := range agents {
		if live != nil && live(event.AgentID(a)) {
			continue
		}
		var state, owner string
		var t int64
		if err := s.db.QueryRowContext(ctx, lastQ, a).Scan(&state, &t, &owner); err != nil {
			return nil, fmt.Errorf("agent %s: %w", a, err)
		}
		if state == "logged_out" || (owner != s.node && owner != "") {
			continue
		}
		out = append(out, event.Event{ID: event.NewEventID(now), Kind: event.AgentState, Agent: event.AgentID(a),
			State: "logged_out", ReasonCode: ReasonNodeRestart, Reason: DispositionNodeRestart, Time: time.Unix(0, max(t, died)), Seq: 1})
	}
	return out, nil
}

// NodeID returns the node id kept in the file at path, making one (the
// host name and 8 random hex digits) on the first start. It names the
// node's events in the store (StoreConfig.Node). The file lives in the
// node's data_dir, so each node has its own; an administrator may write a
// name of its own there, which must be unique among the nodes sharing a
// store.
func NodeID(path string) (string, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		id := strings.TrimSpace(string(b))
		if err := checkNodeID(id); err != nil {
			return "", fmt.Errorf("report: node id in %s: %w", path, err)
		}
		return id, nil
	case !errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("report: node id: %w", err)
	}
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e {
			return -1
		}
		return r
	}, host)
	if len(host) > 40 {
		host = host[:40]
	}
	if host == "" {
		host = "node"
	}
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", fmt.Errorf("report: node id: %w", err)
	}
	id := host + "-" + hex.EncodeToString(rnd[:])
	// Written whole or not at all: a crash mid-write must not leave a
	// truncated id that names no earlier run.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("report: node id: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("report: node id: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return id, nil
}

func checkNodeID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("%q: want 1 to 64 printable characters", id)
	}
	for _, r := range id {
		if r < 0x21 || r > 0x7e {
			return fmt.Errorf("%q: want printable ASCII without spaces", id)
		}
	}
	return nil
}

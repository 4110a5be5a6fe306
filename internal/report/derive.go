package report

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// DefaultSettle is how long a call's records wait after its last stored
// event before they are derived: the events that trail a call (a BYE's
// answer, the router's last word) are then usually in, so a call is
// derived about once. Later events derive it again; the result is the
// same as if they had come in time.
const DefaultSettle = time.Second

// counterColumnsV2 are the counter columns the intervals table was created
// with (migration 2, never to change), in Counters' field order (buckets
// last); counterColumns are all of them, with those added later.
var counterColumnsV2 = func() []string {
	c := []string{"offered", "handled", "abandoned", "short_abandoned", "sl_offered", "answered_in_sl",
		"abandoned_in_sl", "rona", "answer_wait_ns", "talk_ns", "hold_ns", "wrapup_ns"}
	for i := 0; i < MaxBuckets; i++ {
		c = append(c, "b"+strconv.Itoa(i))
	}
	return c
}()

// counterColumns: counterValues and counterPtrs follow this order.
var counterColumns = append(append([]string(nil), counterColumnsV2...), rejectedColumn)

func intervalColumnsDDL() string {
	var b []string
	for _, c := range counterColumnsV2 {
		b = append(b, c+" BIGINT NOT NULL")
	}
	return strings.Join(b, ",\n\t\t\t")
}

func counterValues(c *Counters) []any {
	v := []any{c.Offered, c.Handled, c.Abandoned, c.ShortAbandoned, c.SLOffered, c.AnsweredInSL,
		c.AbandonedInSL, c.RONA, c.AnswerWaitNS, c.TalkNS, c.HoldNS, c.WrapNS}
	for _, b := range c.Buckets {
		v = append(v, b)
	}
	return append(v, c.Rejected)
}

func counterPtrs(c *Counters) []any {
	v := []any{&c.Offered, &c.Handled, &c.Abandoned, &c.ShortAbandoned, &c.SLOffered, &c.AnsweredInSL,
		&c.AbandonedInSL, &c.RONA, &c.AnswerWaitNS, &c.TalkNS, &c.HoldNS, &c.WrapNS}
	for i := range c.Buckets {
		v = append(v, &c.Buckets[i])
	}
	return append(v, &c.Rejected)
}

func encodeData(d *event.Data) (string, error) {
	if d == nil {
		return "", nil
	}
	b, err := json.Marshal(d)
	return string(b), err
}

// querier is *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// queryEvents runs q (? placeholders, selecting eventColumnList).
func (s *Store) queryEvents(ctx context.Context, db querier, q string, args ...any) ([]event.Event, error) {
	rows, err := db.QueryContext(ctx, s.dialect.rebind(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []event.Event
	for rows.Next() {
		var (
			e                                      event.Event
			callID, kind, leg, outcome, agent, dat string
			seq, tns                               int64
		)
		if err := rows.Scan(&e.ID, &callID, &seq, &tns, &kind, &leg, &e.Code, &e.Reason, &outcome, &e.Peer, &e.Side,
			&agent, &e.Queue, &e.CallType, &e.Script, &e.Node, &e.Target, &e.State, &e.ReasonCode, &dat); err != nil {
			return nil, err
		}
		e.Call, e.Kind, e.Leg, e.Outcome = event.CallID(callID), event.Kind(kind), event.LegID(leg), event.Outcome(outcome)
		e.Agent = event.AgentID(agent)
		e.Seq, e.Time = uint64(seq), time.Unix(0, tns)
		if dat != "" {
			e.Data = &event.Data{}
			if err := json.Unmarshal([]byte(dat), e.Data); err != nil {
				return nil, fmt.Errorf("event %s: data: %w", e.ID, err)
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// exec runs q in tx through a statement prepared once per store (and
// once per connection by database/sql): the generated multi-row
// statements are long, and parsing them again for every batch cost about
// a tenth of the writer's time.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) error {
	s.mu.Lock()
	st := s.prepared[q]
	s.mu.Unlock()
	if st == nil {
		p, err := s.db.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		s.mu.Lock()
		if old := s.prepared[q]; old != nil {
			p.Close()
			p = old
		} else {
			s.prepared[q] = p
		}
		s.mu.Unlock()
		st = p
	}
	_, err := tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	return err
}

// maxParams bounds the placeholders of one generated statement, under
// SQLite's 32,766 and PostgreSQL's 65,535.
const maxParams = 30000

// bulk runs "head VALUES (...),(...) tail" for rows of width columns in as
// few statements as the placeholder limit allows.
func (s *Store) bulk(ctx context.Context, tx *sql.Tx, head, tail string, width int, rows [][]any) error {
	per := maxParams / width
	for len(rows) > 0 {
		n := min(len(rows), per)
		key := head + "|" + strconv.Itoa(n)
		s.mu.Lock()
		q, ok := s.stmts[key]
		if !ok {
			var b strings.Builder
			b.WriteString(head)
			b.WriteString(" VALUES ")
			one := "(" + strings.TrimSuffix(strings.Repeat("?,", width), ",") + ")"
			for i := 0; i < n; i++ {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(one)
			}
			b.WriteString(" ")
			b.WriteString(tail)
			q = s.dialect.rebind(b.String())
			s.stmts[key] = q
		}
		s.mu.Unlock()
		args := make([]any, 0, n*width)
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		if err := s.exec(ctx, tx, q, args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// inList runs q with "(?,?...)" put in place of the one IN_LIST in it,
// for ids in chunks.
func (s *Store) inList(ctx context.Context, tx querier, q string, ids []string, each func(*sql.Rows) error) error {
	for len(ids) > 0 {
		n := min(len(ids), 500)
		stmt := s.dialect.rebind(strings.Replace(q, "IN_LIST", "("+strings.TrimSuffix(strings.Repeat("?,", n), ",")+")", 1))
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		if each == nil {
			if _, err := tx.ExecContext(ctx, stmt, args...); err != nil {
				return err
			}
		} else {
			rows, err := tx.QueryContext(ctx, stmt, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				if err := each(rows); err != nil {
					rows.Close()
					return err
				}
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil {
				return err
			}
		}
		ids = ids[n:]
	}
	return nil
}

// markDerived notes, in the insert's transaction, the calls whose records
// must be derived again, and writes agent state detail rows.
func (s *Store) markDerived(ctx context.Context, tx *sql.Tx, events []event.Event) error {
	due := time.Now().Add(DefaultSettle).UnixNano()
	seen := map[event.CallID]bool{}
	var calls, states [][]any
	agentFrom := map[string]int64{}
	for i := range events {
		e := &events[i]
		if e.Kind == event.AgentState {
			ns := e.Time.UnixNano()
			states = append(states, []any{e.ID, string(e.Agent), ns, e.State, e.ReasonCode})
			if f, ok := agentFrom[string(e.Agent)]; !ok || ns < f {
				agentFrom[string(e.Agent)] = ns
			}
		}
		if e.Call != "" && !seen[e.Call] {
			seen[e.Call] = true
			calls = append(calls, []any{string(e.Call), due})
		}
	}
	if err := s.bulk(ctx, tx, `INSERT INTO pending_calls (call_id, due_ns)`,
		`ON CONFLICT (call_id) DO UPDATE SET due_ns = excluded.due_ns`, 2, calls); err != nil {
		return fmt.Errorf("report: insert into %s: mark calls: %w", s.name, err)
	}
	if err := s.bulk(ctx, tx, `INSERT INTO agent_state (id, agent, time_ns, state, reason_code)`,
		`ON CONFLICT (id) DO NOTHING`, 5, states); err != nil {
		return fmt.Errorf("report: insert into %s: agent state: %w", s.name, err)
	}
	if err := s.markAgents(ctx, tx, agentFrom, due); err != nil {
		return fmt.Errorf("report: insert into %s: mark agents: %w", s.name, err)
	}
	return nil
}

// deriveChunk is how many calls one derivation transaction takes.
const deriveChunk = 500

// Derive brings the records (TCD, RCD, call facts, interval rows) of every
// call marked due by now up to date, in transactions of deriveChunk calls,
// and returns how many calls it derived. Deriving a call replaces its
// records and takes its old interval contributions off before adding the
// new, so it may run any number of times. Then it derives the state
// times of every agent marked due (deriveAgents). The Writer runs it;
// pass a far future to derive every marked call and agent now.
func (s *Store) Derive(ctx context.Context, now time.Time) (int, error) {
	return s.DeriveWith(ctx, now, nil)
}

// DeriveWith is Derive taking a call's events from memory when have
// returns them (all of them, in journey order; nil: read the database).
// The Writer passes the events it committed itself (see callCache).
func (s *Store) DeriveWith(ctx context.Context, now time.Time, have func(event.CallID) []event.Event) (int, error) {
	total := 0
	for {
		n, err := s.deriveOnce(ctx, now, have)
		total += n
		if err != nil {
			return total, err
		}
		if n < deriveChunk {
			break
		}
	}
	for {
		n, err := s.deriveAgents(ctx, now)
		if err != nil || n < deriveChunk {
			return total, err
		}
	}
}

func (s *Store) deriveOnce(ctx context.Context, now time.Time, have func(event.CallID) []event.Event) (int, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("report: derive in %s: begin: %w", s.name, err)
	}
	defer tx.Rollback()
	fail := func(what string, err error) (int, error) {
		return 0, fmt.Errorf("report: derive in %s: %s: %w", s.name, what, err)
	}
	rows, err := tx.QueryContext(ctx, s.dialect.rebind(`SELECT call_id FROM pending_calls WHERE due_ns <= ? ORDER BY due_ns LIMIT `+strconv.Itoa(deriveChunk)), now.UnixNano())
	if err != nil {
		return fail("pending", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fail("pending", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) == 0 {
		return 0, nil
	}
	sort.Strings(ids)
	// The calls' events, in journey order: from memory when the writer
	// has them all, else from the database.
	byCall := make(map[event.CallID][]event.Event, len(ids))
	read := ids
	if have != nil {
		read = nil
		for _, id := range ids {
			if evs := have(event.CallID(id)); evs != nil {
				byCall[event.CallID(id)] = evs
			} else {
				read = append(read, id)
			}
		}
	}
	for chunk := read; len(chunk) > 0; {
		n := min(len(chunk), 500)
		args := make([]any, n)
		for i, id := range chunk[:n] {
			args[i] = id
		}
		evs, err := s.queryEvents(ctx, tx, `SELECT `+eventColumnList+` FROM events WHERE call_id IN (`+
			strings.TrimSuffix(strings.Repeat("?,", n), ",")+`) ORDER BY call_id, seq, time_ns, id`, args...)
		if err != nil {
			return fail("events", err)
		}
		for _, e := range evs {
			byCall[e.Call] = append(byCall[e.Call], e)
		}
		chunk = chunk[n:]
	}
	// Old contributions, to take off.
	delta := map[[3]string]*Counters{}
	add := func(c contribution, sign int64) {
		k := [3]string{c.Kind, c.Name, strconv.FormatInt(c.Start, 10)}
		d := delta[k]
		if d == nil {
			d = &Counters{}
			delta[k] = d
		}
		d.add(&c.C, sign)
	}
	err = s.inList(ctx, tx, `SELECT contribs FROM call_facts WHERE call_id IN IN_LIST`, ids, func(r *sql.Rows) error {
		var js string
		if err := r.Scan(&js); err != nil {
			return err
		}
		var old []contribution
		if err := json.Unmarshal([]byte(js), &old); err != nil {
			return fmt.Errorf("call_facts: %w", err)
		}
		for _, c := range old {
			add(c, -1)
		}
		return nil
	})
	if err != nil {
		return fail("old facts", err)
	}
	for _, q := range []string{`DELETE FROM call_facts WHERE call_id IN IN_LIST`, `DELETE FROM pending_calls WHERE call_id IN IN_LIST`} {
		if err := s.inList(ctx, tx, q, ids, nil); err != nil {
			return fail("delete", err)
		}
	}
	for _, rt := range recordTables {
		if err := s.inList(ctx, tx, `DELETE FROM `+rt.table+` WHERE call_id IN IN_LIST`, ids, nil); err != nil {
			return fail("delete", err)
		}
	}
	rowsOf := make([][][]any, len(recordTables))
	var factRows [][]any
	for _, id := range ids {
		r := buildCall(byCall[event.CallID(id)], &s.rec)
		for i, rt := range recordTables {
			var err error
			if rowsOf[i], err = rt.rows(rowsOf[i], id, &r); err != nil {
				return fail(rt.table, err)
			}
		}
		if r.ended {
			js, err := json.Marshal(r.contribs)
			if err != nil {
				return fail("facts", err)
			}
			factRows = append(factRows, []any{id, r.endNS, string(js)})
			for _, c := range r.contribs {
				add(c, 1)
			}
		}
	}
	for i, rt := range recordTables {
		if err := s.bulk(ctx, tx, `INSERT INTO `+rt.table+` (`+strings.Join(rt.columns, ", ")+`)`, ``, len(rt.columns), rowsOf[i]); err != nil {
			return fail(rt.table, err)
		}
	}
	if err := s.bulk(ctx, tx, `INSERT INTO call_facts (call_id, end_ns, contribs)`, ``, 3, factRows); err != nil {
		return fail("facts", err)
	}
	keys := make([][3]string, 0, len(delta))
	for k, d := range delta {
		if !d.zero() {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { // a fixed order: no deadlock between two PostgreSQL writers
		return keys[i][0]+"\x00"+keys[i][1]+"\x00"+keys[i][2] < keys[j][0]+"\x00"+keys[j][1]+"\x00"+keys[j][2]
	})
	ivRows := make([][]any, 0, len(keys))
	for _, k := range keys {
		start, _ := strconv.ParseInt(k[2], 10, 64)
		ivRows = append(ivRows, append([]any{k[0], k[1], start}, counterValues(delta[k])...))
	}
	var set []string
	for _, c := range counterColumns {
		set = append(set, c+" = intervals."+c+" + excluded."+c)
	}
	if err := s.bulk(ctx, tx, `INSERT INTO intervals (kind, name, start_ns, `+strings.Join(counterColumns, ", ")+`)`,
		`ON CONFLICT (kind, name, start_ns) DO UPDATE SET `+strings.Join(set, ", "), 3+len(counterColumns), ivRows); err != nil {
		return fail("intervals", err)
	}
	if err := tx.Commit(); err != nil {
		return fail("commit", err)
	}
	return len(ids), nil
}

// recordTable is a table of per-call records and how a call's records
// become its rows (appended to rows, one value per column).
type recordTable struct {
	table   string
	columns []string
	rows    func(rows [][]any, id string, r *callRecords) ([][]any, error)
}

// recordTables are the tables of the records the families derive.
// Deriving a call deletes its rows from each and inserts the new ones, so
// a family that writes a new kind of record adds its table here (and its
// migration in store.go) and nothing else in deriveOnce.
var recordTables = []recordTable{
	{"tcd", []string{"call_id", "leg", "leg_kind", "agent", "skill_group", "call_type", "start_ns", "end_ns", "ring_ns", "delay_ns",
		"queue_ns", "talk_ns", "hold_ns", "wrapup_ns", "disposition", "wrapup_reason", "ani", "dnis", "sip_call_id", "data"},
		func(rows [][]any, id string, r *callRecords) ([][]any, error) {
			for i := range r.tcd {
				t := &r.tcd[i]
				data, err := json.Marshal(t.Data)
				if err != nil {
					return rows, fmt.Errorf("data of leg %s: %w", t.Leg, err)
				}
				rows = append(rows, []any{id, t.Leg, t.LegKind, string(t.Agent), t.SkillGroup, t.CallType,
					nsOf(t.Start), nsOf(t.End), int64(t.Ring), int64(t.Delay), int64(t.QueueTime), int64(t.Talk), int64(t.Hold),
					int64(t.WrapUp), t.Disposition, t.WrapReason, t.Data.ANI, t.Data.DNIS, t.Data.SIPCallID, string(data)})
			}
			return rows, nil
		}},
	{"rcd", []string{"call_id", "n", "time_ns", "call_type", "script", "node_path", "decision", "target", "queue_ns"},
		func(rows [][]any, id string, r *callRecords) ([][]any, error) {
			for _, d := range r.rcd {
				rows = append(rows, []any{id, d.N, d.Time.UnixNano(), d.CallType, d.Script, d.Node, d.Decision, d.Target, int64(d.Queue)})
			}
			return rows, nil
		}},
	{"ivr_steps", []string{"call_id", "n", "time_ns", "call_type", "source", "script", "item", "element", "input", "outcome"},
		func(rows [][]any, id string, r *callRecords) ([][]any, error) {
			for _, v := range r.ivr {
				rows = append(rows, []any{id, v.N, v.Time.UnixNano(), v.CallType, v.Source, v.Script, v.Item, v.Element, v.Input, v.Outcome})
			}
			return rows, nil
		}},
}

func nsOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

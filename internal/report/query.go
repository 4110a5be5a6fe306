package report

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// Filter selects records: a time range (on the record's start or the
// interval's start; zero bounds are open) and the optional filters that
// apply to the record type. Limit bounds the rows (0: DefaultLimit).
type Filter struct {
	From, To   time.Time
	CallType   string
	SkillGroup string
	Agent      string
	// Number matches the ANI or the DNIS.
	Number string
	Call   string
	// Kind and Name select interval rows: Kind is call_type, skill_group
	// or agent; Name one of them (empty: all).
	Kind, Name string
	Limit      int
}

// DefaultLimit and MaxLimit bound the rows of one query.
const (
	DefaultLimit = 1000
	MaxLimit     = 100000
)

// where builds a WHERE clause from conds (each "col = ?" style with one
// arg) whose value is not empty.
type where struct {
	conds []string
	args  []any
}

func (w *where) eq(col, v string) {
	if v != "" {
		w.conds = append(w.conds, col+" = ?")
		w.args = append(w.args, v)
	}
}

func (w *where) timeRange(col string, f Filter) {
	if !f.From.IsZero() {
		w.conds = append(w.conds, col+" >= ?")
		w.args = append(w.args, f.From.UnixNano())
	}
	if !f.To.IsZero() {
		w.conds = append(w.conds, col+" < ?")
		w.args = append(w.args, f.To.UnixNano())
	}
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

func limitOf(f Filter) string {
	n := f.Limit
	if n <= 0 {
		n = DefaultLimit
	}
	return fmt.Sprintf(" LIMIT %d", min(n, MaxLimit))
}

// TCDs returns termination call details by start time.
func (s *Store) TCDs(ctx context.Context, f Filter) ([]TCD, error) {
	var w where
	w.timeRange("start_ns", f)
	w.eq("call_type", f.CallType)
	w.eq("skill_group", f.SkillGroup)
	w.eq("agent", f.Agent)
	w.eq("call_id", f.Call)
	if f.Number != "" {
		w.conds = append(w.conds, "(ani = ? OR dnis = ?)")
		w.args = append(w.args, f.Number, f.Number)
	}
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(`SELECT call_id, leg, leg_kind, agent, skill_group, call_type, start_ns, end_ns,
		ring_ns, delay_ns, queue_ns, talk_ns, hold_ns, wrapup_ns, disposition, wrapup_reason, data FROM tcd`+w.String()+
		` ORDER BY start_ns, call_id, leg`+limitOf(f)), w.args...)
	if err != nil {
		return nil, fmt.Errorf("report: tcd from %s: %w", s.name, err)
	}
	defer rows.Close()
	var out []TCD
	for rows.Next() {
		var (
			t                                         TCD
			call, agent, data                         string
			start, end, ring, delay, q, talk, hold, w int64
		)
		if err := rows.Scan(&call, &t.Leg, &t.LegKind, &agent, &t.SkillGroup, &t.CallType, &start, &end, &ring, &delay, &q,
			&talk, &hold, &w, &t.Disposition, &t.WrapReason, &data); err != nil {
			return nil, fmt.Errorf("report: tcd from %s: %w", s.name, err)
		}
		t.Call, t.Agent = event.CallID(call), event.AgentID(agent)
		t.Start, t.End = timeOf(start), timeOf(end)
		t.Ring, t.Delay, t.QueueTime, t.Talk, t.Hold, t.WrapUp = time.Duration(ring), time.Duration(delay), time.Duration(q),
			time.Duration(talk), time.Duration(hold), time.Duration(w)
		if err := json.Unmarshal([]byte(data), &t.Data); err != nil {
			return nil, fmt.Errorf("report: tcd from %s: data: %w", s.name, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("report: tcd from %s: %w", s.name, err)
	}
	return out, nil
}

func timeOf(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// RCDs returns route call details by time.
func (s *Store) RCDs(ctx context.Context, f Filter) ([]RCD, error) {
	var w where
	w.timeRange("time_ns", f)
	w.eq("call_type", f.CallType)
	w.eq("call_id", f.Call)
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(`SELECT call_id, n, time_ns, call_type, script, node_path, decision, target, queue_ns
		FROM rcd`+w.String()+` ORDER BY time_ns, call_id, n`+limitOf(f)), w.args...)
	if err != nil {
		return nil, fmt.Errorf("report: rcd from %s: %w", s.name, err)
	}
	defer rows.Close()
	var out []RCD
	for rows.Next() {
		var (
			r       RCD
			call    string
			tns, qn int64
		)
		if err := rows.Scan(&call, &r.N, &tns, &r.CallType, &r.Script, &r.Node, &r.Decision, &r.Target, &qn); err != nil {
			return nil, fmt.Errorf("report: rcd from %s: %w", s.name, err)
		}
		r.Call, r.Time, r.Queue = event.CallID(call), timeOf(tns), time.Duration(qn)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("report: rcd from %s: %w", s.name, err)
	}
	return out, nil
}

// IVRSteps returns IVR steps by time (Filter: range, CallType, Call).
func (s *Store) IVRSteps(ctx context.Context, f Filter) ([]IVRStep, error) {
	var w where
	w.timeRange("time_ns", f)
	w.eq("call_type", f.CallType)
	w.eq("call_id", f.Call)
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(`SELECT call_id, n, time_ns, call_type, source, script, item, element, input, outcome
		FROM ivr_steps`+w.String()+` ORDER BY time_ns, call_id, n`+limitOf(f)), w.args...)
	if err != nil {
		return nil, fmt.Errorf("report: ivr steps from %s: %w", s.name, err)
	}
	defer rows.Close()
	var out []IVRStep
	for rows.Next() {
		var (
			v    IVRStep
			call string
			tns  int64
		)
		if err := rows.Scan(&call, &v.N, &tns, &v.CallType, &v.Source, &v.Script, &v.Item, &v.Element, &v.Input, &v.Outcome); err != nil {
			return nil, fmt.Errorf("report: ivr steps from %s: %w", s.name, err)
		}
		v.Call, v.Time = event.CallID(call), timeOf(tns)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("report: ivr steps from %s: %w", s.name, err)
	}
	return out, nil
}

// AgentState is one agent state detail row: the agent entered State at
// Time and stayed Duration (zero while it still is in it, as far as the
// store knows).
type AgentState struct {
	Agent      event.AgentID `json:"agent"`
	Time       time.Time     `json:"time"`
	State      string        `json:"state"`
	ReasonCode int           `json:"reason_code"`
	Duration   time.Duration `json:"duration_ns"`
}

// AgentStates returns agent state detail by time; each row's Duration
// runs to the agent's next row.
func (s *Store) AgentStates(ctx context.Context, f Filter) ([]AgentState, error) {
	var w where
	w.timeRange("time_ns", f)
	w.eq("agent", f.Agent)
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(`SELECT agent, time_ns, state, reason_code,
		COALESCE(LEAD(time_ns) OVER (PARTITION BY agent ORDER BY time_ns, id) - time_ns, 0)
		FROM agent_state`+w.String()+` ORDER BY time_ns, agent`+limitOf(f)), w.args...)
	if err != nil {
		return nil, fmt.Errorf("report: agent state from %s: %w", s.name, err)
	}
	defer rows.Close()
	var out []AgentState
	for rows.Next() {
		var (
			a       AgentState
			agent   string
			tns, dn int64
		)
		if err := rows.Scan(&agent, &tns, &a.State, &a.ReasonCode, &dn); err != nil {
			return nil, fmt.Errorf("report: agent state from %s: %w", s.name, err)
		}
		a.Agent, a.Time, a.Duration = event.AgentID(agent), timeOf(tns), time.Duration(dn)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("report: agent state from %s: %w", s.name, err)
	}
	return out, nil
}

// IntervalRow is one interval table row with its figures.
type IntervalRow struct {
	Kind  string    `json:"kind"`
	Name  string    `json:"name"`
	Start time.Time `json:"start"`
	Counters
	Figures
	// States is an agent row's time per state (nil on other kinds).
	States *StateTimes `json:"states,omitempty"`
}

// Intervals returns interval rows (Filter.Kind, Name, and the range on the
// interval start).
func (s *Store) Intervals(ctx context.Context, f Filter) ([]IntervalRow, error) {
	var w where
	w.timeRange("start_ns", f)
	w.eq("kind", f.Kind)
	w.eq("name", f.Name)
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(`SELECT kind, name, start_ns, `+strings.Join(counterColumns, ", ")+
		`, `+strings.Join(stateColumns, ", ")+`, `+reasonsColumn+` FROM intervals`+w.String()+` ORDER BY start_ns, kind, name`+limitOf(f)), w.args...)
	if err != nil {
		return nil, fmt.Errorf("report: intervals from %s: %w", s.name, err)
	}
	defer rows.Close()
	var out []IntervalRow
	for rows.Next() {
		var (
			r       IntervalRow
			tns     int64
			st      StateTimes
			reasons string
		)
		if err := rows.Scan(append(append([]any{&r.Kind, &r.Name, &tns}, counterPtrs(&r.Counters)...), st.ptrs(&reasons)...)...); err != nil {
			return nil, fmt.Errorf("report: intervals from %s: %w", s.name, err)
		}
		r.Start = timeOf(tns)
		if r.Kind == IntervalAgent {
			var err error
			if st.NotReadyByReason, err = decodeReasons(reasons); err != nil {
				return nil, fmt.Errorf("report: intervals from %s: agent %s: %w", s.name, r.Name, err)
			}
			r.States = &st
		}
		r.Figures = r.Counters.Figures()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("report: intervals from %s: %w", s.name, err)
	}
	return out, nil
}

// Sum adds interval rows up (for "today", or several intervals) and
// computes the figures of the sum.
func Sum(rows []IntervalRow) IntervalRow {
	var out IntervalRow
	for i := range rows {
		out.Counters.add(&rows[i].Counters, 1)
		if rows[i].States != nil {
			if out.States == nil {
				out.States = &StateTimes{}
			}
			out.States.add(rows[i].States)
		}
	}
	out.Figures = out.Counters.Figures()
	return out
}

// RecordConfig returns the store's record settings (defaults filled).
func (s *Store) RecordConfig() RecordConfig { return s.rec }

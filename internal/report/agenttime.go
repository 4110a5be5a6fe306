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
)

// StateTimes are an agent's times per state within one interval, as UCCE's
// agent interval table has them. LoggedOn is every state but logged_out;
// NotReadyByReason splits NotReady by reason code. A state's time counts
// once the agent has left it (the next state change is stored): the state
// an agent is in now is not in the table yet.
type StateTimes struct {
	LoggedOnNS       int64         `json:"logged_on_ns"`
	ReadyNS          int64         `json:"ready_ns"`
	NotReadyNS       int64         `json:"not_ready_ns"`
	ReservedNS       int64         `json:"reserved_ns"`
	TalkingNS        int64         `json:"talking_ns"`
	HoldNS           int64         `json:"hold_ns"`
	WorkReadyNS      int64         `json:"work_ready_ns"`
	WorkNotReadyNS   int64         `json:"work_not_ready_ns"`
	NotReadyByReason map[int]int64 `json:"not_ready_by_reason_ns,omitempty"`
}

// stateColumns are the intervals table's state-time columns, in
// StateTimes' field order, then the not-ready reasons ("code=ns,...").
var stateColumns = []string{"logged_on_ns", "ready_ns", "not_ready_ns", "reserved_ns", "talking_ns", "state_hold_ns",
	"work_ready_ns", "work_not_ready_ns"}

const reasonsColumn = "not_ready_reasons"

func (st *StateTimes) values() []any {
	return []any{st.LoggedOnNS, st.ReadyNS, st.NotReadyNS, st.ReservedNS, st.TalkingNS, st.HoldNS, st.WorkReadyNS, st.WorkNotReadyNS,
		encodeReasons(st.NotReadyByReason)}
}

func (st *StateTimes) ptrs(reasons *string) []any {
	return []any{&st.LoggedOnNS, &st.ReadyNS, &st.NotReadyNS, &st.ReservedNS, &st.TalkingNS, &st.HoldNS, &st.WorkReadyNS,
		&st.WorkNotReadyNS, reasons}
}

func (st *StateTimes) add(o *StateTimes) {
	st.LoggedOnNS += o.LoggedOnNS
	st.ReadyNS += o.ReadyNS
	st.NotReadyNS += o.NotReadyNS
	st.ReservedNS += o.ReservedNS
	st.TalkingNS += o.TalkingNS
	st.HoldNS += o.HoldNS
	st.WorkReadyNS += o.WorkReadyNS
	st.WorkNotReadyNS += o.WorkNotReadyNS
	for r, n := range o.NotReadyByReason {
		if st.NotReadyByReason == nil {
			st.NotReadyByReason = map[int]int64{}
		}
		st.NotReadyByReason[r] += n
	}
}

// encodeReasons writes reason → ns as "3=1500000000,7=20000000000",
// ascending by code; decodeReasons reads it back.
func encodeReasons(m map[int]int64) string {
	codes := make([]int, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var b strings.Builder
	for i, c := range codes {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(c))
		b.WriteByte('=')
		b.WriteString(strconv.FormatInt(m[c], 10))
	}
	return b.String()
}

func decodeReasons(s string) (map[int]int64, error) {
	if s == "" {
		return nil, nil
	}
	m := map[int]int64{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		c, err1 := strconv.Atoi(k)
		n, err2 := strconv.ParseInt(v, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("not_ready_reasons %q: bad entry %q", s, kv)
		}
		m[c] = n
	}
	return m, nil
}

// stateChange is one agent state detail row as the interval split reads
// it.
type stateChange struct {
	t      int64 // unix ns
	state  string
	reason int
}

// splitStates turns an agent's state changes, in order, into its time per
// state per interval (keyed by the interval's start, unix ns) from since
// on. Each change's state lasts until the next change; the last one is
// still open and counts nothing. A span is cut at interval boundaries: an
// agent ready from 10:25 to 10:40 gives 5 minutes to 10:00-10:30 and 10 to
// 10:30-11:00 at 30-minute intervals. It is a pure function.
func splitStates(ch []stateChange, since int64, iv time.Duration) map[int64]*StateTimes {
	out := map[int64]*StateTimes{}
	step := int64(iv)
	for i := 0; i+1 < len(ch); i++ {
		c := ch[i]
		if c.state == "logged_out" {
			continue
		}
		from, to := max(c.t, since), ch[i+1].t
		for from < to {
			start := from - mod(from, step)
			end := min(to, start+step)
			st := out[start]
			if st == nil {
				st = &StateTimes{}
				out[start] = st
			}
			st.addState(c.state, c.reason, end-from)
			from = end
		}
	}
	return out
}

// mod is a non-negative remainder, so times before 1970 cut right too.
func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

func (st *StateTimes) addState(state string, reason int, ns int64) {
	st.LoggedOnNS += ns
	switch state {
	case "ready":
		st.ReadyNS += ns
	case "not_ready":
		st.NotReadyNS += ns
		if st.NotReadyByReason == nil {
			st.NotReadyByReason = map[int]int64{}
		}
		st.NotReadyByReason[reason] += ns
	case "reserved":
		st.ReservedNS += ns
	case "talking":
		st.TalkingNS += ns
	case "hold":
		st.HoldNS += ns
	case "work_ready":
		st.WorkReadyNS += ns
	case "work_not_ready":
		st.WorkNotReadyNS += ns
	}
}

// markAgents notes, in the insert's transaction, the agents whose state
// times must be derived again and from when (the earliest new change).
func (s *Store) markAgents(ctx context.Context, tx *sql.Tx, from map[string]int64, due int64) error {
	if len(from) == 0 {
		return nil
	}
	agents := make([]string, 0, len(from))
	for a := range from {
		agents = append(agents, a)
	}
	sort.Strings(agents)
	rows := make([][]any, len(agents))
	for i, a := range agents {
		rows[i] = []any{a, from[a], due}
	}
	return s.bulk(ctx, tx, `INSERT INTO pending_agents (agent, from_ns, due_ns)`,
		`ON CONFLICT (agent) DO UPDATE SET due_ns = excluded.due_ns, from_ns = CASE WHEN excluded.from_ns < pending_agents.from_ns THEN excluded.from_ns ELSE pending_agents.from_ns END`,
		3, rows)
}

// deriveAgents brings the state times of the agents marked due by now up
// to date, in one transaction of at most deriveChunk agents, and returns
// how many it derived. For each agent it recomputes every interval from
// the one where the first changed span starts: the rows there are set,
// not added to, so deriving again (a replayed spool, a late change) gives
// the same figures.
func (s *Store) deriveAgents(ctx context.Context, now time.Time) (int, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	fail := func(what string, err error) (int, error) {
		return 0, fmt.Errorf("report: derive agent state times in %s: %s: %w", s.name, what, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fail("begin", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, s.dialect.rebind(`SELECT agent, from_ns FROM pending_agents WHERE due_ns <= ? ORDER BY agent LIMIT `+
		strconv.Itoa(deriveChunk)), now.UnixNano())
	if err != nil {
		return fail("pending", err)
	}
	type pend struct {
		agent string
		from  int64
	}
	var todo []pend
	for rows.Next() {
		var p pend
		if err := rows.Scan(&p.agent, &p.from); err != nil {
			rows.Close()
			return fail("pending", err)
		}
		todo = append(todo, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail("pending", err)
	}
	if len(todo) == 0 {
		return 0, nil
	}
	step := int64(s.rec.Interval)
	before := s.dialect.rebind(`SELECT time_ns FROM agent_state WHERE agent = ? AND time_ns < ? ORDER BY time_ns DESC LIMIT 1`)
	// lastBefore is the time of the agent's last change before t, or t.
	lastBefore := func(agent string, t int64) (int64, error) {
		var v int64
		err := tx.QueryRowContext(ctx, before, agent, t).Scan(&v)
		if err == sql.ErrNoRows {
			return t, nil
		}
		return v, err
	}
	reset := `UPDATE intervals SET ` + strings.Join(stateColumns, " = 0, ") + ` = 0, ` + reasonsColumn +
		` = '' WHERE kind = ? AND name = ? AND start_ns >= ?`
	var ivRows [][]any
	zeros := make([]any, len(counterColumns))
	for i := range zeros {
		zeros[i] = int64(0)
	}
	for _, p := range todo {
		// The first span that changed is the one of the last change
		// before the new ones; recompute from its interval on, reading
		// from the change whose span runs into that interval.
		prev, err := lastBefore(p.agent, p.from)
		if err != nil {
			return fail("agent "+p.agent, err)
		}
		since := prev - mod(prev, step)
		first, err := lastBefore(p.agent, since)
		if err != nil {
			return fail("agent "+p.agent, err)
		}
		r, err := tx.QueryContext(ctx, s.dialect.rebind(`SELECT time_ns, state, reason_code FROM agent_state WHERE agent = ? AND time_ns >= ?
			ORDER BY time_ns, id`), p.agent, first)
		if err != nil {
			return fail("agent "+p.agent, err)
		}
		var ch []stateChange
		for r.Next() {
			var c stateChange
			if err := r.Scan(&c.t, &c.state, &c.reason); err != nil {
				r.Close()
				return fail("agent "+p.agent, err)
			}
			ch = append(ch, c)
		}
		r.Close()
		if err := r.Err(); err != nil {
			return fail("agent "+p.agent, err)
		}
		if _, err := tx.ExecContext(ctx, s.dialect.rebind(reset), IntervalAgent, p.agent, since); err != nil {
			return fail("reset "+p.agent, err)
		}
		byIv := splitStates(ch, since, s.rec.Interval)
		starts := make([]int64, 0, len(byIv))
		for st := range byIv {
			starts = append(starts, st)
		}
		sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
		for _, st := range starts {
			row := append([]any{IntervalAgent, p.agent, st}, zeros...)
			ivRows = append(ivRows, append(row, byIv[st].values()...))
		}
	}
	set := make([]string, 0, len(stateColumns)+1)
	for _, c := range append(append([]string(nil), stateColumns...), reasonsColumn) {
		set = append(set, c+" = excluded."+c)
	}
	cols := append(append(append([]string{"kind", "name", "start_ns"}, counterColumns...), stateColumns...), reasonsColumn)
	if err := s.bulk(ctx, tx, `INSERT INTO intervals (`+strings.Join(cols, ", ")+`)`,
		`ON CONFLICT (kind, name, start_ns) DO UPDATE SET `+strings.Join(set, ", "), len(cols), ivRows); err != nil {
		return fail("intervals", err)
	}
	ids := make([]string, len(todo))
	for i, p := range todo {
		ids[i] = p.agent
	}
	if err := s.inList(ctx, tx, `DELETE FROM pending_agents WHERE agent IN IN_LIST`, ids, nil); err != nil {
		return fail("pending", err)
	}
	if err := tx.Commit(); err != nil {
		return fail("commit", err)
	}
	return len(todo), nil
}

// stateTimesJSON is for tests and logs.
func (st *StateTimes) String() string {
	b, _ := json.Marshal(st)
	return string(b)
}

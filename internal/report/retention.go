package report

import (
	"context"
	"fmt"
	"time"
)

// Purge deletes events and records older than before: events, route call
// details, IVR steps and agent state rows by their time, termination call details by
// their start, call facts by the call's end, interval rows by their start.
// It returns how many rows it deleted. A call whose events straddle before
// keeps its newer events; its records are derived again only if more
// events arrive, so purge well behind the calls in progress.
func (s *Store) Purge(ctx context.Context, before time.Time) (int64, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	ns := before.UnixNano()
	var total int64
	for _, q := range []struct{ table, col string }{
		{"events", "time_ns"}, {"tcd", "start_ns"}, {"rcd", "time_ns"}, {"ivr_steps", "time_ns"}, {"agent_state", "time_ns"},
		{"call_facts", "end_ns"}, {"intervals", "start_ns"},
	} {
		res, err := s.db.ExecContext(ctx, s.dialect.rebind(`DELETE FROM `+q.table+` WHERE `+q.col+` < ?`), ns)
		if err != nil {
			return total, fmt.Errorf("report: purge %s before %v in %s: %w", q.table, before, s.name, err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

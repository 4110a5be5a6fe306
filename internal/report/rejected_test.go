package report

import (
	"context"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// TestRejectedRecords: refused INVITEs get their TCD rows (code and why)
// and count in the rejected interval rows by why, on both stores, and
// deriving them again counts them once.
func TestRejectedRecords(t *testing.T) {
	ctx := context.Background()
	rej := func(sec, code int, why, detail, sipID string) event.Event {
		e := event.Rejected(at(sec), code, why, detail, "198.51.100.7:5060", event.Data{DNIS: "2000", ANI: "guess", SIPCallID: sipID})
		e.ID = "ev-" + sipID
		return e
	}
	evs := []event.Event{
		rej(60, 403, event.RejectAuth, "credentials refused", "s1"),
		rej(120, 403, event.RejectAuth, "credentials refused", "s2"),
		rej(40*60, 503, event.RejectMaxCalls, "call_server.max_calls 2 calls in progress", "s3"),
	}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			_, s := b.open(t)
			w := newWriter(t, s, WriterConfig{})
			for _, e := range evs {
				w.Emit(e)
			}
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			check := func(t *testing.T) {
				t.Helper()
				tcd, err := s.TCDs(ctx, Filter{Call: string(evs[2].Call)})
				if err != nil {
					t.Fatal(err)
				}
				want := []struct{ leg, kind, disp string }{
					{"caller", "caller", "rejected 503"},
					{"invite", "sip", "rejected 503 max_calls: call_server.max_calls 2 calls in progress"},
				}
				if len(tcd) != len(want) {
					t.Fatalf("tcd %+v, want %d rows", tcd, len(want))
				}
				for i, w := range want {
					g := tcd[i]
					if g.Leg != w.leg || g.LegKind != w.kind || g.Disposition != w.disp || !g.Start.Equal(at(40*60)) || !g.End.Equal(g.Start) ||
						g.Data.DNIS != "2000" || g.Data.SIPCallID != "s3" {
						t.Errorf("row %d: %+v, want leg %s kind %s disposition %q", i, g, w.leg, w.kind, w.disp)
					}
				}
				rows, err := s.Intervals(ctx, Filter{Kind: IntervalRejected})
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]int64{}
				for _, r := range rows {
					got[r.Name+"@"+r.Start.Format("15:04")] = r.Rejected
					if r.Offered != 0 || r.Handled != 0 {
						t.Errorf("row %s/%s counts calls offered or handled: %+v", r.Kind, r.Name, r.Counters)
					}
				}
				if len(got) != 2 || got["auth@10:00"] != 2 || got["max_calls@10:30"] != 1 {
					t.Errorf("rejected intervals %v, want auth@10:00=2 max_calls@10:30=1", got)
				}
			}
			check(t)
			// A replayed spool: derived again, counted once.
			for _, e := range evs {
				j, err := s.CallJourney(ctx, e.Call)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Insert(ctx, j); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := s.Derive(ctx, time.Now().Add(time.Hour)); err != nil || n != 3 {
				t.Fatalf("derived %d calls, %v; want 3", n, err)
			}
			check(t)
		})
	}
}

// TestBuildRejected: the family takes only calls with a call.rejected,
// and one without a reason still counts.
func TestBuildRejected(t *testing.T) {
	cfg := RecordConfig{}
	cfg.defaults()
	if r := buildCall([]event.Event{{Kind: event.CallNew, Call: "c", Time: t0}}, &cfg); r.ended || r.tcd[0].Disposition != "in_progress" {
		t.Errorf("a call.new alone: %+v", r)
	}
	r := buildCall([]event.Event{{Kind: event.CallRejected, Call: "c", Time: t0, Code: 400}}, &cfg)
	if !r.ended || len(r.tcd) != 2 || r.tcd[0].Disposition != "rejected 400" || !r.tcd[0].End.Equal(t0) || len(r.contribs) != 1 ||
		r.contribs[0].Name != "unknown" || r.contribs[0].C.Rejected != 1 {
		t.Errorf("a call.rejected without a reason: %+v", r)
	}
}

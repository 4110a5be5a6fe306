package report

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// Live is the router's view now, which the store cannot know: the node
// fills it from router.Engine.Stats and Calls.
type Live struct {
	Queues []LiveQueue `json:"queues"`
	// CallTypes counts the calls in progress by call type and place
	// (script, ivr, queue, offered, agent).
	CallTypes map[string]map[string]int `json:"call_types"`
}

// LiveQueue is one queue (skill group or precision queue) now.
type LiveQueue struct {
	Name         string         `json:"name"`
	Waiting      int            `json:"waiting"`
	Oldest       time.Time      `json:"oldest,omitzero"`
	ExpectedWait time.Duration  `json:"expected_wait_ns"`
	Agents       map[string]int `json:"agents"` // by state
}

// Options configure Handler.
type Options struct {
	// Live, if set, gives the "now" part of /v1/reports/realtime.
	Live func(ctx context.Context) (Live, error)
	// Authorize, if set, is asked before every request; an error answers
	// 401 with its text. Nil serves everyone: mount the handler behind
	// something that authenticates (see docs/report-api.md).
	Authorize func(r *http.Request) error
	// Now is the clock for "this interval" and "today"; default time.Now.
	Now func() time.Time
	// Location is where "today" starts at midnight; default time.Local.
	Location *time.Location
	Log      *slog.Logger
}

// Handler serves the query API (JSON, or CSV with format=csv) under
// /v1/reports/: tcd, rcd, ivr, agent_state, intervals, calls/{id}/journey
// and realtime. See docs/report-api.md.
func Handler(s *Store, opt Options) http.Handler {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Location == nil {
		opt.Location = time.Local
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	h := &api{s: s, opt: opt}
	m := http.NewServeMux()
	m.HandleFunc("GET /v1/reports/tcd", h.tcd)
	m.HandleFunc("GET /v1/reports/rcd", h.rcd)
	m.HandleFunc("GET /v1/reports/ivr", h.ivr)
	m.HandleFunc("GET /v1/reports/agent_state", h.agentState)
	m.HandleFunc("GET /v1/reports/intervals", h.intervals)
	m.HandleFunc("GET /v1/reports/calls/{id}/journey", h.journey)
	m.HandleFunc("GET /v1/reports/realtime", h.realtime)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if opt.Authorize != nil {
			if err := opt.Authorize(r); err != nil {
				httpError(w, http.StatusUnauthorized, err)
				return
			}
		}
		m.ServeHTTP(w, r)
	})
}

type api struct {
	s   *Store
	opt Options
}

// errBadQuery marks a query parameter the API cannot read (400).
var errBadQuery = errors.New("report: bad query")

func httpError(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

func (h *api) fail(w http.ResponseWriter, err error) {
	if errors.Is(err, errBadQuery) {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	h.opt.Log.Warn("report: query failed", "err", err)
	httpError(w, http.StatusInternalServerError, err)
}

// parseTime reads RFC 3339 or unix seconds.
func parseTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s=%q: want RFC 3339 (2026-03-02T10:00:00Z) or unix seconds", errBadQuery, name, v)
	}
	return t, nil
}

func filterOf(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	known := map[string]bool{"from": true, "to": true, "call_type": true, "skill_group": true, "agent": true, "number": true,
		"call": true, "kind": true, "name": true, "limit": true, "format": true}
	for k := range q {
		if !known[k] {
			return Filter{}, fmt.Errorf("%w: unknown parameter %q", errBadQuery, k)
		}
	}
	f := Filter{CallType: q.Get("call_type"), SkillGroup: q.Get("skill_group"), Agent: q.Get("agent"), Number: q.Get("number"),
		Call: q.Get("call"), Kind: q.Get("kind"), Name: q.Get("name")}
	var err error
	if f.From, err = parseTime("from", q.Get("from")); err != nil {
		return f, err
	}
	if f.To, err = parseTime("to", q.Get("to")); err != nil {
		return f, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return f, fmt.Errorf("%w: to must be after from", errBadQuery)
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > MaxLimit {
			return f, fmt.Errorf("%w: limit=%q: want 1 to %d", errBadQuery, v, MaxLimit)
		}
	}
	switch f.Kind {
	case "", IntervalCallType, IntervalSkillGroup, IntervalAgent, IntervalRejected:
	default:
		return f, fmt.Errorf("%w: kind=%q: want call_type, skill_group, agent or rejected", errBadQuery, f.Kind)
	}
	switch q.Get("format") {
	case "", "json", "csv":
	default:
		return f, fmt.Errorf("%w: format=%q: want json or csv", errBadQuery, q.Get("format"))
	}
	return f, nil
}

// reply writes v as JSON, or rows as CSV when format=csv.
func reply(w http.ResponseWriter, r *http.Request, name string, v any, header []string, rows func(yield func([]string))) {
	if r.URL.Query().Get("format") == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		cw := csv.NewWriter(w)
		cw.Write(header)
		rows(func(rec []string) {
			for i, f := range rec {
				rec[i] = csvSafe(f)
			}
			cw.Write(rec)
		})
		cw.Flush()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// csvSafe defuses a cell a spreadsheet would run as a formula (CSV
// injection): caller-controlled text (an ANI, call data, a VoiceXML input)
// that starts with = + - @ or a tab or CR gets a leading single quote, as
// OWASP advises, so Excel and LibreOffice show it as text. A plain number
// ("-1", "-0.250") is left alone: it cannot be a formula, and the
// columns tandem computes stay numbers.
func csvSafe(f string) string {
	if f == "" {
		return f
	}
	switch f[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if plainNumber(f) {
			return f
		}
		return "'" + f
	}
	return f
}

// plainNumber reports whether s is an optionally negative decimal number:
// digits with at most one point, nothing else.
func plainNumber(s string) bool {
	s = strings.TrimPrefix(s, "-")
	digits, point := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !point && digits > 0:
			point = true
		default:
			return false
		}
	}
	return digits > 0 && s[len(s)-1] != '.'
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func sec(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

func (h *api) tcd(w http.ResponseWriter, r *http.Request) {
	f, err := filterOf(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	out, err := h.s.TCDs(r.Context(), f)
	if err != nil {
		h.fail(w, err)
		return
	}
	head := []string{"call_id", "leg", "leg_kind", "agent", "skill_group", "call_type", "start", "end", "ring_s", "delay_s", "queue_s",
		"talk_s", "hold_s", "wrapup_s", "disposition", "wrapup_reason", "ani", "dnis", "sip_call_id"}
	for i := 1; i <= event.NumCallVars; i++ {
		head = append(head, "pv"+strconv.Itoa(i))
	}
	head = append(head, "ecc")
	reply(w, r, "tcd", nonNil(out), head, func(y func([]string)) {
		for _, t := range out {
			rec := []string{string(t.Call), t.Leg, t.LegKind, string(t.Agent), t.SkillGroup, t.CallType, ts(t.Start), ts(t.End),
				sec(t.Ring), sec(t.Delay), sec(t.QueueTime), sec(t.Talk), sec(t.Hold), sec(t.WrapUp), t.Disposition,
				strconv.Itoa(t.WrapReason), t.Data.ANI, t.Data.DNIS, t.Data.SIPCallID}
			rec = append(rec, t.Data.PV[:]...)
			ecc, _ := json.Marshal(t.Data.ECC)
			y(append(rec, string(ecc)))
		}
	})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (h *api) rcd(w http.ResponseWriter, r *http.Request) {
	f, err := filterOf(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	out, err := h.s.RCDs(r.Context(), f)
	if err != nil {
		h.fail(w, err)
		return
	}
	reply(w, r, "rcd", nonNil(out), []string{"call_id", "n", "time", "call_type", "script", "node_path", "decision", "target", "queue_s"},
		func(y func([]string)) {
			for _, d := range out {
				y([]string{string(d.Call), strconv.Itoa(d.N), ts(d.Time), d.CallType, d.Script, d.Node, d.Decision, d.Target, sec(d.Queue)})
			}
		})
}

func (h *api) ivr(w http.ResponseWriter, r *http.Request) {
	f, err := filterOf(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	out, err := h.s.IVRSteps(r.Context(), f)
	if err != nil {
		h.fail(w, err)
		return
	}
	reply(w, r, "ivr", nonNil(out), []string{"call_id", "n", "time", "call_type", "source", "script", "item", "element", "input", "outcome"},
		func(y func([]string)) {
			for _, v := range out {
				y([]string{string(v.Call), strconv.Itoa(v.N), ts(v.Time), v.CallType, v.Source, v.Script, v.Item, v.Element, v.Input, v.Outcome})
			}
		})
}

func (h *api) agentState(w http.ResponseWriter, r *http.Request) {
	f, err := filterOf(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	out, err := h.s.AgentStates(r.Context(), f)
	if err != nil {
		h.fail(w, err)
		return
	}
	reply(w, r, "agent_state", nonNil(out), []string{"agent", "time", "state", "reason_code", "duration_s"}, func(y func([]string)) {
		for _, a := range out {
			y([]string{string(a.Agent), ts(a.Time), a.State, strconv.Itoa(a.ReasonCode), sec(a.Duration)})
		}
	})
}

func (h *api) intervals(w http.ResponseWriter, r *http.Request) {
	f, err := filterOf(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	out, err := h.s.Intervals(r.Context(), f)
	if err != nil {
		h.fail(w, err)
		return
	}
	head := []string{"kind", "name", "start", "offered", "handled", "abandoned", "short_abandoned", "sl_offered", "answered_in_sl",
		"abandoned_in_sl", "rona", "asa_s", "aht_s", "talk_s", "hold_s", "wrapup_s", "sl_abandons_ignored", "sl_abandons_negative", "sl_abandons_positive",
		// Agent rows' time per state (empty on other kinds).
		"logged_on_s", "ready_s", "not_ready_s", "reserved_s", "talking_s", "on_hold_s", "work_ready_s", "work_not_ready_s", "not_ready_by_reason_s"}
	cfg := h.s.RecordConfig()
	for i := 0; i <= len(cfg.Buckets); i++ {
		if i < len(cfg.Buckets) {
			head = append(head, "answered_within_"+strconv.Itoa(int(cfg.Buckets[i].Seconds()))+"s")
		} else {
			head = append(head, "answered_later")
		}
	}
	head = append(head, "rejected")
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	f64 := func(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }
	reply(w, r, "intervals", nonNil(out), head, func(y func([]string)) {
		for _, v := range out {
			rec := []string{v.Kind, v.Name, ts(v.Start), i64(v.Offered), i64(v.Handled), i64(v.Abandoned), i64(v.ShortAbandoned),
				i64(v.SLOffered), i64(v.AnsweredInSL), i64(v.AbandonedInSL), i64(v.RONA), f64(v.ASA), f64(v.AHT),
				sec(time.Duration(v.TalkNS)), sec(time.Duration(v.HoldNS)), sec(time.Duration(v.WrapNS)),
				f64(v.SLAbandonsIgnored), f64(v.SLAbandonsNegative), f64(v.SLAbandonsPositive)}
			rec = append(rec, stateCSV(v.States)...)
			for i := 0; i <= len(cfg.Buckets); i++ {
				rec = append(rec, i64(v.Buckets[i]))
			}
			rec = append(rec, i64(v.Rejected))
			y(rec)
		}
	})
}

// stateCSV is an agent row's time per state in seconds, the not-ready
// reasons as "code=seconds" joined by ";"; empty cells for other rows.
func stateCSV(st *StateTimes) []string {
	if st == nil {
		return make([]string, 9)
	}
	d := func(ns int64) string { return sec(time.Duration(ns)) }
	codes := make([]int, 0, len(st.NotReadyByReason))
	for c := range st.NotReadyByReason {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var reasons []string
	for _, c := range codes {
		reasons = append(reasons, strconv.Itoa(c)+"="+d(st.NotReadyByReason[c]))
	}
	return []string{d(st.LoggedOnNS), d(st.ReadyNS), d(st.NotReadyNS), d(st.ReservedNS), d(st.TalkingNS), d(st.HoldNS),
		d(st.WorkReadyNS), d(st.WorkNotReadyNS), strings.Join(reasons, ";")}
}

func (h *api) journey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "" || len(id) > 128 {
		h.fail(w, fmt.Errorf("%w: call id %q", errBadQuery, id))
		return
	}
	out, err := h.s.CallJourney(r.Context(), event.CallID(id))
	if err != nil {
		h.fail(w, err)
		return
	}
	if len(out) == 0 {
		httpError(w, http.StatusNotFound, fmt.Errorf("report: call %s: no events stored", id))
		return
	}
	reply(w, r, "journey-"+id, out, []string{"seq", "time", "kind", "leg", "agent", "queue", "call_type", "script", "node", "target",
		"state", "code", "reason", "outcome", "peer"}, func(y func([]string)) {
		for _, e := range out {
			y([]string{strconv.FormatUint(e.Seq, 10), ts(e.Time), string(e.Kind), string(e.Leg), string(e.Agent), e.Queue, e.CallType,
				e.Script, e.Node, e.Target, e.State, strconv.Itoa(e.Code), e.Reason, string(e.Outcome), e.Peer})
		}
	})
}

// Realtime is /v1/reports/realtime: per queue (skill group) and call
// type, now (the router's view), this interval and today (the store's).
type Realtime struct {
	Time          time.Time              `json:"time"`
	IntervalStart time.Time              `json:"interval_start"`
	Now           *Live                  `json:"now,omitempty"`
	Interval      map[string]IntervalRow `json:"interval"` // "kind/name" → this interval's row
	Today         map[string]IntervalRow `json:"today"`    // "kind/name" → sum since midnight
}

// RealtimeOf computes the realtime figures at now.
func (s *Store) RealtimeOf(ctx context.Context, now time.Time, loc *time.Location) (Realtime, error) {
	ivStart := now.Truncate(s.rec.Interval)
	y, m, d := now.In(loc).Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, loc)
	rows, err := s.Intervals(ctx, Filter{From: midnight, To: now.Add(time.Nanosecond), Limit: MaxLimit})
	if err != nil {
		return Realtime{}, err
	}
	out := Realtime{Time: now, IntervalStart: ivStart, Interval: map[string]IntervalRow{}, Today: map[string]IntervalRow{}}
	byKey := map[string][]IntervalRow{}
	var keys []string
	for _, r := range rows {
		k := r.Kind + "/" + r.Name
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], r)
		if r.Start.Equal(ivStart) {
			out.Interval[k] = r
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		sum := Sum(byKey[k])
		sum.Kind, sum.Name, _ = strings.Cut(k, "/")
		sum.Start = midnight
		out.Today[k] = sum
	}
	return out, nil
}

func (h *api) realtime(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.Query()) > 0 {
		h.fail(w, fmt.Errorf("%w: realtime takes no parameters", errBadQuery))
		return
	}
	out, err := h.s.RealtimeOf(r.Context(), h.opt.Now(), h.opt.Location)
	if err != nil {
		h.fail(w, err)
		return
	}
	if h.opt.Live != nil {
		live, err := h.opt.Live(r.Context())
		if err != nil {
			h.fail(w, err)
			return
		}
		out.Now = &live
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

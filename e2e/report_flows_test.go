package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/report"
)

// TestReportCallControlRecords runs the call-control flows that came after
// the first reporting pass through SIPp (consult transfer, conference,
// blind transfer to a number, courtesy callback; the scenarios of
// consult_test, conference_flow_test and callback_test) and reads each
// call's records and journey over the report API (SQLite).
func TestReportCallControlRecords(t *testing.T) {
	need(t, "sipp")
	t.Run("consult transfer", func(t *testing.T) {
		n := startTandem(t, reportCenter("  driver: sqlite\n"))
		phone(t, n, "1001", "p1001", scenario(t, "uas-consult-agent-complete.xml"), "-m", "1")
		phone(t, n, "1002", "p1002", scenario(t, "uas-consult-target-complete.xml"), "-m", "1")
		alice := login(t, n, "alice", "a", "1001")
		ctiReady(t, n, "alice", alice)
		caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf", scenario(t, "uac-consult.xml"),
			"-s", "3000", "-m", "1", "-timeout", "40s", "-timeout_error")
		offer := alice.await(t, cti.EventCallOffered)
		alice.await(t, cti.EventCallAnswered)
		bob := login(t, n, "bob", "b", "1002")
		ctiReady(t, n, "bob", bob)
		call := "/v1/agents/alice/calls/" + string(offer.Call)
		if code := ctiCall(t, n, "POST", call+"/consult", alice.token, cti.ConsultRequest{To: "agent", Dest: "bob"}, nil); code != 200 {
			t.Fatalf("consult: %d", code)
		}
		bob.await(t, cti.EventCallOffered)
		if code := ctiCall(t, n, "POST", call+"/complete", alice.token, nil, nil); code/100 != 2 {
			t.Fatalf("complete: %d", code)
		}
		sippDone(t, caller, "caller")
		sup := supervisor(t, n)
		rec := callRecords(t, n, sup, string(offer.Call), func(r callRec) bool { return r.agentLegs(true) == 2 })
		rec.want(t, "caller", "answered")
		rec.wantAgent(t, "alice", "transferred")
		rec.wantAgent(t, "bob", "handled")
		rec.wantKinds(t, "call.consult", "call.transferred", "agent.transfer", "call.ended")
		if !rec.hasEvent("agent.offer", "bob", "consult") {
			t.Errorf("no consult offer to bob in the journey")
		}
	})
	t.Run("conference", func(t *testing.T) {
		bridge := freePort(t)
		cfg := strings.Replace(reportCenter("  driver: sqlite\n"), `dial_plan: [{pattern: "1XXX", registered: true}]`,
			`dial_plan: [{pattern: "1XXX", registered: true}, {pattern: "conf-!", server_group: conference}]`, 1)
		n := startTandem(t, cfg+fmt.Sprintf(`
conference: {listen: "127.0.0.1:%d"}
server_groups:
  - name: conference
    heartbeat: {enabled: false}
    destinations: [{address: "127.0.0.1:%d"}]
`, bridge, bridge))
		phone(t, n, "1001", "p1001", scenario(t, "uas-conference-agent.xml"), "-m", "1")
		phone(t, n, "1003", "p1003", scenario(t, "uas-conference-target.xml"), "-m", "1")
		alice := login(t, n, "alice", "a", "1001")
		ctiReady(t, n, "alice", alice)
		caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf", scenario(t, "uac-conference.xml"),
			"-s", "3000", "-m", "1", "-timeout", "40s", "-timeout_error")
		offer := alice.await(t, cti.EventCallOffered)
		alice.await(t, cti.EventCallAnswered)
		carol := login(t, n, "carol", "c", "1003")
		ctiReady(t, n, "carol", carol)
		call := "/v1/agents/alice/calls/" + string(offer.Call)
		if code := ctiCall(t, n, "POST", call+"/consult", alice.token, cti.ConsultRequest{To: "queue", Dest: "support"}, nil); code != 200 {
			t.Fatalf("consult: %d", code)
		}
		if code := ctiCall(t, n, "POST", call+"/conference", alice.token, nil, nil); code/100 != 2 {
			t.Fatalf("conference: %d", code)
		}
		sippDone(t, caller, "caller")
		sup := supervisor(t, n)
		rec := callRecords(t, n, sup, string(offer.Call), func(r callRec) bool { return r.agentLegs(true) == 2 })
		rec.want(t, "caller", "answered")
		// The caller's BYE ends the conference: both agents handled it.
		rec.wantAgent(t, "alice", "handled")
		rec.wantAgent(t, "carol", "handled")
		rec.wantKinds(t, "agent.conference", "call.conferenced", "call.consult", "call.ended")
		// Talk is counted once while the three are together.
		var cl, a, c report.TCD
		for _, l := range rec.legs {
			switch {
			case l.LegKind == "caller":
				cl = l
			case l.Agent == "alice":
				a = l
			case l.Agent == "carol":
				c = l
			}
		}
		if cl.Talk <= 0 || cl.Talk >= a.Talk+c.Talk || c.SkillGroup != "support" {
			t.Errorf("talk: caller %v, alice %v, carol %v (skill group %q): want the caller's under the agents' sum",
				cl.Talk, a.Talk, c.Talk, c.SkillGroup)
		}
	})
	t.Run("blind transfer to a number", func(t *testing.T) {
		n := startTandem(t, reportCenter("  driver: sqlite\n"))
		phone(t, n, "1001", "p1001", "")
		number := phone(t, n, "1003", "p1003", "", "-m", "1") // a plain extension: carol is not logged in
		alice := login(t, n, "alice", "a", "1001")
		ctiReady(t, n, "alice", alice)
		caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf", scenario(t, "uac-move.xml"),
			"-s", "3000", "-m", "1", "-timeout", "30s", "-timeout_error")
		offer := alice.await(t, cti.EventCallOffered)
		alice.await(t, cti.EventCallAnswered)
		if code := ctiCall(t, n, "POST", "/v1/agents/alice/calls/"+string(offer.Call)+"/transfer", alice.token,
			cti.TransferRequest{To: "number", Dest: "1003"}, nil); code/100 != 2 {
			t.Fatalf("transfer: %d", code)
		}
		sippDone(t, caller, "caller")
		sippDone(t, number, "the number's phone")
		sup := supervisor(t, n)
		rec := callRecords(t, n, sup, string(offer.Call), func(r callRec) bool { return r.agentLegs(true) == 1 })
		rec.want(t, "caller", "answered")
		rec.wantAgent(t, "alice", "transferred")
		if !rec.hasTarget("agent.transfer", "alice", "1003") {
			t.Errorf("the journey has no agent.transfer of alice's to 1003")
		}
	})
	t.Run("courtesy callback", func(t *testing.T) {
		if _, err := os.Stat("/usr/share/sip-tester/dtmf_2833_9.pcap"); err != nil {
			t.Skip("SIPp's pcaps are not installed")
		}
		pstnPort := freePort(t)
		pstn := startUAS(t, pstnPort, "", "-m", "1")
		n := startDemo(t, func(cfg *config.Config) {
			cfg.ServerGroups = append(cfg.ServerGroups, config.ServerGroup{Name: "pstn",
				Heartbeat:    config.Heartbeat{Enabled: new(bool)},
				Destinations: []config.Destination{{Address: "127.0.0.1:" + strconv.Itoa(pstnPort), Transport: "udp", Priority: 1, Weight: 1}}})
			cfg.DialPlan = append(cfg.DialPlan, config.DialRule{Pattern: "444XXXX", ServerGroup: "pstn"})
			cfg.CTI.Supervisors = append(cfg.CTI.Supervisors, config.CTISupervisor{ID: "sue", Password: "s3cret"})
			// The demo's bridge listens on a fixed port; another node on
			// this machine may hold it.
			bridge := "127.0.0.1:" + strconv.Itoa(freePort(t))
			cfg.Conference.Listen = bridge
			for i := range cfg.ServerGroups {
				if cfg.ServerGroups[i].Name == "conference" {
					cfg.ServerGroups[i].Destinations[0].Address = bridge
				}
			}
		})
		agentPhone := phone(t, n, "1003", "pw1003", "", "-m", "1")
		caller := startSIPp(t, "-sf", scenario(t, "uac-callback.xml", "ANI", "4441234"), "-s", "1000", "-m", "1",
			"-mp", strconv.Itoa(freePort(t)), n.addr)
		sippDone(t, caller, "caller")
		var id event.CallID
		waitFor(t, 10*time.Second, "callback.requested", func() bool {
			for _, e := range n.events.Events() {
				if e.Kind == event.CallbackRequested {
					id = e.Call
				}
			}
			return id != ""
		})
		sup := supervisor(t, n)
		// The caller's SIP call has ended; the call has not: it waits in
		// queue, in progress, not abandoned. Records are derived a second
		// after a call's last event: wait for its call.ended to be stored,
		// then past that.
		callRecords(t, n, sup, string(id), func(r callRec) bool { return r.hasKind("call.ended") })
		time.Sleep(report.DefaultSettle + time.Second)
		rec := callRecords(t, n, sup, string(id), func(r callRec) bool { return r.leg("caller") != nil })
		rec.want(t, "caller", "in_progress")
		desk := login(t, n, "1003", "pw1003", "1003")
		ctiReady(t, n, "1003", desk)
		desk.await(t, cti.EventCallAnswered)
		if code := ctiCall(t, n, "POST", "/v1/agents/1003/calls/"+string(id)+"/release", desk.token, nil, nil); code/100 != 2 {
			t.Fatalf("release: %d", code)
		}
		sippDone(t, agentPhone, "agent phone")
		sippDone(t, pstn, "pstn (the caller called back)")
		rec = callRecords(t, n, sup, string(id), func(r callRec) bool {
			l := r.leg("caller")
			return l != nil && l.Disposition != "in_progress"
		})
		rec.want(t, "caller", "answered")
		rec.wantAgent(t, "1003", "handled")
		if !rec.hasEvent("call.answered", "", "courtesy callback to 4441234") || !rec.hasKind("callback.requested") {
			t.Errorf("the journey lacks the callback request or the callback's answer")
		}
		if n := countKind(rec.journey, event.CallEnded); n != 2 {
			t.Errorf("%d call.ended in the journey, want 2 (the caller's release, the callback's end)", n)
		}
		// The caller's IVR steps: the menu key (1) and the callback key (9)
		// as the gateway's VoiceXML fields saw them, and the router's
		// micro-app results.
		var steps []report.IVRStep
		if code := ctiCall(t, n, "GET", "/v1/reports/ivr?call="+string(id), sup, nil, &steps); code != 200 {
			t.Fatalf("ivr steps: %d", code)
		}
		keys := map[string]bool{}
		micro := 0
		for _, st := range steps {
			t.Logf("ivr step %d: %s %s %s %s input=%q %s", st.N, st.Source, st.Script, st.Element, st.Item, st.Input, st.Outcome)
			if st.Source == "vxml" && st.Outcome == "filled" {
				keys[st.Input] = true
			}
			if st.Source == "micro_app" {
				micro++
			}
		}
		if !keys["1"] || !keys["9"] || micro == 0 {
			t.Errorf("ivr steps %+v: want vxml fields filled with 1 and 9, and micro-app results", steps)
		}
		if !rec.hasKind("ivr.step") {
			t.Errorf("the journey has no ivr.step")
		}
		var rows []report.IntervalRow
		if code := ctiCall(t, n, "GET", "/v1/reports/intervals?kind=call_type", sup, nil, &rows); code != 200 {
			t.Fatalf("intervals: %d", code)
		}
		if c := report.Sum(rows).Counters; c.Offered != 1 || c.Handled != 1 || c.Abandoned != 0 || c.ShortAbandoned != 0 {
			t.Errorf("call type figures %+v: want the callback offered and handled once, never abandoned", c)
		}
	})
}

func ctiReady(t *testing.T, n *node, id string, d *desktop) {
	t.Helper()
	if code := ctiCall(t, n, "POST", "/v1/agents/"+id+"/state", d.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("%s ready: %d", id, code)
	}
}

func sippDone(t *testing.T, s *sipp, who string) {
	t.Helper()
	s.wait(40 * time.Second)
	if ok, failed := s.counts(); ok != 1 || failed != 0 {
		t.Fatalf("%s: %d ok, %d failed\n%s", who, ok, failed, s.output())
	}
}

// supervisor logs sue in and returns her bearer token.
func supervisor(t *testing.T, n *node) string {
	t.Helper()
	var sup cti.LoginResponse
	if code := ctiCall(t, n, "POST", "/v1/supervisor/login", "", cti.SupervisorLoginRequest{ID: "sue", Password: "s3cret"}, &sup); code != 200 {
		t.Fatalf("supervisor login: %d", code)
	}
	return sup.Token
}

// callRec is one call's TCD rows and journey, from the report API.
type callRec struct {
	legs    []report.TCD
	journey []event.Event
}

func (r callRec) leg(name string) *report.TCD {
	for i := range r.legs {
		if r.legs[i].Leg == name {
			return &r.legs[i]
		}
	}
	return nil
}

// agentLegs counts the agent legs, only those past wrap-up if wrapped.
func (r callRec) agentLegs(wrapped bool) int {
	n := 0
	for _, l := range r.legs {
		if l.LegKind == "agent" && (!wrapped || l.WrapUp > 0) {
			n++
		}
	}
	return n
}

func (r callRec) want(t *testing.T, leg, disp string) {
	t.Helper()
	l := r.leg(leg)
	if l == nil || l.Disposition != disp {
		t.Errorf("leg %s: %+v, want disposition %s\nall legs: %+v", leg, l, disp, r.legs)
	}
	if l != nil && leg == "caller" && disp == "answered" && (l.Talk <= 0 || l.Data.SIPCallID == "") {
		t.Errorf("caller leg %+v: want talk time and the SIP Call-ID", l)
	}
}

func (r callRec) wantAgent(t *testing.T, agent, disp string) {
	t.Helper()
	for _, l := range r.legs {
		if l.LegKind == "agent" && string(l.Agent) == agent {
			if l.Disposition != disp || (disp != "consult_cancelled" && l.Talk <= 0) {
				t.Errorf("%s's leg %+v: want disposition %s with talk time", agent, l, disp)
			}
			return
		}
	}
	t.Errorf("no agent leg of %s in %+v", agent, r.legs)
}

func (r callRec) hasKind(k string) bool { return countKind(r.journey, event.Kind(k)) > 0 }

func (r callRec) wantKinds(t *testing.T, kinds ...string) {
	t.Helper()
	for _, k := range kinds {
		if !r.hasKind(k) {
			t.Errorf("the journey has no %s", k)
		}
	}
}

func (r callRec) hasEvent(kind, agent, reason string) bool {
	for _, e := range r.journey {
		if string(e.Kind) == kind && (agent == "" || string(e.Agent) == agent) && e.Reason == reason {
			return true
		}
	}
	return false
}

func (r callRec) hasTarget(kind, agent, target string) bool {
	for _, e := range r.journey {
		if string(e.Kind) == kind && string(e.Agent) == agent && e.Target == target {
			return true
		}
	}
	return false
}

// callRecords polls the report API for call's TCD rows and journey until
// ready holds (records are derived about a second after a call's last
// event).
func callRecords(t *testing.T, n *node, token, call string, ready func(callRec) bool) callRec {
	t.Helper()
	var r callRec
	waitReport(t, 30*time.Second, "the records of call "+call, func() bool {
		r = callRec{}
		if code := ctiCall(t, n, "GET", "/v1/reports/tcd?call="+call, token, nil, &r.legs); code != 200 {
			return false
		}
		var raw []json.RawMessage
		if code := ctiCall(t, n, "GET", "/v1/reports/calls/"+call+"/journey", token, nil, &raw); code != 200 {
			return false
		}
		for _, m := range raw {
			var e event.Event
			if err := json.Unmarshal(m, &e); err != nil {
				t.Fatalf("journey event %s: %v", m, err)
			}
			r.journey = append(r.journey, e)
		}
		return ready(r)
	}, func() string {
		var b strings.Builder
		fmt.Fprintf(&b, "legs: %+v\njourney:\n", r.legs)
		for _, e := range r.journey {
			fmt.Fprintf(&b, "  %d %s agent=%s target=%s reason=%q\n", e.Seq, e.Kind, e.Agent, e.Target, e.Reason)
		}
		return b.String()
	})
	return r
}

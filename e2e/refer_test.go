package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/router"
)

// TestReferBlindFromAgentPhone is issue #14's "REFER from a SIPp phone
// mid-call (blind)": alice's phone (SIPp) takes a call and presses
// transfer to bob's extension: a REFER in its dialog with tandem. tandem
// answers 202 and NOTIFYs 100 Trying, routes the transfer (bob is an
// agent: the router reserves him), dials bob's phone with a late offer,
// moves the caller's media to it with a re-INVITE (RFC 3725), NOTIFYs
// 200 OK terminating the subscription, and alice's phone hangs up. Alice
// goes to wrap-up, bob talks, and the records show the transfer: alice's
// leg transferred, bob's handled, call.transferred in the journey.
func TestReferBlindFromAgentPhone(t *testing.T) {
	need(t, "sipp")
	n := startTandem(t, withCTI(contactCenter()))
	alicePhone := phone(t, n, "1001", "p1001", scenario(t, "uas-refer-agent.xml", "TALK", "800", "TARGET", "<sip:1002@"+n.addr+">"), "-m", "1")
	bobPhone := phone(t, n, "1002", "p1002", scenario(t, "uas-transfer-target.xml"), "-m", "1")
	alice := login(t, n, "alice", "a", "1001")
	if code := ctiCall(t, n, "POST", "/v1/agents/alice/state", alice.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("alice ready: %d", code)
	}
	// bob goes ready second: alice, ready longer, gets the call.
	bob := login(t, n, "bob", "b", "1002")
	if code := ctiCall(t, n, "POST", "/v1/agents/bob/state", bob.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("bob ready: %d", code)
	}
	caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf", scenario(t, "uac-transferred.xml", "TALK", "1500"),
		"-s", "3000", "-m", "1", "-timeout", "40s", "-timeout_error")
	offer := alice.await(t, cti.EventCallOffered)
	alice.await(t, cti.EventCallAnswered)
	popped := bob.await(t, cti.EventCallOffered)
	if popped.Call != offer.Call {
		t.Fatalf("bob's desktop popped call %s, want %s", popped.Call, offer.Call)
	}
	bob.await(t, cti.EventCallAnswered)
	alice.await(t, cti.EventCallEnded)
	waitFor(t, 5*time.Second, "alice in wrap-up and bob talking", func() bool {
		return agentState(t, n, "alice").State == router.WorkReady && agentState(t, n, "bob").State == router.Talking
	})
	sippDone(t, caller, "caller")
	sippDone(t, alicePhone, "alice's phone")
	sippDone(t, bobPhone, "bob's phone")
	bob.await(t, cti.EventCallEnded)

	tok := supervisor(t, n)
	r := callRecords(t, n, tok, string(offer.Call), func(r callRec) bool {
		return r.leg("caller") != nil && r.leg("caller").Disposition != "in_progress" && r.agentLegs(false) == 2
	})
	r.want(t, "caller", "answered")
	r.wantAgent(t, "alice", "transferred")
	r.wantAgent(t, "bob", "handled")
	r.wantKinds(t, string(event.CallTransferred))
	if !r.hasTarget(string(event.AgentTransfer), "alice", "bob") {
		t.Errorf("no agent.transfer from alice to bob in the journey %+v", r.journey)
	}
}

// TestReferAttendedWithReplaces is issue #14's attended transfer: alice's
// phone (SIPp; baresip 1.0 has only a blind transfer) takes the caller's
// call, calls carol's number through tandem (its consult call), and sends
// REFER on the caller's call whose Refer-To carries Replaces naming the
// consult call's dialog. tandem matches it to the consult call it holds,
// solicits carol's offer and gives it to the caller (RFC 3725), makes
// carol's leg the caller's party, ends the consult call, and NOTIFYs 200.
// Alice goes to wrap-up; the records show her transfer and the caller
// talking on to carol.
func TestReferAttendedWithReplaces(t *testing.T) {
	need(t, "sipp")
	farPort := freePort(t)
	cfg := strings.Replace(withCTI(contactCenter()), "dial_plan: [{pattern: \"1XXX\", registered: true}]",
		fmt.Sprintf("server_groups: [{name: far, heartbeat: {enabled: false}, destinations: [{address: \"127.0.0.1:%d\"}]}]\ndial_plan: [{pattern: \"1XXX\", registered: true}, {pattern: \"2XXX\", server_group: far}]", farPort), 1)
	cfg = strings.Replace(cfg, "  dialed_numbers:\n", "  dialed_numbers:\n    - {number: \"2001\", call_type: direct}\n", 1)
	cfg = strings.Replace(cfg, "  call_types:\n", "  call_types:\n    - {name: direct, script: direct}\n", 1)
	cfg = strings.Replace(cfg, "  scripts:\n", "  labels: [{name: carol, kind: server_group, value: \"2001\"}]\n  scripts:\n    - name: direct\n      nodes:\n        - {id: s, type: start, next: l}\n        - {id: l, type: label, labels: [carol]}\n", 1)
	n := startTandem(t, cfg)
	alicePhone := phone(t, n, "1001", "p1001", scenario(t, "uas-attended-agent.xml", "TARGET", "2001"), "-m", "1")
	carol := startUAS(t, farPort, scenario(t, "uas-attended-target.xml"), "-m", "1")
	alice := login(t, n, "alice", "a", "1001")
	if code := ctiCall(t, n, "POST", "/v1/agents/alice/state", alice.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("alice ready: %d", code)
	}
	caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf", scenario(t, "uac-transferred.xml", "TALK", "1500"),
		"-s", "3000", "-m", "1", "-timeout", "40s", "-timeout_error")
	offer := alice.await(t, cti.EventCallOffered)
	alice.await(t, cti.EventCallAnswered)
	alice.await(t, cti.EventCallEnded)
	waitFor(t, 5*time.Second, "alice in wrap-up", func() bool { return agentState(t, n, "alice").State == router.WorkReady })
	sippDone(t, caller, "caller")
	sippDone(t, alicePhone, "alice's phone")
	sippDone(t, carol, "carol's phone")

	tok := supervisor(t, n)
	r := callRecords(t, n, tok, string(offer.Call), func(r callRec) bool {
		return r.leg("caller") != nil && r.leg("caller").Disposition != "in_progress" && r.agentLegs(false) == 1
	})
	r.want(t, "caller", "answered")
	r.wantAgent(t, "alice", "transferred")
	r.wantKinds(t, string(event.CallTransferred))
	if !r.hasTarget(string(event.AgentTransfer), "alice", "2001") {
		t.Errorf("no agent.transfer from alice to 2001 in the journey %+v", r.journey)
	}
}

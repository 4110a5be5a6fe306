package e2e

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/event"
)

// TestCallThroughIVRToAgent is the reference call flow: SIPp (the ingress
// gateway) calls 4000; the router's script sends the call to the VRU (the
// call server dials the network VRU label with its correlation id); the
// VoiceXML gateway fetches the menu micro-app from the IVR service; the
// caller presses 1 (RFC 4733); the result goes back to the router as call
// data, the script queues the call to sales, where alice is ready; the call
// server moves the caller's media from the VRU to alice's phone; her
// desktop pops the call with what the caller entered.
func TestCallThroughIVRToAgent(t *testing.T) {
	need(t, "sipp")
	if _, err := os.Stat("/usr/share/sip-tester/dtmf_2833_1.pcap"); err != nil {
		t.Skip("SIPp's pcaps are not installed")
	}
	gwPort, ivrPort := freePort(t), freePort(t)
	n := startTandem(t, fmt.Sprintf(`
sip:
  listen: [{transport: udp, address: "127.0.0.1:SIPPORT"}]
trunks: [{name: gw, networks: ["127.0.0.1"]}]
users: [{user: "1001", password: p1001}]
server_groups:
  - name: vxml
    heartbeat: {enabled: false}
    destinations: [{address: "127.0.0.1:%d"}]
dial_plan:
  - {pattern: "1XXX", registered: true}
  - {pattern: "7777!", server_group: vxml}
vxml_gateway:
  listen: "127.0.0.1:%d"
  apps: [{pattern: "7777!", url: "http://127.0.0.1:%d/ivr/start?call={call}"}]
ivr:
  listen: "127.0.0.1:%d"
call_server:
  ring_timeout: 5s
router:
  wrap_up: 2s
  dialed_numbers: [{number: "4000", call_type: sales}]
  call_types: [{name: sales, script: sales}]
  skill_groups: [{name: sales}]
  agents: [{id: alice, extension: "1001", password: a, skill_groups: [sales]}]
  labels: [{name: vru, kind: network_vru, value: "7777"}]
  scripts:
    - name: sales
      nodes:
        - {id: s, type: start, next: menu}
        - {id: menu, type: run_vru_script, vru_script: "M,-,12", params: {tts: "For sales press 1, for support press 2."}, label: vru, next: save, error: q}
        - {id: save, type: set, variable: pv1, value: "result.caller_input", next: q}
        - {id: q, type: queue, skill_groups: [sales], next: e}
        - {id: e, type: end}
`, gwPort, gwPort, ivrPort, ivrPort))
	agentPhone := phone(t, n, "1001", "p1001", "", "-m", "1")
	alice := login(t, n, "alice", "a", "1001")
	if code := ctiCall(t, n, "POST", "/v1/agents/alice/state", alice.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("ready: %d", code)
	}
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-ivr-agent.xml", "KEY", "1"), "-s", "4000", "-m", "1", "-mp", strconv.Itoa(freePort(t)))
	if ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed", ok, failed)
	}
	offer := alice.await(t, cti.EventCallOffered)
	// What the caller entered at the IVR travels with the call to the
	// agent's desktop (the script saved it in call variable 1).
	if offer.Data == nil || offer.Data.DNIS != "4000" || offer.Data.Variables["pv1"] != "1" {
		t.Fatalf("offer %+v", offer)
	}
	agentPhone.wait(10 * time.Second)
	if ok, _ := agentPhone.counts(); ok != 1 {
		t.Fatal("alice's phone did not get the call")
	}
	evs := n.events.ForCall(event.CallID(offer.Call))
	if countKind(evs, event.CallMoved) != 1 {
		t.Fatalf("the caller was not moved from the VRU to alice: %+v", evs)
	}
}

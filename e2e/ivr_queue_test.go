package e2e

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/vxml"
)

// ivrConfig is a node whose script "4000" queues the caller to sales and
// treats them with QT until an agent is free; "1" during the treatment
// (the courtesy callback key) leaves the queue treatment for the external
// application balance, after which the call is released.
const ivrConfig = `
sip:
  listen: [{transport: udp, address: "127.0.0.1:SIPPORT"}]
trunks: [{name: gw, networks: ["127.0.0.1"]}]
users: [{user: "1001", password: p1001}]
server_groups:
  - name: vxml
    heartbeat: {enabled: false}
    destinations: [{address: "127.0.0.1:%[1]d"}]
dial_plan:
  - {pattern: "1XXX", registered: true}
  - {pattern: "7777!", server_group: vxml}
vxml_gateway:
  listen: "127.0.0.1:%[1]d"
  apps: [{pattern: "7777!", url: "http://127.0.0.1:%[2]d/ivr/start?call={call}"}]
ivr:
  listen: "127.0.0.1:%[2]d"
  apps_dir: "%[3]s"
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
        - {id: s, type: start, next: q}
        - {id: q, type: queue, skill_groups: [sales], next: treat}
        - {id: treat, type: run_vru_script, vru_script: "%[4]s", params: {tts: "Please hold."}, label: vru, next: key, error: treat}
        - {id: key, type: if, expr: 'result.caller_input == "1"', true: callback, false: treat}
        - {id: callback, type: set, variable: pv2, value: '"callback"', next: balance}
        - {id: balance, type: run_vru_script, vru_script: "EXT,balance", params: {to_ext_vxml: "currency=USD;greeting=Callback and balance."}, label: vru, next: done, error: done}
        - {id: done, type: set, variable: pv3, value: 'result["from_ext_vxml.balance"]', next: bye}
        - {id: bye, type: release}
`

// startIVRNode starts ivrConfig with QT script qt and the example
// application balance in its apps directory.
func startIVRNode(t *testing.T, qt string) *node {
	t.Helper()
	apps := t.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "examples", "vxml-apps", "balance", "main.vxml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(apps, "balance"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(apps, "balance", "main.vxml"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	return startTandem(t, fmt.Sprintf(ivrConfig, freePort(t), freePort(t), apps, qt))
}

// ivrResults returns the micro-app results the router got, in order.
func ivrResults(evs []event.Event) []url.Values {
	var out []url.Values
	for _, e := range evs {
		if e.Kind == event.IVRResult {
			v, _ := url.ParseQuery(e.Target)
			out = append(out, v)
		}
	}
	return out
}

// firstCall returns the id of the node's first call, once there is one.
func firstCall(t *testing.T, n *node) event.CallID {
	t.Helper()
	var id event.CallID
	waitFor(t, 10*time.Second, "a call", func() bool {
		for _, e := range n.events.Events() {
			if e.Kind == event.CallNew {
				id = e.Call
				return true
			}
		}
		return false
	})
	return id
}

// uacKeys is a caller that presses keys (RFC 4733, one every 600 ms after
// a first pause) and waits for tandem to hang up.
func uacKeys(t *testing.T, first time.Duration, keys ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `<nop><action><exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/></action></nop>
  <pause milliseconds="%d"/>`, first.Milliseconds())
	for _, k := range keys {
		fmt.Fprintf(&b, `
  <nop><action><exec play_pcap_audio="/usr/share/sip-tester/dtmf_2833_%s.pcap"/></action></nop>
  <pause milliseconds="600"/>`, k)
	}
	p := filepath.Join(t.TempDir(), "uac-keys.xml")
	if err := os.WriteFile(p, []byte(strings.Replace(uacKeysXML, "{{MEDIA}}", b.String(), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const uacKeysXML = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uac pressing keys, then hung up on">
  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>
  <send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]></send>
  {{MEDIA}}
  <recv request="BYE" timeout="40000"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]></send>
</scenario>
`

// uacMoved is the reference flow's caller (testdata/uac-ivr-agent.xml)
// without its key: it listens, ready from the start for the re-INVITE that
// moves it to an agent.
func uacMoved(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "uac-ivr-agent.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "<pause milliseconds=\"1500\"/>") && !strings.Contains(line, "dtmf_2833_") {
			keep = append(keep, line)
		}
	}
	if len(keep) != strings.Count(string(b), "\n")+1-2 {
		t.Fatal("testdata/uac-ivr-agent.xml changed shape: its pause and key lines are not found")
	}
	p := filepath.Join(t.TempDir(), "uac-moved.xml")
	if err := os.WriteFile(p, []byte(strings.Join(keep, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func needDTMFPcaps(t *testing.T) {
	t.Helper()
	need(t, "sipp")
	if _, err := os.Stat("/usr/share/sip-tester/dtmf_2833_1.pcap"); err != nil {
		t.Skip("SIPp's pcaps are not installed")
	}
}

// TestIVRCallbackKeyThenExternalApp: a queued caller in queue treatment
// presses the callback key (1); QT returns it, the script leaves the
// treatment for the external application balance, the caller keys an
// account number, and the application's values reach the router.
func TestIVRCallbackKeyThenExternalApp(t *testing.T) {
	needDTMFPcaps(t)
	n := startIVRNode(t, "QT,-,1")
	// SIPp's key captures share one RTP stream, numbered 1 < 2 < ... < 9
	// < star < pound (0 apart): a call can only play them in that order,
	// or the gateway drops the earlier-numbered packets as late.
	ok, failed := runUAC(t, n.addr, "-sf", uacKeys(t, 1500*time.Millisecond, "1", "2", "3", "4", "5", "pound"),
		"-s", "4000", "-m", "1", "-mp", strconv.Itoa(freePort(t)))
	if ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed", ok, failed)
	}
	call := firstCall(t, n)
	res := ivrResults(n.events.ForCall(call))
	if len(res) != 2 {
		t.Fatalf("router got %d results, want the QT key then the application's: %v", len(res), res)
	}
	if res[0].Get("caller_input") != "1" || res[0].Get("error") != "none" {
		t.Errorf("QT result %v, want caller_input 1", res[0])
	}
	// balance's made-up balance is account % 9973 * 1.37.
	want := url.Values{"caller_input": {"2345"}, "error": {"none"}, "from_ext_vxml.account": {"2345"},
		"from_ext_vxml.balance": {"3212.65"}, "from_ext_vxml.status": {"ok"}, "from_ext_vxml.caller_input": {"2345"}}
	if res[1].Encode() != want.Encode() {
		t.Errorf("application result %v, want %v", res[1], want)
	}
	if got := countKind(n.events.ForCall(call), event.QueueLeave); got != 1 {
		t.Errorf("queue.leave %d times, want 1 (the release takes the call out of the queue)", got)
	}
}

// TestIVRQueueTreatmentAgentFreesUp: the caller hears a QT round (the
// announcement, then 16 s of music a key cannot interrupt); an agent
// becomes ready meanwhile, and the call server moves the caller from the
// VRU to the agent at once, mid-round: no QT result ever reaches the router.
func TestIVRQueueTreatmentAgentFreesUp(t *testing.T) {
	needDTMFPcaps(t)
	n := startIVRNode(t, "QT,music")
	agentPhone := phone(t, n, "1001", "p1001", "", "-m", "1")
	alice := login(t, n, "alice", "a", "1001")
	caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-timeout", "60s", "-timeout_error",
		"-sf", uacMoved(t), "-s", "4000", "-m", "1", "-mp", strconv.Itoa(freePort(t)))
	call := firstCall(t, n)
	waitFor(t, 20*time.Second, "the caller queued and at the VRU", func() bool {
		evs := n.events.ForCall(call)
		return countKind(evs, event.QueueEnter) == 1 && countKind(evs, vxml.KindSessionStarted) == 1
	})
	if code := ctiCall(t, n, "POST", "/v1/agents/alice/state", alice.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("ready: %d", code)
	}
	caller.wait(40 * time.Second)
	if ok, failed := caller.counts(); ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed", ok, failed)
	}
	agentPhone.wait(10 * time.Second)
	if ok, _ := agentPhone.counts(); ok != 1 {
		t.Fatal("alice's phone did not get the call")
	}
	evs := n.events.ForCall(call)
	if countKind(evs, event.CallMoved) != 1 {
		t.Fatalf("the caller was not moved from the VRU to alice: %+v", evs)
	}
	if res := ivrResults(evs); len(res) != 0 {
		t.Errorf("router got QT results %v: the round was waited for, not interrupted", res)
	}
}

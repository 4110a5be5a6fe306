package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sipReloadConfig: 4000 → router label uas → dial plan 9000 → server group
// uas (a SIPp UAS). Group self pings tandem's own listener, so that
// heartbeats run (and are replaced) while the reloads go on.
const sipReloadConfig = `
sip: {listen: [{transport: udp, address: "127.0.0.1:SIPPORT"}]}
trunks: [{name: gw, networks: ["127.0.0.1"]}]
users: [{user: "1001", password: p1001}]
server_groups:
  - {name: uas, heartbeat: {enabled: false}, destinations: [{address: "127.0.0.1:UASPORT"}]}
dial_plan: [{pattern: "9000", server_group: uas}]
console: {listen: "off"}
report: {driver: "off"}
router:
  dialed_numbers: [{number: "4000", call_type: load}]
  call_types: [{name: load, script: load}]
  labels: [{name: uas, kind: server_group, value: "9000"}]
  scripts:
    - name: load
      nodes:
        - {id: s, type: start, next: l}
        - {id: l, type: label, labels: [uas]}
`

// sipReloadDocs are the two SIP documents the test swaps between. Both
// route 9000 to the UAS (its weight changes, so the destination survives
// with new settings); they differ in a trunk's networks, a user (1002,
// whose registrations a removal drops), a heartbeated group, and rules.
func sipReloadDocs(sipPort, uasPort int) [2]string {
	a := fmt.Sprintf(`trunks: [{name: gw, networks: ["127.0.0.1"]}]
users: [{user: "1001", password: p1001}, {user: "1002", password: p1002}]
server_groups:
  - {name: uas, heartbeat: {enabled: false}, destinations: [{address: "127.0.0.1:%d", weight: 1}]}
  - {name: self, heartbeat: {up_interval: 100ms, down_interval: 100ms, timeout: 1s}, destinations: [{address: "127.0.0.1:%d"}]}
dial_plan: [{pattern: "9000", server_group: uas}, {pattern: "8XXX", server_group: self}]
`, uasPort, sipPort)
	b := fmt.Sprintf(`trunks: [{name: gw, networks: ["127.0.0.1", "10.0.0.0/8"]}, {name: other, networks: ["192.0.2.0/24"]}]
users: [{user: "1001", password: p1001}]
server_groups:
  - {name: uas, heartbeat: {enabled: false}, destinations: [{address: "127.0.0.1:%d", weight: 5}]}
  - {name: self2, heartbeat: {up_interval: 150ms, down_interval: 100ms, timeout: 1s}, destinations: [{address: "127.0.0.1:%d", transport: udp}]}
dial_plan: [{pattern: "7XXX", server_group: self2}, {pattern: "9000", server_group: uas}]
`, uasPort, sipPort)
	return [2]string{a, b}
}

// TestSIPReloadUnderLoad: the SIP configuration is replaced again and
// again (through node.SIPConfig.Apply, as the console does) while SIPp
// sends 50 calls/s for 5 s through a server group to a SIPp UAS and a
// phone keeps registering: no call fails, no REGISTER fails.
func TestSIPReloadUnderLoad(t *testing.T) {
	need(t, "sipp")
	uasPort := freePort(t)
	n := startTandem(t, strings.ReplaceAll(sipReloadConfig, "UASPORT", strconv.Itoa(uasPort)))
	if n.SIP == nil {
		t.Fatal("no SIP configuration store (the config has a router section)")
	}
	docs := sipReloadDocs(n.port, uasPort)
	startUAS(t, uasPort, "")

	const calls, rate = 250, 50
	uac := startSIPp(t, n.addr, "-sn", "uac", "-s", "4000", "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)),
		"-r", strconv.Itoa(rate), "-m", strconv.Itoa(calls), "-d", "200", "-timeout", "60s", "-timeout_error")
	// The phone registers 1001 (in both documents) twice a second.
	contact := "127.0.0.1:" + strconv.Itoa(freePort(t))
	reg := startSIPp(t, n.addr, "-sf", scenario(t, "register.xml", "USER", "1001", "PASS", "p1001", "CODE", "200", "CONTACT", contact),
		"-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-r", "2", "-m", "12", "-timeout", "60s", "-timeout_error")

	// Reload until the calls are done, every 20 ms, bounded in count.
	reloads := 0
	ctx := context.Background()
loop:
	for reloads < 2000 {
		select {
		case <-uac.done:
			break loop
		default:
		}
		if _, probs, err := n.SIP.Apply(ctx, []byte(docs[reloads%2]), "test"); err != nil {
			t.Fatalf("reload %d: %v %+v", reloads, err, probs)
		}
		reloads++
		time.Sleep(20 * time.Millisecond)
	}
	uac.wait(90 * time.Second)
	reg.wait(60 * time.Second)
	ok, failed := uac.counts()
	t.Logf("%d reloads during %d calls at %d/s: %d succeeded, %d failed", reloads, calls, rate, ok, failed)
	if ok != calls || failed != 0 {
		t.Errorf("calls during reloads: %d succeeded, %d failed, want %d and 0", ok, failed, calls)
	}
	if rok, rfailed := reg.counts(); rok != 12 || rfailed != 0 {
		t.Errorf("REGISTERs during reloads: %d succeeded, %d failed, want 12 and 0", rok, rfailed)
	}
	if reloads < 50 {
		t.Errorf("only %d reloads happened during the calls", reloads)
	}
	// 1001 is in both documents: its registration survived every reload.
	if bs := n.edge.Bindings("1001"); len(bs) != 1 {
		t.Errorf("1001's bindings after the reloads: %+v, want its one contact", bs)
	}
	v, _, err := n.SIP.Current(ctx)
	if err != nil || v != reloads+1 {
		t.Errorf("stored versions: %d (%v), want %d (the file's and one per reload)", v, err, reloads+1)
	}
}

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/gateway"
	"github.com/tandem-cc/tandem/internal/media"
)

// TestVXMLTransfer is issue #14's <transfer> to a SIPp far end: the
// VoiceXML gateway asks the call server with REFER, the call server dials
// the far end through the dial plan and moves the caller (RFC 3725), and
// the document's <filled> sees the outcome the far end really gave and
// its shadow duration: answered (blind and consultation end the document
// with connection.disconnect.transfer), busy (486), noanswer (ringing past
// connecttimeout), far_end_disconnect (the far end hangs up during a
// bridge: the caller is given back to the VRU), maxtime_disconnect.
func TestVXMLTransfer(t *testing.T) {
	need(t, "sipp")
	cases := []struct {
		name, kind, far, caller string
		farArgs, callerArgs     []string
		connect, maxtime        string
		want                    string
		transferred             bool
	}{
		{name: "blind answered", kind: "blind", far: "uas-transfer-target.xml", caller: "uac-transferred.xml", callerArgs: []string{"TALK", "1000"},
			want: "outcome=transferred", transferred: true},
		{name: "consultation answered", kind: "consultation", far: "uas-transfer-target.xml", caller: "uac-transferred.xml", callerArgs: []string{"TALK", "1000"},
			want: "outcome=transferred", transferred: true},
		{name: "bridge busy", kind: "bridge", far: "uas-code.xml", farArgs: []string{"CODE", "486"}, caller: "uac-recv-bye.xml",
			want: "outcome=busy duration=zero"},
		{name: "bridge noanswer", kind: "bridge", far: "uas-ring.xml", caller: "uac-recv-bye.xml", connect: "2s",
			want: "outcome=noanswer duration=zero"},
		{name: "bridge far end hangs up", kind: "bridge", far: "uas-transfer-hangup.xml", farArgs: []string{"TALK", "1500"}, caller: "uac-bridged.xml",
			want: "outcome=far_end_disconnect duration=positive", transferred: true},
		{name: "bridge maxtime", kind: "bridge", far: "uas-transfer-target.xml", caller: "uac-bridged.xml", maxtime: "2s",
			want: "outcome=maxtime_disconnect duration=positive", transferred: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gwPort, farPort := freePort(t), freePort(t)
			connect, maxtime := tc.connect, tc.maxtime
			if connect == "" {
				connect = "10s"
			}
			if maxtime == "" {
				maxtime = "0s"
			}
			doc := scenario(t, "transfer.vxml", "DEST", "2001", "TYPE", tc.kind, "CONNECT", connect, "MAXTIME", maxtime)
			if err := media.WriteWAVFile(filepath.Join(filepath.Dir(doc), "tone.wav"), toneSamples()); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(doc); err != nil {
				t.Fatal(err)
			}
			n := startTandem(t, fmt.Sprintf(`
sip:
  listen: [{transport: udp, address: "127.0.0.1:SIPPORT"}]
trunks: [{name: gw, networks: ["127.0.0.1"]}]
server_groups:
  - {name: vxml, heartbeat: {enabled: false}, destinations: [{address: "127.0.0.1:%d"}]}
  - {name: far, heartbeat: {enabled: false}, destinations: [{address: "127.0.0.1:%d"}]}
dial_plan:
  - {pattern: "5XXX", server_group: vxml}
  - {pattern: "2XXX", server_group: far}
vxml_gateway:
  listen: "127.0.0.1:%d"
  apps: [{pattern: "5XXX", url: "file://%s"}]
call_server:
  ring_timeout: 20s
routing:
  static: [{dnis: "5000", labels: ["5000"]}]
`, gwPort, farPort, gwPort, doc))
			far := startUAS(t, farPort, scenario(t, tc.far, tc.farArgs...), "-m", "1")
			caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf", scenario(t, tc.caller, tc.callerArgs...),
				"-s", "5000", "-m", "1", "-timeout", "40s", "-timeout_error")
			var got string
			waitFor(t, 30*time.Second, "the document's outcome log", func() bool {
				for _, e := range n.events.Events() {
					if e.Kind == gateway.KindLog && strings.HasPrefix(e.Reason, "outcome=") {
						got = e.Reason
						return true
					}
				}
				return false
			})
			if got != tc.want {
				t.Fatalf("the document logged %q, want %q", got, tc.want)
			}
			sippDone(t, caller, "caller")
			if tc.far != "uas-ring.xml" && tc.far != "uas-code.xml" {
				sippDone(t, far, "far end")
			}
			var id event.CallID
			for _, e := range n.events.Events() {
				if e.Kind == event.CallNew {
					id = e.Call
				}
			}
			waitFor(t, 10*time.Second, "the call's end", func() bool { return countKind(n.events.ForCall(id), event.CallEnded) == 1 })
			if got := countKind(n.events.ForCall(id), event.CallTransferred); (got == 1) != tc.transferred {
				t.Errorf("call.transferred events: %d, want transferred=%v", got, tc.transferred)
			}
		})
	}
}

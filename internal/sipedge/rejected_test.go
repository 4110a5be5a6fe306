package sipedge

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tandem-cc/tandem/internal/event"
)

// sendInvite sends a new INVITE for 2000 from conn to the edge and returns
// its final response (provisional ones skipped).
func sendInvite(t *testing.T, conn *net.UDPConn, to, callID, auth string) *sip.Response {
	t.Helper()
	local := conn.LocalAddr().String()
	msg := []string{
		"INVITE sip:2000@" + to + " SIP/2.0",
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK" + sip.GenerateTagN(12),
		"Max-Forwards: 70",
		"From: <sip:caller@" + local + ">;tag=" + sip.GenerateTagN(8),
		"To: <sip:2000@" + to + ">",
		"Call-ID: " + callID,
		"CSeq: 1 INVITE",
		"Contact: <sip:caller@" + local + ">",
	}
	if auth != "" {
		msg = append(msg, "Proxy-Authorization: "+auth)
	}
	msg = append(msg, "Content-Length: 0", "", "")
	if _, err := conn.Write([]byte(strings.Join(msg, "\r\n"))); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	for range 10 {
		if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no answer to the INVITE: %v", err)
		}
		m, err := parser.ParseSIP(buf[:n])
		if err != nil {
			t.Fatalf("answer %q: %v", buf[:n], err)
		}
		res, ok := m.(*sip.Response)
		if !ok || res.StatusCode < 200 || res.CallID() == nil || res.CallID().Value() != callID {
			continue // provisional, or a retransmission of an earlier answer
		}
		// ACK the final non-2xx, as a UAC does (RFC 3261 §17.1.1.3), so
		// the edge stops retransmitting it.
		ack := []string{
			"ACK sip:2000@" + to + " SIP/2.0",
			"Via: " + res.Via().Value(),
			"Max-Forwards: 70",
			"From: " + res.From().Value(),
			"To: " + res.To().Value(),
			"Call-ID: " + callID,
			"CSeq: 1 ACK",
			"Content-Length: 0", "", "",
		}
		if _, err := conn.Write([]byte(strings.Join(ack, "\r\n"))); err != nil {
			t.Fatal(err)
		}
		return res
	}
	t.Fatal("no final response in 10 messages")
	return nil
}

func rejectedEvents(r *event.Recorder) []event.Event {
	var out []event.Event
	for _, e := range r.Events() {
		if e.Kind == event.CallRejected {
			out = append(out, e)
		}
	}
	return out
}

// TestRefusedInviteRecorded: over a real socket, a challenge is not a
// rejection, credentials refused (403) and a draining edge's 503 are, each
// as one call.rejected with its code, its why, the source and the INVITE's
// dialed number and SIP Call-ID; an INVITE the edge admits is the call
// server's to report.
func TestRefusedInviteRecorded(t *testing.T) {
	rec := &event.Recorder{}
	e, err := New(parseCfg(t, `
sip: {listen: [{transport: udp, address: "127.0.0.1:0"}]}
trunks: [{name: gw, networks: ["10.0.0.0/8"]}]
users: [{user: "1001", password: right}]
`), Deps{Events: rec})
	if err != nil {
		t.Fatal(err)
	}
	runEdge(t, e)
	to := e.Addr("udp")
	raddr, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	res := sendInvite(t, conn, to, "chal-1", "")
	if res.StatusCode != 407 {
		t.Fatalf("no credentials: %d, want 407", res.StatusCode)
	}
	if got := rejectedEvents(rec); len(got) != 0 {
		t.Fatalf("a challenge was recorded as a rejection: %+v", got)
	}
	chal := res.GetHeader("Proxy-Authenticate").Value()
	uri := "sip:2000@" + to

	res = sendInvite(t, conn, to, "bad-1", creds(t, chal, "INVITE", uri, "1001", "wrong", 1))
	if res.StatusCode != 403 {
		t.Fatalf("wrong password: %d, want 403", res.StatusCode)
	}
	res = sendInvite(t, conn, to, "good-1", creds(t, chal, "INVITE", uri, "1001", "right", 2))
	if res.StatusCode != 480 {
		t.Fatalf("right password: %d, want the handler's 480", res.StatusCode)
	}
	e.Drain()
	if res = sendInvite(t, conn, to, "drain-1", ""); res.StatusCode != 503 {
		t.Fatalf("draining: %d, want 503", res.StatusCode)
	}

	got := rejectedEvents(rec)
	want := []struct {
		code       int
		why, sipID string
	}{{403, event.RejectAuth, "bad-1"}, {503, event.RejectDraining, "drain-1"}}
	if len(got) != len(want) {
		t.Fatalf("call.rejected events %+v, want %d", got, len(want))
	}
	ids := map[event.CallID]bool{}
	for i, w := range want {
		g := got[i]
		if g.Code != w.code || !strings.HasPrefix(g.Reason, w.why+":") || g.Data == nil || g.Data.SIPCallID != w.sipID ||
			g.Data.DNIS != "2000" || g.Data.ANI != "caller" || g.Peer != conn.LocalAddr().String() || g.Call == "" || ids[g.Call] {
			t.Errorf("event %d: %+v (data %+v), want code %d why %s sip call id %s from %s under a new id", i, g, g.Data, w.code, w.why, w.sipID, conn.LocalAddr())
		}
		ids[g.Call] = true
	}
	if n := counterValue(t, e.mRefused.WithLabelValues(event.RejectAuth)); n != 1 {
		t.Errorf("refused for auth counted %v, want 1", n)
	}
}

// TestRefusedInviteBound: refusals from an untrusted source are recorded
// up to the per-source bound and counted past it; a trunk's are all
// recorded.
func TestRefusedInviteBound(t *testing.T) {
	rec := &event.Recorder{}
	now := time.Unix(1_800_000_000, 0)
	e, err := New(parseCfg(t, `sip: {listen: [{transport: udp, address: "127.0.0.1:0"}]}`), Deps{Events: rec, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	req := func(src string, i int) *sip.Request {
		r := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "2000", Host: "127.0.0.1"})
		r.AppendHeader(sip.NewHeader("Call-ID", fmt.Sprintf("c%d", i)))
		r.SetSource(src)
		return r
	}
	const n = int(rejectEventBurst) + 50
	for i := range n {
		e.refusedInvite(req("198.51.100.7:5060", i), 403, event.RejectAuth, "credentials refused", false)
		e.refusedInvite(req("10.0.0.9:5060", i), 503, event.RejectDraining, "Service Unavailable", true)
	}
	var untrusted, trunk int
	for _, ev := range rejectedEvents(rec) {
		switch ev.Peer {
		case "198.51.100.7:5060":
			untrusted++
		case "10.0.0.9:5060":
			trunk++
		}
	}
	if untrusted != int(rejectEventBurst) || trunk != n {
		t.Errorf("recorded %d from the untrusted source (want %v) and %d from the trunk (want %d)", untrusted, rejectEventBurst, trunk, n)
	}
	if got := counterValue(t, e.mUnrecorded); got != 50 {
		t.Errorf("unrecorded %v, want 50", got)
	}
	if got := counterValue(t, e.mRefused.WithLabelValues(event.RejectAuth)); got != float64(n) {
		t.Errorf("refused counted %v, want %d", got, n)
	}
	// The bucket refills: a second later the source is recorded again.
	now = now.Add(time.Second)
	e.refusedInvite(req("198.51.100.7:5060", 0), 403, event.RejectAuth, "credentials refused", false)
	if got := len(rejectedEvents(rec)); got != int(rejectEventBurst)+n+1 {
		t.Errorf("after a second: %d events, want %d", got, int(rejectEventBurst)+n+1)
	}
	// A request that is not a new INVITE is no call.
	bye := sip.NewRequest(sip.BYE, sip.Uri{Scheme: "sip", Host: "127.0.0.1"})
	bye.SetSource("10.0.0.9:5060")
	e.refusedInvite(bye, 481, event.RejectInvalid, "", true)
	if got := len(rejectedEvents(rec)); got != int(rejectEventBurst)+n+1 {
		t.Errorf("a BYE was recorded as a refused call")
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	m := &dto.Metric{}
	if err := c.Write(m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

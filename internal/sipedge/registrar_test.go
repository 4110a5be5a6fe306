package sipedge

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func regReq(t *testing.T, callID string, cseq uint32, expires string, contacts ...string) *sip.Request {
	t.Helper()
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "127.0.0.1"})
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.REGISTER})
	if expires != "" {
		req.AppendHeader(sip.NewHeader("Expires", expires))
	}
	for _, c := range contacts {
		h := &sip.ContactHeader{Params: sip.NewParams()}
		if c == "*" {
			h.Address.Wildcard = true
		} else if err := sip.ParseUri(c, &h.Address); err != nil {
			t.Fatal(err)
		}
		req.AppendHeader(h)
	}
	req.SetSource("127.0.0.1:5099")
	req.SetTransport("UDP")
	return req
}

func TestRegistrar(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	r := newRegistrar(time.Minute, time.Hour, 30*time.Minute, 3, func() time.Time { return now })

	// Two phones for one extension; the newest comes first.
	if res := r.register("1001", regReq(t, "a", 1, "600", "sip:1001@127.0.0.1:6001")); res.code != 200 {
		t.Fatalf("first contact: %d %s", res.code, res.reason)
	}
	now = now.Add(time.Second)
	if res := r.register("1001", regReq(t, "b", 1, "600", "sip:1001@127.0.0.1:6002")); res.code != 200 || len(res.bindings) != 2 {
		t.Fatalf("second contact: %+v", res)
	}
	if bs := r.lookup("1001"); len(bs) != 2 || bs[0].Contact.Port != 6002 {
		t.Fatalf("lookup order: %+v", bs)
	}
	// Too short an interval is refused with the minimum.
	if res := r.register("1001", regReq(t, "a", 2, "10", "sip:1001@127.0.0.1:6001")); res.code != 423 || res.minExpires != time.Minute {
		t.Fatalf("short expiry: %+v", res)
	}
	// A reordered REGISTER (same Call-ID, lower CSeq) changes nothing.
	if res := r.register("1001", regReq(t, "a", 1, "0", "sip:1001@127.0.0.1:6001")); res.code != 500 {
		t.Fatalf("out of order: %+v", res)
	}
	// Past max_contacts: refused.
	if res := r.register("1001", regReq(t, "c", 1, "600", "sip:1001@127.0.0.1:6003", "sip:1001@127.0.0.1:6004")); res.code != 403 {
		t.Fatalf("too many contacts: %+v", res)
	}
	// Un-register one contact with expires 0.
	if res := r.register("1001", regReq(t, "a", 3, "0", "sip:1001@127.0.0.1:6001")); res.code != 200 || len(res.bindings) != 1 {
		t.Fatalf("unregister one: %+v", res)
	}
	// Expiry: the remaining binding lapses by itself.
	now = now.Add(11 * time.Minute)
	if bs := r.lookup("1001"); len(bs) != 0 {
		t.Fatalf("expired binding still there: %+v", bs)
	}
	// Wildcard needs Expires: 0, then removes everything.
	r.register("1002", regReq(t, "d", 1, "600", "sip:1002@127.0.0.1:6005"))
	if res := r.register("1002", regReq(t, "d", 2, "600", "*")); res.code != 400 {
		t.Fatalf("wildcard without expires 0: %+v", res)
	}
	if res := r.register("1002", regReq(t, "d", 3, "0", "*")); res.code != 200 || r.count() != 0 {
		t.Fatalf("wildcard unregister: %+v, %d left", res, r.count())
	}
}

func TestDestinationWithoutHeartbeatIsRetried(t *testing.T) {
	d := &destination{addr: "127.0.0.1:5072", up: true, retryAfter: 50 * time.Millisecond}
	for i := 0; i < 3; i++ {
		d.result(false, 3)
	}
	if d.isUp() {
		t.Fatal("still up after 3 failed calls")
	}
	deadline := time.Now().Add(2 * time.Second)
	for !d.isUp() {
		if time.Now().After(deadline) {
			t.Fatal("a destination marked down by calls is never tried again")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !d.result(true, 3) || !d.isUp() {
		t.Fatal("a success does not bring it back up")
	}
}

package media

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func sdpLines(lines ...string) []byte { return []byte(strings.Join(lines, "\r\n") + "\r\n") }

var testLocal = Local{Addr: netip.MustParseAddrPort("127.0.0.1:40000"), SessionID: 42, Version: 1}

func TestAnswer(t *testing.T) {
	head := []string{"v=0", "o=gw 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0"}
	offer := func(extra ...string) []byte { return sdpLines(append(append([]string{}, head...), extra...)...) }
	cases := []struct {
		name      string
		offer     []byte
		codec     Codec
		codecs    string // Name()s of the answered codecs, in order
		eventPT   int
		dir       Direction
		hold      bool
		addr      string
		rtcp      string
		err       error
		wantInAns []string
	}{
		{name: "PCMU with telephone-event",
			offer: offer("m=audio 5004 RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16"),
			codec: PCMU, codecs: "PCMU", eventPT: 101, addr: "192.0.2.1:5004", rtcp: "192.0.2.1:5005",
			wantInAns: []string{"m=audio 40000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000", "a=sendrecv", "c=IN IP4 127.0.0.1", "o=tandem 42 1 IN IP4 127.0.0.1"}},
		{name: "caller prefers PCMA",
			offer: offer("m=audio 5004 RTP/AVP 8 0 18 96", "a=rtpmap:96 telephone-event/8000", "a=rtpmap:18 G729/8000"),
			codec: PCMA, codecs: "PCMA PCMU", eventPT: 96, addr: "192.0.2.1:5004", rtcp: "192.0.2.1:5005",
			wantInAns: []string{"m=audio 40000 RTP/AVP 8 0 96"}},
		{name: "static types without rtpmap, no telephone-event",
			offer: offer("m=audio 6000 RTP/AVP 0"), codec: PCMU, codecs: "PCMU", eventPT: -1, addr: "192.0.2.1:6000", rtcp: "192.0.2.1:6001",
			wantInAns: []string{"m=audio 40000 RTP/AVP 0\r\n"}},
		{name: "dynamic PCMU",
			offer: offer("m=audio 6000 RTP/AVP 97", "a=rtpmap:97 PCMU/8000"), codec: Codec{ULaw, 97}, codecs: "PCMU", eventPT: -1, addr: "192.0.2.1:6000", rtcp: "192.0.2.1:6001"},
		{name: "no G.711", offer: offer("m=audio 6000 RTP/AVP 18 9", "a=rtpmap:18 G729/8000"), err: ErrNoCommonCodec},
		{name: "PCMU at 16 kHz is not G.711", offer: offer("m=audio 6000 RTP/AVP 96", "a=rtpmap:96 PCMU/16000"), err: ErrNoCommonCodec},
		{name: "video only", offer: offer("m=video 6000 RTP/AVP 96", "a=rtpmap:96 H264/90000"), err: ErrNoAudio},
		{name: "SRTP without a=crypto", offer: offer("m=audio 6000 RTP/SAVP 0"), err: ErrNoCrypto},
		{name: "sendonly is hold", offer: offer("m=audio 6000 RTP/AVP 0", "a=sendonly"),
			codec: PCMU, codecs: "PCMU", eventPT: -1, dir: SendOnly, hold: true, addr: "192.0.2.1:6000", rtcp: "192.0.2.1:6001",
			wantInAns: []string{"a=recvonly"}},
		{name: "inactive at session level", offer: sdpLines(append(append([]string{}, head...), "a=inactive", "m=audio 6000 RTP/AVP 8")...),
			codec: PCMA, codecs: "PCMA", eventPT: -1, dir: Inactive, hold: true, addr: "192.0.2.1:6000", rtcp: "192.0.2.1:6001",
			wantInAns: []string{"a=inactive"}},
		{name: "c=0.0.0.0 is hold", offer: sdpLines("v=0", "o=gw 1 2 IN IP4 192.0.2.1", "s=-", "c=IN IP4 0.0.0.0", "t=0 0", "m=audio 6000 RTP/AVP 0"),
			codec: PCMU, codecs: "PCMU", eventPT: -1, hold: true},
		{name: "media-level c= and a=rtcp", offer: offer("m=audio 6000 RTP/AVP 0", "c=IN IP4 198.51.100.7", "a=rtcp:7001"),
			codec: PCMU, codecs: "PCMU", eventPT: -1, addr: "198.51.100.7:6000", rtcp: "198.51.100.7:7001"},
		{name: "video refused, audio second", offer: offer("m=video 7000 RTP/AVP 96", "a=rtpmap:96 H264/90000", "m=audio 6000 RTP/AVP 0"),
			codec: PCMU, codecs: "PCMU", eventPT: -1, addr: "192.0.2.1:6000", rtcp: "192.0.2.1:6001",
			wantInAns: []string{"m=video 0 RTP/AVP 96", "m=audio 40000 RTP/AVP 0"}},
		{name: "IPv6", offer: sdpLines("v=0", "o=gw 1 1 IN IP6 2001:db8::1", "s=-", "c=IN IP6 2001:db8::1", "t=0 0", "m=audio 6000 RTP/AVP 0"),
			codec: PCMU, codecs: "PCMU", eventPT: -1, addr: "[2001:db8::1]:6000", rtcp: "[2001:db8::1]:6001"},
		{name: "garbage", offer: []byte("hello"), err: errAny},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ans, r, err := Answer(c.offer, testLocal)
			if c.err != nil {
				if err == nil || (c.err != errAny && !errors.Is(err, c.err)) {
					t.Fatalf("err %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, cc := range r.Codecs {
				names = append(names, cc.Name())
			}
			if r.Codec != c.codec || strings.Join(names, " ") != c.codecs || r.EventPT != c.eventPT || r.Direction != c.dir || r.OnHold() != c.hold {
				t.Fatalf("remote %+v", r)
			}
			if c.addr != "" && r.Addr.String() != c.addr || c.addr == "" && r.Addr.IsValid() {
				t.Fatalf("addr %v, want %q", r.Addr, c.addr)
			}
			if c.rtcp != "" && r.RTCPAddr.String() != c.rtcp {
				t.Fatalf("rtcp %v, want %q", r.RTCPAddr, c.rtcp)
			}
			for _, w := range c.wantInAns {
				if !strings.Contains(string(ans), w) {
					t.Errorf("answer lacks %q:\n%s", w, ans)
				}
			}
			// The answer is itself valid SDP that our offer side accepts.
			back, err := ParseAnswer(ans, Local{})
			if err != nil || back.Codec.Law != c.codec.Law {
				t.Errorf("answer does not parse back: %+v %v", back, err)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestAnswerRestrictedLaws(t *testing.T) {
	l := testLocal
	l.Codecs = []Codec{PCMA}
	offer := sdpLines("v=0", "o=gw 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", "m=audio 5004 RTP/AVP 0 8")
	ans, r, err := Answer(offer, l)
	if err != nil || r.Codec != PCMA || len(r.Codecs) != 1 || !strings.Contains(string(ans), "m=audio 40000 RTP/AVP 8\r\n") {
		t.Fatalf("%+v %v\n%s", r, err, ans)
	}
	if _, _, err := Answer(sdpLines("v=0", "o=gw 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", "m=audio 5004 RTP/AVP 0"), l); !errors.Is(err, ErrNoCommonCodec) {
		t.Fatalf("PCMU-only offer to a PCMA-only gateway: %v", err)
	}
}

func TestOfferAndParseAnswer(t *testing.T) {
	l := testLocal
	l.Codecs = []Codec{PCMA, PCMU}
	off, err := Offer(l)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"m=audio 40000 RTP/AVP 8 0 101", "a=rtpmap:101 telephone-event/8000", "a=ptime:20", "a=sendrecv"} {
		if !strings.Contains(string(off), w) {
			t.Errorf("offer lacks %q:\n%s", w, off)
		}
	}
	// A peer answering our offer with PCMU only and its telephone-event type.
	r, err := ParseAnswer(sdpLines("v=0", "o=p 1 1 IN IP4 192.0.2.9", "s=-", "c=IN IP4 192.0.2.9", "t=0 0",
		"m=audio 7078 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000"), l)
	if err != nil || r.Codec != PCMU || r.EventPT != 101 || r.Addr.String() != "192.0.2.9:7078" {
		t.Fatalf("%+v %v", r, err)
	}
	// An answer with a codec we did not offer is refused.
	l.Codecs = []Codec{PCMA}
	if _, err := ParseAnswer(sdpLines("v=0", "o=p 1 1 IN IP4 192.0.2.9", "s=-", "c=IN IP4 192.0.2.9", "t=0 0",
		"m=audio 7078 RTP/AVP 0"), l); !errors.Is(err, ErrNoCommonCodec) {
		t.Fatalf("err %v", err)
	}
	// Hold offer: we send sendonly.
	l.Direction = SendOnly
	off, _ = Offer(l)
	if !strings.Contains(string(off), "a=sendonly") {
		t.Fatalf("hold offer:\n%s", off)
	}
}

func FuzzAnswer(f *testing.F) {
	f.Add(sdpLines("v=0", "o=gw 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", "m=audio 5004 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000"))
	f.Add(sdpLines("v=0", "o=gw 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 0.0.0.0", "t=0 0", "m=audio 5004 RTP/AVP 8", "a=rtcp:1 IN IP4 1.2.3.4", "a=inactive"))
	f.Fuzz(func(t *testing.T, offer []byte) {
		ans, r, err := Answer(offer, testLocal)
		if err != nil {
			return
		}
		if len(r.Codecs) == 0 || r.Codec != r.Codecs[0] {
			t.Fatalf("accepted without a codec: %+v", r)
		}
		if _, err := ParseAnswer(ans, Local{}); err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, ans)
		}
	})
}

package e2e

import (
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"
)

// sendInvite sends one INVITE to user at dst from a UDP socket on ip and
// returns the first final status code (0 when none came in 3 s).
func sendInvite(t *testing.T, ip, dst, user string) int {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Skipf("cannot bind %s: %v", ip, err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	sdp := "v=0\r\no=- 1 1 IN IP4 " + ip + "\r\ns=-\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	msg := fmt.Sprintf("INVITE sip:%s@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-src-%d\r\n"+
		"From: <sip:probe@%s>;tag=src1\r\nTo: <sip:%s@%s>\r\nCall-ID: src-%d@%s\r\nCSeq: 1 INVITE\r\n"+
		"Contact: <sip:probe@%s>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		user, dst, local, time.Now().UnixNano(), ip, user, dst, time.Now().UnixNano(), ip, local, len(sdp), sdp)
	to, err := net.ResolveUDPAddr("udp", dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteToUDP([]byte(msg), to); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8192)
	deadline := time.Now().Add(3 * time.Second)
	for {
		_ = c.SetReadDeadline(deadline)
		n, _, err := c.ReadFromUDP(buf)
		if err != nil {
			return 0
		}
		if code := statusOf(buf[:n]); code >= 200 {
			return code
		}
	}
}

// The conference bridge (and the VoiceXML gateway, built on the same
// mediaua) takes INVITEs only from the call server's addresses and the
// trunks: a host that reaches its port directly is refused with 403, and
// never gets a seat in a room.
func TestBridgeRefusesOutsiders(t *testing.T) {
	a, b := freePort(t), freePort(t)
	bridge := "127.0.0.1:" + strconv.Itoa(freePort(t))
	// 127.0.0.2 is in no trunk (10.0.0.0/8) and is not the edge's address
	// (127.0.0.1).
	n := startTandem(t, director("10.0.0.0/8", a, b)+`
conference:
  listen: "`+bridge+`"
  media_ip: 127.0.0.1
`)
	if code := sendInvite(t, "127.0.0.2", bridge, "conf-intruder"); code != 403 {
		t.Fatalf("an INVITE from 127.0.0.2 straight to the bridge: %d, want 403", code)
	}
	if r := n.Conference.Rooms(); r != 0 {
		t.Fatalf("%d rooms open after a refused INVITE", r)
	}
	// From the call server's own address the bridge routes it: a name
	// that is no room is 404, not 403.
	if code := sendInvite(t, "127.0.0.1", bridge, "not-a-room"); code != 404 {
		t.Fatalf("an INVITE from the edge's address: %d, want 404 (routed by the bridge)", code)
	}
}

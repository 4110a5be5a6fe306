package e2e

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/tandem-cc/tandem/internal/event"
)

// authDirector is a call director where 127.0.0.1 is not a trunk, so every
// INVITE from the test must authenticate as user 1001: 2000 goes to a
// destination on port answer, 2001 to one on port refuse that refuses
// calls (486), and so would 9011441234567, an international number a
// stolen digest must never reach.
func authDirector(answer, refuse int) string {
	return fmt.Sprintf(`
sip:
  listen: [{transport: udp, address: "127.0.0.1:SIPPORT"}]
trunks: [{name: gw, networks: ["10.0.0.0/8"]}]
users: [{user: "1001", password: secret1001}]
server_groups:
  - {name: answer, heartbeat: {enabled: false}, destinations: [{address: "127.0.0.1:%d"}]}
  - {name: refuse, heartbeat: {enabled: false}, destinations: [{address: "127.0.0.1:%d"}]}
dial_plan:
  - {pattern: "2000", server_group: answer}
  - {pattern: "2001", server_group: refuse}
  - {pattern: "9!", server_group: refuse}
routing:
  static:
    - {dnis: "2000", labels: ["2000"]}
    - {dnis: "2001", labels: ["2001"]}
    - {dnis: "9011441234567", labels: ["9011441234567"]}
`, answer, refuse)
}

// rawUA is a SIP client written out by hand over UDP, so that a test can
// send exactly the headers an attacker would: a replayed or re-targeted
// Proxy-Authorization that no well-behaved stack would produce.
type rawUA struct {
	t    *testing.T
	conn *net.UDPConn
	to   string // tandem's host:port
	seq  int
}

func newRawUA(t *testing.T, to string) *rawUA {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadBuffer(4 << 20)
	t.Cleanup(func() { c.Close() })
	return &rawUA{t: t, conn: c, to: to}
}

func (u *rawUA) local() string { return u.conn.LocalAddr().String() }

// request builds a request of method to ruri; auth, when set, is the whole
// authorization header line.
func (u *rawUA) request(method, ruri, callID string, cseq int, branch, auth string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, ruri)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s\r\n", u.local(), branch)
	fmt.Fprintf(&b, "From: <sip:1001@127.0.0.1>;tag=%s\r\n", callID)
	to := ruri
	if method == "REGISTER" {
		to = "sip:1001@127.0.0.1"
	}
	fmt.Fprintf(&b, "To: <%s>\r\nCall-ID: %s\r\nCSeq: %d %s\r\nMax-Forwards: 70\r\n", to, callID, cseq, method)
	fmt.Fprintf(&b, "Contact: <sip:1001@%s>\r\n", u.local())
	if auth != "" {
		b.WriteString(auth + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

func (u *rawUA) send(msg string) {
	u.t.Helper()
	addr, err := net.ResolveUDPAddr("udp", u.to)
	if err != nil {
		u.t.Fatal(err)
	}
	if _, err := u.conn.WriteToUDP([]byte(msg), addr); err != nil {
		u.t.Fatal(err)
	}
}

// read returns the next response, or nil at the deadline.
func (u *rawUA) read(deadline time.Time) *sip.Response {
	buf := make([]byte, 65536)
	for {
		_ = u.conn.SetReadDeadline(deadline)
		n, _, err := u.conn.ReadFromUDP(buf)
		if err != nil {
			return nil
		}
		m, err := sip.ParseMessage(buf[:n])
		if err != nil {
			u.t.Fatalf("unparsable answer: %v\n%s", err, buf[:n])
		}
		if res, ok := m.(*sip.Response); ok {
			return res
		}
	}
}

// invite sends an INVITE to ruri with auth and returns its final response
// (after ACKing it: the destination refuses, so it is never a 2xx).
func (u *rawUA) invite(ruri, auth string) *sip.Response {
	u.t.Helper()
	u.seq++
	callID := fmt.Sprintf("auth-%d-%d", time.Now().UnixNano(), u.seq)
	branch := callID
	u.send(u.request("INVITE", ruri, callID, 1, branch, auth))
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := u.read(deadline)
		if res == nil {
			u.t.Fatalf("INVITE %s: no final response", ruri)
		}
		if res.CallID().Value() != callID || res.StatusCode < 200 {
			continue
		}
		ack := u.request("ACK", ruri, callID, 1, branch, "")
		ack = strings.Replace(ack, "To: <"+ruri+">", res.To().String(), 1)
		u.send(ack)
		return res
	}
}

// challenge gets a fresh 407 challenge for ruri.
func (u *rawUA) challenge(ruri string) *digest.Challenge {
	u.t.Helper()
	res := u.invite(ruri, "")
	if res.StatusCode != 407 {
		u.t.Fatalf("INVITE without credentials: %d, want 407", res.StatusCode)
	}
	c, err := digest.ParseChallenge(res.GetHeader("Proxy-Authenticate").Value())
	if err != nil {
		u.t.Fatal(err)
	}
	return c
}

func proxyAuth(t *testing.T, c *digest.Challenge, method, uri, pass string, nc int) string {
	t.Helper()
	cred, err := digest.Digest(c, digest.Options{Method: method, URI: uri, Username: "1001", Password: pass, Count: nc, Cnonce: "d2a8f1c0"})
	if err != nil {
		t.Fatal(err)
	}
	return "Proxy-Authorization: " + cred.String()
}

// TestDigestReplayAndRetarget: SIPp authenticates as a real client would
// and its call to 2000 goes through; a captured Proxy-Authorization (for
// 2001) sent again on a new call is challenged afresh (stale), never accepted; the same nonce
// with the next count is accepted (RFC 7616 §3.4.6); credentials computed
// for sip:2001 do not place a call to 9011441234567 (400). Only the
// honest INVITEs become calls.
func TestDigestReplayAndRetarget(t *testing.T) {
	answer, refuse := freePort(t), freePort(t)
	n := startTandem(t, authDirector(answer, refuse))
	startUAS(t, answer, scenario(t, "uas-bye.xml", "HOLD", "300"), "-m", "1")
	startUAS(t, refuse, scenario(t, "uas-code.xml", "CODE", "486"))
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-auth.xml", "PASS", "secret1001", "CODE", "200"), "-s", "2000", "-m", "1",
		// SIPp's digest uri is remote_ip:remote_port unless told; a real
		// phone's is the Request-URI, which tandem checks.
		"-auth_uri", "2000@"+n.addr)
	if ok != 1 || failed != 0 {
		t.Fatalf("SIPp with the right password: %d ok, %d failed", ok, failed)
	}

	ua := newRawUA(t, n.addr)
	to2001 := "sip:2001@" + n.addr
	c := ua.challenge(to2001)
	captured := proxyAuth(t, c, "INVITE", to2001, "secret1001", 1)
	if res := ua.invite(to2001, captured); res.StatusCode != 486 {
		t.Fatalf("first use of the credentials: %d, want the destination's 486", res.StatusCode)
	}
	res := ua.invite(to2001, captured)
	if res.StatusCode != 407 || !strings.Contains(strings.ToLower(res.GetHeader("Proxy-Authenticate").Value()), "stale=true") {
		t.Fatalf("replayed credentials: %d %v, want 407 with stale=true", res.StatusCode, res.GetHeader("Proxy-Authenticate"))
	}
	if res := ua.invite(to2001, proxyAuth(t, c, "INVITE", to2001, "secret1001", 2)); res.StatusCode != 486 {
		t.Fatalf("the same nonce with nc=2: %d, want the destination's 486", res.StatusCode)
	}

	c = ua.challenge(to2001)
	toll := "sip:9011441234567@" + n.addr
	if res := ua.invite(toll, proxyAuth(t, c, "INVITE", to2001, "secret1001", 1)); res.StatusCode != 400 {
		t.Fatalf("credentials for sip:2001 on an INVITE to 9011441234567: %d, want 400", res.StatusCode)
	}
	// The same, computed honestly for the Request-URI, goes through: the
	// 400 was the uri check, not the route.
	c = ua.challenge(toll)
	if res := ua.invite(toll, proxyAuth(t, c, "INVITE", toll, "secret1001", 1)); res.StatusCode != 486 {
		t.Fatalf("honest credentials to 9011441234567: %d, want the destination's 486", res.StatusCode)
	}

	calls := 0
	for _, e := range n.events.Events() {
		if e.Kind == event.CallNew {
			calls++
		}
	}
	if calls != 4 {
		t.Fatalf("%d calls made, want 4: SIPp's to 2000, nc=1's and nc=2's to 2001, the honest one to 9011441234567", calls)
	}
}

// TestAuthBurstHeldToRate: 200 wrong-password REGISTERs sent at once from
// one address. Each is counted before it is checked, so only the limit's
// worth (5) are checked at once, the few allowed to wait (4) are checked in
// sequence 250 ms, 500 ms, 1 s, 2 s apart, and the rest are refused at once
// with 503 and Retry-After, holding nothing. Before, the delay was decided
// on arrival and the failure counted after, and a burst of 1,000 was
// answered in 8 s with every password checked.
func TestAuthBurstHeldToRate(t *testing.T) {
	n := startTandem(t, authDirector(freePort(t), freePort(t)))
	ua := newRawUA(t, n.addr)
	reg := "sip:" + n.addr
	// One challenge for the nonce every guess answers.
	ua.send(ua.request("REGISTER", reg, "burst-challenge", 1, "burstchallenge", ""))
	res := ua.read(time.Now().Add(5 * time.Second))
	if res == nil || res.StatusCode != 401 {
		t.Fatalf("REGISTER without credentials: %v, want 401", res)
	}
	c, err := digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value())
	if err != nil {
		t.Fatal(err)
	}
	const burst = 200
	msgs := make([]string, burst)
	for i := range msgs {
		cred, err := digest.Digest(c, digest.Options{Method: "REGISTER", URI: reg, Username: "1001", Password: "secret" + strconv.Itoa(i), Count: 1, Cnonce: strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		msgs[i] = ua.request("REGISTER", reg, "burst-"+strconv.Itoa(i), 1, "burst"+strconv.Itoa(i), "Authorization: "+cred.String())
	}
	start := time.Now()
	var wg sync.WaitGroup
	for _, m := range msgs {
		wg.Add(1)
		go func() { defer wg.Done(); ua.send(m) }()
	}
	wg.Wait()
	var checked []time.Duration // when each 403 (a checked guess) came
	busy := 0
	deadline := start.Add(20 * time.Second)
	for len(checked)+busy < burst {
		res := ua.read(deadline)
		if res == nil {
			break
		}
		switch res.StatusCode {
		case 403:
			checked = append(checked, time.Since(start))
		case 503:
			if res.GetHeader("Retry-After") == nil {
				t.Fatal("503 without Retry-After")
			}
			busy++
		case 100:
		default:
			t.Fatalf("a guess answered %d %s", res.StatusCode, res.Reason)
		}
	}
	t.Logf("%d guesses checked at %v; %d refused at once", len(checked), checked, busy)
	if len(checked) != 9 || busy != burst-9 {
		t.Fatalf("%d guesses checked and %d refused, want 9 (5 at once, 4 in turn) and %d", len(checked), busy, burst-9)
	}
	// The last checked guess waited its turn: 250+500+1000+2000 ms.
	if last := checked[len(checked)-1]; last < 3700*time.Millisecond {
		t.Fatalf("the last guess was checked after %s, want at least 3.75 s", last)
	}
}

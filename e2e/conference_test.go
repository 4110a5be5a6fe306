package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/conference"
	"github.com/tandem-cc/tandem/internal/config/field"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/media"
)

// confNode is a conference bridge running in the test process.
type confNode struct {
	b      *conference.Bridge
	events *event.Recorder
	addr   string
}

func startBridge(t *testing.T, cfg conference.Config) *confNode {
	t.Helper()
	cfg.Listen, cfg.MediaIP = "127.0.0.1:0", "127.0.0.1"
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	n := &confNode{events: &event.Recorder{}}
	var err error
	if n.b, err = conference.New(cfg, conference.Deps{Log: log, Events: n.events}); err != nil {
		t.Fatal(err)
	}
	if err := n.b.Listen(); err != nil {
		t.Fatal(err)
	}
	n.addr = n.b.Addr()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = n.b.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("bridge did not stop")
		}
	})
	return n
}

// sine returns secs seconds of a tone at freq, amplitude 6000.
func sine(freq, secs float64) []int16 {
	pcm := make([]int16, int(secs*8000))
	for i := range pcm {
		pcm[i] = int16(6000 * math.Sin(2*math.Pi*freq*float64(i)/8000))
	}
	return pcm
}

// toneLevel is the amplitude of the freq component of x (Goertzel): a
// tone of amplitude A in x gives about A.
func toneLevel(x []int16, freq float64) float64 {
	k := 2 * math.Cos(2*math.Pi*freq/8000)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + k*s1 - s2
		s2, s1 = s1, s0
	}
	return 2 * math.Sqrt(math.Max(s1*s1+s2*s2-k*s1*s2, 0)) / float64(len(x))
}

// Tone levels that count as heard and as absent: the parties say their
// tones at 6000; G.711 noise of the others stays far under 300.
const heardLevel, absentLevel = 2500, 300

// findWindow returns the index of the first half-second window of x, from
// window from on, in which every tone of want is heard and every tone of
// absent is not, or -1.
func findWindow(x []int16, from int, want, absent []float64) int {
	const w = 4000
	for i := from; (i+1)*w <= len(x); i++ {
		win := x[i*w : (i+1)*w]
		ok := true
		for _, f := range want {
			ok = ok && toneLevel(win, f) > heardLevel
		}
		for _, f := range absent {
			ok = ok && toneLevel(win, f) < absentLevel
		}
		if ok {
			return i
		}
	}
	return -1
}

// confLateOffer is RFC 3725 flow I's INVITE as a party sees it: no SDP; the
// bridge offers in its 200 and the answer (PCMA only) goes in the ACK. The
// party then says the A-law WAV {{WAV}} for {{MS}} ms, holds with a
// re-INVITE (a=sendonly, the bridge must answer recvonly), and hangs up.
const confLateOffer = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="late-offer conference party">
  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="200" rtd="true">
    <action><ereg regexp="m=audio [0-9]+ RTP/AVP 0 8" search_in="body" check_it="true" assign_to="offer"/></action>
  </recv>
  <send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [rtpstream_audio_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
      a=sendrecv
    ]]></send>
  <nop><action><exec rtp_stream="{{WAV}},-1,8"/></action></nop>
  <pause milliseconds="{{MS}}"/>
  <nop><action><exec rtp_stream="pause"/></action></nop>
  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [rtpstream_audio_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
      a=sendonly
    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="200">
    <action><ereg regexp="a=recvonly" search_in="body" check_it="true" assign_to="held"/></action>
  </recv>
  <send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]></send>
  <pause milliseconds="300"/>
  <send retrans="500"><![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 3 BYE
      Max-Forwards: 70
      Content-Length: 0
    ]]></send>
  <recv response="200"/>
  <Reference variables="offer,held"/>
</scenario>
`

// confOffer is a party whose INVITE offers {{PT}} ({{CODEC}}) only, and
// that expects final response {{CODE}}.
const confOffer = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="conference party expecting a code">
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
      o=user1 53655765 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP {{PT}}
      a=rtpmap:{{PT}} {{CODEC}}/8000
    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="{{CODE}}"/>
  <send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-4]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]></send>
</scenario>
`

// confOptions is a heartbeat: OPTIONS, expecting 200.
const confOptions = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="options">
  <send retrans="500"><![CDATA[
      OPTIONS sip:conference@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:conference@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 OPTIONS
      Max-Forwards: 70
      Content-Length: 0
    ]]></send>
  <recv response="200"/>
</scenario>
`

// writeScenario writes a scenario constant with {{KEY}}s filled in.
func writeScenario(t *testing.T, name, text string, kv ...string) string {
	t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		text = strings.ReplaceAll(text, "{{"+kv[i]+"}}", kv[i+1])
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// alawWAV writes pcm as an A-law WAV (what SIPp's rtp_stream sends as
// payload type 8) with sox.
func alawWAV(t *testing.T, pcm []int16) string {
	t.Helper()
	need(t, "sox")
	dir := t.TempDir()
	lin, alaw := filepath.Join(dir, "lin.wav"), filepath.Join(dir, "alaw.wav")
	if err := media.WriteWAVFile(lin, pcm); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("sox", lin, "-e", "a-law", alaw).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	return alaw
}

// TestConferenceBaresipAndSIPp: three baresip phones (PCMU) call conf-42,
// each saying its own tone; each hears the other two and never itself.
// One hangs up, and a SIPp party joins with a late offer (RFC 3725 flow I),
// says its tone in PCMA, holds with a re-INVITE and hangs up: the ones left
// hear it and no longer hear the one who left.
func TestConferenceBaresipAndSIPp(t *testing.T) {
	need(t, "baresip")
	need(t, "sipp")
	n := startBridge(t, conference.Config{MaxRooms: 10, MaxParties: 8, RTPTimeout: field.Duration(20 * time.Second)})
	uri := conference.RoomURI(n.addr, "42")
	const fa, fb, fc, fd = 440, 1000, 1700, 2500
	wav := alawWAV(t, sine(fd, 10))

	a := startBaresip(t, uri, sine(fa, 20))
	b := startBaresip(t, uri, sine(fb, 20))
	c := startBaresip(t, uri, sine(fc, 20))
	waitFor(t, 10*time.Second, "three parties in conf-42", func() bool { return n.b.RoomSize("42") == 3 })
	time.Sleep(2 * time.Second) // all three talking together

	c.command(`{"command":"hangup"}`)
	waitFor(t, 5*time.Second, "C to leave", func() bool { return n.b.RoomSize("42") == 2 })
	c.quit()

	d := startSIPp(t, n.addr, "-sf", writeScenario(t, "late.xml", confLateOffer, "WAV", wav, "MS", "2500"),
		"-s", "conf-42", "-m", "1", "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)),
		"-mp", strconv.Itoa(freePort(t)), "-timeout", "20s", "-timeout_error")
	waitFor(t, 10*time.Second, "D to join", func() bool { return n.b.RoomSize("42") == 3 })
	d.wait(20 * time.Second)
	if ok, failed := d.counts(); ok != 1 || failed != 0 {
		t.Fatalf("SIPp party: %d ok, %d failed", ok, failed)
	}
	waitFor(t, 5*time.Second, "D to leave", func() bool { return n.b.RoomSize("42") == 2 })
	a.quit()
	b.quit()
	waitFor(t, 5*time.Second, "the room to close", func() bool { return n.b.Rooms() == 0 && n.b.Active() == 0 })

	heardA, heardB, heardC := a.heard(), b.heard(), c.heard()
	for _, tc := range []struct {
		who        string
		heard      []int16
		own        float64
		with3      []float64 // heard while A, B, C talk
		afterSwap  []float64 // heard once C left and D joined
		notAfterSw []float64
	}{
		{"A", heardA, fa, []float64{fb, fc}, []float64{fb, fd}, []float64{fa, fc}},
		{"B", heardB, fb, []float64{fa, fc}, []float64{fa, fd}, []float64{fb, fc}},
		{"C", heardC, fc, []float64{fa, fb}, nil, nil},
	} {
		first := findWindow(tc.heard, 0, tc.with3, []float64{tc.own, fd})
		if first < 0 {
			t.Errorf("%s never heard %v together without itself (%d samples heard)", tc.who, tc.with3, len(tc.heard))
			continue
		}
		if tc.afterSwap != nil && findWindow(tc.heard, first, tc.afterSwap, tc.notAfterSw) < 0 {
			t.Errorf("%s never heard %v without %v after the swap", tc.who, tc.afterSwap, tc.notAfterSw)
		}
		for i := 0; (i+1)*4000 <= len(tc.heard); i++ {
			if l := toneLevel(tc.heard[i*4000:(i+1)*4000], tc.own); l > absentLevel {
				t.Errorf("%s heard its own voice at level %.0f in window %d", tc.who, l, i)
				break
			}
		}
	}
	evs := n.events.Events()
	if got := countKind(evs, event.LegAnswered); got != 4 {
		t.Errorf("%d legs joined, want 4", got)
	}
	if got := countKind(evs, event.LegEnded); got != 4 {
		t.Errorf("%d legs ended, want 4", got)
	}
	if got := countKind(evs, event.LegHeld); got != 1 {
		t.Errorf("%d holds, want 1 (D's re-INVITE)", got)
	}
}

// TestConferenceRefusals: a Request-URI that is not a room is 404, an
// offer without G.711 is 488, a room past max_parties and a room past
// max_rooms are 503.
func TestConferenceRefusals(t *testing.T) {
	need(t, "sipp")
	need(t, "sox")
	n := startBridge(t, conference.Config{MaxRooms: 1, MaxParties: 2, RTPTimeout: field.Duration(20 * time.Second)})
	expect := func(service, pt, codec, code string) {
		t.Helper()
		ok, failed := runUAC(t, n.addr, "-sf", writeScenario(t, "expect.xml", confOffer, "PT", pt, "CODEC", codec, "CODE", code),
			"-s", service, "-m", "1", "-mp", strconv.Itoa(freePort(t)))
		if ok != 1 || failed != 0 {
			t.Errorf("%s with %s: want %s (%d ok, %d failed)", service, codec, code, ok, failed)
		}
	}
	ok, failed := runUAC(t, n.addr, "-sf", writeScenario(t, "options.xml", confOptions), "-m", "1")
	if ok != 1 || failed != 0 {
		t.Errorf("OPTIONS: %d ok, %d failed", ok, failed)
	}
	expect("5000", "0", "PCMU", "404")
	expect("conf-a", "18", "G729", "488")
	if n.b.Rooms() != 0 {
		t.Errorf("a refused offer left %d rooms open", n.b.Rooms())
	}
	// Two parties fill room a (and the bridge's one room).
	wav := alawWAV(t, sine(440, 10))
	var parties []*sipp
	for i := range 2 {
		parties = append(parties, startSIPp(t, n.addr, "-sf", writeScenario(t, fmt.Sprintf("late%d.xml", i), confLateOffer, "WAV", wav, "MS", "6000"),
			"-s", "conf-a", "-m", "1", "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)),
			"-mp", strconv.Itoa(freePort(t)), "-timeout", "20s", "-timeout_error"))
	}
	waitFor(t, 10*time.Second, "room a to fill", func() bool { return n.b.RoomSize("a") == 2 })
	expect("conf-a", "8", "PCMA", "503")
	expect("conf-b", "8", "PCMA", "503")
	for _, p := range parties {
		p.wait(20 * time.Second)
		if ok, failed := p.counts(); ok != 1 || failed != 0 {
			t.Errorf("party: %d ok, %d failed", ok, failed)
		}
	}
	waitFor(t, 5*time.Second, "the room to close", func() bool { return n.b.Rooms() == 0 })
}

package e2e

import (
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/media"
)

// TestGatewayWithBaresip: a real user agent calls the gateway, hears the
// menu prompt, presses 2 (RFC 4733), and the menu branches. The audio it
// recorded must hold the prompt's samples, not just some packets.
// baresip is a running baresip user agent.
type baresip struct {
	t      *testing.T
	dir    string
	rec    string // where it writes what it heard (-dec.wav) and sent
	ctrl   int
	exited chan struct{}
}

// startBaresip makes baresip dial uri, saying the audio of source (a WAV),
// recording what it hears, with its control port open.
func startBaresip(t *testing.T, uri string, source []int16) *baresip {
	t.Helper()
	return runBaresip(t, "<sip:caller@127.0.0.1>;regint=0;audio_codecs=PCMU", "", source, "-e", "/dial "+uri)
}

// startBaresipPhone runs baresip as extension ext's phone: it registers
// with tandem at addr (digest, password pass), answers every call at once
// and says source.
func startBaresipPhone(t *testing.T, addr, ext, pass string, source []int16) *baresip {
	t.Helper()
	account := fmt.Sprintf("<sip:%s@%s;transport=udp>;auth_pass=%s;regint=600;answermode=auto;audio_codecs=PCMU", ext, addr, pass)
	return runBaresip(t, account, "", source)
}

// runBaresip starts baresip with one account line and extra arguments.
func runBaresip(t *testing.T, account, extraConfig string, source []int16, args ...string) *baresip {
	t.Helper()
	need(t, "baresip")
	b := &baresip{t: t, dir: t.TempDir(), exited: make(chan struct{})}
	b.rec = filepath.Join(b.dir, "rec")
	if err := os.MkdirAll(b.rec, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(b.dir, "says.wav")
	// baresip hangs up when its source ends: pad it well past the call.
	padded := append(append([]int16(nil), source...), make([]int16, 8000*20)...)
	if err := media.WriteWAVFile(src, padded); err != nil {
		t.Fatal(err)
	}
	// Every baresip stays on loopback: net_interface also makes its SDP
	// (and so its RTP) use 127.0.0.1 rather than the first interface's
	// address, and registering needs it (on another interface baresip
	// finds no transport for the loopback registrar: ENOSYS).
	// baresip listens for SIP on UDP and TCP at sip_listen and for TLS at
	// the next port: take three free ports in a row (the third for its
	// control socket), so its TLS bind cannot hit another test's port.
	sipPort := freeRun(t, 3)
	b.ctrl = sipPort + 2
	cfg := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
net_interface 127.0.0.1
audio_source aufile,%s
audio_player aufile,%s
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module sndfile.so
snd_path %s
module_app account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:%d
%s`, sipPort, src, filepath.Join(b.dir, "heard.wav"), b.rec, b.ctrl, extraConfig)
	if err := os.WriteFile(filepath.Join(b.dir, "config"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "accounts"), []byte(account+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(b.dir, "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command("baresip", append([]string{"-f", b.dir, "-t", "60"}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(b.exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-b.exited
	})
	return b
}

func (b *baresip) output() string {
	out, _ := os.ReadFile(filepath.Join(b.dir, "out.txt"))
	return string(out)
}

// freeRun returns the first of n consecutive ports free for UDP and TCP.
func freeRun(t *testing.T, n int) int {
	t.Helper()
	for i := 0; i < 100; i++ {
		p := freePort(t)
		if p+n-1 > 65535 {
			continue
		}
		ok := true
		for j := 1; j < n && ok; j++ {
			ok = portFree(p + j)
		}
		if ok {
			return p
		}
	}
	t.Fatalf("no %d free ports in a row", n)
	return 0
}

func portFree(p int) bool {
	pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		return false
	}
	defer pc.Close()
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// command sends one ctrl_tcp command (a netstring of JSON).
func (b *baresip) command(msg string) {
	b.t.Helper()
	ctrl, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(b.ctrl), 2*time.Second)
	if err != nil {
		b.t.Fatalf("baresip control: %v\n%s", err, b.output())
	}
	defer ctrl.Close()
	if _, err := fmt.Fprintf(ctrl, "%d:%s,", len(msg), msg); err != nil {
		b.t.Fatal(err)
	}
}

// quit stops baresip and waits for it, so its recordings are complete.
func (b *baresip) quit() {
	b.t.Helper()
	b.command(`{"command":"quit"}`)
	select {
	case <-b.exited:
	case <-time.After(10 * time.Second):
		b.t.Fatalf("baresip did not quit\n%s", b.output())
	}
}

// heard returns the audio baresip received.
func (b *baresip) heard() []int16 {
	b.t.Helper()
	files, _ := filepath.Glob(filepath.Join(b.rec, "*-dec.wav"))
	if len(files) == 0 {
		b.t.Fatalf("baresip recorded nothing\n%s", b.output())
	}
	pcm, _, err := media.ReadWAVFile(files[0])
	if err != nil {
		b.t.Fatal(err)
	}
	return pcm
}

// TestGatewayWithBaresip: a real user agent calls the gateway, hears the
// menu prompt, presses 2 (RFC 4733), and the menu branches. The audio it
// recorded must hold the prompt's samples, not just some packets.
func TestGatewayWithBaresip(t *testing.T) {
	n := startGateway(t, "menu.vxml")
	b := startBaresip(t, "sip:5000@"+n.addr, nil)
	waitFor(t, 10*time.Second, "baresip's call to reach the gateway", func() bool { return n.gw.Active() == 1 })
	// The caller listens to the prompt (1.5 s), then presses 2.
	time.Sleep(2500 * time.Millisecond)
	b.command(`{"command":"sndcode","params":"2"}`)
	waitFor(t, 10*time.Second, "the menu to end the call", func() bool { return n.gw.Active() == 0 })
	if got := strings.Join(n.logs(), "|"); !strings.Contains(got, "chose support") {
		t.Fatalf("menu logs %q, want chose support\nbaresip:\n%s", got, b.output())
	}
	b.quit()
	if c := bestCorrelation(b.heard(), toneSamples()[2000:6000]); c < 0.9 {
		t.Fatalf("the prompt's audio was not heard: best correlation %.3f", c)
	}
}

// TestGatewayRecordsWhatTheCallerSays: <record> captures the caller's audio
// and <submit> posts it; what arrives is the caller's own audio.
func TestGatewayRecordsWhatTheCallerSays(t *testing.T) {
	uploaded := make(chan []byte, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /record.vxml", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<?xml version="1.0"?>
<vxml version="2.1" xmlns="http://www.w3.org/2001/vxml">
  <form>
    <record name="msg" maxtime="5s" finalsilence="800ms" type="audio/x-wav">
      <filled><submit next="/upload" method="post" enctype="multipart/form-data" namelist="msg"/></filled>
      <noinput><log>noinput</log><exit/></noinput>
    </record>
  </form>
</vxml>`)
	})
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		f, _, err := r.FormFile("msg")
		if err == nil {
			b, _ := io.ReadAll(f)
			uploaded <- b
		}
		fmt.Fprint(w, `<?xml version="1.0"?><vxml version="2.1" xmlns="http://www.w3.org/2001/vxml"><form><block><log>uploaded</log><exit/></block></form></vxml>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	n := startGatewayURL(t, srv.URL+"/record.vxml")
	// The caller is silent for half a second, then says a tone for 1.5 s.
	says := append(make([]int16, 4000), toneSamples()...)
	b := startBaresip(t, "sip:5000@"+n.addr, says)
	var wav []byte
	select {
	case wav = <-uploaded:
	case <-time.After(15 * time.Second):
		t.Fatalf("no recording was submitted; logs %v\n%s", n.logs(), b.output())
	}
	pcm, _, err := media.DecodeWAV(wav, "upload")
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Duration(len(pcm)) * time.Second / 8000; d < 1500*time.Millisecond || d > 5*time.Second {
		t.Errorf("recording lasts %s", d)
	}
	if c := bestCorrelation(pcm, toneSamples()[2000:6000]); c < 0.9 {
		t.Fatalf("the recording does not hold the caller's audio: correlation %.3f", c)
	}
	waitFor(t, 10*time.Second, "the call to end", func() bool { return n.gw.Active() == 0 })
}

// bestCorrelation slides ref over sig and returns the best normalised
// cross-correlation: 1 when ref's samples appear in sig (up to a gain).
func bestCorrelation(sig, ref []int16) float64 {
	var refE float64
	for _, v := range ref {
		refE += float64(v) * float64(v)
	}
	best := 0.0
	for off := 0; off+len(ref) <= len(sig); off++ {
		var dot, e float64
		for i, v := range ref {
			s := float64(sig[off+i])
			dot += s * float64(v)
			e += s * s
		}
		if e == 0 {
			continue
		}
		if c := dot / math.Sqrt(e*refE); c > best {
			best = c
		}
	}
	return best
}

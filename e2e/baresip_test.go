package e2e

import (
	"fmt"
	"math"
	"net"
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
func TestGatewayWithBaresip(t *testing.T) {
	need(t, "baresip")
	n := startGateway(t, "menu.vxml")
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	if err := os.MkdirAll(rec, 0o755); err != nil {
		t.Fatal(err)
	}
	silence := filepath.Join(dir, "silence.wav")
	if err := media.WriteWAVFile(silence, make([]int16, 8000*20)); err != nil {
		t.Fatal(err)
	}
	sipPort, ctrlPort := freePort(t), freePort(t)
	cfg := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
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
`, sipPort, silence, filepath.Join(dir, "heard.wav"), rec, ctrlPort)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte("<sip:caller@127.0.0.1>;regint=0;audio_codecs=PCMU\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command("baresip", "-f", dir, "-e", "/dial sip:5000@"+n.addr, "-t", "20")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	output := func() string { b, _ := os.ReadFile(filepath.Join(dir, "out.txt")); return string(b) }

	waitFor(t, 10*time.Second, "baresip's call to reach the gateway", func() bool { return n.gw.Active() == 1 })
	// The caller listens to the prompt (1.5 s), then presses 2.
	time.Sleep(2500 * time.Millisecond)
	command := func(msg string) {
		t.Helper()
		ctrl, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(ctrlPort), 2*time.Second)
		if err != nil {
			t.Fatalf("baresip control: %v\n%s", err, output())
		}
		defer ctrl.Close()
		// ctrl_tcp takes netstrings of JSON.
		if _, err := fmt.Fprintf(ctrl, "%d:%s,", len(msg), msg); err != nil {
			t.Fatal(err)
		}
	}
	command(`{"command":"sndcode","params":"2"}`)
	waitFor(t, 10*time.Second, "the menu to end the call", func() bool { return n.gw.Active() == 0 })
	if got := strings.Join(n.logs(), "|"); !strings.Contains(got, "chose support") {
		t.Fatalf("menu logs %q, want chose support\nbaresip:\n%s", got, output())
	}
	// The gateway hung up, so baresip has closed its recording.
	command(`{"command":"quit"}`)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("baresip did not quit\n%s", output())
	}
	files, _ := filepath.Glob(filepath.Join(rec, "*-dec.wav"))
	if len(files) == 0 {
		t.Fatalf("baresip recorded nothing\n%s", output())
	}
	heard, _, err := media.ReadWAVFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if c := bestCorrelation(heard, toneSamples()[2000:6000]); c < 0.9 {
		t.Fatalf("the prompt's audio was not heard: best correlation %.3f", c)
	}
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

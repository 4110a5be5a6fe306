package e2e

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/gateway/demo"
	"github.com/tandem-cc/tandem/internal/media"
)

// TestDemoWithBaresip is the demo as a caller lives it, with two real user
// agents: baresip calls 1000, hears the menu prompt (its samples, checked
// against the shipped rendering), presses 1 (RFC 4733), waits in the sales
// queue hearing the treatment's music (its samples too); agent 1004's
// phone, another baresip registered with the password the README gives,
// answers when 1004 goes ready, and the caller then hears the agent's
// voice (a 700 Hz tone) until it hangs up.
func TestDemoWithBaresip(t *testing.T) {
	need(t, "baresip")
	n := startDemo(t)
	agentSays := sine(700, 40)
	agent := startBaresipPhone(t, n.addr, "1004", "pw1004", agentSays)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("1004 baresip:\n%s", agent.output())
		}
	})
	waitFor(t, 10*time.Second, "1004's phone registered", func() bool {
		if len(n.edge.Bindings("1004")) > 0 {
			return true
		}
		select {
		case <-agent.exited:
			t.Fatalf("1004's baresip exited:\n%s", agent.output())
		default:
		}
		return false
	})

	caller := startBaresip(t, "sip:1000@"+n.addr, nil)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("caller baresip:\n%s", caller.output())
		}
	})
	waitFor(t, 10*time.Second, "the caller at the IVR", func() bool { return n.Gateway.Active() == 1 })
	time.Sleep(3 * time.Second) // the menu prompt, most of it
	caller.command(`{"command":"sndcode","params":"1"}`)
	waitFor(t, 10*time.Second, "the caller waiting in sales", func() bool {
		q, err := n.engine.Stats("sales")
		return err == nil && q.Waiting == 1
	})
	// One round of treatment: the announcement (position 1, a minute or
	// so), then music.
	time.Sleep(9 * time.Second)
	desk := login(t, n, "1004", "pw1004", "1004")
	if code := ctiCall(t, n, "POST", "/v1/agents/1004/state", desk.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("ready: %d", code)
	}
	desk.await(t, cti.EventCallOffered)
	desk.await(t, cti.EventCallAnswered)
	waitFor(t, 10*time.Second, "the caller moved off the VRU", func() bool { return n.Gateway.Active() == 0 })
	time.Sleep(2 * time.Second) // talk
	caller.quit()
	agent.quit()

	heard := caller.heard()
	menu := rendered(t, "Thank you for calling tandem. For sales, press 1. For support, press 2.")
	if c := bestCorrelation(heard, menu[8000:12000]); c < 0.9 {
		t.Errorf("the menu prompt was not heard: best correlation %.3f", c)
	}
	music, _, err := media.ReadWAVFile(filepath.Join("..", "internal", "gateway", "demo", "music.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if c := bestCorrelation(heard, music[8000:12000]); c < 0.9 {
		t.Errorf("the queue music was not heard: best correlation %.3f", c)
	}
	tail := heard[max(0, len(heard)-8000):] // the last second: the agent
	if l := toneLevel(tail, 700); l < heardLevel {
		t.Errorf("the agent's voice was not heard at the end: 700 Hz level %.0f", l)
	}
}

// rendered is the shipped rendering of a demo text.
func rendered(t *testing.T, text string) []int16 {
	t.Helper()
	if !demo.Shipped(text) {
		t.Fatalf("no shipped rendering of %q", text)
	}
	pcm, _, err := media.ReadWAVFile(filepath.Join("..", "internal", "gateway", "demo", "tts", media.TTSName(demo.Voice, text)+".wav"))
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

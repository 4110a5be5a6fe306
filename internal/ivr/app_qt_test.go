package ivr

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/config/field"
	"github.com/tandem-cc/tandem/internal/vxml"
)

func TestAnnouncement(t *testing.T) {
	var a Announcements
	a.setDefaults()
	tests := []struct {
		pos  int
		wait time.Duration
		want []string
	}{
		{1, 0, []string{a.CallerNumber, "1", a.ShortWait}},
		{3, 59 * time.Second, []string{a.CallerNumber, "3", a.ShortWait}},
		{3, time.Minute, []string{a.CallerNumber, "3", a.WaitAbout, "1", a.Minute}},
		{20, 89 * time.Second, []string{a.CallerNumber, "20", a.WaitAbout, "1", a.Minute}},
		{21, 90 * time.Second, []string{a.ManyAhead, a.WaitAbout, "2", a.Minutes}},
		{2, 20 * time.Minute, []string{a.CallerNumber, "2", a.WaitAbout, "20", a.Minutes}},
		{2, 20*time.Minute + time.Second, []string{a.CallerNumber, "2", a.LongWait}},
		{0, 5 * time.Minute, []string{a.WaitAbout, "5", a.Minutes}}, // no position known
	}
	for _, tc := range tests {
		if got := announcement(a, figures{tc.pos, tc.wait}); !slices.Equal(got, tc.want) {
			t.Errorf("announcement(%d, %v) = %q, want %q", tc.pos, tc.wait, got, tc.want)
		}
	}
}

// TestAnnouncementTextsCoverAll: every text an announcement can speak is
// in AnnouncementTexts, so a gateway without TTS has them all rendered.
func TestAnnouncementTextsCoverAll(t *testing.T) {
	cfg := Config{Announce: Announcements{CallerNumber: "Vous êtes l'appelant numéro"}}
	all := AnnouncementTexts(cfg)
	a := cfg.Announce
	a.setDefaults()
	for pos := 0; pos <= 30; pos++ {
		for wait := time.Duration(0); wait <= 30*time.Minute; wait += 10 * time.Second {
			for _, text := range announcement(a, figures{pos, wait}) {
				if !slices.Contains(all, text) {
					t.Fatalf("announcement(%d, %v) speaks %q, not in AnnouncementTexts %q", pos, wait, text, all)
				}
			}
		}
	}
	if !slices.Contains(all, "Vous êtes l'appelant numéro") || slices.Contains(all, "You are caller number") {
		t.Errorf("AnnouncementTexts ignores the configured phrase: %q", all)
	}
}

func TestQueueTreatment(t *testing.T) {
	qt := func(script string, params map[string]string) Next {
		return Next{Kind: RunScript, Script: script, Params: params}
	}
	tests := []struct {
		name   string
		script string
		params map[string]string
		next   []Next
		queued bool // the router has figures for the call
		inputs []vxml.ScriptedInput
		want   []continued
		heard  []string // prompts heard in this order (a subsequence)
		never  string   // a prompt that must not be heard
		asks   int      // times the service asked for the figures
		music  int      // times the music was asked for
	}{
		{
			name: "announce then music, no key", script: "QT,music/queue", queued: true,
			want:  []continued{{"c1", "", "none", false}},
			heard: []string{"You are caller number", "3", "Your expected wait is about", "2", "minutes"},
			asks:  1, music: 1,
		},
		{
			name: "callback key pressed during the music", script: "QT,music/queue,9", queued: true,
			inputs: []vxml.ScriptedInput{dtmf("9")},
			want:   []continued{{"c1", "9", "none", false}},
			heard:  []string{"You are caller number", "3"},
			asks:   1, music: 1,
		},
		{
			name: "another key only ends the round", script: "QT,music/queue", params: map[string]string{"callback_key": "*"},
			queued: true, inputs: []vxml.ScriptedInput{dtmf("5")},
			want: []continued{{"c1", "", "none", false}},
			asks: 1, music: 1,
		},
		{
			name: "loop announces every second round", script: "QT,music/queue", params: map[string]string{"announce": "2"},
			next:   []Next{qt("QT,music/queue", map[string]string{"announce": "2"}), qt("QT,music/queue", map[string]string{"announce": "2"})},
			queued: true,
			want:   []continued{{"c1", "", "none", false}, {"c1", "", "none", false}, {"c1", "", "none", false}},
			asks:   2, music: 3,
		},
		{
			name: "announce no", script: "QT,music/queue", params: map[string]string{"announce": "no", "tts": "Please hold."},
			queued: true,
			want:   []continued{{"c1", "", "none", false}},
			heard:  []string{"Please hold."}, never: "You are caller number",
			asks: 0, music: 1,
		},
		{
			name: "not queued: music only", script: "QT,music/queue",
			want:  []continued{{"c1", "", "none", false}},
			never: "You are caller number",
			asks:  1, music: 1,
		},
		{
			name: "no music: announcement and silence", script: "QT,-", queued: true,
			want:  []continued{{"c1", "", "none", false}},
			heard: []string{"You are caller number", "3"},
			asks:  1, music: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, Config{}, tc.next...)
			if tc.queued {
				r.queue.set(3, 2*time.Minute)
			}
			if err := r.srv.Expect("c1", tc.script, tc.params); err != nil {
				t.Fatal(err)
			}
			tp, out, audio := r.run(t, "c1", tc.inputs...)
			if out.Reason != "hangup" { // released after the script
				t.Errorf("outcome %v, want hangup", out)
			}
			if got := r.router.results(); !slices.Equal(got, tc.want) {
				t.Errorf("router got %+v, want %+v", got, tc.want)
			}
			if !subsequence(tp.Played, tc.heard) {
				t.Errorf("heard %q, want %q in order, each its own prompt", tp.Played, tc.heard)
			}
			if tc.never != "" && slices.Contains(tp.Played, tc.never) {
				t.Errorf("heard %q, want no %q", tp.Played, tc.never)
			}
			if got := countOf(audio, "http://media.test/en-us/music/queue.wav"); got != tc.music {
				t.Errorf("music asked for %d times, want %d (%q)", got, tc.music, audio)
			}
			r.queue.mu.Lock()
			asks := r.queue.asks
			r.queue.mu.Unlock()
			if asks != tc.asks {
				t.Errorf("figures asked %d times, want %d", asks, tc.asks)
			}
		})
	}
}

func subsequence(have, want []string) bool {
	i := 0
	for _, h := range have {
		if i < len(want) && h == want[i] {
			i++
		}
	}
	return i == len(want)
}

func countOf(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// TestQueueTreatmentShortRoundPauses: a QT round that comes back at once
// (its music missing) is followed by one that waits HoldPause, and the
// next normal-length round waits only for the key again.
func TestQueueTreatmentShortRoundPauses(t *testing.T) {
	next := Next{Kind: RunScript, Script: "QT,music/queue,1"}
	r := newRig(t, Config{HoldPause: field.Duration(7 * time.Second)}, next, next)
	if err := r.srv.Expect("c1", "QT,music/queue,1", nil); err != nil {
		t.Fatal(err)
	}
	first := get(t, r.ts.URL+"/ivr/start?call=c1")
	second := post(t, r.ts.URL+"/ivr/result?call=c1&seq=1", url.Values{"error": {"none"}})
	r.clock.Add(minQTRound)
	third := post(t, r.ts.URL+"/ivr/result?call=c1&seq=2", url.Values{"error": {"none"}})
	for i, tc := range []struct {
		doc, timeout string
	}{{first, "500ms"}, {second, "7s"}, {third, "500ms"}} {
		if want := `<property name="timeout" value="` + tc.timeout + `"/>`; !strings.Contains(tc.doc, want) {
			t.Errorf("round %d: want %s in\n%s", i+1, want, tc.doc)
		}
	}
}

// TestQueueTreatmentInterrupted: the call server moves the caller to an
// agent mid-round (the gateway's session ends); the round's result may
// still arrive, and the router's answer (Leave: it has connected the call)
// only puts the service's view of the call on hold.
func TestQueueTreatmentInterrupted(t *testing.T) {
	r := newRig(t, Config{}, Next{Kind: Leave})
	r.queue.set(1, 30*time.Second)
	if err := r.srv.Expect("c1", "QT,music/queue,9", nil); err != nil {
		t.Fatal(err)
	}
	tp, out, _ := r.run(t, "c1", vxml.ScriptedInput{Kind: vxml.InputHangup})
	if out.Reason != "hangup" {
		t.Errorf("outcome %v, want hangup", out)
	}
	if !slices.Contains(tp.Played, "Your expected wait is less than a minute.") {
		t.Errorf("heard %q, want the short-wait announcement", tp.Played)
	}
	if got := r.router.results(); len(got) != 0 {
		t.Fatalf("router got %+v from a session that ended mid-round", got)
	}
	doc := post(t, r.ts.URL+"/ivr/result?call=c1&seq=1", url.Values{"error": {"none"}})
	if !strings.Contains(doc, "hold?call=c1") {
		t.Errorf("late result answered with\n%s\nwant a hold round", doc)
	}
	again := post(t, r.ts.URL+"/ivr/result?call=c1&seq=1", url.Values{"error": {"none"}})
	if n := len(r.router.results()); n != 1 || !strings.Contains(again, "hold?call=c1") {
		t.Errorf("a repeated late result reached the router (%d results) or moved the call:\n%s", n, again)
	}
}

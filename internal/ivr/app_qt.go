package ivr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// QueueTreatment (QT) is tandem's queue music with announcements of the
// caller's position and expected wait (CVP plays queue music with PM in a
// loop; the figures need the router, which tandem has at hand). The
// service runs it in rounds with the call's figures (Server.pageLocked);
// see the package doc.
const QueueTreatment Kind = "QT"

func init() {
	register(&microApp{
		kind:   QueueTreatment,
		usage:  "QT,<music>[,<callback key>]              params: media callback_key (0-9*# or none) announce (yes, no or every nth round) tts",
		fields: []string{"media", "callback_key"},
		parse: func(a *MicroApp, val func(string) (string, bool), _ map[string]string) error {
			return parseQueueTreatment(a, val)
		},
		document: func(r *renderer, call string, seq uint64, a MicroApp) []byte {
			// Served through pageLocked with its figures; without them here.
			return r.queueTreatment(&qtRound{call: call, seq: seq, app: a, round: 1}, nil)
		},
	})
}

// parseQueueTreatment reads QT's callback key and announce period.
func parseQueueTreatment(a *MicroApp, val func(string) (string, bool)) error {
	a.AnnounceEvery = 1
	if v, ok := val("announce"); ok {
		switch strings.ToUpper(v) {
		case "Y", "YES", "TRUE":
			a.AnnounceEvery = 1
		case "N", "NO", "FALSE":
			a.AnnounceEvery = 0
		default:
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > maxAnnounceEvery {
				return fmt.Errorf("announce %q: want yes, no or every how many rounds (0..%d)", v, maxAnnounceEvery)
			}
			a.AnnounceEvery = n
		}
	}
	if v, ok := val("callback_key"); ok && !strings.EqualFold(v, "none") {
		if len(v) != 1 || !isKey(v[0]) {
			return fmt.Errorf("callback_key %q: want one of 0-9 * # or none", v)
		}
		a.CallbackKey = v
	}
	// The music is interruptible only when a key can interrupt it.
	a.Bargein = a.CallbackKey != ""
	return nil
}

// figures are a queued call's place, as Deps.Queue gives them.
type figures struct {
	pos  int
	wait time.Duration
}

// announcement returns the texts QT speaks for f, each its own prompt (see
// Announcements): the position, then the wait in whole minutes, rounded.
func announcement(a Announcements, f figures) []string {
	var out []string
	switch {
	case f.pos < 1:
	case f.pos <= MaxAnnouncedPosition:
		out = append(out, a.CallerNumber, strconv.Itoa(f.pos))
	default:
		out = append(out, a.ManyAhead)
	}
	mins := int((f.wait + time.Minute/2) / time.Minute)
	switch {
	case f.wait < time.Minute:
		out = append(out, a.ShortWait)
	case f.wait > MaxAnnouncedWait:
		out = append(out, a.LongWait)
	case mins == 1:
		out = append(out, a.WaitAbout, "1", a.Minute)
	default:
		out = append(out, a.WaitAbout, strconv.Itoa(mins), a.Minutes)
	}
	return out
}

// qtKeyWait is how long a QT round listens for the callback key once its
// music has ended: short, because the caller hears silence meanwhile.
const qtKeyWait = 500 * time.Millisecond

// queueTreatment renders one QT round: the announcement (when fig is
// given), the music, then a short listen for the callback key. Its result
// is caller_input = the key (or "") and error=none, so the routing script
// can loop queue → QT → QT... and branch on the key. The call server ends
// the round at any point by moving the caller to an agent (the gateway's
// leg ends mid-document); a result posted after that is answered by the
// router with Queued, which the service holds.
func (r *renderer) queueTreatment(q *qtRound, fig *figures) []byte {
	a := q.app
	var b strings.Builder
	b.WriteString(vxmlHead)
	b.WriteString(`<var name="caller_input" expr="''"/>
<var name="error" expr="'none'"/>
`)
	fmt.Fprintf(&b, `<catch event="error.badfetch"><log label="ivr">call %s: micro-app QT: <value expr="_event"/> <value expr="_message"/></log><exit/></catch>
<catch event="error"><assign name="error" expr="'error'"/>%s</catch>
`, esc(q.call), submit(q.call, q.seq))
	// The field's timeout is the only wait VoiceXML has: short normally, a
	// HoldPause of silence when there is nothing to play or the last
	// round was too short to have played its music.
	wait := qtKeyWait
	if q.pause || (a.Media == "" && a.TTS == "") {
		wait = r.holdPause
	}
	fmt.Fprintf(&b, "<form id=\"qt\">\n<property name=\"timeout\" value=\"%s\"/>\n<field name=\"input\">\n", seconds(wait))
	if a.CallbackKey != "" {
		fmt.Fprintf(&b, `<grammar mode="dtmf" version="1.0" root="key" xmlns="http://www.w3.org/2001/06/grammar"><rule id="key"><item>%s</item></rule></grammar>`+"\n", esc(a.CallbackKey))
	} else {
		// Without a callback key no entry is wanted; a key the caller
		// pressed anyway only ends the round early.
		b.WriteString(`<grammar mode="dtmf" src="builtin:dtmf/digits?length=1"/>` + "\n")
	}
	bargein := strconv.FormatBool(a.Bargein)
	if fig != nil {
		for _, text := range announcement(r.announce, *fig) {
			fmt.Fprintf(&b, "<prompt bargein=%q>%s</prompt>\n", bargein, esc(text))
		}
	}
	switch {
	case a.Media != "":
		fmt.Fprintf(&b, "<prompt bargein=%q><audio src=\"%s\">%s</audio></prompt>\n", bargein, esc(r.mediaURL(a.Media, true)), esc(a.TTS))
	case a.TTS != "":
		fmt.Fprintf(&b, "<prompt bargein=%q>%s</prompt>\n", bargein, esc(a.TTS))
	}
	fmt.Fprintf(&b, "<noinput>%s</noinput>\n<nomatch>%s</nomatch>\n", submit(q.call, q.seq), submit(q.call, q.seq))
	b.WriteString("<filled>")
	if a.CallbackKey != "" {
		b.WriteString(`<assign name="caller_input" expr="String(input)"/>`)
	}
	b.WriteString(submit(q.call, q.seq) + "</filled>\n</field>\n</form>\n</vxml>\n")
	return []byte(b.String())
}

package ivr

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// The documents below are written with a strings.Builder rather than
// encoding/xml structs: they are small and fixed in shape, and every value
// that comes from a routing script goes through esc (text and attributes
// alike), so a prompt like `<&"` cannot change the markup. Values placed in
// ECMAScript expressions are only constants of this file, never script text.

const vxmlHead = `<?xml version="1.0" encoding="UTF-8"?>
<vxml version="2.1" xmlns="http://www.w3.org/2001/vxml">
`

// esc escapes s for XML text or a double-quoted attribute.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // writes to a Builder cannot fail
	return b.String()
}

// seconds renders d as a CSS2 time value for VoiceXML properties.
func seconds(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// renderer holds what every document needs besides the micro-app.
type renderer struct {
	media       *url.URL // base for relative media and grammar names
	noInputText string
	noMatchText string
	holdAudio   string
	holdPause   time.Duration
	announce    Announcements
}

// resultURL is where a micro-app posts its result: relative, so it resolves
// against whatever URL the gateway used for /ivr/start.
func resultURL(call string, seq uint64) string {
	return "result?" + url.Values{CallParam: {call}, "seq": {strconv.FormatUint(seq, 10)}}.Encode()
}

func holdURL(call string, seq uint64) string {
	return "hold?" + url.Values{CallParam: {call}, "seq": {strconv.FormatUint(seq, 10)}}.Encode()
}

// mediaURL resolves a media or grammar name against the media base; CVP
// adds .wav to an audio name without an extension.
func (r *renderer) mediaURL(name string, audio bool) string {
	if audio && path.Ext(name) == "" {
		name += ".wav"
	}
	u, err := url.Parse(name)
	if err != nil || r.media == nil {
		return name // checked by ParseScript; left as given
	}
	return r.media.ResolveReference(u).String()
}

// prompt writes the app's prompt: audio with the TTS text as fallback, or
// the text alone.
func (r *renderer) prompt(b *strings.Builder, a MicroApp) {
	fmt.Fprintf(b, "<prompt bargein=%q>", strconv.FormatBool(a.Bargein))
	if a.Media != "" {
		fmt.Fprintf(b, "<audio src=\"%s\">%s</audio>", esc(r.mediaURL(a.Media, true)), esc(a.TTS))
	} else {
		b.WriteString(esc(a.TTS))
	}
	b.WriteString("</prompt>\n")
}

// submit is the end of every micro-app: its result goes to /ivr/result.
func submit(call string, seq uint64) string {
	return fmt.Sprintf("<submit next=\"%s\" method=\"post\" namelist=\"caller_input error\"/>", esc(resultURL(call, seq)))
}

// Render returns the VoiceXML document running a for call; seq ties the
// result it posts to this micro-app, so a late or repeated post is not
// taken for the next one.
func (r *renderer) Render(call string, seq uint64, a MicroApp) []byte {
	def := microApps[a.Kind]
	if def.document != nil {
		return def.document(r, call, seq, a)
	}
	var b strings.Builder
	b.WriteString(vxmlHead)
	b.WriteString(`<var name="caller_input" expr="''"/>
<var name="error" expr="'none'"/>
`)
	// A fetch that fails (a grammar, or the result post itself) cannot be
	// reported through the same server: log it and leave the session,
	// which ends the VRU leg and lets the call server ask the router.
	// Any other error is the micro-app's failure, reported as error=error.
	fmt.Fprintf(&b, `<catch event="error.badfetch"><log label="ivr">call %s: micro-app %s: <value expr="_event"/> <value expr="_message"/></log><exit/></catch>
<catch event="error"><assign name="error" expr="'error'"/>%s</catch>
`, esc(call), esc(string(a.Kind)), submit(call, seq))
	fmt.Fprintf(&b, "<form id=\"%s\">\n", strings.ToLower(string(a.Kind)))
	def.render(r, &b, call, seq, a)
	b.WriteString("</form>\n</vxml>\n")
	return []byte(b.String())
}

// field writes the input field of a collecting micro-app (GD, M, GS, YN)
// with CVP's retry rules: noinputs and nomatches are counted apart, each
// reprompted Retries times, and the next one ends the app with
// error=noinput or error=nomatch (CVP's "too many invalid entries").
// grammars is the field's grammar elements; filled, the ECMAScript
// expression caller_input takes from the field's input: a constant of the
// micro-app's file, never script text, so it is written as it is.
func (r *renderer) field(b *strings.Builder, call string, seq uint64, a MicroApp, grammars, filled string) {
	fmt.Fprintf(b, "<property name=\"timeout\" value=\"%s\"/>\n", seconds(a.Timeout))
	fmt.Fprintf(b, "<property name=\"interdigittimeout\" value=\"%s\"/>\n", seconds(a.InterDigit))
	fmt.Fprintf(b, "<property name=\"termchar\" value=\"%s\"/>\n", esc(a.Term))
	b.WriteString("<field name=\"input\">\n")
	b.WriteString(grammars)
	r.prompt(b, a)
	for _, ev := range []struct{ name, text string }{{"noinput", r.noInputText}, {"nomatch", r.noMatchText}} {
		if a.Retries > 0 {
			fmt.Fprintf(b, "<%s><prompt>%s</prompt><reprompt/></%s>\n", ev.name, esc(ev.text), ev.name)
		}
		fmt.Fprintf(b, "<%s count=\"%d\"><assign name=\"error\" expr=\"'%s'\"/>%s</%s>\n",
			ev.name, a.Retries+1, ev.name, submit(call, seq), ev.name)
	}
	fmt.Fprintf(b, "<filled><assign name=\"caller_input\" expr=\"%s\"/>%s</filled>\n</field>\n", filled, submit(call, seq))
}

// digitsGrammar is the builtin DTMF digits grammar bounded by a's lengths.
func digitsGrammar(a MicroApp) string {
	return fmt.Sprintf("<grammar mode=\"dtmf\" src=\"builtin:dtmf/digits?minlength=%d;maxlength=%d\"/>\n", a.MinLen, a.MaxLen)
}

// keysGrammar is an SRGS DTMF grammar taking one of keys (one key each).
func keysGrammar(keys string) string {
	var b strings.Builder
	b.WriteString(`<grammar mode="dtmf" version="1.0" root="choice" xmlns="http://www.w3.org/2001/06/grammar"><rule id="choice"><one-of>`)
	for i := 0; i < len(keys); i++ {
		fmt.Fprintf(&b, "<item>%s</item>", esc(keys[i:i+1]))
	}
	b.WriteString("</one-of></rule></grammar>\n")
	return b.String()
}

// inputString is caller_input from a field's input: a speech result may be
// an object (SISR); the router takes strings.
const inputString = "typeof input == 'object' ? JSON.stringify(input) : String(input)"

// hold is one round of the hold loop a caller hears once the router has
// moved on (Leave): the call server is moving the media to an agent, or the
// call waits for the router's next instruction. Each round comes back to
// /ivr/hold, which serves a new micro-app if one is expected by then, and
// ends the loop after Config.HoldRounds so a lost BYE cannot keep a
// gateway port forever.
func (r *renderer) hold(call string, seq uint64) []byte {
	var b strings.Builder
	b.WriteString(vxmlHead)
	b.WriteString("<form id=\"hold\">\n<block>\n<prompt bargein=\"false\">")
	if r.holdAudio != "" {
		fmt.Fprintf(&b, "<audio src=\"%s\"><break time=\"%s\"/></audio>", esc(r.mediaURL(r.holdAudio, true)), seconds(r.holdPause))
	} else {
		fmt.Fprintf(&b, "<break time=\"%s\"/>", seconds(r.holdPause))
	}
	fmt.Fprintf(&b, "</prompt>\n<goto next=\"%s\"/>\n</block>\n</form>\n</vxml>\n", esc(holdURL(call, seq)))
	return []byte(b.String())
}

// end is a document that logs why and ends the session: exit leaves the
// caller to the call server (the gateway hangs its leg up), disconnect
// releases the call.
func end(call, why string, disconnect bool) []byte {
	var b strings.Builder
	b.WriteString(vxmlHead)
	action := "<exit/>"
	if disconnect {
		action = "<disconnect/>"
	}
	fmt.Fprintf(&b, "<form id=\"end\">\n<block><log label=\"ivr\">call %s: %s</log>%s</block>\n</form>\n</vxml>\n",
		esc(call), esc(why), action)
	return []byte(b.String())
}

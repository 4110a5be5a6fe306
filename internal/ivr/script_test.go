package ivr

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseScript(t *testing.T) {
	tests := []struct {
		script string
		params map[string]string
		want   MicroApp
		err    string // substring of the error; "" for success
	}{
		{script: "PM,welcome", want: MicroApp{Kind: PlayMedia, Media: "welcome"}},
		{script: "pm, welcome ,Y", want: MicroApp{Kind: PlayMedia, Media: "welcome", Bargein: true}},
		{script: "PM,-", params: map[string]string{"tts": "Hi"}, want: MicroApp{Kind: PlayMedia, TTS: "Hi"}},
		{script: "PD,number,42", want: MicroApp{Kind: PlayData, DataType: "number", Value: "42"}},
		{script: "PD,date", params: map[string]string{"value": "20250131"}, want: MicroApp{Kind: PlayData, DataType: "date", Value: "20250131"}},
		{script: "GD,account,4,8,*", want: MicroApp{Kind: GetDigits, Media: "account", MinLen: 4, MaxLen: 8, Term: "*"}},
		{script: "GD,account,4,8", params: map[string]string{"max_length": "6", "term": "none", "timeout": "7", "interdigit_timeout": "500ms", "retries": "0"},
			want: MicroApp{Kind: GetDigits, Media: "account", MinLen: 4, MaxLen: 6, Timeout: 7 * time.Second, InterDigit: 500 * time.Millisecond}},
		{script: "M,main,123", want: MicroApp{Kind: Menu, Media: "main", Choices: "123", MinLen: 1, MaxLen: 1}},
		{script: "GS,ask,yesno.grxml", want: MicroApp{Kind: GetSpeech, Media: "ask", Grammar: "yesno.grxml"}},
		{script: "CAP", want: MicroApp{Kind: Capture}},
		{script: "", err: "unknown micro-app"},
		{script: "XX,a", err: "unknown micro-app"},
		{script: "PM", err: "needs media or tts"},
		{script: "PM,a,maybe", err: "bargein"},
		{script: "PM,../etc/passwd", err: `".." not allowed`},
		{script: "PM,file:///etc/passwd", err: "media base"},
		{script: "PD,number,12e3", err: "not a decimal"},
		{script: "PD,date,2025-01-31", err: "YYYYMMDD"},
		{script: "PD,time,2561", err: "HHMM"},
		{script: "PD,color,red", err: "data type"},
		{script: "GD,a,8,4", err: "min_length 8 above max_length 4"},
		{script: "GD,a,0", err: "min_length"},
		{script: "GD,a,1,4,x", err: "term"},
		{script: "GD,a", params: map[string]string{"timeout": "0"}, err: "timeout"},
		{script: "GD,a", params: map[string]string{"retries": "10"}, err: "retries"},
		{script: "QT,music", want: MicroApp{Kind: QueueTreatment, Media: "music", AnnounceEvery: 1}},
		{script: "QT,-,9", params: map[string]string{"announce": "3", "tts": "Hold on."},
			want: MicroApp{Kind: QueueTreatment, TTS: "Hold on.", CallbackKey: "9", Bargein: true, AnnounceEvery: 3}},
		{script: "QT,music,9", params: map[string]string{"callback_key": "none", "announce": "no"},
			want: MicroApp{Kind: QueueTreatment, Media: "music"}},
		{script: "QT,music,99", err: "callback_key"},
		{script: "QT,music", params: map[string]string{"announce": "often"}, err: "announce"},
		{script: "QT,../music", err: `".." not allowed`},
		{script: "EXT,balance", params: map[string]string{"to_ext_vxml": "a=1; b = x=y ;;", "ToExtVXML[1]": "c="},
			want: MicroApp{Kind: External, App: "balance", ToExtVXML: []ExtVar{{"a", "1"}, {"b", " x=y "}, {"c", ""}}}},
		{script: "GS,server,v", params: map[string]string{"to_ext_vxml[0]": "application=balance;x=1"},
			want: MicroApp{Kind: External, App: "balance", ToExtVXML: []ExtVar{{"x", "1"}}}},
		{script: "EXT", err: "needs an application"},
		{script: "EXT,../etc", err: "letters, digits"},
		{script: "EXT,a", params: map[string]string{"to_ext_vxml": "x=1;x=2"}, err: "given twice"},
		{script: "EXT,a", params: map[string]string{"to_ext_vxml": "1x=1"}, err: "name=value"},
		{script: "EXT,a", params: map[string]string{"to_ext_vxml": "novalue"}, err: "name=value"},
		{script: "M,a", err: "needs choices"},
		{script: "M,a,121", err: "distinct"},
	}
	for _, tc := range tests {
		got, err := ParseScript(tc.script, tc.params)
		if tc.err != "" {
			if err == nil || !errors.Is(err, ErrBadScript) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseScript(%q): err %v, want ErrBadScript with %q", tc.script, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseScript(%q): %v", tc.script, err)
			continue
		}
		// Fields the case leaves zero take the parser's defaults.
		w := tc.want
		def, _ := ParseScript("GD,x", nil)
		if w.Kind != Menu {
			if w.MinLen == 0 {
				w.MinLen, w.MaxLen = def.MinLen, def.MaxLen
			}
			if w.Term == "" && tc.params["term"] != "none" {
				w.Term = def.Term
			}
		}
		if w.Timeout == 0 {
			w.Timeout = def.Timeout
		}
		if w.InterDigit == 0 {
			w.InterDigit = def.InterDigit
		}
		if tc.params["retries"] == "" {
			w.Retries = def.Retries
		}
		if w.Kind == GetDigits || w.Kind == Menu || w.Kind == GetSpeech || w.Kind == Capture || w.Kind == External {
			w.Bargein = true
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("ParseScript(%q, %v)\n got %+v\nwant %+v", tc.script, tc.params, got, w)
		}
	}
}

// wellFormed checks doc parses as XML to the end and returns its text.
func wellFormed(doc []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return text.String(), nil
		}
		if err != nil {
			return "", err
		}
		if c, ok := tok.(xml.CharData); ok {
			text.Write(c)
		}
	}
}

func TestRenderEscapes(t *testing.T) {
	r := renderer{media: &url.URL{Scheme: "http", Host: "m", Path: "/"}, noInputText: "<ni>", noMatchText: "&nm"}
	nasty := `</prompt><exit/> <&"'`
	for _, script := range []string{"PM,-", "GD,-", "M,-,1", "GS,-", "PM,a&b", "QT,-,1", "QT,a&b", "EXT,app"} {
		app, err := ParseScript(script, map[string]string{"tts": nasty, "to_ext_vxml": "v=" + nasty})
		if err != nil {
			t.Fatal(err)
		}
		doc := r.Render(`c&"1`, 1, app)
		text, err := wellFormed(doc)
		if err != nil {
			t.Fatalf("%s: not well-formed: %v\n%s", script, err, doc)
		}
		if app.Kind == External {
			// The pair is an attribute value: it must come back whole.
			if !strings.Contains(string(doc), `value="`+esc(nasty)+`"`) {
				t.Errorf("%s: param value lost:\n%s", script, doc)
			}
		} else if !strings.Contains(text, nasty) {
			t.Errorf("%s: text %q lost %q", script, text, nasty)
		}
		if strings.Count(string(doc), "<exit/>") != 1 { // the badfetch catch's only
			t.Errorf("%s: markup injected:\n%s", script, doc)
		}
	}
	for _, doc := range [][]byte{r.hold(`c&"1`, 3), end(`c<1>`, `why & "how"`, true)} {
		if _, err := wellFormed(doc); err != nil {
			t.Errorf("not well-formed: %v\n%s", err, doc)
		}
	}
}

// FuzzParseScript: any run-script string either fails with ErrBadScript or
// renders a well-formed document.
func FuzzParseScript(f *testing.F) {
	for _, s := range []string{"PM,welcome", "PD,currency,USD12.50", "PD,time,1230", "GD,account,4,8,#",
		"M,main,123*#", "GS,ask,builtin:grammar/boolean", "CAP", "PM,a/b.wav,N", "GD,a,1,32,none", "QT,music,9", "QT,-", "EXT,balance", "GS,Server,V"} {
		f.Add(s, `<&"tts`)
	}
	r := renderer{media: &url.URL{Scheme: "http", Host: "m", Path: "/"}, noInputText: "x", noMatchText: "y",
		holdPause: time.Second}
	f.Fuzz(func(t *testing.T, script, tts string) {
		app, err := ParseScript(script, map[string]string{"tts": tts, "to_ext_vxml": "v=" + tts})
		if err != nil {
			if !errors.Is(err, ErrBadScript) {
				t.Fatalf("error without ErrBadScript: %v", err)
			}
			return
		}
		// esc turns characters XML cannot carry into U+FFFD, so every
		// accepted script renders a well-formed document.
		doc := r.Render("c1", 1, app)
		if _, err := wellFormed(doc); err != nil {
			t.Fatalf("%q: %v\n%s", script, err, doc)
		}
	})
}

func TestMicroAppParams(t *testing.T) {
	params := map[string]string{"tts": "node", "to_ext_vxml": "a=1"}
	ecc := map[string]string{"user.microapp.tts": "ecc", "user.microapp.ToExtVXML[0]": "b=2", "user.other": "x", "user.microapp.": "y"}
	got := MicroAppParams(params, ecc)
	want := map[string]string{"tts": "node", "to_ext_vxml": "a=1", "ToExtVXML[0]": "b=2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MicroAppParams = %v, want %v", got, want)
	}
	if params["ToExtVXML[0]"] != "" {
		t.Errorf("MicroAppParams changed the node's params: %v", params)
	}
	app, err := ParseScript("EXT,balance", got)
	if err != nil || !reflect.DeepEqual(app.ToExtVXML, []ExtVar{{"a", "1"}, {"b", "2"}}) {
		t.Errorf("ParseScript of the merged params: %+v, %v", app.ToExtVXML, err)
	}
	if p := MicroAppParams(params, map[string]string{"user.x": "1"}); !reflect.DeepEqual(p, params) {
		t.Errorf("no microapp ECC: %v, want the params as given", p)
	}
}

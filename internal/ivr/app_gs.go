package ivr

import (
	"fmt"
	"strings"
)

// GetSpeech (GS) plays a prompt and collects DTMF digits, and speech when
// a grammar is given.
const GetSpeech Kind = "GS"

func init() {
	register(&microApp{
		kind:   GetSpeech,
		usage:  "GS,<media>[,<grammar>]                   params: media tts grammar (builtin:... or relative to MediaBase)",
		fields: []string{"media", "grammar"},
		alias: func(f []string) (Kind, bool) {
			// CVP's way to reach a VXML Server application: the
			// application is named by ToExtVXML's application=<name>.
			if len(f) > 2 && strings.EqualFold(f[1], "Server") && strings.EqualFold(f[2], "V") {
				return External, true
			}
			return "", false
		},
		parse: func(a *MicroApp, val func(string) (string, bool), _ map[string]string) error {
			a.Grammar, _ = val("grammar")
			return nil
		},
		render: func(r *renderer, b *strings.Builder, call string, seq uint64, a MicroApp) {
			g := digitsGrammar(a)
			if a.Grammar != "" {
				src := a.Grammar
				if !strings.HasPrefix(src, "builtin:") {
					src = r.mediaURL(src, false)
				}
				g += fmt.Sprintf("<grammar mode=\"voice\" src=\"%s\"/>\n", esc(src))
			}
			r.field(b, call, seq, a, g, inputString)
		},
	})
}

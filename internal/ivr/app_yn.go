package ivr

import (
	"fmt"
	"strings"
)

// YesNo (YN) plays a question and takes a yes or a no by DTMF: the caller
// presses the yes key (1 unless told) or the no key (2), and caller_input
// is "yes" or "no", so a routing script branches on words, not keys. A key
// that is neither is a nomatch, reprompted as the collecting micro-apps
// are; too many give error=nomatch.
const YesNo Kind = "YN"

func init() {
	register(&microApp{
		kind:   YesNo,
		usage:  "YN,<media>[,<yes key><no key>]           params: media tts keys (two keys, yes then no; default 12) timeout retries; caller_input yes or no",
		fields: []string{"media", "keys"},
		parse: func(a *MicroApp, val func(string) (string, bool), _ map[string]string) error {
			if a.Media == "" && a.TTS == "" {
				return fmt.Errorf("YN needs media or tts (the question)")
			}
			keys, ok := val("keys")
			if !ok {
				keys = "12"
			}
			if len(keys) != 2 || !distinctKeys(keys) {
				return fmt.Errorf("keys %q: want two distinct keys from 0-9 * #, yes then no", keys)
			}
			// Choices holds the keys, yes first; one key ends the entry.
			a.Choices, a.MinLen, a.MaxLen, a.Term = keys, 1, 1, ""
			return nil
		},
		render: func(r *renderer, b *strings.Builder, call string, seq uint64, a MicroApp) {
			// The grammar's literal tags make the field's value the word.
			g := fmt.Sprintf(`<grammar mode="dtmf" version="1.0" root="yn" tag-format="semantics/1.0-literals" xmlns="http://www.w3.org/2001/06/grammar">`+
				`<rule id="yn"><one-of><item>%s<tag>yes</tag></item><item>%s<tag>no</tag></item></one-of></rule></grammar>`+"\n",
				esc(a.Choices[:1]), esc(a.Choices[1:2]))
			r.field(b, call, seq, a, g, inputString)
		},
	})
}

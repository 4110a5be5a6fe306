package ivr

import (
	"fmt"
	"strings"
)

// PlayMedia (PM) plays a prompt and returns.
const PlayMedia Kind = "PM"

func init() {
	register(&microApp{
		kind:   PlayMedia,
		usage:  "PM,<media>[,<bargein Y|N>]               params: media tts bargein",
		fields: []string{"media", "bargein"},
		prepare: func(_ *MicroApp, pos map[string]string) {
			if pos["bargein"] == "" {
				pos["bargein"] = "N" // CVP plays PM uninterruptible unless told
			}
		},
		parse: func(a *MicroApp, _ func(string) (string, bool), _ map[string]string) error {
			if a.Media == "" && a.TTS == "" {
				return fmt.Errorf("PM needs media or tts")
			}
			return nil
		},
		render: func(r *renderer, b *strings.Builder, call string, seq uint64, a MicroApp) {
			b.WriteString("<block>\n")
			r.prompt(b, a)
			b.WriteString(submit(call, seq) + "\n</block>\n")
		},
	})
}

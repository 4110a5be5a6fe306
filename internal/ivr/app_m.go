package ivr

import (
	"fmt"
	"strings"
)

// Menu (M) plays a prompt and takes one of its choices' keys.
const Menu Kind = "M"

func init() {
	register(&microApp{
		kind:   Menu,
		usage:  "M,<media>,<choices>                      params: media tts choices (\"123*\": one key each)",
		fields: []string{"media", "choices"},
		parse: func(a *MicroApp, val func(string) (string, bool), _ map[string]string) error {
			a.Choices, _ = val("choices")
			if a.Choices == "" {
				return fmt.Errorf("a menu (M) needs choices (the valid keys, e.g. 123)")
			}
			if !distinctKeys(a.Choices) {
				return fmt.Errorf("choices %q: want distinct keys from 0-9 * #", a.Choices)
			}
			a.MinLen, a.MaxLen, a.Term = 1, 1, ""
			return nil
		},
		render: func(r *renderer, b *strings.Builder, call string, seq uint64, a MicroApp) {
			r.field(b, call, seq, a, keysGrammar(a.Choices), inputString)
		},
	})
}

// distinctKeys says whether keys are DTMF keys, none twice.
func distinctKeys(keys string) bool {
	for i := 0; i < len(keys); i++ {
		if !isKey(keys[i]) || strings.IndexByte(keys[:i], keys[i]) >= 0 {
			return false
		}
	}
	return true
}

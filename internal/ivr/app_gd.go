package ivr

import "strings"

// GetDigits (GD) plays a prompt and collects an entry of digits.
const GetDigits Kind = "GD"

func init() {
	register(&microApp{
		kind:   GetDigits,
		usage:  "GD,<media>[,<min>[,<max>[,<term>]]]      params: media tts min_length max_length term (0-9*# or none)",
		fields: []string{"media", "min_length", "max_length", "term"},
		render: func(r *renderer, b *strings.Builder, call string, seq uint64, a MicroApp) {
			r.field(b, call, seq, a, digitsGrammar(a), inputString)
		},
	})
}

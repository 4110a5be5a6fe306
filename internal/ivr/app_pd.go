package ivr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PlayData (PD) speaks a value as a number, digits, a date...
const PlayData Kind = "PD"

func init() {
	register(&microApp{
		kind:   PlayData,
		usage:  "PD,<type>,<value>                        params: data_type value\n    type: number ordinal digits char currency (USD12.50) date (YYYYMMDD) time (HHMM[SS]), spoken with say-as",
		fields: []string{"data_type", "value"},
		prepare: func(a *MicroApp, _ map[string]string) {
			a.Bargein = false
		},
		parse: func(a *MicroApp, val func(string) (string, bool), _ map[string]string) error {
			a.DataType, _ = val("data_type")
			a.DataType = strings.ToLower(a.DataType)
			a.Value, _ = val("value")
			return checkData(a.DataType, a.Value)
		},
		render: func(_ *renderer, b *strings.Builder, call string, seq uint64, a MicroApp) {
			b.WriteString("<block>\n")
			fmt.Fprintf(b, "<prompt bargein=%q><say-as interpret-as=%q>%s</say-as></prompt>\n",
				strconv.FormatBool(a.Bargein), dataTypes[a.DataType], esc(a.Value))
			b.WriteString(submit(call, seq) + "\n</block>\n")
		},
	})
}

// dataTypes maps PD's data type to the SSML say-as interpret-as value.
var dataTypes = map[string]string{
	"number":   "cardinal",
	"ordinal":  "ordinal",
	"digits":   "digits",
	"char":     "characters",
	"currency": "currency",
	"date":     "date",
	"time":     "time",
}

// checkData validates PD's value for its type, so a script error shows at
// Expect rather than as odd speech.
func checkData(typ, v string) error {
	if _, ok := dataTypes[typ]; !ok {
		return fmt.Errorf("PD data type %q: want number, ordinal, digits, char, currency, date or time", typ)
	}
	if v == "" {
		return fmt.Errorf("PD %s: empty value", typ)
	}
	all := func(ok func(c byte) bool) bool {
		for i := 0; i < len(v); i++ {
			if !ok(v[i]) {
				return false
			}
		}
		return true
	}
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	switch typ {
	case "number", "currency":
		num := strings.TrimPrefix(v, "-")
		if typ == "currency" && len(v) > 3 && upper(v[0]) && upper(v[1]) && upper(v[2]) {
			num = v[3:] // an ISO currency code may lead: "USD12.50"
		}
		if _, err := strconv.ParseFloat(num, 64); err != nil || strings.ContainsAny(num, "eEinfINFxX+-") {
			return fmt.Errorf("PD %s %q: not a decimal number", typ, v)
		}
	case "ordinal":
		if !all(digit) {
			return fmt.Errorf("PD ordinal %q: want digits", v)
		}
	case "digits":
		if !all(digit) {
			return fmt.Errorf("PD digits %q: want digits", v)
		}
	case "date":
		if _, err := time.Parse("20060102", v); err != nil {
			return fmt.Errorf("PD date %q: want YYYYMMDD", v)
		}
	case "time":
		if _, err := time.Parse("150405", v); err != nil {
			if _, err := time.Parse("1504", v); err != nil {
				return fmt.Errorf("PD time %q: want HHMM or HHMMSS", v)
			}
		}
	}
	return nil
}

func upper(c byte) bool { return c >= 'A' && c <= 'Z' }

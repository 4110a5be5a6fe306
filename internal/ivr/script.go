package ivr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind names a CVP micro-app.
type Kind string

// The micro-apps, named as CVP names them in a run-script string.
const (
	PlayMedia Kind = "PM"
	PlayData  Kind = "PD"
	GetDigits Kind = "GD"
	Menu      Kind = "M"
	GetSpeech Kind = "GS"
	Capture   Kind = "CAP"
	// QueueTreatment is tandem's queue music with announcements of the
	// caller's position and expected wait (CVP plays queue music with PM in
	// a loop; the figures need the router, which tandem has at hand).
	QueueTreatment Kind = "QT"
	// External hands the call to an external VoiceXML application (CVP's
	// VXML Server application, reached with "GS,Server,V" and ToExtVXML).
	External Kind = "EXT"
)

// MicroApp is a parsed run-script request: one micro-app and its settings.
// It is plain data; Render turns it into a VoiceXML document.
type MicroApp struct {
	Kind Kind
	// Media is the prompt's audio: a file name relative to Config.MediaBase
	// (".wav" added when it has no extension, as CVP does) or an absolute
	// http(s) URL; "" when the prompt is TTS only.
	Media string
	// TTS is spoken when there is no Media, or when Media cannot be fetched
	// (the <audio> element's fallback content).
	TTS string
	// Bargein lets caller input interrupt the prompt (collecting apps only
	// listen once it ends when false).
	Bargein bool
	// DataType and Value are PD's: what to say and how (SSML say-as).
	DataType, Value string
	// MinLen, MaxLen and Term bound GD's (and GS's DTMF) entry; Term is ""
	// when no terminator key is used.
	MinLen, MaxLen int
	Term           string
	// Timeout is the silence before a noinput; InterDigit the gap between
	// keys that ends an entry.
	Timeout, InterDigit time.Duration
	// Retries is how many noinputs (and, counted apart, nomatches) are
	// reprompted before the app gives up with error=noinput or nomatch.
	Retries int
	// Choices are M's valid keys, one character each ("123*").
	Choices string
	// Grammar is GS's speech grammar: builtin:... or a URI relative to
	// Config.MediaBase; "" for DTMF only.
	Grammar string
	// CallbackKey is QT's key ("" for none) that ends the treatment with
	// caller_input set to it (the courtesy callback offer).
	CallbackKey string
	// AnnounceEvery is QT's announcement period in rounds: 1 announces
	// position and wait every round, n every nth, 0 never.
	AnnounceEvery int
	// App is EXT's application: a folder of Config.AppsDir.
	App string
	// ToExtVXML are the name=value pairs EXT hands to the application, in
	// order, as the variables of its first form.
	ToExtVXML []ExtVar
}

// ExtVar is one name=value pair handed to an external VoiceXML application.
type ExtVar struct{ Name, Value string }

// Defaults of the collecting micro-apps, CVP's own defaults where it has one.
const (
	defaultTimeout    = 5 * time.Second
	defaultInterDigit = 3 * time.Second
	defaultRetries    = 2
	defaultMaxLen     = 32 // longest entry a caller is asked for (a card number)
	maxTimeout        = 60 * time.Second
	maxRetries        = 9
	// maxAnnounceEvery bounds QT's announce period: a period longer than
	// this is "never" in practice and more likely a typo.
	maxAnnounceEvery = 100
	// maxExtVars caps the pairs handed to (and taken back from) an external
	// application: CVP has five ToExtVXML strings of a few pairs each.
	maxExtVars = 32
)

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

// ParseScript parses a run-script string ("GD,account,4,8") and the
// instruction's Params into a MicroApp. The string's comma-separated fields
// after the name are positional (see the package doc); a Param of the same
// meaning overrides a field, as CVP's user.microapp ECC variables override
// the VRU script configuration.
func ParseScript(script string, params map[string]string) (MicroApp, error) {
	fields := strings.Split(strings.TrimSpace(script), ",")
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	field := func(i int) string {
		if i < len(fields) {
			return fields[i]
		}
		return ""
	}
	a := MicroApp{Kind: Kind(strings.ToUpper(fields[0])), Bargein: true, Timeout: defaultTimeout,
		InterDigit: defaultInterDigit, Retries: defaultRetries, MinLen: 1, MaxLen: defaultMaxLen, Term: "#"}
	bad := func(format string, args ...any) (MicroApp, error) {
		return MicroApp{}, fmt.Errorf("%w %q: %s", ErrBadScript, script, fmt.Sprintf(format, args...))
	}
	// pos holds the positional fields by param name, so one loop below
	// applies both sources with params winning.
	pos := map[string]string{}
	switch a.Kind {
	case PlayMedia:
		pos["media"], pos["bargein"] = field(1), field(2)
		if pos["bargein"] == "" {
			pos["bargein"] = "N" // CVP plays PM uninterruptible unless told
		}
	case PlayData:
		pos["data_type"], pos["value"] = field(1), field(2)
		a.Bargein = false
	case GetDigits:
		pos["media"], pos["min_length"], pos["max_length"], pos["term"] = field(1), field(2), field(3), field(4)
	case Menu:
		pos["media"], pos["choices"] = field(1), field(2)
	case GetSpeech:
		if strings.EqualFold(field(1), "Server") && strings.EqualFold(field(2), "V") {
			// CVP's way to reach a VXML Server application: the
			// application is named by ToExtVXML's application=<name>.
			a.Kind = External
			break
		}
		pos["media"], pos["grammar"] = field(1), field(2)
	case QueueTreatment:
		pos["media"], pos["callback_key"] = field(1), field(2)
	case External:
		pos["app"] = field(1)
	case Capture:
	default:
		return bad("unknown micro-app %q (want PM, PD, GD, M, GS, CAP, QT or EXT)", fields[0])
	}
	val := func(k string) (string, bool) {
		if v, ok := params[k]; ok {
			return v, true
		}
		v, ok := pos[k]
		return v, ok && v != ""
	}
	if v, ok := val("media"); ok && v != "-" {
		a.Media = v
	}
	if v, ok := val("tts"); ok {
		a.TTS = v
	}
	if v, ok := val("bargein"); ok {
		switch strings.ToUpper(v) {
		case "Y", "YES", "TRUE", "1":
			a.Bargein = true
		case "N", "NO", "FALSE", "0":
			a.Bargein = false
		default:
			return bad("bargein %q: want Y or N", v)
		}
	}
	for _, n := range []struct {
		key string
		dst *int
		lo  int
		hi  int
	}{{"min_length", &a.MinLen, 1, defaultMaxLen}, {"max_length", &a.MaxLen, 1, defaultMaxLen}, {"retries", &a.Retries, 0, maxRetries}} {
		v, ok := val(n.key)
		if !ok {
			continue
		}
		i, err := strconv.Atoi(v)
		if err != nil || i < n.lo || i > n.hi {
			return bad("%s %q: want %d..%d", n.key, v, n.lo, n.hi)
		}
		*n.dst = i
	}
	if a.MinLen > a.MaxLen {
		return bad("min_length %d above max_length %d", a.MinLen, a.MaxLen)
	}
	for _, d := range []struct {
		key string
		dst *time.Duration
	}{{"timeout", &a.Timeout}, {"interdigit_timeout", &a.InterDigit}} {
		v, ok := val(d.key)
		if !ok {
			continue
		}
		t, err := parseSeconds(v)
		if err != nil {
			return bad("%s %q: %v", d.key, v, err)
		}
		*d.dst = t
	}
	if v, ok := val("term"); ok {
		switch {
		case strings.EqualFold(v, "none"):
			a.Term = ""
		case len(v) == 1 && isKey(v[0]):
			a.Term = v
		default:
			return bad("term %q: want one of 0-9 * # or none", v)
		}
	}
	switch a.Kind {
	case PlayMedia:
		if a.Media == "" && a.TTS == "" {
			return bad("PM needs media or tts")
		}
	case PlayData:
		a.DataType, _ = val("data_type")
		a.DataType = strings.ToLower(a.DataType)
		a.Value, _ = val("value")
		if err := checkData(a.DataType, a.Value); err != nil {
			return bad("%v", err)
		}
	case Menu:
		a.Choices, _ = val("choices")
		if a.Choices == "" {
			return bad("M needs choices (the valid keys, e.g. 123)")
		}
		for i := 0; i < len(a.Choices); i++ {
			if !isKey(a.Choices[i]) || strings.IndexByte(a.Choices[:i], a.Choices[i]) >= 0 {
				return bad("choices %q: want distinct keys from 0-9 * #", a.Choices)
			}
		}
		a.MinLen, a.MaxLen, a.Term = 1, 1, ""
	case GetSpeech:
		a.Grammar, _ = val("grammar")
	case QueueTreatment:
		if err := parseQueueTreatment(&a, val); err != nil {
			return bad("%v", err)
		}
	case External:
		vars, err := parseToExtVXML(params)
		if err != nil {
			return bad("%v", err)
		}
		if a.App, _ = val("app"); a.App == "" {
			// CVP names the application among the pairs.
			kept := vars[:0]
			for _, v := range vars {
				if v.Name == "application" {
					a.App = v.Value
				} else {
					kept = append(kept, v)
				}
			}
			vars = kept
		}
		if err := checkAppName(a.App); err != nil {
			return bad("%v", err)
		}
		a.ToExtVXML = vars
	}
	if err := checkMedia(a.Media); err != nil {
		return bad("%v", err)
	}
	return a, nil
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

// parseToExtVXML reads EXT's pairs from params to_ext_vxml and CVP's
// ToExtVXML[0..4] (names matched without case or underscores), each
// "name=value;name2=value2", in that order.
func parseToExtVXML(params map[string]string) ([]ExtVar, error) {
	var srcs []string
	for _, key := range []string{"toextvxml", "toextvxml[0]", "toextvxml[1]", "toextvxml[2]", "toextvxml[3]", "toextvxml[4]"} {
		for k, v := range params {
			if strings.EqualFold(strings.ReplaceAll(k, "_", ""), key) {
				srcs = append(srcs, v)
			}
		}
	}
	var vars []ExtVar
	seen := map[string]bool{}
	for _, src := range srcs {
		for _, pair := range strings.Split(src, ";") {
			if strings.TrimSpace(pair) == "" {
				continue
			}
			name, value, ok := strings.Cut(pair, "=")
			name = strings.TrimSpace(name)
			if !ok || !isIdent(name) {
				return nil, fmt.Errorf("to_ext_vxml pair %q: want name=value with a name of letters, digits and _", pair)
			}
			if seen[name] {
				return nil, fmt.Errorf("to_ext_vxml: %q given twice", name)
			}
			seen[name] = true
			vars = append(vars, ExtVar{Name: name, Value: value})
		}
	}
	if len(vars) > maxExtVars {
		return nil, fmt.Errorf("to_ext_vxml: %d pairs, at most %d", len(vars), maxExtVars)
	}
	return vars, nil
}

// isIdent says whether s can name an ECMAScript variable (ASCII only, and
// not $, which VoiceXML keeps for shadow variables).
func isIdent(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// checkAppName keeps an external application's name to one plain folder
// name of Config.AppsDir: it becomes a URL path segment and a directory.
func checkAppName(app string) error {
	if app == "" {
		return fmt.Errorf("EXT needs an application (EXT,<app> or to_ext_vxml application=<app>)")
	}
	if len(app) > 64 {
		return fmt.Errorf("application %q: longer than 64 bytes", app)
	}
	for i := 0; i < len(app); i++ {
		c := app[i]
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return fmt.Errorf("application %q: want letters, digits, - and _ only", app)
		}
	}
	return nil
}

// parseSeconds reads a timeout as whole seconds ("5", as CVP's ECC
// variables give it) or a Go duration ("500ms").
func parseSeconds(v string) (time.Duration, error) {
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil {
		d = time.Duration(n) * time.Second
	} else if d, err = time.ParseDuration(v); err != nil {
		return 0, fmt.Errorf("want seconds or a duration")
	}
	if d <= 0 || d > maxTimeout {
		return 0, fmt.Errorf("want more than 0 and at most %v", maxTimeout)
	}
	return d, nil
}

func upper(c byte) bool { return c >= 'A' && c <= 'Z' }

func isKey(c byte) bool { return c >= '0' && c <= '9' || c == '*' || c == '#' }

// checkMedia refuses media names that would climb out of the media base or
// name another scheme: the name comes from a routing script, the URL is
// fetched by the gateway.
func checkMedia(m string) error {
	if m == "" {
		return nil
	}
	if strings.HasPrefix(m, "http://") || strings.HasPrefix(m, "https://") {
		return nil
	}
	if strings.Contains(m, ":") || strings.HasPrefix(m, "/") || strings.Contains(m, "\\") {
		return fmt.Errorf("media %q: want a name under the media base or an http(s) URL", m)
	}
	for _, part := range strings.Split(m, "/") {
		if part == ".." {
			return fmt.Errorf("media %q: \"..\" not allowed", m)
		}
	}
	return nil
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

// eccPrefix names the ECC variables that carry micro-app settings in CVP.
const eccPrefix = "user.microapp."

// MicroAppParams returns the params a micro-app runs with: the call's ECC
// variables named user.microapp.<name> (CVP's way for a routing script to
// set a micro-app's values at run time, e.g. user.microapp.ToExtVXML[0] =
// "account=" + pv1) as <name>, under the run_vru_script node's own params,
// which win: they are the more specific statement, and an ECC value set
// for an earlier node stays on the call. It returns params itself when no
// ECC variable applies.
func MicroAppParams(params, ecc map[string]string) map[string]string {
	var out map[string]string
	for k, v := range ecc {
		name, ok := strings.CutPrefix(k, eccPrefix)
		if !ok || name == "" {
			continue
		}
		if _, set := params[name]; set {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(params)+len(ecc))
			for pk, pv := range params {
				out[pk] = pv
			}
		}
		out[name] = v
	}
	if out == nil {
		return params
	}
	return out
}

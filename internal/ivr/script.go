package ivr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind names a CVP micro-app.
type Kind string

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

// ParseScript parses a run-script string ("GD,account,4,8") and the
// instruction's Params into a MicroApp. The string's comma-separated fields
// after the name are positional (each micro-app's file names them); a
// Param of the same meaning overrides a field, as CVP's user.microapp ECC
// variables override the VRU script configuration. The settings every
// micro-app shares are read here; the rest by the micro-app's own parse.
func ParseScript(script string, params map[string]string) (MicroApp, error) {
	fields := strings.Split(strings.TrimSpace(script), ",")
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	bad := func(format string, args ...any) (MicroApp, error) {
		return MicroApp{}, fmt.Errorf("%w %q: %s", ErrBadScript, script, fmt.Sprintf(format, args...))
	}
	def, ok := microApps[Kind(strings.ToUpper(fields[0]))]
	if !ok {
		return bad("unknown micro-app %q (want %s)", fields[0], kindList())
	}
	// pos holds the positional fields by param name, so one loop below
	// applies both sources with params winning.
	pos := map[string]string{}
	if to, ok := def.alias(fields); ok {
		// Another micro-app written another way (GS,Server,V is EXT):
		// its positional fields mean nothing to the target.
		def = microApps[to]
	} else {
		for i, name := range def.fields {
			if i+1 < len(fields) {
				pos[name] = fields[i+1]
			}
		}
	}
	a := MicroApp{Kind: def.kind, Bargein: true, Timeout: defaultTimeout,
		InterDigit: defaultInterDigit, Retries: defaultRetries, MinLen: 1, MaxLen: defaultMaxLen, Term: "#"}
	if def.prepare != nil {
		def.prepare(&a, pos)
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
		b, err := yesNo("bargein", v)
		if err != nil {
			return bad("%v", err)
		}
		a.Bargein = b
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
	if def.parse != nil {
		if err := def.parse(&a, val, params); err != nil {
			return bad("%v", err)
		}
	}
	if err := checkMedia(a.Media); err != nil {
		return bad("%v", err)
	}
	return a, nil
}

// yesNo reads a Y/N setting.
func yesNo(key, v string) (bool, error) {
	switch strings.ToUpper(v) {
	case "Y", "YES", "TRUE", "1":
		return true, nil
	case "N", "NO", "FALSE", "0":
		return false, nil
	}
	return false, fmt.Errorf("%s %q: want Y or N", key, v)
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

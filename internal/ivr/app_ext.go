package ivr

import (
	"fmt"
	"strings"
)

// External (EXT) hands the call to an external VoiceXML application (CVP's
// VXML Server application, reached with "GS,Server,V" and ToExtVXML); the
// applications are served by apps.go.
const External Kind = "EXT"

func init() {
	register(&microApp{
		kind:   External,
		usage:  "EXT,<app>                                params: to_ext_vxml ToExtVXML[0..4] (\"name=value;name2=value2\")\nGS,Server,V                              EXT as CVP writes it: the app is to_ext_vxml's application=<app>",
		fields: []string{"app"},
		parse: func(a *MicroApp, val func(string) (string, bool), params map[string]string) error {
			vars, err := parseToExtVXML(params)
			if err != nil {
				return err
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
				return err
			}
			a.ToExtVXML = vars
			return nil
		},
		render: func(r *renderer, b *strings.Builder, call string, seq uint64, a MicroApp) {
			r.external(b, call, seq, a)
		},
	})
}

// external writes EXT's form: the subdialog into the application, its
// params, and the post of what it returned.
func (r *renderer) external(b *strings.Builder, call string, seq uint64, a MicroApp) {
	post := fmt.Sprintf("<submit next=\"%s\" method=\"post\" namelist=\"caller_input error from_ext_vxml\"/>", esc(resultURL(call, seq)))
	fmt.Fprintf(b, "<var name=\"from_ext_vxml\" expr=\"''\"/>\n<subdialog name=\"app\" src=\"%s\">\n", esc(appURL(a.App)))
	for _, v := range a.ToExtVXML {
		// value, not expr: the pair is data, never ECMAScript.
		fmt.Fprintf(b, "<param name=\"%s\" value=\"%s\"/>\n", esc(v.Name), esc(v.Value))
	}
	// Caught here, at the subdialog, a fetch of the entry document that
	// fails (or an application returning with an event) is the micro-app's
	// error, not the end of the session.
	fmt.Fprintf(b, `<catch event="error"><log label="ivr">call %s: external application %s: <value expr="_event"/> <value expr="_message"/></log><assign name="error" expr="'error'"/>%s</catch>`+"\n",
		esc(call), esc(a.App), post)
	b.WriteString(`<filled><assign name="from_ext_vxml" expr="JSON.stringify(app)"/>` +
		`<if cond="typeof app.caller_input != 'undefined' &amp;&amp; app.caller_input != null"><assign name="caller_input" expr="String(app.caller_input)"/></if>` +
		post + "</filled>\n</subdialog>\n")
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

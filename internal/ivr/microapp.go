package ivr

import (
	"fmt"
	"slices"
	"strings"
)

// A micro-app is one file of this package (app_<name>.go): its Kind, the
// names of its run-script string's positional fields, what it checks and
// keeps of its settings, and how it renders as VoiceXML, registered in
// microApps by an init. ParseScript reads the settings every micro-app
// shares (media, tts, bargein, lengths, timeouts, retries, term) and hands
// the rest to the micro-app; Render writes the document's frame (result
// variables, error catches, the form) around what the micro-app writes.
// Adding a micro-app is adding such a file and its test.
type microApp struct {
	kind Kind
	// usage is the micro-app's line of the run-script reference: its
	// string, its params and what it does.
	usage string
	// fields name the positional fields after the micro-app's name, in
	// order, as the params they stand for.
	fields []string
	// alias, when set, says the string is another micro-app written
	// another way (CVP's GS,Server,V is EXT); its fields are then ignored.
	alias func(fields []string) (Kind, bool)
	// prepare sets the micro-app's own defaults before the settings are
	// read; pos holds the positional fields by param name.
	prepare func(a *MicroApp, pos map[string]string)
	// parse reads and checks the micro-app's own settings; val gives a
	// setting from params, else from the positional fields.
	parse func(a *MicroApp, val func(string) (string, bool), params map[string]string) error
	// render writes the body of the micro-app's form.
	render func(r *renderer, b *strings.Builder, call string, seq uint64, a MicroApp)
	// document, when set, renders the whole document instead (QT's rounds
	// carry figures the frame knows nothing of).
	document func(r *renderer, call string, seq uint64, a MicroApp) []byte
}

// microApps are the micro-apps by Kind, filled by each app file's init.
var microApps = map[Kind]*microApp{}

func register(m *microApp) {
	if _, dup := microApps[m.kind]; dup {
		panic("ivr: micro-app " + string(m.kind) + " registered twice")
	}
	if m.alias == nil {
		m.alias = func([]string) (Kind, bool) { return "", false }
	}
	microApps[m.kind] = m
}

// kindList names the micro-apps for an error message: "PM, PD or QT".
func kindList() string {
	names := make([]string, 0, len(microApps))
	for k := range microApps {
		names = append(names, string(k))
	}
	slices.Sort(names)
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Usage returns the run-script reference, one line per micro-app in name
// order, as each micro-app's file states it.
func Usage() string {
	var b strings.Builder
	kinds := make([]string, 0, len(microApps))
	for k := range microApps {
		kinds = append(kinds, string(k))
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		fmt.Fprintf(&b, "%s\n", microApps[Kind(k)].usage)
	}
	return b.String()
}

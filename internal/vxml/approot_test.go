package vxml

import (
	"testing"
)

// leafDoc is a leaf document of the application root root.vxml.
func leafDoc(body string) string {
	return `<?xml version="1.0"?><vxml version="2.1" xmlns="http://www.w3.org/2001/vxml" application="root.vxml">` + body + `</vxml>`
}

// TestApplicationRootTransitions walks the transitions of VoiceXML 2.0 spec
// 1.5.2 (and W3C IR assertions 72-75, 25, 26): the application root's
// variables carry on while the caller stays in the application, and are
// initialised again on a submit to the root, a root-to-root transition and a
// change of application.
func TestApplicationRootTransitions(t *testing.T) {
	const root = `<var name="rv" expr="7"/>`
	show := `<form><block>rv <value expr="rv"/>.</block></form>`
	tests := []struct {
		name   string
		docs   map[string]string
		played string
	}{
		{
			name: "leaf to leaf of the same root keeps the root's variables",
			docs: map[string]string{
				"root.vxml":  vx(root),
				"main.vxml":  leafDoc(`<form><block><assign name="rv" expr="8"/><goto next="leaf2.vxml"/></block></form>`),
				"leaf2.vxml": leafDoc(show),
			},
			played: "rv 8.",
		},
		{
			name: "leaf to leaf of the same root by submit keeps them too",
			docs: map[string]string{
				"root.vxml":  vx(root),
				"main.vxml":  leafDoc(`<form><block><assign name="rv" expr="8"/><submit next="leaf2.vxml" namelist="rv"/></block></form>`),
				"leaf2.vxml": leafDoc(show),
			},
			played: "rv 8.",
		},
		{
			name: "leaf to its root by goto keeps them (a73)",
			docs: map[string]string{
				"root.vxml": vx(root + show),
				"main.vxml": leafDoc(`<form><block><assign name="rv" expr="8"/><goto next="root.vxml"/></block></form>`),
			},
			played: "rv 8.",
		},
		{
			name: "leaf to its root by submit initialises the root again (a74)",
			docs: map[string]string{
				"root.vxml": vx(root + show),
				"main.vxml": leafDoc(`<form><block><assign name="rv" expr="8"/><submit next="root.vxml"/></block></form>`),
			},
			played: "rv 7.",
		},
		{
			name: "root to itself initialises it again (a75)",
			docs: map[string]string{
				"main.vxml": vx(root + `<form><block><assign name="rv" expr="8"/><goto next="main.vxml#check"/></block></form>
					<form id="check"><block>rv <value expr="rv"/>.</block></form>`),
			},
			played: "rv 7.",
		},
		{
			name: "root reached from a leaf, then to itself, initialises it again",
			docs: map[string]string{
				"root.vxml": vx(root + `<form id="show"><block>rv <value expr="rv"/>.
					<if cond="rv == 8"><assign name="rv" expr="9"/><goto next="root.vxml#show"/></if></block></form>`),
				"main.vxml": leafDoc(`<form><block><assign name="rv" expr="8"/><goto next="root.vxml#show"/></block></form>`),
			},
			played: "rv 8.|rv 7.",
		},
		{
			name: "leaf to root and back to a leaf keeps the root's variables",
			docs: map[string]string{
				"root.vxml":  vx(root + `<form id="back"><block><assign name="rv" expr="rv + 1"/><goto next="leaf2.vxml"/></block></form>`),
				"main.vxml":  leafDoc(`<form><block><assign name="rv" expr="8"/><goto next="root.vxml#back"/></block></form>`),
				"leaf2.vxml": leafDoc(show),
			},
			played: "rv 9.",
		},
		{
			name: "root to its leaf keeps the root's variables as application's",
			docs: map[string]string{
				"main.vxml": vx(`<var name="rv" expr="7"/><form><block><assign name="rv" expr="8"/><goto next="leaf.vxml"/></block></form>`),
				"leaf.vxml": `<vxml version="2.1" application="main.vxml"><form><block>rv <value expr="application.rv"/>.</block></form></vxml>`,
			},
			played: "rv 8.",
		},
		{
			name: "leaf of another application sees a new root (a26)",
			docs: map[string]string{
				"root.vxml":  vx(root),
				"root2.vxml": vx(`<var name="other" expr="1"/>`),
				"main.vxml":  leafDoc(`<form><block><assign name="rv" expr="8"/><goto next="leaf2.vxml"/></block></form>`),
				"leaf2.vxml": `<vxml version="2.1" application="root2.vxml"><form><block><value expr="typeof application.rv"/> <value expr="application.other"/>.</block></form></vxml>`,
			},
			played: "undefined 1.",
		},
		{
			name: "document without a root has an empty application scope",
			docs: map[string]string{
				"root.vxml":  vx(root),
				"main.vxml":  leafDoc(`<form><block><assign name="rv" expr="8"/><goto next="plain.vxml"/></block></form>`),
				"plain.vxml": vx(`<form><block><value expr="typeof application.rv"/>.</block></form>`),
			},
			played: "undefined.",
		},
		{
			name: "leaving the application and coming back initialises the root (a25/a26)",
			docs: map[string]string{
				"root.vxml":  vx(root),
				"main.vxml":  leafDoc(`<form><block><assign name="rv" expr="8"/><goto next="plain.vxml"/></block></form>`),
				"plain.vxml": vx(`<form><block><goto next="leaf2.vxml"/></block></form>`),
				"leaf2.vxml": leafDoc(show),
			},
			played: "rv 7.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runDocs(t, tt.docs)
			if r.err != nil || r.out.Reason != "end" {
				t.Fatalf("outcome %v, %v", r.out, r.err)
			}
			if r.played != tt.played {
				t.Errorf("played %q, want %q", r.played, tt.played)
			}
		})
	}
}

// TestExit checks <exit> (spec 5.3.9): with neither expr nor namelist the
// session ends with no value and no event is thrown; expr and namelist give
// the value; both at once make the document invalid, so the document that
// asked for it catches error.badfetch (W3C IR 545).
func TestExit(t *testing.T) {
	tests := []struct {
		name   string
		docs   map[string]string
		reason string
		value  any
		played string
	}{
		{
			name:   "neither expr nor namelist",
			docs:   map[string]string{"main.vxml": vx(`<catch>caught <value expr="_event"/>.</catch><form><block>A.<exit/>B.</block><block>C.</block></form>`)},
			reason: "exit",
			played: "A.",
		},
		{
			name:   "expr",
			docs:   map[string]string{"main.vxml": vx(`<form><block><exit expr="'0'"/></block></form>`)},
			reason: "exit",
			value:  "0",
		},
		{
			name:   "namelist",
			docs:   map[string]string{"main.vxml": vx(`<var name="a" expr="3"/><form><block><exit namelist="a"/></block></form>`)},
			reason: "exit",
			value:  map[string]any{"a": int64(3)},
		},
		{
			name: "both is an invalid document caught by the caller",
			docs: map[string]string{
				"main.vxml": vx(`<catch event="error.badfetch">bad <value expr="_message.indexOf('at most one') &gt;= 0"/>.<exit/></catch>
					<form><block><goto next="bad.vxml"/></block></form>`),
				"bad.vxml": vx(`<form><block><exit expr="'0'" namelist="x"/></block></form>`),
			},
			reason: "exit",
			played: "bad true.",
		},
		{
			name:   "exit in a subdialog ends the whole session",
			docs:   map[string]string{"main.vxml": vx(`<form><subdialog name="s" src="sub.vxml"/><block>after.</block></form>`), "sub.vxml": vx(`<form><block>in sub.<exit/></block></form>`)},
			reason: "exit",
			played: "in sub.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runDocs(t, tt.docs)
			if r.err != nil || r.out.Reason != tt.reason {
				t.Fatalf("outcome %v, %v; want %s", r.out, r.err, tt.reason)
			}
			if r.played != tt.played {
				t.Errorf("played %q, want %q", r.played, tt.played)
			}
			if !equalValue(r.out.Value, tt.value) {
				t.Errorf("value %#v, want %#v", r.out.Value, tt.value)
			}
		})
	}
}

func equalValue(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok != bok {
		return false
	}
	if !aok {
		return a == b
	}
	if len(am) != len(bm) {
		return false
	}
	for k, v := range am {
		if bm[k] != v {
			return false
		}
	}
	return true
}

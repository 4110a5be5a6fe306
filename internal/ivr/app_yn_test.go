package ivr

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tandem-cc/tandem/internal/vxml"
)

// TestYesNo runs YN through the real VoiceXML interpreter: the key is
// turned into the word by the grammar, other keys are nomatches.
func TestYesNo(t *testing.T) {
	tests := []struct {
		name   string
		script string
		params map[string]string
		inputs []vxml.ScriptedInput
		want   continued
		heard  string
	}{
		{name: "yes", script: "YN,-", params: map[string]string{"tts": "Is this about your last order?"},
			inputs: []vxml.ScriptedInput{dtmf("1")}, want: continued{"c1", "yes", "none", false}, heard: "Is this about your last order?"},
		{name: "no", script: "YN,-", params: map[string]string{"tts": "Q?"},
			inputs: []vxml.ScriptedInput{dtmf("2")}, want: continued{"c1", "no", "none", false}},
		{name: "keys from the string", script: "YN,-,*#", params: map[string]string{"tts": "Q?"},
			inputs: []vxml.ScriptedInput{dtmf("#")}, want: continued{"c1", "no", "none", false}},
		{name: "keys param wins", script: "YN,-,*#", params: map[string]string{"tts": "Q?", "keys": "90"},
			inputs: []vxml.ScriptedInput{dtmf("9")}, want: continued{"c1", "yes", "none", false}},
		{name: "other key reprompted then yes", script: "YN,-", params: map[string]string{"tts": "Q?"},
			inputs: []vxml.ScriptedInput{dtmf("5"), dtmf("1")}, want: continued{"c1", "yes", "none", false},
			heard: "Sorry, that is not a valid entry."},
		{name: "too many invalid", script: "YN,-", params: map[string]string{"tts": "Q?", "retries": "1"},
			inputs: []vxml.ScriptedInput{dtmf("5"), dtmf("7")}, want: continued{"c1", "", "nomatch", true}},
		{name: "silence", script: "YN,-", params: map[string]string{"tts": "Q?", "retries": "0"},
			inputs: []vxml.ScriptedInput{silence}, want: continued{"c1", "", "noinput", true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, Config{})
			if err := r.srv.Expect("c1", tc.script, tc.params); err != nil {
				t.Fatal(err)
			}
			tp, _, _ := r.run(t, "c1", tc.inputs...)
			if got := r.router.results(); !slices.Equal(got, []continued{tc.want}) {
				t.Errorf("router got %+v, want %+v", got, tc.want)
			}
			if heard := strings.Join(tp.Played, "\n"); !strings.Contains(heard, tc.heard) {
				t.Errorf("%q not heard in %q", tc.heard, heard)
			}
		})
	}
}

func TestYesNoParse(t *testing.T) {
	for _, tc := range []struct {
		script string
		params map[string]string
		err    string
	}{
		{"YN", nil, "needs media or tts"},
		{"YN,q,1", nil, "want two distinct keys"},
		{"YN,q,11", nil, "want two distinct keys"},
		{"YN,q,1a", nil, "want two distinct keys"},
		{"YN,q", map[string]string{"keys": "123"}, "want two distinct keys"},
	} {
		if _, err := ParseScript(tc.script, tc.params); !errors.Is(err, ErrBadScript) || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseScript(%q, %v): %v, want ErrBadScript with %q", tc.script, tc.params, err, tc.err)
		}
	}
	a, err := ParseScript("yn,question,*#", nil)
	if err != nil || a.Kind != YesNo || a.Choices != "*#" || a.Media != "question" || a.MaxLen != 1 || a.Term != "" {
		t.Errorf("ParseScript(yn,question,*#) = %+v, %v", a, err)
	}
	if !strings.Contains(Usage(), "YN,<media>") {
		t.Errorf("Usage has no YN line:\n%s", Usage())
	}
}

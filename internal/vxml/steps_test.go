package vxml

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestOnStep: each visit of a field or record reaches Config.OnStep with
// its input and outcome: silence, a key no grammar takes, a match; a
// recording; then the caller hangs up on the last field. Blocks are not
// steps.
func TestOnStep(t *testing.T) {
	docs := memFetcher{"main.vxml": vx(`<form id="menu">
		<block>Welcome</block>
		<field name="choice"><grammar mode="dtmf" root="r" version="1.0" xmlns="http://www.w3.org/2001/06/grammar">
			<rule id="r"><one-of><item>1</item><item>2</item></one-of></rule></grammar>
			<prompt>Press 1 or 2</prompt></field>
		<record name="msg" maxtime="5s"><prompt>Speak</prompt></record>
		<field name="acct" type="digits"><prompt>Account?</prompt></field>
	</form>`)}
	var steps []string
	s, err := NewSession(Config{Platform: &TextPlatform{Inputs: []ScriptedInput{silence, dtmf("7"), dtmf("2"), say("hello"),
		{Kind: InputHangup}}}, Fetcher: docs, Session: SessionInfo{CallID: "c1"},
		OnStep: func(st Step) {
			steps = append(steps, fmt.Sprintf("%s#%s %s %s %q %s", st.Document[strings.LastIndex(st.Document, "/")+1:], st.Form,
				st.Element, st.Item, st.Input, st.Outcome))
		}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Run(context.Background(), "http://app.test/main.vxml")
	if err != nil || out.Reason != "hangup" {
		t.Fatalf("outcome %v, %v; want hangup", out, err)
	}
	want := []string{
		`main.vxml#menu field choice "" noinput`,
		`main.vxml#menu field choice "7" nomatch`,
		`main.vxml#menu field choice "2" filled`,
		`main.vxml#menu record msg "1000ms" filled`,
		`main.vxml#menu field acct "" hangup`,
	}
	if got := strings.Join(steps, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("steps:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

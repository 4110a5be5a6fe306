package vxml

import (
	"context"
	"strings"
	"testing"

	"github.com/tandem-cc/tandem/internal/asr"
)

// recognizerPlatform answers every collection with a recogniser's n-best
// list and keeps the speech grammars it was given.
type recognizerPlatform struct {
	TextPlatform
	heard    []Input
	grammars [][]asr.Grammar
}

func (r *recognizerPlatform) Collect(ctx context.Context, p []PromptItem, req InputRequest) (Input, error) {
	_ = r.Play(ctx, p)
	r.grammars = append(r.grammars, req.Grammars)
	if len(r.heard) == 0 {
		return Input{Kind: InputNoInput}, nil
	}
	in := r.heard[0]
	r.heard = r.heard[1:]
	return in, nil
}

// TestSpeechHook: the speech grammars reach the platform in a recogniser's
// form (SRGS, ABNF and a builtin); a recogniser's alternatives fill
// lastresult$ in order with their confidences, the first that matches
// being the result; a confidence below confidencelevel stays the
// platform's to refuse.
func TestSpeechHook(t *testing.T) {
	docs := memFetcher{"main.vxml": vx(`<form>
		<property name="maxnbest" value="3"/>
		<field name="dept">
			<grammar mode="voice" root="d" version="1.0" xmlns="http://www.w3.org/2001/06/grammar">
				<rule id="d"><item repeat="0-1">the</item><one-of><item>sales</item><item>customer support</item></one-of></rule>
			</grammar>
			<grammar mode="voice" type="application/srgs">#ABNF 1.0; root $a; $a = agent | operator;</grammar>
			<prompt>Which department?</prompt>
		</field>
		<field name="n" type="number"><prompt>How many?</prompt></field>
		<block>dept <value expr="dept"/> n <value expr="n"/>
			c <value expr="application.lastresult$.confidence"/>
			alts <value expr="application.lastresult$.length"/></block></form>`)}
	p := &recognizerPlatform{heard: []Input{
		{Kind: InputVoice, Value: "banana", Confidence: 0.9, Alternatives: []Input{
			{Kind: InputVoice, Value: "the sales", Confidence: 0.7},
			{Kind: InputVoice, Value: "agent", Confidence: 0.2}}},
		{Kind: InputVoice, Value: "one hundred twenty three", Confidence: 0.8},
	}}
	s, _ := NewSession(Config{Platform: p, Fetcher: docs})
	out, err := s.Run(context.Background(), "http://app.test/main.vxml")
	if err != nil || out.Reason != "end" {
		t.Fatalf("%v %v", out, err)
	}
	if got := p.Played[len(p.Played)-1]; got != "dept the sales n 123 c 0.8 alts 1" {
		t.Errorf("played %q", got)
	}
	if len(p.grammars) != 2 || len(p.grammars[0]) != 2 || len(p.grammars[1]) != 1 {
		t.Fatalf("speech grammars given: %+v", p.grammars)
	}
	j, _, err := asr.JSGF(p.grammars[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"sales", "(customer) (support)", "[((the))]", "agent", "operator"} {
		if !strings.Contains(j, w) {
			t.Errorf("compiled grammar lacks %q:\n%s", w, j)
		}
	}
}

func TestSpeechNBest(t *testing.T) {
	docs := memFetcher{"main.vxml": vx(`<form>
		<field name="yn" type="boolean"><prompt>Sure?</prompt></field>
		<block><value expr="application.lastresult$[0].utterance"/> <value expr="application.lastresult$[1].utterance"/>
			<value expr="application.lastresult$[1].confidence"/></block></form>`)}
	p := &recognizerPlatform{heard: []Input{{Kind: InputVoice, Value: "yes", Confidence: 0.6,
		Alternatives: []Input{{Kind: InputVoice, Value: "no", Confidence: 0.3}}}}}
	s, _ := NewSession(Config{Platform: p, Fetcher: docs})
	if out, err := s.Run(context.Background(), "http://app.test/main.vxml"); err != nil || out.Reason != "end" {
		t.Fatalf("%v %v", out, err)
	}
	if got := p.Played[len(p.Played)-1]; got != "yes no 0.3" {
		t.Errorf("played %q", got)
	}
}

package vxml

import (
	"context"
	"strings"
	"testing"
)

// keyPlatform models how a media platform collects DTMF: keys arrive one at a
// time from the RTP/RFC 4733 detector, and collection ends when the grammars
// say the input is complete, on the termchar, or when keys run out (the
// interdigit timeout). It shows the contract of InputRequest.DTMFState.
type keyPlatform struct {
	TextPlatform
	keys string // what the caller types, in order, across all collections
}

func (k *keyPlatform) Collect(ctx context.Context, p []PromptItem, req InputRequest) (Input, error) {
	_ = k.Play(ctx, p)
	var got strings.Builder
	for k.keys != "" {
		key := k.keys[:1]
		k.keys = k.keys[1:]
		if key == req.TermChar {
			break
		}
		got.WriteString(key)
		st := req.DTMFState(got.String())
		if st == DTMFComplete || st == DTMFNoMatch {
			break // complete, or hopeless: no point waiting for more keys
		}
	}
	if got.Len() == 0 {
		return Input{Kind: InputNoInput}, nil
	}
	return Input{Kind: InputDTMF, Value: got.String(), Confidence: 1}, nil
}

func TestMediaStyleDTMFCollection(t *testing.T) {
	docs := memFetcher{"main.vxml": vx(`<form>
		<field name="pin" type="digits?length=4"><prompt>PIN?</prompt></field>
		<field name="amount" type="digits?maxlength=6"><prompt>Amount?</prompt></field>
		<block>PIN <value expr="pin"/> amount <value expr="amount"/>.</block></form>`)}
	// The caller types the PIN and the amount without pauses: the PIN field
	// must stop after four keys, leaving the rest for the amount, which
	// ends on #.
	p := &keyPlatform{keys: "1234" + "250#"}
	s, _ := NewSession(Config{Platform: p, Fetcher: docs})
	out, err := s.Run(context.Background(), "http://app.test/main.vxml")
	if err != nil || out.Reason != "end" {
		t.Fatalf("%v %v", out, err)
	}
	if got := strings.Join(p.Played, "|"); got != "PIN?|Amount?|PIN 1234 amount 250." {
		t.Errorf("played %q", got)
	}
}

package router

import (
	"reflect"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/contract"
)

func TestCallInstruction(t *testing.T) {
	tests := []struct {
		name string
		in   Instruction
		want contract.Instruction
	}{
		{"offer", Instruction{Kind: Connect, Labels: []string{"1001"}, Agent: "alice"}, contract.Instruction{Labels: []string{"1001"}, Agent: "alice"}},
		{"server group", Instruction{Kind: Connect, Labels: []string{"2000", "2001"}}, contract.Instruction{Labels: []string{"2000", "2001"}}},
		// CVP joins the network VRU label and the correlation id.
		{"vru", Instruction{Kind: RunScript, Labels: []string{"7777"}, CorrelationID: "0042", VRUScript: "M,menu"}, contract.Instruction{Labels: []string{"77770042"}}},
		{"vru without label", Instruction{Kind: RunScript, VRUScript: "PM,music"}, contract.Instruction{Queued: true}},
		{"queued", Instruction{Kind: Queued}, contract.Instruction{Queued: true}},
		{"release", Instruction{Kind: Release, RejectCode: 486, RejectReason: "Busy"}, contract.Instruction{RejectCode: 486, RejectReason: "Busy"}},
	}
	for _, tt := range tests {
		if got := CallInstruction(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: CallInstruction = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestOfferRingsLessThanTheRoutersRONA(t *testing.T) {
	cfg, err := ParseConfig([]byte("ring_no_answer: 8s\n"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	k := NewCalls(e, nil)
	got := k.Carry("c1", Instruction{Kind: Connect, Labels: []string{"1001"}, Agent: "alice"})
	if got.RingFor != 7*time.Second {
		t.Fatalf("offer rings %s, want 7s (under the router's 8s)", got.RingFor)
	}
	if other := k.Carry("c1", Instruction{Kind: Connect, Labels: []string{"2000"}}); other.RingFor != 0 {
		t.Fatalf("a non-offer got a ring limit: %s", other.RingFor)
	}
	// A reload's ring_no_answer is the next offer's, with nothing to sync.
	cfg.RingNoAnswer = Duration(20 * time.Second)
	if err := e.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	if got := k.Carry("c1", Instruction{Kind: Connect, Labels: []string{"1001"}, Agent: "alice"}); got.RingFor != 19*time.Second {
		t.Fatalf("after reload an offer rings %s, want 19s", got.RingFor)
	}
}

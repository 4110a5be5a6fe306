package node

import (
	"reflect"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/callserver"
	"github.com/tandem-cc/tandem/internal/router"
)

func TestConvert(t *testing.T) {
	tests := []struct {
		name string
		in   router.Instruction
		want callserver.Instruction
	}{
		{"offer", router.Instruction{Kind: router.Connect, Labels: []string{"1001"}, Agent: "alice"}, callserver.Instruction{Labels: []string{"1001"}, Agent: "alice"}},
		{"server group", router.Instruction{Kind: router.Connect, Labels: []string{"2000", "2001"}}, callserver.Instruction{Labels: []string{"2000", "2001"}}},
		// CVP joins the network VRU label and the correlation id.
		{"vru", router.Instruction{Kind: router.RunScript, Labels: []string{"7777"}, CorrelationID: "0042", VRUScript: "M,menu"}, callserver.Instruction{Labels: []string{"77770042"}}},
		{"vru without label", router.Instruction{Kind: router.RunScript, VRUScript: "PM,music"}, callserver.Instruction{Queued: true}},
		{"queued", router.Instruction{Kind: router.Queued}, callserver.Instruction{Queued: true}},
		{"release", router.Instruction{Kind: router.Release, RejectCode: 486, RejectReason: "Busy"}, callserver.Instruction{RejectCode: 486, RejectReason: "Busy"}},
	}
	for _, tt := range tests {
		if got := Convert(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Convert = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestOfferRingsLessThanTheRoutersRONA(t *testing.T) {
	e, b, err := NewRouterFrom([]byte("ring_no_answer: 8s\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = e
	got := b.instruction(router.Instruction{Kind: router.Connect, Labels: []string{"1001"}, Agent: "alice"})
	if got.RingFor != 7*time.Second {
		t.Fatalf("offer rings %s, want 7s (under the router's 8s)", got.RingFor)
	}
	if other := b.instruction(router.Instruction{Kind: router.Connect, Labels: []string{"2000"}}); other.RingFor != 0 {
		t.Fatalf("a non-offer got a ring limit: %s", other.RingFor)
	}
}

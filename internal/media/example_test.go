package media_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/tandem-cc/tandem/internal/media"
)

// A SIP UAS answers an INVITE's offer with a Session, then plays and listens.
// Here the caller is a second Session on loopback.
func Example() {
	lo := netip.MustParseAddr("127.0.0.1")
	gw, _ := media.NewSession(media.SessionConfig{LocalIP: lo})
	defer gw.Close()
	caller, _ := media.NewSession(media.SessionConfig{LocalIP: lo})
	defer caller.Close()

	offer, _ := caller.Offer(media.SendRecv) // the INVITE's SDP
	answer, err := gw.Answer(offer)          // the 200 OK's SDP
	if err != nil {
		fmt.Println("488:", err)
		return
	}
	caller.SetAnswer(answer)
	r := gw.Remote()
	fmt.Println("codec", r.Codec.Name(), "telephone-event", r.EventPT)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	gw.Start(ctx)
	caller.Start(ctx)
	gw.Play(ctx, media.PlayOptions{}, media.Tone("welcome", 100*time.Millisecond, 4000, 440))
	caller.SendDTMF(ctx, '5', 80*time.Millisecond)
	select {
	case ev := <-gw.Events():
		fmt.Println("caller pressed", string(rune(ev.Digit)), "via", ev.Source)
	case <-ctx.Done():
		fmt.Println("no key")
	}
	// Output:
	// codec PCMU telephone-event 101
	// caller pressed 5 via rfc4733
}

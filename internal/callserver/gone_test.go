package callserver

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestDialogGone: which outcomes of an in-dialog request mean the peer no
// longer has the dialog (RFC 3261 §12.2.1.2), and which say nothing about
// it because tandem itself stopped waiting.
func TestDialogGone(t *testing.T) {
	live := context.Background()
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	res := func(code int) *sip.Response {
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", Host: "127.0.0.1"})
		return sip.NewResponseFromRequest(req, code, "", nil)
	}
	for _, tc := range []struct {
		name   string
		parent context.Context
		res    *sip.Response
		err    error
		want   bool
	}{
		{"481", live, res(481), nil, true},
		{"408", live, res(408), nil, true},
		{"200", live, res(200), nil, false},
		{"488: the peer is there, it refused", live, res(488), nil, false},
		{"491: glare, the peer is there", live, res(491), nil, false},
		{"Timer B", live, nil, fmt.Errorf("INVITE: %w", sip.ErrTransactionTimeout), true},
		{"transport error", live, nil, fmt.Errorf("INVITE: %w", sip.ErrTransactionTransport), true},
		{"no final response", live, nil, fmt.Errorf("INVITE: %w", errNoFinal), true},
		{"our 64*T1 wait ran out", live, nil, context.DeadlineExceeded, true},
		{"the call or the CTI request ended", stopped, nil, context.Canceled, false},
		{"a timeout after tandem stopped waiting", stopped, nil, sip.ErrTransactionTimeout, false},
		{"some other error", live, nil, errors.New("build failed"), false},
	} {
		if got := dialogGone(tc.parent, tc.res, tc.err); got != tc.want {
			t.Errorf("%s: dialogGone = %v, want %v", tc.name, got, tc.want)
		}
	}
}

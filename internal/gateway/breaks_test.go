package gateway

import (
	"testing"
	"time"
)

func TestBreaks(t *testing.T) {
	for _, tc := range []struct {
		ssml string
		want time.Duration
	}{
		{`<speak><break time="5s"/></speak>`, 5 * time.Second},
		{`<speak><break time='250ms'/> <break strength="strong"/></speak>`, 1250 * time.Millisecond},
		{`<speak><break/></speak>`, 500 * time.Millisecond},
		{`<speak><break strength="none"/></speak>`, 0},
		{`<speak><break time="10h"/></speak>`, maxBreak},
		{`<speak><break time="bogus"/></speak>`, 500 * time.Millisecond},
		{`<speak>hello</speak>`, 0},
		{``, 0},
	} {
		if got := breaks(tc.ssml); got != tc.want {
			t.Errorf("breaks(%q) = %v, want %v", tc.ssml, got, tc.want)
		}
	}
}

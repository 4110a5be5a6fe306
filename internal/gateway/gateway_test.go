package gateway

import (
	"testing"

	"github.com/tandem-cc/tandem/internal/event"
)

func TestExpandURL(t *testing.T) {
	tests := []struct{ in, call, dnis, want string }{
		{"file:///apps/menu.vxml", "c1", "5000", "file:///apps/menu.vxml"},
		{"http://127.0.0.1:8081/ivr/start?call={call}", "18eb", "77770001", "http://127.0.0.1:8081/ivr/start?call=18eb"},
		{"http://h/app?n={dnis}&c={call}", "a b&c", "7+1", "http://h/app?n=7%2B1&c=a+b%26c"},
	}
	for _, tt := range tests {
		if got := expandURL(tt.in, event.CallID(tt.call), tt.dnis); got != tt.want {
			t.Errorf("expandURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

package conference

import (
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/config/field"
)

func TestParseRoom(t *testing.T) {
	for _, tc := range []struct {
		user string
		want RoomID
		ok   bool
	}{
		{"conf-42", "42", true},
		{"conf-sales.team_1-b", "sales.team_1-b", true},
		{"conf-", "", false},
		{"42", "", false},
		{"Conf-42", "", false},
		{"conf-a b", "", false},
		{"conf-a;b", "", false},
		{"conf-" + string(make([]byte, 65)), "", false},
	} {
		got, ok := ParseRoom(tc.user)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRoom(%q) = %q, %v; want %q, %v", tc.user, got, ok, tc.want, tc.ok)
		}
	}
	if u := RoomURI("127.0.0.1:5092", "42"); u != "sip:conf-42@127.0.0.1:5092" {
		t.Errorf("RoomURI = %s", u)
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{Listen: "127.0.0.1:0", MediaIP: "127.0.0.1", MaxRooms: 1, MaxParties: 2, RTPTimeout: field.Duration(time.Second)}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"listen", func(c *Config) { c.Listen = "nowhere" }},
		{"media_ip", func(c *Config) { c.MediaIP = "localhost" }},
		{"max_rooms", func(c *Config) { c.MaxRooms = 0 }},
		{"max_parties", func(c *Config) { c.MaxParties = 1 }},
	} {
		c := good
		tc.edit(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: no error", tc.name)
		} else if _, err2 := New(c, Deps{}); err2 == nil {
			t.Errorf("%s: New accepted it", tc.name)
		}
	}
}

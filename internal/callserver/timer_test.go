package callserver

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func TestParseSessionExpires(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    sessionExpires
		wantErr bool
	}{
		{in: "1800", want: sessionExpires{Delta: 1800 * time.Second}},
		{in: " 90 ;refresher=uac", want: sessionExpires{Delta: 90 * time.Second, Refresher: "uac"}},
		{in: "4000;Refresher=UAS;foo=bar", want: sessionExpires{Delta: 4000 * time.Second, Refresher: "uas"}},
		{in: "300;x-vendor", want: sessionExpires{Delta: 300 * time.Second}},
		{in: "", wantErr: true},
		{in: "abc", wantErr: true},
		{in: "-5", wantErr: true},
		{in: "1.5", wantErr: true},
		{in: "90;refresher=both", wantErr: true},
		{in: "90;;refresher=uac", wantErr: true},
		{in: "99999999999", wantErr: true},
		{in: "86401", wantErr: true}, // more than a day
	} {
		got, err := parseSessionExpires(tc.in)
		if tc.wantErr {
			if err == nil || !errors.Is(err, errBadSessionHeader) {
				t.Errorf("%q: got %+v, %v; want an errBadSessionHeader", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestNegotiateUAS(t *testing.T) {
	p := timerPolicy{Interval: 1800 * time.Second, MinSE: 90 * time.Second}
	se := func(d int, ref string) *sessionExpires {
		return &sessionExpires{Delta: time.Duration(d) * time.Second, Refresher: ref}
	}
	for _, tc := range []struct {
		name string
		o    timerOffer
		want uasTimer
	}{
		{name: "below our Min-SE: 422", o: timerOffer{SE: se(60, ""), Supported: true}, want: uasTimer{Reject: true}},
		{name: "below our Min-SE without support: 422 too", o: timerOffer{SE: se(30, "uac")}, want: uasTimer{Reject: true}},
		{name: "exactly our Min-SE", o: timerOffer{SE: se(90, "uac"), Supported: true},
			want: uasTimer{Interval: 90 * time.Second, Header: "90;refresher=uac", Require: true}},
		{name: "caller refreshes as asked", o: timerOffer{SE: se(600, "uac"), Supported: true},
			want: uasTimer{Interval: 600 * time.Second, Header: "600;refresher=uac", Require: true}},
		{name: "caller asks us to refresh", o: timerOffer{SE: se(600, "uas"), Supported: true},
			want: uasTimer{Interval: 600 * time.Second, WeRefresh: true, Header: "600;refresher=uas"}},
		{name: "no refresher named, caller supports: the caller refreshes", o: timerOffer{SE: se(1200, ""), Supported: true},
			want: uasTimer{Interval: 1200 * time.Second, Header: "1200;refresher=uac", Require: true}},
		{name: "longer than ours: lowered to ours", o: timerOffer{SE: se(7200, "uac"), Supported: true},
			want: uasTimer{Interval: 1800 * time.Second, Header: "1800;refresher=uac", Require: true}},
		{name: "lowered, but not below the request's Min-SE", o: timerOffer{SE: se(7200, ""), MinSE: 3600 * time.Second, Supported: true},
			want: uasTimer{Interval: 3600 * time.Second, Header: "3600;refresher=uac", Require: true}},
		{name: "supported but none asked: ours, the caller refreshes", o: timerOffer{Supported: true},
			want: uasTimer{Interval: 1800 * time.Second, Header: "1800;refresher=uac", Require: true}},
		{name: "inserted by a proxy, caller cannot refresh: we do", o: timerOffer{SE: se(600, "")},
			want: uasTimer{Interval: 600 * time.Second, WeRefresh: true, Header: "600;refresher=uas"}},
		{name: "proxy asked uac for a caller without timers: we refresh", o: timerOffer{SE: se(600, "uac")},
			want: uasTimer{Interval: 600 * time.Second, WeRefresh: true, Header: "600;refresher=uas"}},
		{name: "no timers at all: we refresh silently at ours", o: timerOffer{},
			want: uasTimer{Interval: 1800 * time.Second, WeRefresh: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := negotiateUAS(tc.o, p); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestNegotiateUAC(t *testing.T) {
	p := timerPolicy{Interval: 1800 * time.Second, MinSE: 90 * time.Second}
	for _, tc := range []struct {
		name     string
		res      timerOffer
		interval time.Duration
		we       bool
	}{
		{"no Session-Expires: we keep it alive at ours", timerOffer{}, 1800 * time.Second, true},
		{"refresher=uac: we refresh", timerOffer{SE: &sessionExpires{Delta: 900 * time.Second, Refresher: "uac"}}, 900 * time.Second, true},
		{"refresher=uas: the callee refreshes", timerOffer{SE: &sessionExpires{Delta: 900 * time.Second, Refresher: "uas"}}, 900 * time.Second, false},
		{"no refresher in the 2xx: the UAC (we)", timerOffer{SE: &sessionExpires{Delta: 120 * time.Second}}, 120 * time.Second, true},
	} {
		iv, we := negotiateUAC(tc.res, p)
		if iv != tc.interval || we != tc.we {
			t.Errorf("%s: got %v, %v; want %v, %v", tc.name, iv, we, tc.interval, tc.we)
		}
	}
}

// TestReadTimerOffer reads the headers off a real request, including the
// compact form x and timer in Require.
func TestReadTimerOffer(t *testing.T) {
	raw := "INVITE sip:1000@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-1\r\n" +
		"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n" +
		"x: 300;refresher=uas\r\nMin-SE: 120\r\nRequire: timer\r\nContent-Length: 0\r\n\r\n"
	m, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	o, err := readTimerOffer(m)
	if err != nil {
		t.Fatal(err)
	}
	if o.SE == nil || o.SE.Delta != 300*time.Second || o.SE.Refresher != "uas" || o.MinSE != 120*time.Second || !o.Supported {
		t.Fatalf("read %+v (SE %+v)", o, o.SE)
	}
	bad := strings.Replace(raw, "Min-SE: 120", "Min-SE: soon", 1)
	if m, err = sip.ParseMessage([]byte(bad)); err != nil {
		t.Fatal(err)
	}
	if _, err := readTimerOffer(m); !errors.Is(err, errBadSessionHeader) {
		t.Fatalf("a bad Min-SE: %v", err)
	}
}

func FuzzParseSessionExpires(f *testing.F) {
	for _, s := range []string{"1800", "90;refresher=uac", "4000;refresher=uas;x=y", "", ";", "1;refresher", "18446744073709551616", " 7 ; a = b "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		se, err := parseSessionExpires(v)
		if err != nil {
			if !errors.Is(err, errBadSessionHeader) {
				t.Fatalf("%q: error %v is not errBadSessionHeader", v, err)
			}
			return
		}
		if se.Delta < 0 || se.Delta > maxSessionInterval {
			t.Fatalf("%q: delta %v out of range", v, se.Delta)
		}
		if se.Refresher != "" && se.Refresher != refresherUAC && se.Refresher != refresherUAS {
			t.Fatalf("%q: refresher %q", v, se.Refresher)
		}
		if _, err := parseMinSE(v); err != nil && !errors.Is(err, errBadSessionHeader) {
			t.Fatalf("%q: Min-SE error %v", v, err)
		}
	})
}

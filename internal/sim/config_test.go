package sim

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseAgents(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"none", nil, false},
		{"1001-1003", []string{"1001", "1002", "1003"}, false},
		{"1001,1003,1006-1007", []string{"1001", "1003", "1006", "1007"}, false},
		{"alice,bob", []string{"alice", "bob"}, false},
		{"0098-0101", []string{"0098", "0099", "0100", "0101"}, false},
		{"1010-1001", nil, true},
		{"1-100", nil, true}, // widths differ: ids would not be the configured ones
		{"1001,,1002", nil, true},
		{"a-b", nil, true},
		{"0-99999", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseAgents(tt.in)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("ParseAgents(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		in      string
		want    Range
		wantErr bool
	}{
		{"", Range{}, false},
		{"10s", Range{10 * time.Second, 10 * time.Second}, false},
		{"5s-15s", Range{5 * time.Second, 15 * time.Second}, false},
		{"500ms - 1s", Range{500 * time.Millisecond, time.Second}, false},
		{"15s-5s", Range{}, true},
		{"x", Range{}, true},
		{"1s-", Range{}, true},
	}
	for _, tt := range tests {
		got, err := ParseRange(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseRange(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	r := Range{time.Second, 2 * time.Second}
	for range 100 {
		if d := r.draw(); d < r.Min || d > r.Max {
			t.Fatalf("draw %s outside %s", d, r)
		}
	}
}

func TestParseDigitMix(t *testing.T) {
	tests := []struct {
		in      string
		want    DigitMix
		wantErr bool
	}{
		{"1,2", DigitMix{{'1', 1}, {'2', 1}}, false},
		{"1:60, 2:40", DigitMix{{'1', 60}, {'2', 40}}, false},
		{"#:1", DigitMix{{'#', 1}}, false},
		{"", nil, true},
		{"12:1", nil, true},
		{"x:1", nil, true},
		{"1:0", nil, true},
		{"1:-2", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseDigitMix(tt.in)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("ParseDigitMix(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	// A key of weight 0-ish never comes up against one of all the weight.
	m := DigitMix{{'1', 1}, {'2', 1e-12}}
	n1 := 0
	for range 1000 {
		if m.pick() == '1' {
			n1++
		}
	}
	if n1 < 990 {
		t.Errorf("key 1 (all the weight) picked %d times in 1000", n1)
	}
}

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		in      string
		want    PortRange
		wantErr bool
	}{
		{"", PortRange{}, false},
		{"0", PortRange{}, false},
		{"20000-20009", PortRange{20000, 20009}, false},
		{"5070", PortRange{5070, 5070}, false},
		{"20009-20000", PortRange{}, true},
		{"0-10", PortRange{}, true},
		{"65535-70000", PortRange{}, true},
	}
	for _, tt := range tests {
		got, err := ParsePortRange(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParsePortRange(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestValidate: every bad field is named in one error.
func TestValidate(t *testing.T) {
	c := Config{Target: "nohost", CTI: "ftp://x", Rate: -1, Calls: -1, Agents: []string{"1001", "1001"},
		AgentPorts: PortRange{20000, 20000}, Patience: -time.Second, CallerTalk: Range{2 * time.Second, time.Second}}
	c.fill()
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, field := range []string{"target", "cti", "rate", "calls", "agents", "agent-ports", "patience", "talk"} {
		if !strings.Contains(err.Error(), "sim: "+field+":") {
			t.Errorf("error does not name %s:\n%v", field, err)
		}
	}
	good := Config{}
	good.fill()
	if err := good.Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

func TestSummarize(t *testing.T) {
	at := func(s float64) time.Time { return time.Unix(1000, 0).Add(time.Duration(s * float64(time.Second))) }
	handled := func(wait float64) CallRecord {
		return CallRecord{Outcome: Handled, Answered: at(0), Keyed: at(1), Connected: at(1 + wait), End: at(60)}
	}
	abandoned := func(wait float64) CallRecord {
		return CallRecord{Outcome: Abandoned, Answered: at(0), Keyed: at(1), End: at(1 + wait)}
	}
	cfg := Config{ServiceLevel: 20 * time.Second, ShortAbandon: 5 * time.Second}
	recs := []CallRecord{
		handled(4), handled(10), handled(30), // two within 20 s
		abandoned(2),  // short: out of the service level
		abandoned(40), // counts against it
		{Outcome: Failed, Reason: "486"},
		{Outcome: Interrupted}, // no outcome: out of it too
	}
	s := summarize(cfg, recs, time.Minute)
	if s.Offered != 7 || s.Handled != 3 || s.Abandoned != 2 || s.ShortAbandons != 1 || s.Failed != 1 || s.Interrupted != 1 {
		t.Fatalf("counts %+v", s)
	}
	if s.ASA != (4+10+30)*time.Second/3 || s.MaxWait != 30*time.Second {
		t.Errorf("ASA %s max %s", s.ASA, s.MaxWait)
	}
	// 2 answered within 20 s over 7 offered - 1 short abandon - 1 interrupted.
	if s.AnsweredInSL != 2 || s.ServiceLevel != 2.0/5 {
		t.Errorf("service level %d / %g", s.AnsweredInSL, s.ServiceLevel)
	}
	if e := summarize(cfg, nil, 0); e.ServiceLevel != -1 || e.ASA != 0 {
		t.Errorf("empty run: %+v", e)
	}
	var out strings.Builder
	s.Print(&out)
	for _, want := range []string{"calls offered   7", "handled       3", "abandoned     2  (1 short", "failed        1", "service level   40.0%", "failed: 1 × 486"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}

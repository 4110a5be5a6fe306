package asr

import (
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"
)

func TestInterpret(t *testing.T) {
	for _, c := range []struct {
		typ, text, want string
		ok              bool
	}{
		{"digits", "one two three four", "1234", true},
		{"digits", "oh nine zero", "090", true},
		{"digits", "one banana", "", false},
		{"number", "one hundred twenty three", "123", true},
		{"number", "two thousand and five", "2005", true},
		{"number", "seven point five", "7.5", true},
		{"number", "twelve thousand three hundred forty five", "12345", true},
		{"number", "point", "", false},
		{"number", "seven point", "", false},
		{"currency", "twelve dollars and fifty cents", "12.50", true},
		{"currency", "three dollars", "3.00", true},
		{"currency", "ninety nine cents", "0.99", true},
		{"currency", "twelve", "", false},
		{"date", "march fourth twenty twenty six", "20260304", true},
		{"date", "december the thirty first nineteen ninety nine", "19991231", true},
		{"date", "january first two thousand", "20000101", true},
		{"date", "march fourth", "", false},
		{"boolean", "yes", "yes", true},
		{"time", "ten", "", false},
	} {
		got, ok := Interpret(c.typ, c.text)
		if got != c.want || ok != c.ok {
			t.Errorf("Interpret(%s, %q) = %q, %v; want %q, %v", c.typ, c.text, got, ok, c.want, c.ok)
		}
	}
}

func FuzzInterpret(f *testing.F) {
	for _, s := range []string{"one hundred and five", "march third twenty twenty", "five dollars and two cents", "point point"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, typ := range []string{"digits", "number", "currency", "date", "boolean"} {
			Interpret(typ, text) // must not panic
		}
	})
}

func TestJSGF(t *testing.T) {
	g := Grammar{Root: "main", Name: "test", Rules: map[string]Expr{
		"main": Seq(Repeat(Word("please"), 0, 1), Expr{Op: OpRef, Rule: "dept"}),
		"dept": Alt(Word("sales"), Phrase("customer support"), Word("zzyzx")),
	}}
	j, missing, err := JSGF([]Grammar{g}, func(w string) bool { return w != "zzyzx" })
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"public <root> = <g0r1>;", "[(please)]", "(customer) (support)"} {
		if !strings.Contains(j, want) {
			t.Errorf("JSGF lacks %q:\n%s", want, j)
		}
	}
	if strings.Contains(j, "zzyzx") || len(missing) != 1 || missing[0] != "zzyzx" {
		t.Errorf("missing = %v", missing)
	}
	if _, _, err := JSGF([]Grammar{{Root: "x", Rules: map[string]Expr{"y": Word("a")}}}, nil); err == nil {
		t.Error("undefined root accepted")
	}
	if _, _, err := JSGF([]Grammar{{Root: "x", Rules: map[string]Expr{"x": Word("a<b")}}}, nil); err == nil {
		t.Error("unspeakable word accepted")
	}
	d, err := Builtin("digits", 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	j, _, _ = JSGF([]Grammar{d}, nil)
	if !strings.Contains(j, "[(") {
		t.Errorf("digits 2..4 not spelled out:\n%s", j)
	}
}

// noise is low-level line noise (seeded).
func noise(r *rand.Rand, n int, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(r.NormFloat64() * amp)
	}
	return out
}

func tone(n int, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(float64(i)*2*math.Pi*440/SampleRate))
	}
	return out
}

func TestEndpointer(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	e := NewEndpointer(EndpointConfig{})
	if e.Write(0, noise(r, 2*SampleRate, 30)) || e.Started() {
		t.Fatal("line noise taken for speech")
	}
	// A click (one 20 ms frame) is not speech.
	if e.Write(0, tone(FrameSamples, 8000)) {
		t.Fatal("a click started an utterance")
	}
	e.Write(0, noise(r, SampleRate/2, 30))
	if !e.Write(0, tone(SampleRate/2, 8000)) {
		t.Fatal("half a second of tone did not start an utterance")
	}
	if e.Speech() < 400*time.Millisecond {
		t.Errorf("speech %v", e.Speech())
	}
	e.Write(0, noise(r, SampleRate, 30))
	if s := e.Silence(); s < 980*time.Millisecond || s > time.Second {
		t.Errorf("silence after speech %v, want 1s", s)
	}
	u := e.Utterance()
	// preroll (300 ms) + speech (500 ms) + silence (1 s)
	if d := time.Duration(len(u)) * time.Second / SampleRate; d < 1700*time.Millisecond || d > 1900*time.Millisecond {
		t.Errorf("utterance %v long, want about 1.8s", d)
	}
	// A gap (lost packets) is silence.
	e.Write(SampleRate/2, nil)
	if s := e.Silence(); s < 1400*time.Millisecond {
		t.Errorf("gap not counted as silence: %v", s)
	}
	e.Reset()
	if e.Started() || e.Utterance() != nil {
		t.Error("reset kept the utterance")
	}
}

package vxml

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// seedFiles adds the W3C suite documents matching pattern as fuzz seeds.
func seedFiles(f *testing.F, patterns ...string) {
	for _, p := range patterns {
		files, _ := filepath.Glob(filepath.Join(w3cDir, p))
		for _, name := range files {
			if data, err := os.ReadFile(name); err == nil {
				f.Add(data)
			}
		}
	}
}

// FuzzParseDocument parses arbitrary bytes as a VoiceXML document and, when
// that succeeds, runs it briefly: neither step may panic or hang.
func FuzzParseDocument(f *testing.F) {
	seedFiles(f, "vxml20/*.vxml", "vxml21/*/*.vxml")
	f.Add([]byte(`<vxml><form><block>hi</block></form></vxml>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := ParseXML(data)
		if err != nil {
			return
		}
		_ = validate(root)
		tp := &TextPlatform{Auto: true, Limit: 10 * time.Second}
		s, err := NewSession(Config{Platform: tp, Fetcher: memFetcher{"main.vxml": string(data)},
			ScriptTimeout: 50 * time.Millisecond, MaxTransitions: 200})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := s.Run(ctx, "http://app.test/main.vxml"); err != nil && ctx.Err() != nil {
			t.Fatalf("session hung: %v", err)
		}
	})
}

// FuzzSRGS compiles arbitrary grammars and matches a few inputs against them.
func FuzzSRGS(f *testing.F) {
	seedFiles(f, "vxml21/*/*.grxml", "vxml20/*.grxml")
	f.Add([]byte(`<grammar root="a" mode="dtmf"><rule id="a"><item repeat="1-">1</item><tag>out=1</tag></rule></grammar>`))
	f.Add([]byte(`<grammar root="a"><rule id="a"><one-of><item>yes</item><item>no<ruleref uri="#a"/></item></one-of></rule></grammar>`))
	e := newEngine()
	e.timeout = 50 * time.Millisecond
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := ParseXML(data)
		if err != nil {
			return
		}
		g, err := ParseSRGS(root, "voice")
		if err != nil {
			return
		}
		for _, in := range []string{"1", "1 2 3", "yes", "no no yes", ""} {
			_, _ = g.Match(e, tokenize(g.Mode, in))
		}
		_ = g.Phrases(4)
	})
}

// FuzzABNF compiles arbitrary ABNF grammars and matches a few inputs.
func FuzzABNF(f *testing.F) {
	f.Add("#ABNF 1.0 UTF-8;\nmode voice; root $a;\n$a = yes | no {out = false} | [please] $b <1-3>;\n$b = \"thank you\";")
	f.Add("#ABNF 1.0; mode dtmf; root $d; $d = (1|2|3) <2-> {!{ out = 1 }!};")
	e := newEngine()
	e.timeout = 50 * time.Millisecond
	f.Fuzz(func(t *testing.T, src string) {
		g, err := ParseABNF(src, "voice")
		if err != nil {
			return
		}
		for _, in := range []string{"1 2", "yes", "please thank you", ""} {
			_, _ = g.Match(e, tokenize(g.Mode, in))
		}
	})
}

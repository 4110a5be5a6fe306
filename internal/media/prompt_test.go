package media

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func wavBytes(t *testing.T, pcm []int16) []byte {
	var b bytes.Buffer
	if err := WriteWAV(&b, pcm); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPromptFrames(t *testing.T) {
	p := NewPrompt("x", sine(8000, 500, 8000, 330)) // 2 frames and 10 samples
	if p.Frames() != 3 || p.Duration() != 60*time.Millisecond {
		t.Fatalf("%d frames, %v", p.Frames(), p.Duration())
	}
	last := p.Frame(ULaw, 2)
	if len(last) != 160 || last[10] != ULawSilence || p.Frame(ALaw, 2)[159] != ALawSilence {
		t.Fatal("last frame not padded with silence")
	}
	if p.Frame(ULaw, 0)[5] != ULawEncode(p.Samples()[5]) || p.Frame(ALaw, 1)[5] != ALawEncode(p.Samples()[165]) {
		t.Fatal("frames do not hold the encoded samples")
	}
}

func TestPromptCacheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.wav")
	os.WriteFile(path, wavBytes(t, sine(8000, 440, 5000, 800)), 0o644)
	c, err := NewPromptCache(PromptCacheConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	p1, err := c.File(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := c.Load(ctx, "file://"+path)
	if p1 != p2 {
		t.Fatal("second load did not come from the cache")
	}
	// A changed file is read again.
	os.WriteFile(path, wavBytes(t, sine(8000, 440, 5000, 1600)), 0o644)
	os.Chtimes(path, time.Now().Add(time.Hour), time.Now().Add(time.Hour))
	p3, _ := c.File(ctx, path)
	if p3 == p1 || p3.Frames() != 10 {
		t.Fatalf("changed file: %d frames", p3.Frames())
	}
	jail, _ := NewPromptCache(PromptCacheConfig{FileRoot: filepath.Join(dir, "sub")})
	if _, err := jail.File(ctx, filepath.Join(dir, "sub", "..", "p.wav")); err == nil {
		t.Fatal("file outside FileRoot loaded")
	}
	if _, err := c.File(ctx, filepath.Join(dir, "missing.wav")); err == nil {
		t.Fatal("missing file loaded")
	}
	os.WriteFile(path+".txt", []byte("not audio"), 0o644)
	if _, err := c.File(ctx, path+".txt"); err == nil || !bytes.Contains([]byte(err.Error()), []byte("not a RIFF")) {
		t.Fatalf("text file: %v", err)
	}
}

func TestPromptCacheHTTP(t *testing.T) {
	body := wavBytes(t, sine(8000, 440, 5000, 800))
	var hits, notModified atomic.Int32
	cacheControl := "max-age=60"
	var ccMu sync.Mutex
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/slow.wav" {
			<-release
		}
		if r.URL.Path == "/missing.wav" {
			http.NotFound(w, r)
			return
		}
		ccMu.Lock()
		w.Header().Set("Cache-Control", cacheControl)
		ccMu.Unlock()
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	now := time.Unix(1_700_000_000, 0)
	var nowMu sync.Mutex
	clock := func() time.Time { nowMu.Lock(); defer nowMu.Unlock(); return now }
	c, _ := NewPromptCache(PromptCacheConfig{Dir: t.TempDir(), Now: clock})
	ctx := t.Context()
	p1, err := c.URL(ctx, srv.URL+"/p.wav")
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := c.Load(ctx, srv.URL+"/p.wav")
	if p1 != p2 || hits.Load() != 1 {
		t.Fatalf("fresh prompt fetched again: %d requests", hits.Load())
	}
	// After max-age, revalidated with the ETag: 304, same prompt.
	nowMu.Lock()
	now = now.Add(61 * time.Second)
	nowMu.Unlock()
	p3, err := c.URL(ctx, srv.URL+"/p.wav")
	if err != nil || p3 != p1 || hits.Load() != 2 || notModified.Load() != 1 {
		t.Fatalf("revalidation: %v, %d requests, %d not modified", err, hits.Load(), notModified.Load())
	}
	// no-store: fetched every time.
	ccMu.Lock()
	cacheControl = "no-store"
	ccMu.Unlock()
	c.URL(ctx, srv.URL+"/ns.wav")
	c.URL(ctx, srv.URL+"/ns.wav")
	if hits.Load() != 4 {
		t.Fatalf("no-store: %d requests, want 4", hits.Load())
	}
	if _, err := c.URL(ctx, srv.URL+"/missing.wav"); err == nil || !bytes.Contains([]byte(err.Error()), []byte("404")) {
		t.Fatalf("404: %v", err)
	}
	// Twenty calls loading one slow prompt at once: one request.
	ccMu.Lock()
	cacheControl = "max-age=600"
	ccMu.Unlock()
	before := hits.Load()
	var wg sync.WaitGroup
	results := make([]*Prompt, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = c.URL(ctx, srv.URL+"/slow.wav")
		}()
	}
	for hits.Load() == before { // the first request has reached the server
		select {
		case <-time.After(time.Millisecond):
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
	close(release)
	wg.Wait()
	if n := hits.Load() - before; n != 1 {
		t.Fatalf("concurrent loads made %d requests", n)
	}
	for _, r := range results {
		if r == nil || r != results[0] {
			t.Fatal("concurrent loads got different prompts")
		}
	}
}

func TestFreshness(t *testing.T) {
	now := time.Unix(1000, 0)
	h := func(kv ...string) http.Header {
		x := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			x.Add(kv[i], kv[i+1])
		}
		return x
	}
	cases := []struct {
		h     http.Header
		fresh time.Duration
		store bool
	}{
		{h("Cache-Control", "public, max-age=300"), 300 * time.Second, true},
		{h("Cache-Control", "no-cache"), 0, true},
		{h("Cache-Control", "no-store, max-age=300"), 0, false},
		{h(), 0, true},
		{h("Expires", "Thu, 01 Jan 1970 00:20:00 GMT", "Date", "Thu, 01 Jan 1970 00:10:00 GMT"), 600 * time.Second, true},
		{h("Expires", "0"), 0, true},
	}
	for i, c := range cases {
		exp, store := freshness(c.h, now)
		if exp.Sub(now) != c.fresh || store != c.store {
			t.Errorf("case %d: fresh %v store %v", i, exp.Sub(now), store)
		}
	}
}

func TestPromptCacheTTS(t *testing.T) {
	needTool(t, "espeak-ng")
	dir := t.TempDir()
	c, _ := NewPromptCache(PromptCacheConfig{Dir: dir})
	if err := c.TTSAvailable(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	p, err := c.Text(ctx, "Press one for sales.", "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Duration() < 500*time.Millisecond || rms(p.Samples()) < 300 {
		t.Fatalf("rendered %v at level %.0f", p.Duration(), rms(p.Samples()))
	}
	if again, _ := c.Text(ctx, "Press one for sales.", ""); again != p {
		t.Fatal("same text rendered twice")
	}
	// Text starting with a dash is text, not an option.
	if _, err := c.Text(ctx, "-v xx --help", ""); err != nil {
		t.Fatalf("dash text: %v", err)
	}
	if _, err := c.Text(ctx, "hi", "--evil"); err == nil {
		t.Fatal("option as voice accepted")
	}
	// Without espeak-ng: text spoken before still loads from disk; new text
	// fails with ErrNoTTS, and nothing panics.
	none, _ := NewPromptCache(PromptCacheConfig{Dir: dir, ESpeak: "/nonexistent/espeak-ng"})
	if !errors.Is(none.TTSAvailable(), ErrNoTTS) {
		t.Fatal("TTSAvailable with no program")
	}
	old, err := none.Text(ctx, "Press one for sales.", "")
	if err != nil || len(old.Samples()) != len(p.Samples()) {
		t.Fatalf("cached text without espeak-ng: %v", err)
	}
	if _, err := none.Text(ctx, "Something new.", ""); !errors.Is(err, ErrNoTTS) {
		t.Fatalf("new text without espeak-ng: %v", err)
	}
}

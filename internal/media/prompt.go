package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// PromptCacheConfig configures a PromptCache.
type PromptCacheConfig struct {
	// Dir holds rendered text-to-speech prompts, so each text is spoken by
	// espeak-ng once per voice, even across restarts. Required for Text.
	Dir string
	// HTTPClient fetches http(s) prompts; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// Logger receives cache logs.
	Logger *slog.Logger
	// Voice is the espeak-ng voice used when Text is given none; "" means "en-us".
	Voice string
	// ESpeak is the espeak-ng program; "" means look it up in PATH.
	ESpeak string
	// MaxEntries bounds the prompts held in memory; 0 means 10000.
	MaxEntries int
	// MaxBytes bounds a fetched or read audio file; 0 means 64 MiB.
	MaxBytes int64
	// Now is the clock for HTTP freshness; nil means time.Now. For tests.
	Now func() time.Time
	// FileRoot, when set, confines file prompts to this directory tree: a
	// VoiceXML document fetched from elsewhere must not read the gateway's
	// files by naming them.
	FileRoot string
}

// PromptCache loads prompts once and keeps them ready to send: a file is read
// again only when it changes, an http(s) prompt is fetched again only when
// its Cache-Control max-age (or Expires) has passed and then with
// If-None-Match / If-Modified-Since, and text is rendered by espeak-ng once.
// Concurrent loads of the same prompt share one load. Safe for concurrent use.
type PromptCache struct {
	cfg    PromptCacheConfig
	log    *slog.Logger
	espeak string // resolved program, "" when absent; immutable
	client *http.Client
	group  singleflight.Group

	mu      sync.Mutex // guards entries
	entries map[string]*promptEntry
}

// promptEntry is a loaded prompt with what is needed to tell whether it is
// still current. Entries are replaced, never modified, once in the map.
type promptEntry struct {
	prompt *Prompt
	// Files.
	modTime time.Time
	size    int64
	// HTTP.
	expires      time.Time
	etag         string
	lastModified string
}

// FindTTS returns the path of espeak-ng, or ErrNoTTS when it is not
// installed: the server logs "install espeak-ng to speak new text" once at
// start and carries on; only text not yet in the disk cache fails.
func FindTTS() (string, error) {
	p, err := exec.LookPath("espeak-ng")
	if err != nil {
		return "", ErrNoTTS
	}
	return p, nil
}

// NewPromptCache returns a cache. A missing espeak-ng is not an error here:
// see TTSAvailable.
func NewPromptCache(cfg PromptCacheConfig) (*PromptCache, error) {
	c := &PromptCache{cfg: cfg, log: cfg.Logger, client: cfg.HTTPClient, entries: map[string]*promptEntry{}}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.client == nil {
		c.client = &http.Client{Timeout: 30 * time.Second}
	}
	if c.cfg.Voice == "" {
		c.cfg.Voice = "en-us"
	}
	if c.cfg.MaxEntries <= 0 {
		c.cfg.MaxEntries = 10000
	}
	if c.cfg.MaxBytes <= 0 {
		c.cfg.MaxBytes = 64 << 20
	}
	if c.cfg.Now == nil {
		c.cfg.Now = time.Now
	}
	if cfg.ESpeak != "" {
		if p, err := exec.LookPath(cfg.ESpeak); err == nil {
			c.espeak = p
		}
	} else if p, err := FindTTS(); err == nil {
		c.espeak = p
	}
	if cfg.Dir != "" {
		if err := os.MkdirAll(filepath.Join(cfg.Dir, "tts"), 0o755); err != nil {
			return nil, fmt.Errorf("media: prompt cache dir: %w", err)
		}
	}
	return c, nil
}

// TTSAvailable returns nil when new text can be spoken, ErrNoTTS otherwise.
func (c *PromptCache) TTSAvailable() error {
	if c.espeak == "" {
		return ErrNoTTS
	}
	return nil
}

// Load loads a prompt named by URI: http:// or https:// URLs, file:// URLs
// or plain paths.
func (c *PromptCache) Load(ctx context.Context, uri string) (*Prompt, error) {
	switch {
	case strings.HasPrefix(uri, "http://"), strings.HasPrefix(uri, "https://"):
		return c.URL(ctx, uri)
	case strings.HasPrefix(uri, "file://"):
		return c.File(ctx, strings.TrimPrefix(uri, "file://"))
	}
	return c.File(ctx, uri)
}

func (c *PromptCache) get(key string) *promptEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries[key]
}

func (c *PromptCache) put(key string, e *promptEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.cfg.MaxEntries {
		// Evict an arbitrary tenth: cheap, and a prompt evicted wrongly is
		// only loaded again.
		n := c.cfg.MaxEntries/10 + 1
		for k := range c.entries {
			delete(c.entries, k)
			if n--; n == 0 {
				break
			}
		}
	}
	c.entries[key] = e
}

// once runs load for key unless another goroutine is already loading it, in
// which case it waits for that load. The load runs without the caller's
// cancellation, so one caller hanging up does not fail the others.
func (c *PromptCache) once(ctx context.Context, key string, load func(ctx context.Context) (*Prompt, error)) (*Prompt, error) {
	ch := c.group.DoChan(key, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
		defer cancel()
		return load(lctx)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Prompt), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// File loads an audio file (any WAV DecodeWAV reads), again only when its
// size or modification time changed.
func (c *PromptCache) File(ctx context.Context, path string) (*Prompt, error) {
	if c.cfg.FileRoot != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("media: prompt %s: %w", path, err)
		}
		root, err := filepath.Abs(c.cfg.FileRoot)
		if err != nil {
			return nil, fmt.Errorf("media: prompt root %s: %w", c.cfg.FileRoot, err)
		}
		if rel, err := filepath.Rel(root, abs); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("media: prompt %s: outside the prompt root %s", path, c.cfg.FileRoot)
		}
		path = abs
	}
	key := "file:" + path
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("media: prompt %s: %w", path, err)
	}
	if e := c.get(key); e != nil && e.modTime.Equal(fi.ModTime()) && e.size == fi.Size() {
		return e.prompt, nil
	}
	return c.once(ctx, key, func(context.Context) (*Prompt, error) {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("media: prompt %s: %w", path, err)
		}
		if fi.Size() > c.cfg.MaxBytes {
			return nil, fmt.Errorf("media: prompt %s: %d bytes, more than the %d allowed", path, fi.Size(), c.cfg.MaxBytes)
		}
		pcm, _, err := ReadWAVFile(path)
		if err != nil {
			return nil, err
		}
		p := NewPrompt(path, pcm)
		c.put(key, &promptEntry{prompt: p, modTime: fi.ModTime(), size: fi.Size()})
		c.log.Debug("media: prompt loaded", "path", path, "duration", p.Duration())
		return p, nil
	})
}

// URL loads an http(s) prompt, honouring the server's caching headers.
func (c *PromptCache) URL(ctx context.Context, url string) (*Prompt, error) {
	key := "url:" + url
	if e := c.get(key); e != nil && c.cfg.Now().Before(e.expires) {
		return e.prompt, nil
	}
	return c.once(ctx, key, func(ctx context.Context) (*Prompt, error) {
		return c.fetch(ctx, key, url)
	})
}

func (c *PromptCache) fetch(ctx context.Context, key, url string) (*Prompt, error) {
	old := c.get(key)
	if old != nil && c.cfg.Now().Before(old.expires) {
		return old.prompt, nil // fetched while we waited
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("media: prompt %s: %w", url, err)
	}
	if old != nil {
		if old.etag != "" {
			req.Header.Set("If-None-Match", old.etag)
		}
		if old.lastModified != "" {
			req.Header.Set("If-Modified-Since", old.lastModified)
		}
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("media: prompt %s: %w", url, err)
	}
	defer resp.Body.Close()
	now := c.cfg.Now()
	expires, store := freshness(resp.Header, now)
	if resp.StatusCode == http.StatusNotModified && old != nil {
		e := *old
		e.expires = expires
		c.put(key, &e)
		return old.prompt, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("media: prompt %s: HTTP %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("media: prompt %s: %w", url, err)
	}
	if int64(len(body)) > c.cfg.MaxBytes {
		return nil, fmt.Errorf("media: prompt %s: more than %d bytes", url, c.cfg.MaxBytes)
	}
	pcm, _, err := DecodeWAV(body, url)
	if err != nil {
		return nil, err
	}
	p := NewPrompt(url, pcm)
	if store {
		c.put(key, &promptEntry{prompt: p, expires: expires,
			etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified")})
	}
	c.log.Debug("media: prompt fetched", "url", url, "duration", p.Duration(), "fresh until", expires)
	return p, nil
}

// freshness reads Cache-Control (RFC 9111 section 5.2) and Expires: until
// when the response may be used without asking, and whether to keep it at
// all (no-store). Without either header it is stale at once, so the next use
// revalidates (cheap with an ETag: a 304 and no body).
func freshness(h http.Header, now time.Time) (time.Time, bool) {
	cc := strings.ToLower(strings.Join(h.Values("Cache-Control"), ","))
	maxAge := -1
	for _, d := range strings.Split(cc, ",") {
		d = strings.TrimSpace(d)
		switch {
		case d == "no-store":
			return now, false
		case d == "no-cache":
			return now, true
		case strings.HasPrefix(d, "max-age="):
			if n, err := strconv.Atoi(strings.Trim(d[len("max-age="):], `"`)); err == nil && n >= 0 {
				maxAge = n
			}
		}
	}
	if maxAge >= 0 {
		return now.Add(time.Duration(maxAge) * time.Second), true
	}
	if exp := h.Get("Expires"); exp != "" {
		if t, err := http.ParseTime(exp); err == nil {
			if date, err := http.ParseTime(h.Get("Date")); err == nil {
				return now.Add(t.Sub(date)), true // trust the server's clock difference, not its clock
			}
			return t, true
		}
		return now, true // an invalid Expires means already expired
	}
	return now, true
}

// Text renders text with espeak-ng in voice ("" for the default), once: the
// WAV is kept in the cache directory under a hash of voice and text, so a
// text spoken before is available even when espeak-ng is not. New text
// without espeak-ng returns an error wrapping ErrNoTTS.
func (c *PromptCache) Text(ctx context.Context, text, voice string) (*Prompt, error) {
	if voice == "" {
		voice = c.cfg.Voice
	}
	if c.cfg.Dir == "" {
		return nil, fmt.Errorf("media: tts: no cache directory configured")
	}
	if !validVoice(voice) {
		return nil, fmt.Errorf("media: tts: bad voice name %q", voice)
	}
	name := TTSName(voice, text)
	key := "tts:" + name
	if e := c.get(key); e != nil {
		return e.prompt, nil
	}
	return c.once(ctx, key, func(ctx context.Context) (*Prompt, error) {
		path := filepath.Join(c.cfg.Dir, "tts", name+".wav") // the hash covers the voice
		if _, err := os.Stat(path); err != nil {
			if err := c.render(ctx, text, voice, path); err != nil {
				return nil, err
			}
		}
		pcm, _, err := ReadWAVFile(path)
		if err != nil {
			return nil, err
		}
		p := NewPrompt("tts:"+text, pcm)
		c.put(key, &promptEntry{prompt: p})
		return p, nil
	})
}

// TTSName is the name (without .wav) under which Text keeps the rendering
// of text in voice, in the cache directory's tts folder; a prompt rendered
// elsewhere and placed there under this name is used as is (the demo ships
// its prompts so).
func TTSName(voice, text string) string {
	sum := sha256.Sum256([]byte(voice + "\x00" + text))
	return hex.EncodeToString(sum[:16])
}

// validVoice keeps voice names to what espeak-ng names look like, so that a
// voice from a document cannot be read as an option.
func validVoice(v string) bool {
	if v == "" || v[0] == '-' || len(v) > 64 {
		return false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_+.:/", r)) {
			return false
		}
	}
	return !strings.Contains(v, "..")
}

// render runs espeak-ng into a temporary file, then renames it into place so
// a concurrent reader never sees half a file. The text goes on stdin so that
// text starting with "-" is not taken for an option.
func (c *PromptCache) render(ctx context.Context, text, voice, path string) error {
	if c.espeak == "" {
		return fmt.Errorf("media: tts %q: %w", abbreviate(text), ErrNoTTS)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".render-*.wav")
	if err != nil {
		return fmt.Errorf("media: tts: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.CommandContext(ctx, c.espeak, "-v", voice, "-w", tmp.Name(), "--stdin")
	cmd.Stdin = strings.NewReader(text)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("media: tts %q voice %s: espeak-ng: %w: %s", abbreviate(text), voice, err, strings.TrimSpace(stderr.String()))
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("media: tts: %w", err)
	}
	c.log.Debug("media: tts rendered", "voice", voice, "text", abbreviate(text), "took", time.Since(start))
	return nil
}

func abbreviate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

package vxml

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FetchRequest is one document, script, grammar, audio or data fetch.
type FetchRequest struct {
	URI    string     // absolute URI (http, https or file)
	Method string     // GET (default) or POST
	Values url.Values // namelist of <submit>, <subdialog>, <data>
	// Files are recordings in the namelist, sent as multipart file parts
	// (POST with multipart/form-data only).
	Files   map[string][]byte
	EncType string // application/x-www-form-urlencoded (default) or multipart/form-data
	Timeout time.Duration
	// MaxAge and MaxStale are the maxage/maxstale attributes or properties
	// (spec 6.1.2); negative means not set.
	MaxAge, MaxStale time.Duration
}

// FetchResult is a fetched resource.
type FetchResult struct {
	Body        []byte
	ContentType string
	URI         string // final URI after redirects: the base for relative URIs
}

// Fetcher retrieves resources for the interpreter. The gateway shares one
// Fetcher (and so one HTTP cache) between sessions; implementations must be
// safe for concurrent use.
type Fetcher interface {
	Fetch(ctx context.Context, req FetchRequest) (*FetchResult, error)
}

// HTTPStatusError is a fetch that got a non-2xx answer; the interpreter throws
// error.badfetch.http.<code>.
type HTTPStatusError struct {
	URI  string
	Code int
}

func (e *HTTPStatusError) Error() string {
	return fmt.Sprintf("fetch %s: http status %d", e.URI, e.Code)
}

// maxFetchBytes bounds a fetched resource: a VoiceXML document or grammar of
// more than this is an error rather than a memory hazard.
const maxFetchBytes = 8 << 20

// HTTPFetcher fetches over HTTP(S) and from file: URIs, with an in-memory HTTP
// cache honouring Cache-Control max-age / Expires and the VoiceXML maxage and
// maxstale attributes. The zero value is not usable; use NewHTTPFetcher.
type HTTPFetcher struct {
	Client *http.Client
	now    func() time.Time

	mu    sync.Mutex // guards cache
	cache map[string]cacheEntry
}

type cacheEntry struct {
	res          FetchResult
	fetched      time.Time
	expires      time.Time
	etag         string // validators for conditional revalidation
	lastModified string
}

// validators returns the cached entry for key when it can be revalidated.
func (f *HTTPFetcher) validators(key string) *cacheEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.cache[key]
	if !ok || (e.etag == "" && e.lastModified == "") {
		return nil
	}
	return &e
}

// NewHTTPFetcher returns a fetcher using client (http.DefaultClient if nil).
func NewHTTPFetcher(client *http.Client) *HTTPFetcher {
	if client == nil {
		client = http.DefaultClient
	}
	return &HTTPFetcher{Client: client, now: time.Now, cache: map[string]cacheEntry{}}
}

// Fetch implements Fetcher.
func (f *HTTPFetcher) Fetch(ctx context.Context, req FetchRequest) (*FetchResult, error) {
	u, err := url.Parse(req.URI)
	if err != nil {
		return nil, fmt.Errorf("fetch %q: %w", req.URI, err)
	}
	switch u.Scheme {
	case "file":
		return fetchFile(u)
	case "http", "https":
	default:
		return nil, fmt.Errorf("fetch %q: unsupported scheme %q", req.URI, u.Scheme)
	}
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	method := strings.ToUpper(req.Method)
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	var stale *cacheEntry // an expired entry we can revalidate
	target := *u
	contentType := ""
	if method == http.MethodGet {
		if len(req.Values) > 0 {
			q := target.Query()
			for k, vs := range req.Values {
				for _, v := range vs {
					q.Add(k, v)
				}
			}
			target.RawQuery = q.Encode()
		}
		if r, ok := f.cached(target.String(), req); ok {
			return r, nil
		}
		stale = f.validators(target.String())
	} else {
		if strings.EqualFold(req.EncType, "multipart/form-data") {
			var buf bytes.Buffer
			w := multipart.NewWriter(&buf)
			for k, vs := range req.Values {
				for _, v := range vs {
					_ = w.WriteField(k, v)
				}
			}
			for k, data := range req.Files {
				h := textproto.MIMEHeader{}
				h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, k, k+".wav"))
				h.Set("Content-Type", "audio/x-wav")
				part, err := w.CreatePart(h)
				if err != nil {
					return nil, fmt.Errorf("fetch %s: %w", req.URI, err)
				}
				part.Write(data)
			}
			_ = w.Close()
			body, contentType = &buf, w.FormDataContentType()
		} else {
			body, contentType = strings.NewReader(req.Values.Encode()), "application/x-www-form-urlencoded"
		}
	}
	hr, err := http.NewRequestWithContext(ctx, method, target.String(), body)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", req.URI, err)
	}
	if contentType != "" {
		hr.Header.Set("Content-Type", contentType)
	}
	if stale != nil {
		if stale.etag != "" {
			hr.Header.Set("If-None-Match", stale.etag)
		}
		if stale.lastModified != "" {
			hr.Header.Set("If-Modified-Since", stale.lastModified)
		}
	}
	resp, err := f.Client.Do(hr)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("fetch %s: %w", req.URI, ErrFetchTimeout)
		}
		return nil, fmt.Errorf("fetch %s: %w", req.URI, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxFetchBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: read body: %w", req.URI, err)
	}
	if len(data) > maxFetchBytes {
		return nil, fmt.Errorf("fetch %s: body larger than %d bytes", req.URI, maxFetchBytes)
	}
	if resp.StatusCode == http.StatusNotModified && stale != nil {
		// Still valid: refresh the entry's freshness and serve it.
		res := stale.res
		f.store(target.String(), &res, resp.Header)
		return &res, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &HTTPStatusError{URI: req.URI, Code: resp.StatusCode}
	}
	res := &FetchResult{Body: data, ContentType: resp.Header.Get("Content-Type"), URI: resp.Request.URL.String()}
	if method == http.MethodGet {
		f.store(target.String(), res, resp.Header)
	}
	return res, nil
}

// cached returns a fresh cache entry. Freshness follows HTTP (max-age/Expires),
// narrowed by the request's maxage and widened by its maxstale (spec 6.1.2).
func (f *HTTPFetcher) cached(key string, req FetchRequest) (*FetchResult, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.cache[key]
	if !ok {
		return nil, false
	}
	now := f.now()
	age := now.Sub(e.fetched)
	if req.MaxAge >= 0 && age > req.MaxAge {
		return nil, false
	}
	limit := e.expires
	if req.MaxStale > 0 {
		limit = limit.Add(req.MaxStale)
	}
	if now.After(limit) {
		return nil, false
	}
	r := e.res
	return &r, true
}

func (f *HTTPFetcher) store(key string, res *FetchResult, h http.Header) {
	now := f.now()
	var expires time.Time
	cc := strings.ToLower(h.Get("Cache-Control"))
	if strings.Contains(cc, "no-store") || strings.Contains(cc, "no-cache") || strings.Contains(cc, "private") {
		return
	}
	for _, d := range strings.Split(cc, ",") {
		d = strings.TrimSpace(d)
		if v, ok := strings.CutPrefix(d, "max-age="); ok {
			if n, err := strconv.Atoi(v); err == nil {
				expires = now.Add(time.Duration(n) * time.Second)
			}
		}
	}
	if expires.IsZero() {
		if t, err := http.ParseTime(h.Get("Expires")); err == nil {
			expires = t
		}
	}
	etag, lm := h.Get("ETag"), h.Get("Last-Modified")
	if expires.IsZero() && etag == "" && lm == "" {
		return // no freshness and no validators: documents are often dynamic
	}
	if expires.IsZero() {
		expires = now // stale at once, but revalidatable
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.cache) > 1024 {
		for k, e := range f.cache {
			if now.After(e.expires) {
				delete(f.cache, k)
			}
		}
	}
	if old, ok := f.cache[key]; ok && etag == "" && lm == "" {
		etag, lm = old.etag, old.lastModified // a 304 may omit them
	}
	f.cache[key] = cacheEntry{res: *res, fetched: now, expires: expires, etag: etag, lastModified: lm}
}

func fetchFile(u *url.URL) (*FetchResult, error) {
	p := u.Path
	if p == "" {
		p = u.Opaque
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	if fi.IsDir() || fi.Size() > maxFetchBytes {
		return nil, fmt.Errorf("fetch %s: not a regular file of at most %d bytes", u, maxFetchBytes)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	return &FetchResult{Body: data, URI: u.String()}, nil
}

// ResolveURI resolves ref against base (spec 1.5.x: relative URIs resolve
// against the document's URI or its xml:base).
func ResolveURI(base, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("bad URI %q: %w", ref, err)
	}
	if base == "" {
		return r.String(), nil
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("bad base URI %q: %w", base, err)
	}
	return b.ResolveReference(r).String(), nil
}

// FileURI turns a local path into a file: URI.
func FileURI(path string) string {
	return (&url.URL{Scheme: "file", Path: path}).String()
}

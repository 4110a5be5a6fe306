package vxml

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func TestHTTPFetcher(t *testing.T) {
	var hits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/cached", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprintf(w, "<vxml>%d</vxml>", hits.Load())
	})
	var revalidations atomic.Int32
	mux.HandleFunc("/etag", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			revalidations.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprint(w, "<vxml>etag</vxml>")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		r.ParseMultipartForm(1 << 20)
		fmt.Fprintf(w, "%s %s a=%s", r.Method, r.Header.Get("Content-Type")[:9], r.FormValue("a"))
	})
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		f, h, err := r.FormFile("msg")
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		defer f.Close()
		fmt.Fprintf(w, "a=%s msg=%d %s", r.FormValue("a"), h.Size, h.Header.Get("Content-Type"))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f := NewHTTPFetcher(srv.Client())
	ctx := context.Background()
	get := func(path string, maxAge time.Duration) string {
		t.Helper()
		r, err := f.Fetch(ctx, FetchRequest{URI: srv.URL + path, MaxAge: maxAge, MaxStale: -1})
		if err != nil {
			t.Fatal(err)
		}
		return string(r.Body)
	}
	if a, b := get("/cached", -1), get("/cached", -1); a != b || hits.Load() != 1 {
		t.Errorf("second GET not served from cache: %q %q hits=%d", a, b, hits.Load())
	}
	if get("/cached", 0); hits.Load() != 2 {
		t.Errorf("maxage=0 must revalidate, hits=%d", hits.Load())
	}
	now := time.Now()
	f.now = func() time.Time { return now.Add(2 * time.Minute) }
	if get("/cached", -1); hits.Load() != 3 {
		t.Errorf("expired entry served, hits=%d", hits.Load())
	}
	f.now = time.Now
	if a, b := get("/etag", -1), get("/etag", -1); a != b || a != "<vxml>etag</vxml>" || revalidations.Load() != 1 {
		t.Errorf("etag revalidation: %q %q revalidations=%d", a, b, revalidations.Load())
	}

	for _, enc := range []string{"", "multipart/form-data"} {
		r, err := f.Fetch(ctx, FetchRequest{URI: srv.URL + "/echo", Method: "POST", EncType: enc, Values: url.Values{"a": {"1 2"}}})
		if err != nil {
			t.Fatal(err)
		}
		if want := "POST " + map[string]string{"": "applicati", "multipart/form-data": "multipart"}[enc] + " a=1 2"; string(r.Body) != want {
			t.Errorf("got %q want %q", r.Body, want)
		}
	}
	r, err := f.Fetch(ctx, FetchRequest{URI: srv.URL + "/upload", Method: "POST", EncType: "multipart/form-data",
		Values: url.Values{"a": {"1"}}, Files: map[string][]byte{"msg": []byte("RIFFdata")}})
	if err != nil || string(r.Body) != "a=1 msg=8 audio/x-wav" {
		t.Errorf("upload: %v %q", err, r.Body)
	}
	_, err = f.Fetch(ctx, FetchRequest{URI: srv.URL + "/missing"})
	var he *HTTPStatusError
	if !errors.As(err, &he) || he.Code != 404 {
		t.Errorf("want 404 error, got %v", err)
	}
	if ev := fetchEvent(err); ev.name != "error.badfetch.http.404" {
		t.Errorf("event %s", ev.name)
	}
	start := time.Now()
	_, err = f.Fetch(ctx, FetchRequest{URI: srv.URL + "/slow", Timeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrFetchTimeout) || time.Since(start) > 3*time.Second {
		t.Errorf("want fetch timeout, got %v after %v", err, time.Since(start))
	}
	if _, err := f.Fetch(ctx, FetchRequest{URI: "gopher://x/"}); err == nil {
		t.Error("unsupported scheme fetched")
	}
}

func TestFileFetchAndResolve(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.vxml")
	os.WriteFile(p, []byte("<vxml/>"), 0o600)
	f := NewHTTPFetcher(nil)
	r, err := f.Fetch(context.Background(), FetchRequest{URI: FileURI(p)})
	if err != nil || string(r.Body) != "<vxml/>" {
		t.Fatalf("%v %q", err, r)
	}
	if _, err := f.Fetch(context.Background(), FetchRequest{URI: FileURI(dir)}); err == nil {
		t.Error("directory fetched")
	}
	for _, tc := range []struct{ base, ref, want string }{
		{"http://h/app/main.vxml", "next.vxml#f", "http://h/app/next.vxml#f"},
		{"http://h/app/main.vxml", "../root.vxml", "http://h/root.vxml"},
		{"file:///srv/ivr/main.vxml", "sub/x.vxml", "file:///srv/ivr/sub/x.vxml"},
		{"http://h/a", "http://other/b", "http://other/b"},
	} {
		got, err := ResolveURI(tc.base, tc.ref)
		if err != nil || got != tc.want {
			t.Errorf("ResolveURI(%q, %q) = %q, %v; want %q", tc.base, tc.ref, got, err, tc.want)
		}
	}
	if _, err := ResolveURI("http://h/", "http://[::1"); err == nil {
		t.Error("bad URI resolved")
	}
}

package config

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

func TestStoreKeepsVersionsAcrossReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tandem.db")
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Latest(ctx, "router"); !errors.Is(err, ErrNoDocument) {
		t.Fatalf("empty store: %v", err)
	}
	for i, body := range []string{"a: 1\n", "a: 2\n"} {
		v, err := s.Save(ctx, "router", []byte(body), "test")
		if err != nil || v != i+1 {
			t.Fatalf("save %d: v=%d err=%v", i, v, err)
		}
	}
	s.Close()
	s, err = OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err := s.Latest(ctx, "router")
	if err != nil || d.Version != 2 || string(d.Body) != "a: 2\n" || d.Author != "test" {
		t.Fatalf("latest after reopen: %+v %v", d, err)
	}
	h, err := s.History(ctx, "router")
	if err != nil || len(h) != 2 || h[0].Version != 2 {
		t.Fatalf("history: %+v %v", h, err)
	}
}

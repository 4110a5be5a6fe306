package cti

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/router"
)

// requestTypes are the bodies the handlers decode, by the fuzzer's pick.
var requestTypes = []func() any{
	func() any { return &LoginRequest{} },
	func() any { return &SupervisorLoginRequest{} },
	func() any { return &StateRequest{} },
	func() any { return &TransferRequest{} },
	func() any { return &ConsultRequest{} },
	func() any { return &CallDataRequest{} },
}

func requestSeeds(f *testing.F) {
	for i, s := range []string{
		`{"id":"a1","password":"p1","extension":"101"}`,
		`{"id":"sup","password":"secret"}`,
		`{"state":"not_ready","reason":1}`,
		`{"to":"queue","dest":"sales","priority":2}`,
		`{"to":"agent","dest":"a2"}`,
		`{"variables":{"pv1":"x","user.account":"A1","user.x[2]":"y"}}`,
		`{"state":"ready","reason":1e400}`,
		`{"id":"a1","bogus":1}`,
		`{"variables":{"pv1":7}}`,
		`[]`, `null`, ``, `{"state":"ready"} trailing`,
	} {
		f.Add(uint8(i), []byte(s))
	}
}

// FuzzRequestJSON: every request body CTI decodes is either refused as a
// 400 that names the field, or decoded into a value that survives a round
// trip through JSON unchanged.
func FuzzRequestJSON(f *testing.F) {
	requestSeeds(f)
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		v := requestTypes[int(kind)%len(requestTypes)]()
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		if err := decode(r, v); err != nil {
			if code := statusOf(err); code != http.StatusBadRequest {
				t.Fatalf("decode %T: %v gives status %d, want 400", v, err, code)
			}
			return
		}
		again := requestTypes[int(kind)%len(requestTypes)]()
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%T decoded but does not encode: %v", v, err)
		}
		if err := decode(httptest.NewRequest("POST", "/", bytes.NewReader(b)), again); err != nil {
			t.Fatalf("%T: its own encoding %s is refused: %v", v, b, err)
		}
		if !reflect.DeepEqual(v, again) {
			t.Fatalf("%T: %+v became %+v through %s", v, v, again, b)
		}
	})
}

// FuzzRequestHandlers sends each body to the handler that decodes it, on
// a fresh server (the failed-login limiter starts empty): whatever the
// body, the answer is not a 5xx, and an error is a JSON ErrorBody.
func FuzzRequestHandlers(f *testing.F) {
	requestSeeds(f)
	rc, err := router.ParseConfig([]byte(routerYAML))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		eng, err := router.New(rc, router.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		cfg := Config{Supervisors: []Supervisor{{ID: "sup", Password: "secret"}}}
		agents, queues := DirectoryOf(rc)
		srv, err := New(cfg, Deps{Engine: eng, Calls: &recorder{eng: eng}, Devices: newFakeDevices("101", "102", "201", "202"), Agents: agents, Queues: queues})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
		}()
		h := srv.Handler()
		send := func(method, path, token string, b []byte) *httptest.ResponseRecorder {
			r := httptest.NewRequest(method, path, bytes.NewReader(b))
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w
		}
		var lr LoginResponse
		if w := send("POST", "/v1/supervisor/login", "", []byte(`{"id":"sup","password":"secret"}`)); w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &lr) != nil {
			t.Fatalf("supervisor login: %d %s", w.Code, w.Body)
		}
		paths := []struct{ method, path, token string }{
			{"POST", "/v1/login", ""},
			{"POST", "/v1/supervisor/login", ""},
			{"POST", "/v1/agents/a1/state", lr.Token},
			{"POST", "/v1/agents/a1/calls/c1/transfer", lr.Token},
			{"POST", "/v1/agents/a1/calls/c1/consult", lr.Token},
			{"POST", "/v1/agents/a1/calls/c1/data", lr.Token},
		}
		p := paths[int(kind)%len(paths)]
		w := send(p.method, p.path, p.token, body)
		if w.Code >= 500 {
			t.Fatalf("%s %s with %q: %d %s", p.method, p.path, body, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var eb ErrorBody
			if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || strings.TrimSpace(eb.Error) == "" {
				t.Fatalf("%s %s with %q: %d without an error body: %s", p.method, p.path, body, w.Code, w.Body)
			}
		}
	})
}

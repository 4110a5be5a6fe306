package cti

import (
	"context"
	"net/http"
	"testing"
)

// TestLoginInProcess: the sign-in contract for callers in process answers
// as the HTTP API does: tokens for right credentials, 401/403 for wrong
// ones, a supervisor's token known by Supervisor (an agent's is not), and
// Logout ends a session.
func TestLoginInProcess(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	sup, err := e.srv.SupervisorLogin(ctx, SupervisorLoginRequest{ID: "sup", Password: "secret"})
	if err != nil || sup.Token == "" || sup.Supervisor != "sup" {
		t.Fatalf("supervisor login: %+v, %v", sup, err)
	}
	agent, err := e.srv.Login(ctx, LoginRequest{ID: "a1", Password: "p1"})
	if err != nil || agent.Token == "" || agent.Agent == nil || agent.Agent.Extension != "101" {
		t.Fatalf("agent login: %+v, %v", agent, err)
	}
	if id, ok := e.srv.Supervisor(sup.Token); !ok || id != "sup" {
		t.Errorf("Supervisor(supervisor's token) = %q, %v", id, ok)
	}
	if _, ok := e.srv.Supervisor(agent.Token); ok {
		t.Error("an agent's token passed for a supervisor's")
	}
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"wrong supervisor password", second(e.srv.SupervisorLogin(ctx, SupervisorLoginRequest{ID: "sup", Password: "x"})), http.StatusUnauthorized},
		{"unknown agent", second(e.srv.Login(ctx, LoginRequest{ID: "zz", Password: "p1"})), http.StatusUnauthorized},
		{"wrong agent password", second(e.srv.Login(ctx, LoginRequest{ID: "a2", Password: "p1"})), http.StatusUnauthorized},
		{"not the agent's phone", second(e.srv.Login(ctx, LoginRequest{ID: "a2", Password: "p2", Extension: "999"})), http.StatusForbidden},
		{"no id", second(e.srv.Login(ctx, LoginRequest{Password: "p2"})), http.StatusBadRequest},
	} {
		if got := StatusOf(tc.err); tc.err == nil || got != tc.want {
			t.Errorf("%s: %v (status %d), want %d", tc.name, tc.err, got, tc.want)
		}
	}
	e.srv.Logout(sup.Token)
	if _, ok := e.srv.Supervisor(sup.Token); ok {
		t.Error("a supervisor's token still valid after Logout")
	}
}

func second(_ LoginResponse, err error) error { return err }

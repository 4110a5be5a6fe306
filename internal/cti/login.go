package cti

import (
	"context"
	"errors"
	"fmt"

	"github.com/tandem-cc/tandem/internal/router"
)

// The sign-in contract for callers in process (the web console): the same
// checks, sessions and answers as POST /v1/login, POST /v1/supervisor/login
// and DELETE /v1/session, over plain data instead of HTTP. A caller in
// process limits failed sign-ins by the real source itself (the console
// does), so these count none: the HTTP handlers count theirs by
// RemoteAddr before they get here.

// Login checks an agent's id and password, then logs the agent in to the
// router at req.Extension (its configured extension when empty) and
// returns a session token. A wrong id or password wraps ErrUnauthorized
// (one answer for both, so ids cannot be probed); an extension that is not
// the agent's to use wraps ErrForbidden; the router's refusals (extension
// in use, none configured) wrap ErrConflict. StatusOf maps each to the
// status the HTTP API answers.
func (s *Server) Login(_ context.Context, req LoginRequest) (LoginResponse, error) {
	resp, _, err := s.login(req)
	return resp, err
}

// login is Login; checked says the password was right, which settles a
// failed-login reservation even when the login fails afterwards.
func (s *Server) login(req LoginRequest) (resp LoginResponse, checked bool, err error) {
	if req.ID == "" {
		return resp, false, badField("id", "required")
	}
	// The password first: what follows (the extension's check) must tell
	// nothing to whoever does not know it.
	if err := s.eng.CheckPassword(req.ID, req.Password); err != nil {
		s.log.Info("cti: login refused", "agent", string(req.ID), "err", err)
		return resp, false, fmt.Errorf("cti: login %s: wrong id or password: %w", req.ID, ErrUnauthorized)
	}
	ext, err := s.checkExtension(req.ID, req.Extension)
	if err != nil {
		s.log.Warn("cti: login refused: extension not allowed", "agent", string(req.ID), "extension", req.Extension)
		return resp, true, err
	}
	if err := s.eng.Login(req.ID, req.Password, ext); err != nil {
		switch {
		case errors.Is(err, router.ErrUnknownAgent), errors.Is(err, router.ErrBadPassword):
			// A reload between the two checks changed the agent.
			return resp, true, fmt.Errorf("cti: login %s: wrong id or password: %w", req.ID, ErrUnauthorized)
		case errors.Is(err, router.ErrIllegalState):
			return resp, true, err
		default:
			// The router's other refusals (extension in use, none
			// configured) conflict with the deployment's present state.
			return resp, true, fmt.Errorf("%w: %w", ErrConflict, err)
		}
	}
	tok, exp, err := s.auth.Issue(principal{Agent: req.ID})
	if err != nil {
		return resp, true, err
	}
	st, err := s.eng.Agent(req.ID)
	if err != nil {
		return resp, true, err
	}
	s.log.Info("cti: agent logged in", "agent", string(req.ID), "extension", st.Extension)
	return LoginResponse{Token: tok, Expires: exp, Agent: agentView(st)}, true, nil
}

// SupervisorLogin checks a supervisor's id and password and returns a
// session token; a wrong one wraps ErrUnauthorized.
func (s *Server) SupervisorLogin(_ context.Context, req SupervisorLoginRequest) (LoginResponse, error) {
	if req.ID == "" {
		return LoginResponse{}, badField("id", "required")
	}
	if !checkSupervisor(s.cfg.Supervisors, req.ID, req.Password) {
		s.log.Info("cti: supervisor login refused", "supervisor", req.ID)
		return LoginResponse{}, fmt.Errorf("cti: supervisor login %s: wrong id or password: %w", req.ID, ErrUnauthorized)
	}
	tok, exp, err := s.auth.Issue(principal{Supervisor: req.ID})
	if err != nil {
		return LoginResponse{}, err
	}
	s.log.Info("cti: supervisor logged in", "supervisor", req.ID)
	return LoginResponse{Token: tok, Expires: exp, Supervisor: req.ID}, nil
}

// Logout ends the session of token (unknown tokens are ignored); an
// agent's router state is left alone: logging out of the ACD is a state
// request.
func (s *Server) Logout(token string) { s.auth.Revoke(token) }

// Supervisor returns the supervisor whose session token is; false for an
// agent's token, or one unknown or expired. Other APIs served beside CTI
// (the reporting API) admit supervisors by it, sharing CTI's sessions.
func (s *Server) Supervisor(token string) (id string, ok bool) {
	who, ok := s.auth.Lookup(token)
	if !ok || !who.isSupervisor() {
		return "", false
	}
	return who.Supervisor, true
}

// StatusOf is the HTTP status the CTI API answers err with (401 for a
// wrong login, 403, 409...), for a caller in process that answers HTTP
// itself.
func StatusOf(err error) int { return statusOf(err) }

package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tandem-cc/tandem/internal/authlimit"
	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/router"
	"github.com/tandem-cc/tandem/internal/token"
)

//go:embed web
var webFS embed.FS

// RouterConfig is the router's configuration store (node.RouterConfig):
// Apply validates, reloads the engine without dropping a call and keeps
// the new version.
type RouterConfig interface {
	Current(ctx context.Context) (version int, body []byte, err error)
	Apply(ctx context.Context, body []byte, author string) (version int, err error)
}

// Live is what the live view and wallboard read from the router
// (*router.Engine).
type Live interface {
	Calls() []router.CallSnapshot
	LoggedIn() []router.AgentStatus
	Stats(name router.QueueName) (router.QueueStats, error)
}

var _ Live = (*router.Engine)(nil)

// Deps are what the console needs from the rest of the process. Every one
// but Log may be nil: the pages that need it then say it is not running.
type Deps struct {
	Log *slog.Logger
	// Now is the clock for session expiry; default time.Now.
	Now          func() time.Time
	RouterConfig RouterConfig
	Live         Live
	// CTI signs supervisors and agents in and out (CTI owns their
	// credentials and sessions) and serves the API the agent desktop and
	// the supervisor's team view reach through the console's own origin
	// (/cti/v1/...), with the CTI token the console keeps in the session.
	CTI CTI
	// Health returns the process's health for the health page.
	Health func() Health
	// Reports, when set, is the reporting API (/v1/reports/...), served to
	// admins and supervisors under the same path.
	Reports http.Handler
	// SIPConfig, when set, is the SIP edge's configuration store: the SIP
	// page edits trunks, users, server groups and the dial plan with it.
	SIPConfig SIPConfig
	// Calls, when set, clears calls from the live view (admins and
	// supervisors): node.CallControl, as CTI's clear call.
	Calls CallClearer
}

// CTI is what the console needs of the CTI server, over plain data
// (cti.Server implements it): sign-in and sign-out with CTI's own checks
// and sessions, and the API the desktops use, passed through on the
// console's origin. Errors are CTI's: cti.StatusOf tells a wrong login
// (401) from a refusal the user must see (403, 409).
type CTI interface {
	SupervisorLogin(ctx context.Context, req cti.SupervisorLoginRequest) (cti.LoginResponse, error)
	Login(ctx context.Context, req cti.LoginRequest) (cti.LoginResponse, error)
	// Logout ends a session token; unknown tokens are ignored.
	Logout(token string)
	// Handler is the CTI HTTP API (/v1/...).
	Handler() http.Handler
}

var _ CTI = (*cti.Server)(nil)

// CallClearer ends a call on every leg for whoever by names; an unknown
// call's error wraps cti.ErrNotFound, one that cannot be cleared
// cti.ErrConflict.
type CallClearer interface {
	Clear(ctx context.Context, call router.CallID, by string) error
}

// Console is the web console and agent desktop: one HTTP handler.
type Console struct {
	cfg       Config
	deps      Deps
	log       *slog.Logger
	auth      *token.Store[*session]
	adminHash []byte
	mux       *http.ServeMux
	static    http.Handler
	shell     []byte
	// failed slows down sign-ins that keep failing (see signInAllowed).
	failed *authlimit.Limiter
}

// dummyHash is compared against when a user is not the admin, so that a
// wrong user name takes as long as a wrong password and names cannot be
// probed by timing.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("tandem-console-dummy"), bcryptCost)

// New validates cfg and returns a console with nobody signed in.
func New(cfg Config, deps Deps) (*Console, error) {
	cfg.Fill()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, deps: deps, log: deps.Log}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("role", "console")
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	c.auth = token.New[*session](cfg.SessionTTL.D(), now)
	c.failed = authlimit.New(signInWindow, now)
	switch {
	case cfg.Admin.PasswordHash != "":
		c.adminHash = []byte(cfg.Admin.PasswordHash)
	default:
		pw := cfg.Admin.Password
		if pw == "" {
			var err error
			if pw, err = token.Random(); err != nil {
				return nil, err
			}
			pw = pw[:20]
			// Said once, at start, so that a fresh install can be
			// signed into; configure console.admin to stop it.
			c.log.Warn("console: no console.admin password configured; made one up for this run",
				"user", cfg.Admin.User, "password", pw)
		}
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcryptCost)
		if err != nil {
			return nil, fmt.Errorf("console: admin password: %w", err)
		}
		c.adminHash = h
	}
	if err := os.MkdirAll(cfg.MediaDir, 0o755); err != nil {
		return nil, fmt.Errorf("console: media dir: %w", err)
	}
	sub, err := fs.Sub(webFS, "web")
	if err != nil {
		return nil, err
	}
	if c.shell, err = fs.ReadFile(sub, "index.html"); err != nil {
		return nil, err
	}
	c.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	c.routes()
	return c, nil
}

// Listen is the configured address (with its default).
func (c *Console) Listen() string { return c.cfg.Listen }

// Handler is the console's whole HTTP surface.
func (c *Console) Handler() http.Handler { return securityHeaders(c.mux) }

// Run forgets expired sessions every minute until ctx ends.
func (c *Console) Run(ctx context.Context) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.auth.Sweep()
		case <-ctx.Done():
			return nil
		}
	}
}

// securityHeaders: no framing (clickjacking), no inline script (the
// assets are files, so a CSP of 'self' costs nothing), no MIME sniffing.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// pages maps each page of the console to the roles that may open it. The
// server checks the role before sending the page, and every API the page
// calls checks it again.
var pages = map[string][]Role{
	"/health":                  watchers,
	"/live":                    watchers,
	"/wallboard":               watchers,
	"/reports":                 watchers,
	"/team":                    {RoleSupervisor},
	"/desktop":                 {RoleAgent},
	"/config/agents":           {RoleAdmin},
	"/config/skill-groups":     {RoleAdmin},
	"/config/precision-queues": {RoleAdmin},
	"/config/dialed-numbers":   {RoleAdmin},
	"/config/scripts":          {RoleAdmin},
	"/config/media":            {RoleAdmin},
	"/config/sip":              {RoleAdmin},
}

// home is where each role lands after signing in.
var home = map[Role]string{RoleAdmin: "/health", RoleSupervisor: "/live", RoleAgent: "/desktop"}

func (c *Console) routes() {
	m := http.NewServeMux()
	m.Handle("GET /static/", c.static)
	m.HandleFunc("GET /login", c.servePage(nil))
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if ss, _, ok := c.sessionOf(r); ok {
			http.Redirect(w, r, home[ss.role], http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	})
	for p, roles := range pages {
		m.HandleFunc("GET "+p, c.servePage(roles))
	}
	m.HandleFunc("POST /api/login", c.handleLogin)
	m.HandleFunc("POST /api/logout", c.guard([]Role{RoleAdmin, RoleSupervisor, RoleAgent}, c.handleLogout))
	m.HandleFunc("GET /api/me", c.guard([]Role{RoleAdmin, RoleSupervisor, RoleAgent}, c.handleMe))
	m.HandleFunc("GET /api/health", c.guard(watchers, c.handleHealth))
	m.HandleFunc("GET /api/reason-codes", c.guard([]Role{RoleAdmin, RoleSupervisor, RoleAgent}, c.handleReasonCodes))
	m.HandleFunc("GET /api/config/router", c.guard([]Role{RoleAdmin}, c.handleRouterGet))
	m.HandleFunc("PUT /api/config/router", c.guard([]Role{RoleAdmin}, c.handleRouterPut))
	m.HandleFunc("POST /api/config/router/check", c.guard([]Role{RoleAdmin}, c.handleRouterCheck))
	m.HandleFunc("GET /api/config/sections/{section}", c.guard([]Role{RoleAdmin}, c.handleSectionGet))
	m.HandleFunc("PUT /api/config/sections/{section}", c.guard([]Role{RoleAdmin}, c.handleSectionPut))
	m.HandleFunc("GET /api/config/sip", c.guard([]Role{RoleAdmin}, c.handleSIPGet))
	m.HandleFunc("PUT /api/config/sip", c.guard([]Role{RoleAdmin}, c.handleSIPPut))
	m.HandleFunc("GET /api/media", c.guard([]Role{RoleAdmin}, c.handleMediaList))
	m.HandleFunc("POST /api/media", c.guard([]Role{RoleAdmin}, c.handleMediaUpload))
	m.HandleFunc("DELETE /api/media/{name}", c.guard([]Role{RoleAdmin}, c.handleMediaDelete))
	// Prompts are served without a session: the VoiceXML gateway fetches
	// them (ivr.media_base can point here), as it would from CVP's media
	// server. Only names listed by the upload are served, never a listing.
	m.HandleFunc("GET /media/{name}", c.handleMediaGet)
	m.HandleFunc("GET /api/live", c.guard(watchers, c.handleLive))
	m.HandleFunc("POST /api/calls/{id}/clear", c.guard(watchers, c.handleClear))
	m.HandleFunc("GET /api/scripts", c.guard(watchers, c.handleScripts))
	m.Handle("/cti/", c.guard([]Role{RoleSupervisor, RoleAgent}, c.proxyCTI))
	m.Handle("/v1/reports/", c.guard(watchers, c.proxyReports))
	c.mux = m
}

// servePage sends the page shell (the page's module is picked by path in
// app.js) to a session whose role may open it; roles nil is the sign-in
// page, open to all. Without a session the browser goes to sign in; with
// the wrong role it gets 403, not the page.
func (c *Console) servePage(roles []Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if roles != nil {
			ss, _, ok := c.sessionOf(r)
			if !ok {
				http.Redirect(w, r, "/login?next="+r.URL.Path, http.StatusSeeOther)
				return
			}
			if !allowed(ss.role, roles) {
				c.log.Info("console: page refused by role", "user", ss.user, "role", ss.role, "path", r.URL.Path)
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprintf(w, "<!doctype html><title>Forbidden</title><link rel=stylesheet href=/static/style.css><main class=forbidden><h1>403 — not for role %s</h1><p><a href=/>Back</a></p></main>", ss.role)
				return
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(c.shell)
	}
}

// errorBody is every API error's JSON.
type errorBody struct {
	Error string `json:"error"`
	// Problems are configuration errors, each at its line.
	Problems []Problem `json:"problems,omitempty"`
}

func (c *Console) fail(w http.ResponseWriter, code int, err error) {
	if code >= 500 {
		c.log.Error("console: request failed", "err", err)
	}
	writeJSON(w, code, errorBody{Error: err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// maxJSON bounds a JSON request body; router documents are the largest.
const maxJSON = 4 << 20

func decode(r *http.Request, v any) error {
	d := json.NewDecoder(io.LimitReader(r.Body, maxJSON))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("console: request body: %w", err)
	}
	return nil
}

// ---- sign in ----

type loginRequest struct {
	User      string `json:"user"`
	Password  string `json:"password"`
	Extension string `json:"extension"`
}

type meResponse struct {
	User    string    `json:"user"`
	Role    Role      `json:"role"`
	Agent   string    `json:"agent,omitempty"`
	CSRF    string    `json:"csrf"`
	Expires time.Time `json:"expires"`
	Home    string    `json:"home"`
}

func (c *Console) me(ss *session) meResponse {
	return meResponse{User: ss.user, Role: ss.role, Agent: ss.agent, CSRF: ss.csrf, Expires: ss.expires, Home: home[ss.role]}
}

// errWrongLogin is the one answer to every refused sign-in, so that user
// names cannot be told from passwords.
var errWrongLogin = errors.New("console: wrong user or password")

// handleLogin signs in, trying in turn the console's admin, the CTI
// supervisors and the router's agents (the last two through the CTI API,
// which owns their credentials). The request must be JSON from this origin:
// a cross-site form cannot send that without a preflight, which closes
// login CSRF.
func (c *Console) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		c.fail(w, http.StatusForbidden, errors.New("console: login: cross-origin request refused"))
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		c.fail(w, http.StatusUnsupportedMediaType, fmt.Errorf("console: login: want application/json, got %q", ct))
		return
	}
	var req loginRequest
	if err := decode(r, &req); err != nil {
		c.fail(w, http.StatusBadRequest, err)
		return
	}
	if req.User == "" || req.Password == "" {
		c.fail(w, http.StatusBadRequest, errors.New("console: login: user and password are required"))
		return
	}
	res, ok := c.signInAllowed(w, r, req.User)
	if !ok {
		return
	}
	ss, code, err := c.authenticate(r.Context(), req)
	if err != nil {
		c.log.Info("console: sign-in refused", "user", req.User, "remote", r.RemoteAddr, "err", err)
		switch code {
		case http.StatusUnauthorized:
			res.Done(false)
		case http.StatusInternalServerError:
			res.Cancel() // nothing was decided about the password
		default:
			res.Done(true) // the password was right; something else refused
		}
		c.fail(w, code, err)
		return
	}
	res.Done(true)
	tok, err := c.issue(ss)
	if err != nil {
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: tok, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, Expires: ss.expires})
	c.log.Info("console: signed in", "user", ss.user, "role", ss.role, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, c.me(ss))
}

func (c *Console) authenticate(ctx context.Context, req loginRequest) (*session, int, error) {
	if sameString(req.User, c.cfg.Admin.User) {
		if bcrypt.CompareHashAndPassword(c.adminHash, []byte(req.Password)) != nil {
			return nil, http.StatusUnauthorized, errWrongLogin
		}
		return &session{user: req.User, role: RoleAdmin}, 0, nil
	}
	// Same cost as the admin's check, whatever happens next.
	_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(req.Password))
	if c.deps.CTI == nil {
		return nil, http.StatusUnauthorized, errWrongLogin
	}
	sup, err := c.deps.CTI.SupervisorLogin(ctx, cti.SupervisorLoginRequest{ID: req.User, Password: req.Password})
	if err == nil {
		return &session{user: req.User, role: RoleSupervisor, ctiToken: sup.Token}, 0, nil
	}
	agent, err := c.deps.CTI.Login(ctx, cti.LoginRequest{ID: router.AgentID(req.User), Password: req.Password, Extension: req.Extension})
	if err == nil {
		return &session{user: req.User, role: RoleAgent, agent: req.User, ctiToken: agent.Token}, 0, nil
	}
	switch code := cti.StatusOf(err); code {
	case http.StatusConflict, http.StatusForbidden:
		// The credentials were right; the router refuses for another
		// reason (extension in use, missing, or not the agent's to
		// use), which the agent must see.
		return nil, code, fmt.Errorf("console: agent %s: %s", req.User, err)
	}
	return nil, http.StatusUnauthorized, errWrongLogin
}

func (c *Console) handleLogout(w http.ResponseWriter, r *http.Request, ss *session) {
	_, tok, _ := c.sessionOf(r)
	c.auth.Revoke(tok)
	if ss.ctiToken != "" && c.deps.CTI != nil {
		// The CTI token goes too; an agent's router state is its own
		// business (the desktop's Log out button is a state request).
		c.deps.CTI.Logout(ss.ctiToken)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}

func (c *Console) handleMe(w http.ResponseWriter, _ *http.Request, ss *session) {
	writeJSON(w, http.StatusOK, c.me(ss))
}

// ---- the CTI API, on the console's origin ----

// ctiPaths are the CTI API paths the console passes through; sign-in and
// router configuration go through the console's own API (admins only).
var ctiPaths = []string{"/v1/agents", "/v1/queues", "/v1/calls/", "/v1/events"}

// proxyCTI hands /cti/v1/... to the CTI handler in process with the
// session's CTI token. Mounting the CTI API on the console's origin keeps
// one cookie-based session in the browser, no CORS, and the bearer token
// out of reach of the page's script. WebSockets pass through too: the CTI
// handler hijacks the console's connection.
func (c *Console) proxyCTI(w http.ResponseWriter, r *http.Request, ss *session) {
	if c.deps.CTI == nil || ss.ctiToken == "" {
		c.fail(w, http.StatusNotFound, errors.New("console: the CTI role is not running"))
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/cti")
	ok := false
	for _, pre := range ctiPaths {
		if p == strings.TrimSuffix(pre, "/") || strings.HasPrefix(p, strings.TrimSuffix(pre, "/")+"/") {
			ok = true
		}
	}
	if !ok {
		c.fail(w, http.StatusNotFound, fmt.Errorf("console: %s is not passed to CTI", r.URL.Path))
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = p
	r2.URL.RawPath = ""
	r2.RequestURI = ""
	r2.Header.Del("Cookie")
	r2.Header.Del(csrfHeader)
	r2.Header.Set("Authorization", "Bearer "+ss.ctiToken)
	c.deps.CTI.Handler().ServeHTTP(w, r2)
}

// Principal is who the console says is asking, carried in the context of
// a request it hands to an in-process handler (the reporting API). No
// network peer can set a context value, so a handler mounted only behind
// the console may trust it.
type Principal struct {
	User string
	Role Role
}

type principalKey struct{}

// PrincipalOf returns the console session a request was passed on for.
func PrincipalOf(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// proxyReports hands /v1/reports/... to the reporting API in process, for
// admins and supervisors. A supervisor's request carries its CTI bearer
// token, as on the CTI listener; an admin has no CTI identity, so the
// request's context names the session (Principal) for the handler's
// Authorize to admit. The report API only reads: anything but GET is
// refused here before it gets there.
func (c *Console) proxyReports(w http.ResponseWriter, r *http.Request, ss *session) {
	if c.deps.Reports == nil {
		c.fail(w, http.StatusNotFound, errors.New("console: the reporting API is not running (report.driver off?)"))
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		c.fail(w, http.StatusMethodNotAllowed, fmt.Errorf("console: %s %s: the reporting API is read-only", r.Method, r.URL.Path))
		return
	}
	r2 := r.Clone(context.WithValue(r.Context(), principalKey{}, Principal{User: ss.user, Role: ss.role}))
	r2.RequestURI = ""
	r2.Header.Del("Cookie")
	r2.Header.Del(csrfHeader)
	r2.Header.Del("Authorization")
	if ss.ctiToken != "" {
		r2.Header.Set("Authorization", "Bearer "+ss.ctiToken)
	}
	c.deps.Reports.ServeHTTP(w, r2)
}

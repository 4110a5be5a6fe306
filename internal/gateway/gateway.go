package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tandem-cc/tandem/internal/asr"
	"github.com/tandem-cc/tandem/internal/asr/sphinx"
	"github.com/tandem-cc/tandem/internal/config/field"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/media"
	"github.com/tandem-cc/tandem/internal/mediaua"
	"github.com/tandem-cc/tandem/internal/vxml"
)

// Transferer carries out <transfer> by asking the call server, which owns
// the call's legs. Until the IVR service wires one, transfers fail with
// error.unsupported.transfer as the spec allows.
type Transferer interface {
	Transfer(ctx context.Context, call event.CallID, req vxml.TransferRequest) (vxml.TransferResult, error)
}

// Deps are the gateway's collaborators.
type Deps struct {
	Log      *slog.Logger
	Events   event.Sink
	Prompts  *media.PromptCache
	Transfer Transferer   // may be nil
	Fetcher  vxml.Fetcher // nil: HTTP and file fetcher
	// Recognizer hears speech for voice grammars; nil: the local
	// pocketsphinx engine when installed, else DTMF only.
	Recognizer asr.Recognizer
	// Sources says who may send INVITEs (mediaua.Config.Sources); nil:
	// anyone.
	Sources func(netip.Addr) bool
	// Direct says which admitted sources may call without the call
	// server's X-Tandem-Call-ID, as calls of their own (mediaua.Config.
	// Direct; direct.go); nil: any.
	Direct func(netip.Addr) bool
}

type app struct {
	pat *field.Pattern
	url string
}

// Gateway is the VoiceXML gateway role: a mediaua.UA whose dialogs each
// run the VoiceXML application their dialed number maps to.
type Gateway struct {
	cfg    Config
	log    *slog.Logger
	events event.Sink
	deps   Deps
	apps   []app
	ua     *mediaua.UA

	speech    bool           // a recogniser is given or pocketsphinx is installed
	asrOnce   sync.Once      // opens the recogniser on first use
	asr       asr.Recognizer // nil: none, voice grammars fall back to DTMF
	asrEngine *sphinx.Engine // the local engine when the gateway opened it, closed by Run
	// answered holds the direct calls confirmed and not yet ended
	// (direct.go).
	answered sync.Map // event.CallID → true
}

// New builds a gateway from its config (validated).
func New(cfg Config, deps Deps) (*Gateway, error) {
	g := &Gateway{cfg: cfg, log: deps.Log, events: deps.Events, deps: deps}
	if g.log == nil {
		g.log = slog.Default()
	}
	g.log = g.log.With("role", "vxml-gateway")
	if g.events == nil {
		g.events = event.Discard{}
	}
	if deps.Prompts == nil {
		return nil, errors.New("gateway: a prompt cache is needed")
	}
	g.speech = deps.Recognizer != nil || sphinx.Available("") == nil
	ip, err := netip.ParseAddr(cfg.MediaIP)
	if err != nil {
		return nil, fmt.Errorf("gateway: media_ip %q: %w", cfg.MediaIP, err)
	}
	srtp, err := media.ParseSRTPPolicy(cfg.SRTP)
	if err != nil {
		return nil, fmt.Errorf("gateway: srtp: %w", err)
	}
	for i, a := range cfg.Apps {
		p, err := field.CompilePattern(a.Pattern)
		if err != nil {
			return nil, fmt.Errorf("gateway: apps[%d]: %w", i, err)
		}
		g.apps = append(g.apps, app{pat: p, url: a.URL})
	}
	g.ua, err = mediaua.New(mediaua.Config{
		Listen: cfg.Listen, MediaIP: ip, UserAgent: "tandem-vxml", ContactUser: "vxml",
		RTPTimeout: cfg.RTPTimeout.D(), MaxDialogs: cfg.MaxSessions, Log: g.log, SRTP: srtp,
		Names: mediaua.Names{Dialog: "call", Remote: "caller", Local: "gateway"},
		Route: g.route, Admit: g.admit, OnSession: g.run, OnEnd: g.end, Sources: deps.Sources, Direct: deps.Direct,
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	return g, nil
}

// Listen opens the gateway's SIP socket (port 0 picks one; Addr tells).
func (g *Gateway) Listen() error {
	if err := g.ua.Listen(); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	return nil
}

// Addr is the gateway's SIP address.
func (g *Gateway) Addr() string { return g.ua.Addr() }

// Active is the number of calls in progress.
func (g *Gateway) Active() int { return g.ua.Active() }

// Run serves until ctx ends, then hangs up every call and waits for them.
func (g *Gateway) Run(ctx context.Context) error {
	if g.ua.Addr() == "" {
		if err := g.Listen(); err != nil {
			return err
		}
	}
	if err := g.deps.Prompts.TTSAvailable(); err != nil {
		g.log.Info("espeak-ng not found: text prompts already rendered still play; install espeak-ng to speak new text")
	}
	if !g.speech {
		g.log.Info(speechMissing)
	}
	g.log.Info("vxml gateway listening", "addr", g.Addr())
	err := g.ua.Serve(ctx)
	stopped := g.ua.Stop("gateway stopping", 10*time.Second)
	if !stopped {
		g.log.Warn("calls still open at stop", "calls", g.ua.Active())
	}
	g.asrOnce.Do(func() {}) // no recogniser opens after this
	if g.asrEngine != nil && stopped {
		g.asrEngine.Close() // no call can be decoding now
	}
	if err != nil {
		return fmt.Errorf("gateway: serve: %w", err)
	}
	return nil
}

// appFor returns the document URL for a dialed number.
func (g *Gateway) appFor(dnis string) (string, bool) {
	for _, a := range g.apps {
		if a.pat.Match(dnis) {
			return a.url, true
		}
	}
	return "", false
}

// route takes an INVITE whose dialed number maps to an application.
func (g *Gateway) route(d *mediaua.Dialog) bool {
	url, ok := g.appFor(d.Invite.Recipient.User)
	d.Value = url
	return ok
}

// call is one caller's VoiceXML session.
type call struct {
	id   event.CallID
	g    *Gateway
	log  *slog.Logger
	d    *mediaua.Dialog
	sess *media.Session
}

// hangup sends BYE unless the caller already hung up, and stops the call.
func (c *call) hangup(why string) { c.d.Hangup(why) }

// end reports the end of the gateway's leg of the call.
func (g *Gateway) end(d *mediaua.Dialog, why string) {
	// The call server reports the call's end; the gateway reports the end
	// of its own leg of it (the VRU leg), under the same call id.
	g.events.Emit(event.Event{Time: time.Now(), Kind: event.LegEnded, Call: d.Call, Leg: event.LegID(string(d.Call) + "-vru"), Side: "vru", Reason: "vxml: " + why})
	g.directEnded(d, why)
}

// run plays the call's VoiceXML application and returns its outcome; the
// UA then hangs up.
func (g *Gateway) run(d *mediaua.Dialog) string {
	c := &call{id: d.Call, g: g, log: d.Log, d: d, sess: d.Session}
	g.directAnswered(d)
	req := d.Invite
	url := expandURL(d.Value.(string), c.id, req.Recipient.User)
	ctx := d.Context()
	c.sess.Start(ctx)
	headers := map[string]string{}
	for _, name := range []string{"From", "To", "Call-ID", "User-to-User", "P-Asserted-Identity", "Diversion", event.CallIDHeader} {
		if h := req.GetHeader(name); h != nil {
			headers[name] = h.Value()
		}
	}
	info := vxml.SessionInfo{
		CallID:     c.id,
		LocalURI:   req.To().Address.String(),
		RemoteURI:  req.From().Address.String(),
		Protocol:   "sip",
		RequestURI: req.Recipient.String(),
		Headers:    headers,
	}
	if h := req.GetHeader("User-to-User"); h != nil {
		info.AAI = h.Value()
	}
	p := &platform{c: c, events: c.sess.Events(), voice: g.cfg.Voice}
	s, err := vxml.NewSession(vxml.Config{Platform: p, Fetcher: g.deps.Fetcher, Logger: c.log, Events: g.events, Session: info,
		OnStep: c.step})
	why := ""
	if err != nil {
		why = err.Error()
	} else {
		out, err := s.Run(ctx, url)
		why = out.String()
		if err != nil {
			why += ": " + err.Error()
		}
	}
	c.log.Info("vxml session ended", "outcome", why)
	return why
}

// expandURL fills an application URL's {call} and {dnis} with the call's
// global id and the dialed number (query-escaped), so one URL serves every
// call: the IVR service's bootstrap finds its call by id, as CVP's finds
// it by the correlation id in the dialed number.
func expandURL(u string, call event.CallID, dnis string) string {
	return strings.NewReplacer("{call}", url.QueryEscape(string(call)), "{dnis}", url.QueryEscape(dnis)).Replace(u)
}

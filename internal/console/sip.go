package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"

	"gopkg.in/yaml.v3"

	"github.com/tandem-cc/tandem/internal/sipedge"
)

// SIPConfig is the SIP edge's configuration store (node.SIPConfig): a
// versioned YAML document of trunks, users, server_groups and dial_plan.
// Apply validates it with the rest of the configuration file, reloads the
// edge without dropping a call and keeps the new version.
type SIPConfig interface {
	Current(ctx context.Context) (version int, body []byte, err error)
	Check(body []byte) []Problem
	Apply(ctx context.Context, body []byte, author string) (version int, problems []Problem, err error)
}

// sipRestartNote is said with every answer about the SIP document: what
// it cannot change.
const sipRestartNote = "Trunks, users, server groups and the dial plan apply at once, without dropping a call. " +
	"Listeners (sip.listen), the rest of the sip section and the registrar are in the configuration file: changing them needs a restart."

// The SIP document's items, as the form edits them. They mirror
// internal/config's types with omitempty, so a saved document stays as
// terse as one written by hand and empty form fields take the defaults.
type (
	sipTrunk struct {
		Name     string   `json:"name" yaml:"name"`
		Networks []string `json:"networks" yaml:"networks"`
	}
	sipUser struct {
		User string `json:"user" yaml:"user"`
		// Password is never sent back; empty keeps the stored one.
		Password string `json:"password,omitempty" yaml:"password"`
	}
	sipDestination struct {
		Address   string `json:"address" yaml:"address"`
		Transport string `json:"transport,omitempty" yaml:"transport,omitempty"`
		Priority  int    `json:"priority,omitempty" yaml:"priority,omitempty"`
		Weight    int    `json:"weight,omitempty" yaml:"weight,omitempty"`
	}
	sipHeartbeat struct {
		Enabled      *bool  `json:"enabled,omitempty" yaml:"enabled,omitempty"`
		UpInterval   string `json:"up_interval,omitempty" yaml:"up_interval,omitempty"`
		DownInterval string `json:"down_interval,omitempty" yaml:"down_interval,omitempty"`
		Timeout      string `json:"timeout,omitempty" yaml:"timeout,omitempty"`
		Failures     int    `json:"failures,omitempty" yaml:"failures,omitempty"`
	}
	sipGroup struct {
		Name         string           `json:"name" yaml:"name"`
		Destinations []sipDestination `json:"destinations" yaml:"destinations"`
		Heartbeat    sipHeartbeat     `json:"heartbeat" yaml:"heartbeat,omitempty"`
	}
	sipRule struct {
		Pattern     string `json:"pattern" yaml:"pattern"`
		ServerGroup string `json:"server_group,omitempty" yaml:"server_group,omitempty"`
		Registered  bool   `json:"registered,omitempty" yaml:"registered,omitempty"`
	}
	sipDoc struct {
		// Version is the stored version the form was loaded from.
		Version      int        `json:"version" yaml:"-"`
		Trunks       []sipTrunk `json:"trunks" yaml:"trunks"`
		Users        []sipUser  `json:"users" yaml:"users"`
		ServerGroups []sipGroup `json:"server_groups" yaml:"server_groups"`
		DialPlan     []sipRule  `json:"dial_plan" yaml:"dial_plan"`
	}
)

// sipLive is the edge's state beside the configuration.
type sipLive struct {
	ServerGroups  []sipedge.GroupHealth  `json:"server_groups"`
	Registrations []sipedge.Registration `json:"registrations"`
	Trunks        []Trunk                `json:"trunks"`
}

type sipGetResponse struct {
	sipDoc
	Live sipLive `json:"live"`
	Note string  `json:"note"`
}

type sipPutResponse struct {
	OK       bool      `json:"ok"`
	Version  int       `json:"version"`
	Problems []Problem `json:"problems"`
	Note     string    `json:"note"`
}

var errNoSIPConfig = errors.New("console: the SIP configuration store is not running (no router section)")

func (c *Console) currentSIP(ctx context.Context) (int, sipDoc, error) {
	v, body, err := c.deps.SIPConfig.Current(ctx)
	if err != nil {
		return 0, sipDoc{}, err
	}
	var d sipDoc
	if err := yaml.Unmarshal(body, &d); err != nil {
		return 0, sipDoc{}, fmt.Errorf("console: stored sip configuration version %d: %w", v, err)
	}
	d.Version = v
	return v, d, nil
}

// handleSIPGet returns the SIP document as form items (passwords left
// out) with the edge's live state: destinations up or down and
// registrations.
func (c *Console) handleSIPGet(w http.ResponseWriter, r *http.Request, _ *session) {
	if c.deps.SIPConfig == nil {
		c.fail(w, http.StatusNotFound, errNoSIPConfig)
		return
	}
	_, d, err := c.currentSIP(r.Context())
	if err != nil {
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	for i := range d.Users {
		d.Users[i].Password = ""
	}
	out := sipGetResponse{sipDoc: d, Note: sipRestartNote}
	out.Trunks, out.Users, out.ServerGroups, out.DialPlan = nonNil(out.Trunks), nonNil(out.Users), nonNil(out.ServerGroups), nonNil(out.DialPlan)
	if c.deps.Health != nil {
		h := c.deps.Health()
		out.Live = sipLive{ServerGroups: h.ServerGroups, Registrations: h.Registrations, Trunks: h.Trunks}
	}
	out.Live.ServerGroups, out.Live.Registrations, out.Live.Trunks = nonNil(out.Live.ServerGroups), nonNil(out.Live.Registrations), nonNil(out.Live.Trunks)
	writeJSON(w, http.StatusOK, out)
}

// handleSIPPut replaces the SIP document with the form's and applies it to
// the running edge. Problems come back with their field paths
// (trunks[0].networks[1]) for the form to place; a form loaded from an
// older version than the stored one is refused (409).
func (c *Console) handleSIPPut(w http.ResponseWriter, r *http.Request, ss *session) {
	if c.deps.SIPConfig == nil {
		c.fail(w, http.StatusNotFound, errNoSIPConfig)
		return
	}
	var req sipDoc
	if err := decode(r, &req); err != nil {
		c.fail(w, http.StatusBadRequest, err)
		return
	}
	cur, stored, err := c.currentSIP(r.Context())
	if err != nil {
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	// An empty password keeps the stored one of the same user; a new user
	// without one is then refused by validation, at its field.
	for i := range req.Users {
		if req.Users[i].Password != "" {
			continue
		}
		for _, u := range stored.Users {
			if u.User == req.Users[i].User {
				req.Users[i].Password = u.Password
			}
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(req); err != nil {
		c.fail(w, http.StatusBadRequest, fmt.Errorf("console: sip configuration: %w", err))
		return
	}
	body := buf.Bytes()
	if probs := c.deps.SIPConfig.Check(body); len(probs) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: fmt.Sprintf("console: sip configuration: %d problems", len(probs)), Problems: probs})
		return
	}
	if req.Version != 0 && req.Version != cur {
		c.fail(w, http.StatusConflict, fmt.Errorf("console: sip configuration changed since version %d (now %d): reload and edit again", req.Version, cur))
		return
	}
	v, probs, err := c.deps.SIPConfig.Apply(r.Context(), body, "console:"+ss.user)
	switch {
	case len(probs) > 0:
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: fmt.Sprintf("console: sip configuration: %d problems", len(probs)), Problems: probs})
		return
	case err != nil:
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	c.log.Info("console: sip configuration replaced", "version", v, "by", ss.user)
	writeJSON(w, http.StatusOK, sipPutResponse{OK: true, Version: v, Problems: []Problem{}, Note: sipRestartNote})
}

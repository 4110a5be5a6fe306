package conference

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/tandem-cc/tandem/internal/config/field"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/media"
	"github.com/tandem-cc/tandem/internal/mediaua"
)

// Deps are the bridge's collaborators.
type Deps struct {
	Log    *slog.Logger
	Events event.Sink
	// Sources says who may send INVITEs (mediaua.Config.Sources); nil:
	// anyone.
	Sources func(netip.Addr) bool
}

// RoomID names a room: what follows "conf-" in the Request-URI's user part.
type RoomID string

// roomPrefix starts the user part of every room URI.
const roomPrefix = "conf-"

// ParseRoom returns the room a Request-URI user part names, or false.
func ParseRoom(user string) (RoomID, bool) {
	id, ok := strings.CutPrefix(user, roomPrefix)
	if !ok || len(id) == 0 || len(id) > 64 {
		return "", false
	}
	for _, c := range []byte(id) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return "", false
		}
	}
	return RoomID(id), true
}

// RoomURI is the SIP URI that joins room id on the bridge at hostport:
// sip:conf-<id>@<hostport>.
func RoomURI(hostport string, id RoomID) string {
	return "sip:" + roomPrefix + string(id) + "@" + hostport
}

// Bridge is the conference bridge role: a mediaua.UA whose dialogs each
// are a party in a room.
type Bridge struct {
	cfg    Config
	log    *slog.Logger
	events event.Sink
	ua     *mediaua.UA

	// mu guards rooms: a room is created by the first INVITE for it and
	// removed when its mixer ends (its last party left).
	mu    sync.Mutex
	rooms map[RoomID]*media.Mixer
}

// New builds a bridge; cfg must be valid (see Config.Validate).
func New(cfg Config, deps Deps) (*Bridge, error) {
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("conference: %w", errors.Join(field.Join(errs)...))
	}
	b := &Bridge{cfg: cfg, log: deps.Log, events: deps.Events, rooms: map[RoomID]*media.Mixer{}}
	if b.log == nil {
		b.log = slog.Default()
	}
	b.log = b.log.With("role", "conference")
	if b.events == nil {
		b.events = event.Discard{}
	}
	ip, _ := netip.ParseAddr(cfg.MediaIP)
	srtp, _ := media.ParseSRTPPolicy(cfg.SRTP) // checked by Validate
	var err error
	b.ua, err = mediaua.New(mediaua.Config{
		Listen: cfg.Listen, MediaIP: ip, UserAgent: "tandem-conference", ContactUser: "conference",
		RTPTimeout: cfg.RTPTimeout.D(), Log: b.log, SRTP: srtp,
		Names: mediaua.Names{Dialog: "party", Remote: "party", Local: "bridge"},
		Route: b.route, Admit: b.admit, OnSession: b.watch, OnEnd: b.end, Sources: deps.Sources,
		OnReinvite: func(d *mediaua.Dialog) {
			r := d.Session.Remote()
			d.Log.Info("party re-INVITE", "addr", r.Addr, "codec", r.Codec, "direction", r.Direction, "srtp", r.Secure())
		},
		OnHold: b.holdChanged,
	})
	if err != nil {
		return nil, fmt.Errorf("conference: %w", err)
	}
	return b, nil
}

// Listen opens the bridge's SIP socket (port 0 picks one; Addr tells).
func (b *Bridge) Listen() error {
	if err := b.ua.Listen(); err != nil {
		return fmt.Errorf("conference: %w", err)
	}
	return nil
}

// Addr is the bridge's SIP address (host:port).
func (b *Bridge) Addr() string { return b.ua.Addr() }

// Active is the number of parties in all rooms (joining ones included).
func (b *Bridge) Active() int { return b.ua.Active() }

// Rooms is the number of rooms open.
func (b *Bridge) Rooms() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.rooms)
}

// RoomSize is the number of parties in room id (0 when it is not open).
func (b *Bridge) RoomSize(id RoomID) int {
	b.mu.Lock()
	m := b.rooms[id]
	b.mu.Unlock()
	if m == nil {
		return 0
	}
	return m.Len()
}

// Run serves until ctx ends, then hangs up every party and waits for them
// (at most 10 s).
func (b *Bridge) Run(ctx context.Context) error {
	if b.ua.Addr() == "" {
		if err := b.Listen(); err != nil {
			return err
		}
	}
	b.log.Info("conference bridge listening", "addr", b.Addr())
	err := b.ua.Serve(ctx)
	if !b.ua.Stop("bridge stopping", 10*time.Second) {
		b.log.Warn("parties still in rooms at stop", "parties", b.ua.Active())
	}
	if err != nil {
		return fmt.Errorf("conference: serve: %w", err)
	}
	return nil
}

// join puts s into room id, opening the room if needed.
func (b *Bridge) join(id RoomID, s *media.Session) (*media.Party, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for range 2 { // a room that ended just now is replaced once
		m := b.rooms[id]
		if m == nil {
			if len(b.rooms) >= b.cfg.MaxRooms {
				return nil, fmt.Errorf("%w (%d rooms)", errTooManyRooms, b.cfg.MaxRooms)
			}
			m = media.NewMixer(media.MixerConfig{Logger: b.log.With("room", string(id)), MaxParties: b.cfg.MaxParties})
			b.rooms[id] = m
			go b.forget(id, m)
			b.log.Info("room opened", "room", string(id))
		}
		p, err := m.Join(s)
		if errors.Is(err, media.ErrRoomEnded) {
			delete(b.rooms, id)
			continue
		}
		return p, err
	}
	return nil, media.ErrRoomEnded
}

// forget removes room id from the table when its mixer ends.
func (b *Bridge) forget(id RoomID, m *media.Mixer) {
	<-m.Done()
	b.mu.Lock()
	if b.rooms[id] == m {
		delete(b.rooms, id)
	}
	b.mu.Unlock()
	st := m.Stats()
	b.log.Info("room closed", "room", string(id), "slots", st.Ticks, "late_slots", st.LateTicks, "max_late", st.MaxLate)
}

var errTooManyRooms = errors.New("conference: too many rooms")

// party is one leg in a room: a dialog's mediaua.Dialog.Value.
type party struct {
	leg  event.LegID
	room RoomID
	peer string
	mp   *media.Party // nil until joined
}

// route takes an INVITE to conf-<room>.
func (b *Bridge) route(d *mediaua.Dialog) bool {
	id, ok := ParseRoom(d.Invite.Recipient.User)
	if !ok {
		return false
	}
	p := &party{leg: event.LegID(d.Invite.CallID().Value()), room: id, peer: d.Invite.Source()}
	if f := d.Invite.From(); f != nil {
		p.peer = f.Address.String()
	}
	d.Value = p
	d.Log = d.Log.With("room", string(id))
	return true
}

// admit joins the party's room before it is answered, so that a full room
// is a 503 rather than a dropped call. With a late offer the peer is not
// known yet: the room neither mixes nor sends to the party until the ACK's
// answer.
func (b *Bridge) admit(d *mediaua.Dialog) error {
	p := d.Value.(*party)
	mp, err := b.join(p.room, d.Session)
	if err != nil {
		d.Log.Info("party refused", "error", err)
		return err
	}
	p.mp = mp
	return nil
}

func (b *Bridge) emit(d *mediaua.Dialog, k event.Kind, reason string) {
	p := d.Value.(*party)
	b.events.Emit(event.Event{Time: time.Now(), Kind: k, Call: d.Call, Leg: p.leg, Side: "conference", Peer: p.peer, Reason: reason})
}

// holdChanged emits LegHeld or LegResumed.
func (b *Bridge) holdChanged(d *mediaua.Dialog, held bool) {
	room := string(d.Value.(*party).room)
	if held {
		b.emit(d, event.LegHeld, "room "+room)
	} else {
		b.emit(d, event.LegResumed, "room "+room)
	}
}

// watch reports the party joined, then ends it when its dialog ends (BYE,
// bridge stop) or its media does (RTP timeout).
func (b *Bridge) watch(d *mediaua.Dialog) string {
	p := d.Value.(*party)
	d.Log.Info("party joined", "codec", d.Session.Remote().Codec, "room_size", b.RoomSize(p.room))
	b.emit(d, event.LegAnswered, "joined room "+string(p.room))
	evs := d.Session.Events()
	for {
		select {
		case <-d.Context().Done():
			return "hung up"
		case ev, ok := <-evs:
			if !ok {
				evs = nil
				continue
			}
			if ev.Kind == media.EventRTPTimeout {
				return "rtp timeout"
			}
			// Keys and RTCP BYE do nothing in a room: a re-INVITE may
			// bring the party's stream back after an RTCP BYE.
		}
	}
}

// end takes the party out of its room.
func (b *Bridge) end(d *mediaua.Dialog, why string) {
	p := d.Value.(*party)
	p.mp.Leave()
	b.emit(d, event.LegEnded, "room "+string(p.room)+": "+why)
	d.Log.Info("party left", "why", why, "stats", p.mp.Stats())
}

package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"
	"gopkg.in/yaml.v3"

	"github.com/tandem-cc/tandem/internal/callserver"
	"github.com/tandem-cc/tandem/internal/conference"
	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/console"
	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/gateway"
	"github.com/tandem-cc/tandem/internal/gateway/demo"
	"github.com/tandem-cc/tandem/internal/ivr"
	"github.com/tandem-cc/tandem/internal/media"
	"github.com/tandem-cc/tandem/internal/report"
	"github.com/tandem-cc/tandem/internal/router"
	"github.com/tandem-cc/tandem/internal/sipedge"
)

// Node is one tandem process: the roles its config turns on, built and
// joined, with their sockets open.
type Node struct {
	Edge    *sipedge.Edge
	Calls   *callserver.Server
	Gateway *gateway.Gateway // nil without vxml_gateway.listen
	Engine  *router.Engine   // nil without a router section
	CTI     *cti.Server      // nil without a router section
	IVR     *ivr.Server      // nil without a router section
	Store   *config.Store    // nil without a router section
	Console *console.Console // nil without a router section or with console.listen off
	// SIP keeps the SIP edge's reloadable sections in Store (nil without
	// a router section, which brings the store).
	SIP    *SIPConfig
	Events *event.Counter
	// Reports is the durable event store (nil with report.driver off);
	// every role's events reach it through writer.
	Reports *report.Store
	writer  *report.Writer

	// Conference is the conference bridge, nil without conference.listen.
	Conference *conference.Bridge

	cfg   *config.Config
	log   *slog.Logger
	reg   *prometheus.Registry
	ctiLn net.Listener
	ivrLn net.Listener
	// mediaDir is served under /media/ on the IVR listener (the demo's
	// audio) when ivr.media_base is not set.
	mediaDir string
	metricLn net.Listener

	consoleLn net.Listener
	started   time.Time
	// control is CTI's call control, which the console's clear call
	// uses too (nil without a router section).
	control *CallControl
	https   httpsState // setupHTTPS: TLS on the CTI and console listeners
}

// Deps are what the process gives a node.
type Deps struct {
	Log *slog.Logger
	// Events, if set, also receives every event (tests record them).
	Events event.Sink
}

// New builds every role of cfg and opens their sockets (ports given as 0
// are chosen by the system). Run serves them.
func New(cfg *config.Config, deps Deps) (n *Node, err error) {
	log := deps.Log
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	n = &Node{cfg: cfg, log: log, reg: prometheus.NewRegistry(), Events: event.NewCounter(), started: startedNow()}
	// A failed New returns a nil node: close the one being built.
	built := n
	defer func() {
		if err != nil {
			built.close()
		}
	}()
	n.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	events := event.Fanout{event.Logger{Log: log}, n.Events}
	if deps.Events != nil {
		events = append(events, deps.Events)
	}
	if cfg.Report.Driver != "off" {
		// The node's id names its events in the store, so at start it
		// closes what its own earlier runs left open, and only that.
		var nodeID string
		if nodeID, err = report.NodeID(filepath.Join(cfg.DataDir, "node-id")); err != nil {
			return nil, err
		}
		rc := report.StoreConfig{Driver: cfg.Report.Driver, DSN: cfg.Report.DSN, Path: filepath.Join(cfg.DataDir, "events.db"), Logger: log, Node: nodeID,
			Records: cfg.Report.Records()}
		if n.Reports, err = report.Open(context.Background(), rc); err != nil {
			return nil, err
		}
		if n.writer, err = report.NewWriter(n.Reports, report.WriterConfig{SpoolPath: filepath.Join(cfg.DataDir, "events.spool"), Logger: log,
			Retention: cfg.Report.Retention()}); err != nil {
			return nil, err
		}
		events = append(events, n.writer)
	}

	if n.Edge, err = sipedge.New(&cfg.Config, sipedge.Deps{Log: log, Registry: n.reg, Events: events, RetryAfter: cfg.CallServer.RetryAfter.D()}); err != nil {
		return nil, err
	}
	var rt callserver.Router = callserver.NewStaticRouter(cfg.Routing.Static)
	var calls *router.Calls // the router's side of the contract with the call server
	var rc *RouterConfig
	var routerCfg router.Config
	if cfg.Router.Kind != 0 {
		if n.Store, err = config.OpenStore(filepath.Join(cfg.DataDir, "tandem.db")); err != nil {
			return nil, err
		}
		fromFile, err := yaml.Marshal(&cfg.Router)
		if err != nil {
			return nil, fmt.Errorf("router: %w", err)
		}
		rc = &RouterConfig{Store: n.Store, Log: log}
		doc, v, err := rc.Seed(context.Background(), fromFile)
		if err != nil {
			return nil, err
		}
		if n.Engine, calls, err = NewRouterWithEvents(doc, log, events); err != nil {
			return nil, err
		}
		routerCfg, _ = router.ParseConfig(doc)
		rc.Engine = n.Engine
		rt = calls
		log.Info("router configuration", "version", v)
		// The edge was built from the file; a SIP document saved at run
		// time replaces the file's sections before the edge serves.
		n.SIP = &SIPConfig{Store: n.Store, Edge: n.Edge, File: cfg, Log: log}
		sv, err := n.SIP.Seed(context.Background())
		if err != nil {
			return nil, err
		}
		log.Info("sip configuration", "version", sv)
	}
	var tracker callserver.Tracker // nil: the static table follows no call
	if calls != nil {
		tracker = calls
	}
	if n.Calls, err = callserver.New(cfg.CallServer, callserver.Deps{Edge: n.Edge, Router: rt, Tracker: tracker, Events: events, Log: log, Registry: n.reg}); err != nil {
		return nil, err
	}
	n.Edge.Handle(n.Calls)
	if calls != nil {
		agents, queues := cti.DirectoryOf(routerCfg)
		devices, err := NewDevices(n.Edge, cfg)
		if err != nil {
			return nil, err
		}
		n.control = &CallControl{Calls: n.Calls, Engine: n.Engine, Router: calls, ConferenceLabel: cfg.CallServer.ConferenceLabel}
		n.CTI, err = cti.New(cfg.CTI, cti.Deps{
			Engine: n.Engine, Log: log, RouterConfig: rc, Devices: devices,
			Calls: n.control, Agents: agents, Queues: queues,
		})
		if err != nil {
			return nil, err
		}
		// CTI hears the router's notices: agent states and every agent
		// call event come from the one owner of them.
		n.Engine.Subscribe(n.CTI.Notify)
		if n.ctiLn, err = net.Listen("tcp", cfg.CTI.Listen); err != nil {
			return nil, fmt.Errorf("cti: %w", err)
		}
		if n.ivrLn, err = net.Listen("tcp", cfg.IVR.Listen); err != nil {
			return nil, fmt.Errorf("ivr: %w", err)
		}
		mediaBase, holdAudio := cfg.IVR.MediaBase, cfg.IVR.HoldAudio
		if mediaBase == "" {
			if holdAudio == "" {
				holdAudio = "music"
			}
			// The demo's audio (queue music) is the default media, served
			// by the IVR service's listener under /media/: over HTTP,
			// because a document fetched over HTTP may not read the
			// gateway's files.
			menu, err := demo.Install(filepath.Join(cfg.DataDir, "apps", "demo"))
			if err != nil {
				return nil, err
			}
			n.mediaDir = filepath.Dir(menu)
			mediaBase = "http://" + n.ivrLn.Addr().String() + "/media/"
		}
		appsDir := cfg.IVR.AppsDir
		if appsDir == "" {
			appsDir = filepath.Join(cfg.DataDir, "vxml-apps")
		}
		ic := cfg.IVR
		ic.MediaBase, ic.AppsDir, ic.HoldAudio = mediaBase, appsDir, holdAudio
		n.IVR, err = ivr.New(ic, ivr.Deps{
			Router: ivrRouter{engine: n.Engine, router: calls, calls: n.Calls, log: log},
			Queue:  ivrQueue{engine: n.Engine},
			Logger: log.With("role", "ivr"),
		})
		if err != nil {
			return nil, err
		}
		calls.Attach(n.Calls, vru{n.IVR})
		if err := n.buildConsole(rc); err != nil {
			return nil, err
		}
	}
	if err := n.Edge.Listen(); err != nil {
		return nil, err
	}
	if cfg.VXMLGateway.Listen != "" {
		for i, a := range cfg.VXMLGateway.Apps {
			switch a.URL {
			case config.DemoApp:
				path, err := demo.Install(filepath.Join(cfg.DataDir, "apps", "demo"))
				if err != nil {
					return nil, err
				}
				cfg.VXMLGateway.Apps[i].URL = "file://" + path
			case config.IVRApp:
				if n.ivrLn == nil {
					return nil, fmt.Errorf("vxml_gateway.apps[%d].url: %s needs the router section (the IVR service runs with it)", i, config.IVRApp)
				}
				cfg.VXMLGateway.Apps[i].URL = "http://" + n.ivrLn.Addr().String() + "/ivr/start?call={call}"
			}
		}
		promptDir := filepath.Join(cfg.DataDir, "prompts")
		// The demo's prompts are shipped rendered: seeded into the cache,
		// the demo speaks without espeak-ng.
		if err := demo.SeedPrompts(promptDir); err != nil {
			return nil, err
		}
		prompts, err := media.NewPromptCache(media.PromptCacheConfig{Dir: promptDir, Logger: log, Voice: cfg.VXMLGateway.Voice})
		if err != nil {
			return nil, err
		}
		if n.Gateway, err = gateway.New(cfg.VXMLGateway, gateway.Deps{Log: log, Events: events, Prompts: prompts, Sources: n.Edge.Admits, Direct: n.Edge.FromTrunk}); err != nil {
			return nil, err
		}
		if err := n.Gateway.Listen(); err != nil {
			return nil, err
		}
	}
	if cf := cfg.Conference; cf.Listen != "" {
		if n.Conference, err = conference.New(cf, conference.Deps{Log: log, Events: events, Sources: n.Edge.Admits}); err != nil {
			return nil, err
		}
		if err := n.Conference.Listen(); err != nil {
			return nil, err
		}
	}
	if cfg.Metrics.Listen != "" {
		if n.metricLn, err = net.Listen("tcp", cfg.Metrics.Listen); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	if err := n.setupHTTPS(); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Node) close() {
	for _, l := range []net.Listener{n.ctiLn, n.ivrLn, n.metricLn, n.consoleLn} {
		if l != nil {
			l.Close()
		}
	}
	if n.writer != nil {
		// Everything emitted is written (or left in the spool) before the
		// store closes.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := n.writer.Close(ctx); err != nil {
			n.log.Warn("events not all stored at stop", "error", err)
		}
		cancel()
	}
	if n.Reports != nil {
		n.Reports.Close()
	}
	if n.Store != nil {
		n.Store.Close()
	}
}

// CTIAddr is the CTI API's address, or "".
func (n *Node) CTIAddr() string {
	if n.ctiLn == nil {
		return ""
	}
	return n.ctiLn.Addr().String()
}

// MetricsAddr is the metrics listener's address, or "".
func (n *Node) MetricsAddr() string {
	if n.metricLn == nil {
		return ""
	}
	return n.metricLn.Addr().String()
}

// Run serves until ctx ends, then drains: new calls get 503, calls in
// progress get call_server.drain_timeout to finish. The SIP edge keeps
// serving while the call server drains, so calls can still hang up.
func (n *Node) Run(ctx context.Context) error {
	defer n.close()
	edgeCtx, stopEdge := context.WithCancel(context.Background())
	defer stopEdge()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return n.Edge.Run(edgeCtx) })
	g.Go(func() error {
		<-gctx.Done()
		n.Edge.Drain()
		return nil
	})
	g.Go(func() error {
		err := n.Calls.Run(gctx)
		stopEdge()
		return err
	})
	if n.Gateway != nil {
		g.Go(func() error { return n.Gateway.Run(gctx) })
	}
	if n.Conference != nil {
		g.Go(func() error { return n.Conference.Run(gctx) })
	}
	if n.Engine != nil {
		g.Go(func() error { return n.Engine.Run(gctx) })
	}
	if n.CTI != nil {
		g.Go(func() error { return n.CTI.Run(gctx) })
		n.serveHTTP(g, gctx, "cti", n.ctiLn, n.ctiHandler())
	}
	if n.IVR != nil {
		g.Go(func() error { return n.IVR.Run(gctx) })
		h := n.IVR.Handler()
		if n.mediaDir != "" {
			mux := http.NewServeMux()
			mux.Handle("/", h)
			mux.Handle("/media/", http.StripPrefix("/media/", http.FileServer(http.Dir(n.mediaDir))))
			h = mux
		}
		n.serveHTTP(g, gctx, "ivr", n.ivrLn, h)
	}
	if n.Console != nil {
		g.Go(func() error { return n.Console.Run(gctx) })
		n.serveHTTP(g, gctx, "console", n.consoleLn, n.Console.Handler())
	}
	if n.metricLn != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(n.reg, promhttp.HandlerOpts{}))
		if n.cfg.Metrics.Pprof {
			mux.HandleFunc("GET /debug/pprof/", pprof.Index)
			mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		}
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
		n.serveHTTP(g, gctx, "metrics", n.metricLn, mux)
	}
	return g.Wait()
}

func (n *Node) serveHTTP(g *errgroup.Group, ctx context.Context, name string, ln net.Listener, h http.Handler) {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	g.Go(func() error {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return hs.Shutdown(sctx)
	})
	n.log.Info(name+" listening", "addr", ln.Addr().String())
}

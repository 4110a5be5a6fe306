package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/tandem-cc/tandem/internal/callserver"
	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/gateway"
	"github.com/tandem-cc/tandem/internal/gateway/demo"
	"github.com/tandem-cc/tandem/internal/media"
	"github.com/tandem-cc/tandem/internal/node"
	"github.com/tandem-cc/tandem/internal/router"
	"github.com/tandem-cc/tandem/internal/sipedge"
)

func runServe(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfgPath := fs.String("c", "", "YAML config file (default: the built-in loopback config)")
	check := fs.Bool("check", false, "validate the config and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg := config.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = config.Load(*cfgPath); err != nil {
			fmt.Fprintln(os.Stderr, "tandem:", err)
			return 2
		}
	}
	if *check {
		fmt.Println("config ok")
		return 0
	}
	log := newLogger(cfg.Log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("tandem stopped", "error", err)
		return 1
	}
	return 0
}

func newLogger(c config.Log) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lv}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// serve composes the roles and runs them until ctx ends, then drains.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	counter := event.NewCounter()
	events := event.Fanout{event.Logger{Log: log}, counter}

	edge, err := sipedge.New(cfg, sipedge.Deps{Log: log, Registry: reg})
	if err != nil {
		return err
	}
	var rt callserver.Router = callserver.NewStaticRouter(cfg.Routing.Static)
	var engine *router.Engine
	var bridge *node.RouterBridge
	if cfg.Router.Kind != 0 {
		engine, bridge, err = node.NewRouter(&cfg.Router, log)
		if err != nil {
			return err
		}
		rt = bridge
	}
	cs, err := callserver.New(cfg.CallServer, callserver.Deps{
		Edge: edge, Router: rt, Events: events, Log: log, Registry: reg,
	})
	if err != nil {
		return err
	}
	if bridge != nil {
		bridge.Calls = cs
	}
	edge.Handle(cs)
	if err := edge.Listen(); err != nil {
		return err
	}
	var gw *gateway.Gateway
	if cfg.VXMLGateway.Listen != "" {
		for i, a := range cfg.VXMLGateway.Apps {
			if a.URL != config.DemoApp {
				continue
			}
			path, err := demo.Install(filepath.Join(cfg.DataDir, "apps", "demo"))
			if err != nil {
				return err
			}
			cfg.VXMLGateway.Apps[i].URL = "file://" + path
		}
		prompts, err := media.NewPromptCache(media.PromptCacheConfig{Dir: filepath.Join(cfg.DataDir, "prompts"), Logger: log, Voice: cfg.VXMLGateway.Voice})
		if err != nil {
			return err
		}
		gw, err = gateway.New(cfg.VXMLGateway, gateway.Deps{Log: log, Events: events, Prompts: prompts})
		if err != nil {
			return err
		}
		if err := gw.Listen(); err != nil {
			return err
		}
	}

	// The edge keeps serving while the call server drains, so calls in
	// progress can still hang up; it stops once the call server is done.
	edgeCtx, stopEdge := context.WithCancel(context.Background())
	defer stopEdge()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return edge.Run(edgeCtx) })
	g.Go(func() error {
		<-gctx.Done()
		edge.Drain()
		return nil
	})
	g.Go(func() error {
		err := cs.Run(gctx)
		stopEdge()
		return err
	})
	if cfg.Metrics.Listen != "" {
		ln, err := net.Listen("tcp", cfg.Metrics.Listen)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		if cfg.Metrics.Pprof {
			mux.HandleFunc("GET /debug/pprof/", pprof.Index)
			mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		}
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
		hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		g.Go(func() error {
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("metrics: %w", err)
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			return hs.Shutdown(sctx)
		})
		log.Info("metrics listening", "addr", ln.Addr().String())
	}
	g.Go(func() error { trimMemory(gctx, log, 15*time.Second); return nil })
	if gw != nil {
		g.Go(func() error { return gw.Run(gctx) })
	}
	if engine != nil {
		g.Go(func() error { return engine.Run(gctx) })
	}
	log.Info("tandem started", "version", version, "sip", edge.Addr("udp"), "data_dir", cfg.DataDir)
	return g.Wait()
}

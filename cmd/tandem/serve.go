package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/node"
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
		// The router section is checked with the rest (file:line and
		// field path), so -check refuses what serve would refuse.
		if cfg, err = config.Load(*cfgPath, node.CheckRouter); err != nil {
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

// serve runs the roles of cfg until ctx ends, then drains.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	n, err := node.New(cfg, node.Deps{Log: log})
	if err != nil {
		return err
	}
	go trimMemory(ctx, log, 15*time.Second)
	log.Info("tandem started", "version", version, "sip", n.Edge.Addr("udp"), "data_dir", cfg.DataDir)
	return n.Run(ctx)
}

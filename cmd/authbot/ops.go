package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"

	"github.com/authbot/authbot/backup"
	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/observe"
	"github.com/authbot/authbot/storage/datadir"
)

// What `serve` runs beside the chat adapters for operators: the backup
// snapshot socket (always), the metrics/healthz server (metrics.listen) and
// scheduled backups (backup.dir). Kept here so serve.go only calls
// newOps/Start/Wait.

// ops is the operator side of serve.
type ops struct {
	metrics   *observe.Metrics
	wg        sync.WaitGroup
	metricsUp bool      // started by the lease loop, outliving one activation
	stderr    io.Writer // where serve prints for the operator (the claim code)
}

// newOps prepares metrics before the app opens, so the command handler is
// built with the Observer. The returned option goes to openApp.
func newOps(cfg *config.Config) (*ops, func(*commands.Options)) {
	o := &ops{metrics: observe.New(len(cfg.Users))}
	return o, func(opts *commands.Options) { opts.Observer = o.metrics }
}

// Start starts the side services; they stop when ctx ends (Wait waits).
// Failing to start any of them is an error: an operator who asked for
// metrics or backups must not get a bot that silently runs without.
func (o *ops) Start(ctx context.Context, a *app) error {
	if a.cfg.Storage.Driver != config.DriverPostgres {
		// bbolt's file is locked by serve: `authbot backup` asks here.
		// PostgreSQL serves any number of readers, so it reads directly.
		sock, err := backup.Listen(datadir.At(a.cfg.DataDir).Socket(), func(ctx context.Context, w io.Writer) (int64, error) {
			// The snapshot holds the audit entries buffered so far too
			// (authbot audit reads it while serve runs).
			if err := a.svc.FlushAudit(ctx); err != nil {
				a.log.Warn("could not write the audit log before a snapshot", "err", err)
			}
			return a.store.Backup(ctx, w)
		})
		if err != nil {
			return err
		}
		o.wg.Add(1)
		go func() {
			defer o.wg.Done()
			if err := sock.Serve(ctx); err != nil {
				a.log.Error("backup socket stopped", "err", err)
			}
		}()
	}
	if !o.metricsUp {
		// The database answers a read transaction: the one thing every
		// command needs. Adapters report their own connection trouble.
		health := func(ctx context.Context) error { return a.store.View(ctx, func(core.Tx) error { return nil }) }
		if err := o.startMetrics(ctx, a.cfg, a.log, health, &o.wg); err != nil {
			return err
		}
	}
	if b := a.cfg.Backup; b.Enabled() {
		r, err := backupRecipient(b.PassphraseFile, b.Recipient, 0)
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		s := &backup.Scheduler{
			Dir: b.Dir, Every: b.Every.D(), Keep: b.Keep,
			Write: func(ctx context.Context, f *os.File) error {
				opts := backup.CreateOptions{TmpDir: b.Dir, DataDir: a.cfg.DataDir, Recipient: r, Key: &a.masterKey, Snapshot: a.store.Backup, Version: version}
				if a.cfg.Storage.Driver == config.DriverPostgres {
					// The crypto store is in PostgreSQL too.
					opts.ExportMatrix = pgMatrixExport(a.cfg.Storage.DSN)
				}
				_, err := backup.Create(ctx, f, opts)
				return err
			},
			OnError: func(err error) { a.log.Error("scheduled backup failed", "err", err) },
			OnDone:  func(path string) { a.log.Info("scheduled backup written", "file", path) },
		}
		o.wg.Add(1)
		go func() {
			defer o.wg.Done()
			_ = s.Run(ctx)
		}()
	}
	return nil
}

// startMetrics serves /metrics and /healthz on metrics.listen, if set,
// until ctx ends. serve's lease loop starts it once, before the first
// activation, so a standby answers too.
func (o *ops) startMetrics(ctx context.Context, cfg *config.Config, log *slog.Logger, health observe.HealthFunc, wg *sync.WaitGroup) error {
	addr := cfg.Metrics.Listen
	if addr == "" {
		return nil
	}
	o.metricsUp = true
	h := o.metrics.Handler(health, func(err error) { log.Warn("health check failed", "err", err) })
	// Listen here, not in the goroutine: a taken port stops start-up with
	// the address in the message instead of racing the "serving" line.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		o.metricsUp = false
		return fmt.Errorf("metrics.listen %s: %w", addr, err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := observe.ServeListener(ctx, ln, h); err != nil && ctx.Err() == nil {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("metrics and healthz", "listen", addr)
	return nil
}

// Wait waits for the side services to stop after ctx ended.
func (o *ops) Wait() { o.wg.Wait() }

func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "the running bot's /healthz (default http://127.0.0.1:9090/healthz)")
	cfgPath := fs.String("config", "", "check the bot this config runs: its /healthz when metrics.listen is set, else its backup socket")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	if *url != "" && *cfgPath != "" {
		return fmt.Errorf("give --url or --config, not both: %w", errUsage)
	}
	if *cfgPath != "" {
		cfg, err := config.LoadOffline(*cfgPath, config.Env(getenv))
		if err != nil {
			return err
		}
		if cfg.Metrics.Listen == "" {
			// Without metrics, a live serve still answers on its backup
			// socket: connecting proves the process is up and past start-up.
			sock := datadir.At(cfg.DataDir).Socket()
			var d net.Dialer
			c, err := d.DialContext(ctx, "unix", sock)
			if err != nil {
				return fmt.Errorf("authbot is not serving (backup socket %s: %w); set metrics.listen for a full /healthz", sock, err)
			}
			c.Close()
			fmt.Fprintln(stdout, "ok (serving; set metrics.listen for adapter health)")
			return nil
		}
		*url = "http://" + loopback(cfg.Metrics.Listen) + "/healthz"
	}
	if *url == "" {
		*url = "http://127.0.0.1:9090/healthz"
	}
	if err := observe.Check(ctx, *url); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

// loopback turns a listen address (":9090", "0.0.0.0:9090") into one to
// connect to from the same machine.
func loopback(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

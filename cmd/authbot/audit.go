package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/authbot/authbot/backup"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/bolt"
	"github.com/authbot/authbot/storage/datadir"
	"github.com/authbot/authbot/storage/postgres"
)

// runAudit: authbot audit [--data DIR | --config FILE] [--vault NAME]
// [--limit N] [--json] prints the sealed audit log for the operator. It
// opens the database read-only, so it never changes the log, and checks
// the log's chain as it reads: a removed or edited entry is an error.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", "", "data directory (default: data_dir of --config, else the chat data dir)")
	cfgPath := fs.String("config", "", "config file whose data_dir to use")
	vault := fs.String("vault", "", "only entries about this shared vault")
	limit := fs.Int("limit", 0, "only the newest N entries (0: all)")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || *limit < 0 {
		fmt.Fprintln(stderr, "usage: authbot audit [--data DIR | --config FILE] [--vault NAME] [--limit N] [--json]")
		return errUsage
	}
	dir, err := resolveDataDir(*dataDir, *cfgPath, getenv)
	if err != nil {
		return err
	}
	pg, err := postgresConfig(*cfgPath, getenv)
	if err != nil {
		return err
	}
	if pg != nil {
		// PostgreSQL serves readers beside a running serve: read there.
		key, err := existingKeyAnyStore(dir, getenv)
		if err != nil {
			return err
		}
		defer seal.Zero(&key)
		store, err := postgres.Open(ctx, pg.Storage.DSN)
		if err != nil {
			return err
		}
		defer store.Close()
		if empty, err := store.Empty(ctx); err != nil || empty {
			if err == nil {
				err = errors.New("the PostgreSQL database holds no authbot records: is storage.dsn the right database?")
			}
			return err
		}
		return printAuditOf(ctx, stdout, store, key, *vault, *limit, *asJSON)
	}
	key, err := existingKey(dir, getenv)
	if err != nil {
		return err
	}
	store, done, err := openBoltSnapshot(ctx, dir)
	if err != nil {
		return err
	}
	defer done()
	return printAuditOf(ctx, stdout, store, key, *vault, *limit, *asJSON)
}

// openBoltSnapshot opens the bbolt database of dir read-only. While serve
// runs, bbolt's lock keeps every other process off the file, so it asks
// serve for a consistent snapshot through the backup socket (the one
// authbot backup uses), writes it to a temporary file in the data dir
// (0600, in the 0700 dir) and opens that; done closes and removes it.
func openBoltSnapshot(ctx context.Context, dir string) (*bolt.Store, func(), error) {
	l := datadir.At(dir)
	tmp, err := os.CreateTemp(dir, ".snapshot-*.db")
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot file: %w", err)
	}
	path := tmp.Name()
	remove := func() { _ = os.Remove(path) }
	_, ferr := backup.Fetch(ctx, l.Socket(), tmp)
	cerr := tmp.Close()
	if ferr == nil && cerr == nil {
		store, err := bolt.Open(ctx, path, bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
		if err != nil {
			remove()
			return nil, nil, fmt.Errorf("open the snapshot serve sent: %w", err)
		}
		return store, func() { store.Close(); remove() }, nil
	}
	remove()
	if ferr != nil && !errors.Is(ferr, backup.ErrNoServer) {
		return nil, nil, ferr
	}
	store, err := bolt.Open(ctx, l.DB(), bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return nil, nil, fmt.Errorf("open database: %w", err)
	}
	return store, func() { store.Close() }, nil
}

// printAuditOf prints store's audit log, opened with key.
func printAuditOf(ctx context.Context, stdout io.Writer, store core.Store, key seal.Key, vault string, limit int, asJSON bool) error {
	svc, err := core.NewService(ctx, store, key, core.SystemClock{})
	if err != nil {
		return err
	}
	events, err := svc.AuditLog(ctx, core.AuditFilter{Vault: vault, Limit: limit})
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return printAudit(stdout, events, asJSON)
}

func printAudit(w io.Writer, events []core.Event, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, e := range events {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	}
	if len(events) == 0 {
		_, err := fmt.Fprintln(w, "The audit log is empty.")
		return err
	}
	for _, e := range events {
		if _, err := fmt.Fprintln(w, auditLine(e)); err != nil {
			return err
		}
	}
	return nil
}

// auditLine is one entry in words: "2026-01-02 15:04:05Z #12 bob (telegram) code team/aws".
func auditLine(e core.Event) string {
	e = e.Printable() // person-typed fields: one line, no escapes
	var b strings.Builder
	fmt.Fprintf(&b, "%s #%d %s", e.Time.UTC().Format("2006-01-02 15:04:05Z"), e.Seq, e.Person)
	if e.Platform != "" {
		fmt.Fprintf(&b, " (%s)", e.Platform)
	}
	fmt.Fprintf(&b, " %s", e.Type)
	switch {
	case e.Account != "" && e.Vault != "":
		b.WriteString(" " + e.Vault + "/" + e.Account)
	case e.Account != "":
		b.WriteString(" " + e.Account)
	case e.Vault != "":
		b.WriteString(" vault " + e.Vault)
	}
	if e.Subject != "" {
		b.WriteString(" " + e.Subject)
	}
	if e.Detail != "" {
		b.WriteString(" [" + e.Detail + "]")
	}
	return b.String()
}

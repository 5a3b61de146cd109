package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
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
	o, err := openOffline(ctx, *dataDir, *cfgPath, getenv, offlineRead)
	if err != nil {
		return err
	}
	defer o.Close()
	return printAuditOf(ctx, stdout, o.store, o.key, *vault, *limit, *asJSON)
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

package core

import (
	"context"
	"strings"
	"testing"
)

// TestAuditCannotBeForged is the review's injection: a reason with a
// newline and a fake entry, ESC sequences and a bidi override. Stored
// cleaned; printed on one line whatever is in the log.
func TestAuditCannotBeForged(t *testing.T) {
	svc, _, _, _ := newTestService(t)
	ctx := context.Background()
	nasty := "deploy\n2026-12-01 10:00:00Z #9 alice code team/aws\x1b[2J\x1b]0;pwned\x07\u202eevil"
	err := svc.writeTx(ctx, func(tx Tx) error {
		return svc.auditTx(ctx, tx, Event{Type: EventApproval, Person: "bob\u200b", Account: "aws\n", Subject: "carol\x1b[31m", Detail: "requested: " + nasty})
	})
	if err != nil {
		t.Fatal(err)
	}
	log, err := svc.AuditLog(ctx, AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	e := log[len(log)-1]
	for _, f := range []string{e.Person, e.Account, e.Subject, e.Detail} {
		if strings.ContainsAny(f, "\n\r\x1b\x07\u202e\u200b") {
			t.Fatalf("stored field %q keeps control or format characters", f)
		}
	}
	if !strings.Contains(e.Detail, "deploy") || e.Person != "bob" {
		t.Fatalf("cleaning lost text: %+v", e)
	}
	// A raw entry (written before the rule) prints quoted.
	old := Event{Detail: "requested: " + nasty, Account: "a\nb"}.Printable()
	if strings.ContainsAny(old.Detail+old.Account, "\n\x1b\u202e") || !strings.HasPrefix(old.Detail, `"`) {
		t.Fatalf("printable: %q %q", old.Detail, old.Account)
	}
	if p := (Event{Person: "alice", Detail: "approved once"}).Printable(); p.Person != "alice" || p.Detail != "approved once" {
		t.Fatalf("plain fields changed: %+v", p)
	}
}

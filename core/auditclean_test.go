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

// TestCleanAuditTextPlainASCII: printable ASCII within the bound is kept
// as it is (the fast path), anything else still goes through the rule.
func TestCleanAuditTextPlainASCII(t *testing.T) {
	all := make([]byte, 0, '~'-' '+1)
	for c := byte(' '); c <= '~'; c++ {
		all = append(all, c)
	}
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"alice", "alice"},
		{string(all), string(all)},
		{strings.Repeat("a", maxAuditField), strings.Repeat("a", maxAuditField)},
		{strings.Repeat("a", maxAuditField+1), strings.Repeat("a", maxAuditField) + "…"},
		{"a\tb", "a b"},
		{"a\x7fb", "ab"},
		{"caf\u00e9\u00ad", "caf\u00e9"},
		{"\xff", "\uFFFD"},
	} {
		if got := cleanAuditText(tc.in); got != tc.want {
			t.Errorf("cleanAuditText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if n := testing.AllocsPerRun(20, func() { _ = cleanAuditText("account37") }); n != 0 {
		t.Errorf("cleaning a plain label allocates %v times", n)
	}
}

package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
)

func countEvents(events []core.Event, typ core.EventType, person, name string) int {
	n := 0
	for _, e := range events {
		if e.Type == typ && e.Person == person && (core.Summary{Vault: e.Vault, Label: e.Account}).Name() == name {
			n++
		}
	}
	return n
}

func TestAuditRecordsEveryCodeAndNoSecret(t *testing.T) {
	svc, _, _ := teamFixture(t)
	ctx := core.WithPlatform(context.Background(), "telegram")
	var codes []string
	code := func(person, q string) {
		t.Helper()
		c, err := svc.Code(ctx, person, q)
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, c.Code)
	}
	for i := 0; i < 3; i++ {
		code("bob", "team/aws")
		code("alice", "github")
	}
	all, err := svc.Codes(ctx, "bob")
	if err != nil || len(all) != 1 {
		t.Fatal(all, err)
	}
	if _, err := svc.Export(ctx, "carol", "team/aws"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ExportAll(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	events, err := svc.AuditLog(context.Background(), core.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		typ          core.EventType
		person, name string
		want         int
	}{
		{core.EventCode, "bob", "team/aws", 4},
		{core.EventCode, "alice", "github", 3},
		{core.EventExport, "carol", "team/aws", 1},
		{core.EventExport, "alice", "team/aws", 1},
		{core.EventExport, "alice", "github", 1},
		{core.EventAccountAdded, "alice", "team/aws", 1},
	} {
		if got := countEvents(events, tc.typ, tc.person, tc.name); got != tc.want {
			t.Errorf("%s %s %s: %d entries, want %d", tc.typ, tc.person, tc.name, got, tc.want)
		}
	}
	members := 0
	for _, e := range events {
		if e.Type == core.EventMemberAdded && e.Vault == "team" {
			members++
		}
		if e.Type == core.EventCode && e.Platform != "telegram" {
			t.Errorf("code entry without platform: %+v", e)
		}
	}
	if members != 2 {
		t.Errorf("%d member-added entries, want 2", members)
	}
	raw, _ := json.Marshal(events)
	for _, c := range codes {
		if strings.Contains(string(raw), c) {
			t.Errorf("the audit log holds code %s", c)
		}
	}
	for i := 1; i <= 3; i++ {
		if s := otp.EncodeSecret(secret(i)); strings.Contains(string(raw), s) {
			t.Errorf("the audit log holds a secret")
		}
	}
	for i, e := range events {
		if e.Seq != uint64(i+1) {
			t.Fatalf("entry %d has seq %d", i, e.Seq)
		}
	}
}

func TestVaultAuditForAdminsOnly(t *testing.T) {
	svc, _, _ := teamFixture(t)
	ctx := context.Background()
	if _, err := svc.Code(ctx, "bob", "aws"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Code(ctx, "alice", "github"); err != nil {
		t.Fatal(err)
	}
	events, err := svc.VaultAudit(ctx, "alice", "team", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Vault != "team" {
			t.Errorf("team's audit shows %+v", e)
		}
	}
	if countEvents(events, core.EventCode, "bob", "team/aws") != 1 {
		t.Errorf("bob's code is missing: %+v", events)
	}
	if ev, _ := svc.VaultAudit(ctx, "alice", "team", 2); len(ev) != 2 || ev[1].Seq != events[len(events)-1].Seq {
		t.Errorf("limit: %+v", ev)
	}
	var re *core.RoleError
	for _, p := range []string{"bob", "carol"} {
		if _, err := svc.VaultAudit(ctx, p, "team", 10); !errors.As(err, &re) {
			t.Errorf("%s reads team's audit: %v", p, err)
		}
	}
	mine, err := svc.MyAudit(ctx, "alice", 10)
	if err != nil || len(mine) != 1 || mine[0].Account != "github" {
		t.Errorf("MyAudit: %+v %v", mine, err)
	}
}

// TestAuditTamperingIsFound removes, swaps and truncates records of the
// log through the raw store.
func TestAuditTamperingIsFound(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(tx core.Tx, ids []string) error
	}{
		{"remove from the middle", func(tx core.Tx, ids []string) error { return tx.Delete(core.Ref{Kind: "audit", ID: ids[2]}) }},
		{"remove the last", func(tx core.Tx, ids []string) error { return tx.Delete(core.Ref{Kind: "audit", ID: ids[len(ids)-1]}) }},
		{"swap two", func(tx core.Tx, ids []string) error {
			a, _ := tx.Get(core.Ref{Kind: "audit", ID: ids[1]})
			b, _ := tx.Get(core.Ref{Kind: "audit", ID: ids[2]})
			if err := tx.Put(core.Ref{Kind: "audit", ID: ids[1]}, b); err != nil {
				return err
			}
			return tx.Put(core.Ref{Kind: "audit", ID: ids[2]}, a)
		}},
		{"flip a bit", func(tx core.Tx, ids []string) error {
			a, _ := tx.Get(core.Ref{Kind: "audit", ID: ids[0]})
			a[len(a)-1] ^= 1
			return tx.Put(core.Ref{Kind: "audit", ID: ids[0]}, a)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, store, _ := teamFixture(t)
			ctx := context.Background()
			if _, err := svc.AuditLog(ctx, core.AuditFilter{}); err != nil {
				t.Fatal(err)
			}
			err := store.Update(ctx, func(tx core.Tx) error {
				ids, err := tx.List("audit", "")
				if err != nil || len(ids) < 4 {
					return fmt.Errorf("%d records, %v", len(ids), err)
				}
				return tc.tamper(tx, ids)
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = svc.AuditLog(ctx, core.AuditFilter{})
			var ce *core.CorruptRecordError
			if !errors.As(err, &ce) {
				t.Errorf("tampered log read: %v", err)
			}
		})
	}
}

// TestPersonalCodesAreWrittenWithTheNextWrite: a personal /code stays a
// read transaction; its entry lands with the next write.
func TestPersonalCodesAreWrittenWithTheNextWrite(t *testing.T) {
	svc, store, _ := teamFixture(t)
	ctx := context.Background()
	count := func() int {
		n := 0
		_ = store.View(ctx, func(tx core.Tx) error {
			ids, err := tx.List("audit", "")
			n = len(ids)
			return err
		})
		return n
	}
	before := count()
	if _, err := svc.Code(ctx, "alice", "github"); err != nil {
		t.Fatal(err)
	}
	if count() != before {
		t.Fatal("a personal code wrote at once")
	}
	if _, err := svc.Add(ctx, "dave", core.NewAccount{Label: "x", Key: totpKey(77)}); err != nil {
		t.Fatal(err)
	}
	if count() != before+1 {
		t.Errorf("after the next write: %d records, want %d", count(), before+1)
	}
}

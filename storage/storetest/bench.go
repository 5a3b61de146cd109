package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/seal"
)

// BenchCode is core's BenchmarkCode over the harness's store: one /code
// among 50 accounts (person key, index, account, the code, the audit
// buffer), so bbolt and PostgreSQL figures sit side by side.
func BenchCode(b *testing.B, h Harness) {
	ctx := context.Background()
	key, _ := seal.NewKey()
	svc := service(b, h.fresh(b), key)
	var batch []core.NewAccount
	for i := range 50 {
		p := otp.Default(otp.TOTP)
		p.Secret = secret(i + 1)
		batch = append(batch, core.NewAccount{Label: fmt.Sprintf("account%02d", i), Key: otp.Key{Issuer: fmt.Sprintf("Issuer %d", i), Params: p}})
	}
	if _, err := svc.AddMany(ctx, "alice", batch); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.Code(ctx, "alice", "account37"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchAdd is core's BenchmarkAdd over the harness's store: one durable
// /add into a growing vault.
func BenchAdd(b *testing.B, h Harness) {
	ctx := context.Background()
	key, _ := seal.NewKey()
	svc := service(b, h.fresh(b), key)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := otp.Default(otp.TOTP)
		p.Secret = append(secret(i%50000), byte(i>>16), byte(i>>24))
		if _, err := svc.Add(ctx, fmt.Sprintf("person%d", i/50), core.NewAccount{Label: fmt.Sprintf("a%d", i), Key: otp.Key{Params: p}}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

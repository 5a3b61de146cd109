package core

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/internal/testkit/fakeclock"
)

// memStore is a fake Store: a map, with Update working on a copy that
// replaces the original only when fn succeeds (bbolt's all-or-nothing).
type memStore struct {
	mu   sync.Mutex
	data map[Ref][]byte
}

func newMemStore() *memStore { return &memStore{data: map[Ref][]byte{}} }

type memTx struct {
	data     map[Ref][]byte
	writable bool
}

func (s *memStore) View(ctx context.Context, fn func(Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fn(&memTx{data: s.data})
}

func (s *memStore) Update(ctx context.Context, fn func(Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := make(map[Ref][]byte, len(s.data))
	for k, v := range s.data {
		cp[k] = v
	}
	if err := fn(&memTx{data: cp, writable: true}); err != nil {
		return err
	}
	s.data = cp
	return nil
}

func (t *memTx) Get(r Ref) ([]byte, error) {
	v, ok := t.data[r]
	if !ok {
		return nil, ErrNotFound
	}
	return bytes.Clone(v), nil
}

func (t *memTx) Put(r Ref, v []byte) error {
	if !t.writable {
		return errors.New("read-only transaction")
	}
	t.data[r] = bytes.Clone(v)
	return nil
}

func (t *memTx) Delete(r Ref) error {
	if !t.writable {
		return errors.New("read-only transaction")
	}
	delete(t.data, r)
	return nil
}

func (t *memTx) List(kind, owner string) ([]string, error) {
	var ids []string
	for r := range t.data {
		if r.Kind == kind && r.Owner == owner {
			ids = append(ids, r.ID)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

func (t *memTx) Owners(kind string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for r := range t.data {
		if r.Kind == kind && !seen[r.Owner] {
			seen[r.Owner] = true
			out = append(out, r.Owner)
		}
	}
	sort.Strings(out)
	return out, nil
}

// rfcSecret is RFC 6238's 20-byte SHA1 seed, "12345678901234567890".
var rfcSecret = []byte("12345678901234567890")

func newTestService(t *testing.T) (*Service, *memStore, *fakeclock.Clock, seal.Key) {
	t.Helper()
	store := newMemStore()
	clock := fakeclock.New(time.Unix(1_700_000_015, 0))
	key, err := seal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := NewService(context.Background(), store, key, clock)
	if err != nil {
		t.Fatal(err)
	}
	return svc, store, clock, key
}

func totpKey(issuer string, secret []byte) otp.Key {
	p := otp.Default(otp.TOTP)
	p.Secret = secret
	return otp.Key{Issuer: issuer, Params: p}
}

func mustAdd(t *testing.T, svc *Service, person, label string, k otp.Key) Summary {
	t.Helper()
	s, err := svc.Add(context.Background(), person, NewAccount{Label: label, Key: k})
	if err != nil {
		t.Fatalf("add %s: %v", label, err)
	}
	return s
}

func TestCodeMatchesIndependentTOTP(t *testing.T) {
	svc, _, clock, _ := newTestService(t)
	ctx := context.Background()
	mustAdd(t, svc, "alice", "binance", totpKey("Binance", rfcSecret))
	for _, at := range []int64{59, 1111111109, 1234567890, 2000000000} {
		clock.Set(time.Unix(at, 0))
		c, err := svc.Code(ctx, "alice", "BIN")
		if err != nil {
			t.Fatal(err)
		}
		want, _ := totp.GenerateCode(otp.EncodeSecret(rfcSecret), clock.Now())
		if c.Code != want {
			t.Errorf("t=%d: code %s, want %s", at, c.Code, want)
		}
		step := at / 30
		if got := c.ValidUntil.Unix(); got != (step+1)*30 {
			t.Errorf("t=%d: valid until %d, want %d", at, got, (step+1)*30)
		}
	}
}

func TestHOTPCounterAdvancesAndPersists(t *testing.T) {
	svc, store, clock, key := newTestService(t)
	ctx := context.Background()
	p := otp.Default(otp.HOTP)
	p.Secret = rfcSecret
	mustAdd(t, svc, "alice", "vpn", otp.Key{Params: p})
	// RFC 4226 Appendix D, counters 0..4.
	want := []string{"755224", "287082", "359152", "969429", "338314"}
	for i, w := range want[:3] {
		c, err := svc.Code(ctx, "alice", "vpn")
		if err != nil || c.Code != w {
			t.Fatalf("code %d = %q, %v; want %s", i, c.Code, err, w)
		}
	}
	// A new service over the same store (a restart) continues the count.
	svc2, err := NewService(ctx, store, key, clock)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want[3:] {
		c, err := svc2.Code(ctx, "alice", "vpn")
		if err != nil || c.Code != w {
			t.Fatalf("after restart code %d = %q, %v; want %s", i, c.Code, err, w)
		}
		independent, _ := hotp.GenerateCode(otp.EncodeSecret(rfcSecret), uint64(3+i))
		if c.Code != independent {
			t.Fatalf("pquerna says %s", independent)
		}
	}
}

func TestResolveByNameAndPrefix(t *testing.T) {
	svc, _, _, _ := newTestService(t)
	ctx := context.Background()
	for i, l := range []string{"git", "github", "gitlab", "Binance"} {
		mustAdd(t, svc, "alice", l, totpKey("", bytes.Repeat([]byte{byte(i + 1)}, 20)))
	}
	tests := []struct {
		query   string
		want    string
		matches int
	}{
		{"git", "git", 0},         // exact beats prefix
		{"GITH", "github", 0},     // case-insensitive unique prefix
		{"binance", "Binance", 0}, // exact, any case
		{"gi", "", 3},             // several
		{"nope", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			s, err := svc.Resolve(ctx, "alice", tt.query)
			var amb *AmbiguousError
			var nf *NotFoundError
			switch {
			case tt.want != "":
				if err != nil || s.Label != tt.want {
					t.Fatalf("got %q, %v; want %s", s.Label, err, tt.want)
				}
			case tt.matches > 0:
				if !errors.As(err, &amb) || len(amb.Matches) != tt.matches {
					t.Fatalf("got %v; want %d matches", err, tt.matches)
				}
			default:
				if !errors.As(err, &nf) {
					t.Fatalf("got %v; want not found", err)
				}
			}
		})
	}
	if _, err := svc.Resolve(ctx, "bob", "git"); !errors.Is(err, ErrNoAccounts) {
		t.Errorf("another person sees alice's accounts: %v", err)
	}
}

func TestAddRefusesDuplicatesAndTakenNames(t *testing.T) {
	svc, _, _, _ := newTestService(t)
	ctx := context.Background()
	mustAdd(t, svc, "alice", "binance", totpKey("Binance", rfcSecret))
	var dup *DuplicateError
	if _, err := svc.Add(ctx, "alice", NewAccount{Label: "other", Key: totpKey("", rfcSecret)}); !errors.As(err, &dup) || dup.Label != "binance" {
		t.Errorf("same secret again: %v", err)
	}
	var taken *NameTakenError
	if _, err := svc.Add(ctx, "alice", NewAccount{Label: "BINANCE", Key: totpKey("", bytes.Repeat([]byte{9}, 20))}); !errors.As(err, &taken) {
		t.Errorf("same name again: %v", err)
	}
	// The same secret for another person is their business.
	mustAdd(t, svc, "bob", "binance", totpKey("Binance", rfcSecret))
	// No label: made from the issuer, then made unique.
	k := totpKey("Binance", bytes.Repeat([]byte{7}, 20))
	s, err := svc.Add(ctx, "alice", NewAccount{Key: k})
	if err != nil || s.Label != "binance-2" {
		t.Errorf("derived label = %q, %v", s.Label, err)
	}
	bad := totpKey("", []byte{1})
	bad.Params.Digits = 3
	if _, err := svc.Add(ctx, "alice", NewAccount{Label: "x", Key: bad}); err == nil {
		t.Error("invalid parameters were stored")
	}
}

func TestAddManyIsAllOrNothing(t *testing.T) {
	svc, _, _, _ := newTestService(t)
	ctx := context.Background()
	mustAdd(t, svc, "alice", "binance", totpKey("Binance", rfcSecret))
	good := totpKey("GitHub", bytes.Repeat([]byte{2}, 20))
	broken := totpKey("Broken", nil)
	if _, err := svc.AddMany(ctx, "alice", []NewAccount{{Key: good}, {Key: broken}}); err == nil {
		t.Fatal("an import with an invalid entry succeeded")
	}
	list, _ := svc.List(ctx, "alice")
	if len(list) != 1 {
		t.Fatalf("failed import changed the vault: %d accounts", len(list))
	}
	rep, err := svc.AddMany(ctx, "alice", []NewAccount{{Key: good}, {Key: totpKey("Binance", rfcSecret)}, {Key: good}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Added) != 1 || len(rep.Duplicates) != 2 {
		t.Errorf("added %d, duplicates %d; want 1 and 2", len(rep.Added), len(rep.Duplicates))
	}
}

func TestRenameAndDelete(t *testing.T) {
	svc, _, _, _ := newTestService(t)
	ctx := context.Background()
	a := mustAdd(t, svc, "alice", "binance", totpKey("Binance", rfcSecret))
	mustAdd(t, svc, "alice", "github", totpKey("GitHub", bytes.Repeat([]byte{2}, 20)))
	var taken *NameTakenError
	if _, err := svc.Rename(ctx, "alice", "binance", "GitHub"); !errors.As(err, &taken) {
		t.Errorf("rename onto a taken name: %v", err)
	}
	if s, err := svc.Rename(ctx, "alice", "bin", "exchange"); err != nil || s.Label != "exchange" {
		t.Fatalf("rename: %q %v", s.Label, err)
	}
	if _, err := svc.Code(ctx, "alice", "exchange"); err != nil {
		t.Errorf("code after rename: %v", err)
	}
	if _, err := svc.Delete(ctx, "alice", a.ID); err != nil {
		t.Fatal(err)
	}
	list, _ := svc.List(ctx, "alice")
	if len(list) != 1 || list[0].Label != "github" {
		t.Errorf("after delete: %+v", list)
	}
}

func TestWrongMasterKeyIsNamed(t *testing.T) {
	svc, store, clock, _ := newTestService(t)
	mustAdd(t, svc, "alice", "binance", totpKey("Binance", rfcSecret))
	other, _ := seal.NewKey()
	if _, err := NewService(context.Background(), store, other, clock); !errors.Is(err, ErrWrongMasterKey) {
		t.Errorf("wrong key: %v", err)
	}
}

func TestMissingKeyCheckWithDataIsCorrupt(t *testing.T) {
	svc, store, clock, key := newTestService(t)
	mustAdd(t, svc, "alice", "binance", totpKey("Binance", rfcSecret))
	delete(store.data, Ref{Kind: kindMeta, ID: "keycheck"})
	before := len(store.data)
	if _, err := NewService(context.Background(), store, key, clock); !errors.Is(err, ErrCorrupt) {
		t.Errorf("got %v, want ErrCorrupt", err)
	}
	if len(store.data) != before {
		t.Error("a failed start wrote to the store")
	}
}

func TestRecordMovedToAnotherPersonFailsToOpen(t *testing.T) {
	svc, store, _, _ := newTestService(t)
	ctx := context.Background()
	mustAdd(t, svc, "alice", "binance", totpKey("Binance", rfcSecret))
	mustAdd(t, svc, "mallory", "mine", totpKey("Mine", bytes.Repeat([]byte{5}, 20)))
	alice, mallory := svc.owner("alice"), svc.owner("mallory")
	// Copy alice's index and account records over mallory's.
	for r, v := range store.data {
		if r.Owner == alice {
			store.data[Ref{Kind: r.Kind, Owner: mallory, ID: r.ID}] = v
		}
	}
	var bad *CorruptRecordError
	if _, err := svc.List(ctx, "mallory"); !errors.As(err, &bad) {
		t.Fatalf("moved index opened: %v", err)
	}
	// Alice's own vault is untouched.
	if _, err := svc.Code(ctx, "alice", "binance"); err != nil {
		t.Errorf("alice after the attack: %v", err)
	}
}

func TestTamperedAccountIsAnErrorNotEmpty(t *testing.T) {
	svc, store, _, _ := newTestService(t)
	ctx := context.Background()
	s := mustAdd(t, svc, "alice", "binance", totpKey("Binance", rfcSecret))
	ref := accountRef(svc.owner("alice"), s.ID)
	store.data[ref][len(store.data[ref])-1] ^= 1
	var bad *CorruptRecordError
	if _, err := svc.Code(ctx, "alice", "binance"); !errors.As(err, &bad) {
		t.Fatalf("tampered record: %v", err)
	}
	if _, err := svc.Codes(ctx, "alice"); !errors.As(err, &bad) {
		t.Fatalf("tampered record in all codes: %v", err)
	}
}

func TestCheckConfirmsAndRecoveryCodes(t *testing.T) {
	svc, _, clock, _ := newTestService(t)
	ctx := context.Background()
	mustAdd(t, svc, "alice", "binance", totpKey("Binance", rfcSecret))
	prev, _ := totp.GenerateCode(otp.EncodeSecret(rfcSecret), clock.Now().Add(-30*time.Second))
	if s, ok, err := svc.Check(ctx, "alice", "binance", prev); err != nil || !ok || !s.Confirmed {
		t.Fatalf("previous-step code: ok=%v err=%v", ok, err)
	}
	if _, ok, _ := svc.Check(ctx, "alice", "binance", "000000"); ok {
		t.Error("a wrong code matched")
	}
	s, err := svc.SetRecoveryCodes(ctx, "alice", "binance", []string{"abcd-efgh", "ijkl-mnop"})
	if err != nil || s.RecoveryLeft != 2 {
		t.Fatalf("set: %+v %v", s, err)
	}
	if s, err = svc.UseRecoveryCode(ctx, "alice", "binance", "ABCD EFGH"); err != nil || s.RecoveryLeft != 1 {
		t.Fatalf("use: %+v %v", s, err)
	}
	if _, err = svc.UseRecoveryCode(ctx, "alice", "binance", "abcd-efgh"); !errors.Is(err, ErrNotRecoveryCode) {
		t.Errorf("used twice: %v", err)
	}
}

func TestCleanLabel(t *testing.T) {
	tests := map[string]string{
		"  binance ":             "binance",
		"work  github":           "work-github",
		"/code":                  "code",
		"a\x00b":                 "ab",
		strings.Repeat("x", 100): strings.Repeat("x", MaxLabelLen),
		"   ":                    "",
	}
	for in, want := range tests {
		if got := CleanLabel(in); got != want {
			t.Errorf("CleanLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIndexCodecRoundTripAndDamage(t *testing.T) {
	in := []indexEntry{
		{Summary: Summary{ID: "a1", Label: "binance", Issuer: "Binance", User: "ann@example.org", Kind: otp.TOTP, Confirmed: true, RecoveryCodes: 10, RecoveryLeft: 7}, Fingerprint: "fp1"},
		{Summary: Summary{ID: "b2", Label: "vpn", Kind: otp.HOTP}, Fingerprint: "fp2"},
		// newID and OpaqueID forms, stored as their bytes; an unknown kind spelled out.
		{Summary: Summary{ID: "0123456789abcdef", Label: "steam", Kind: otp.Steam}, Fingerprint: "AAECAwQFBgcICQoLDA0ODw"},
		{Summary: Summary{ID: "0123456789ABCDEF", Label: "odd", Kind: "motp"}, Fingerprint: "AAECAwQFBgcICQoLDA0ODx"},
		// Repeated issuer and users: references to earlier entries.
		{Summary: Summary{ID: "c3", Label: "binance-2", Issuer: "Binance", User: "bob@example.org", Kind: otp.TOTP}, Fingerprint: "fp3"},
		{Summary: Summary{ID: "d4", Label: "vpn-2", User: "ann@example.org", Kind: otp.TOTP}, Fingerprint: "fp4"},
		{Summary: Summary{ID: "e5", Label: "mail", Issuer: "Binance", User: "ann@example.org", Kind: otp.TOTP}, Fingerprint: "fp5"},
	}
	b := encodeIndex(in)
	out, err := decodeIndex(b)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out, in) {
		t.Fatalf("round trip: %+v", out)
	}
	for cut := 0; cut < len(b); cut++ {
		if _, err := decodeIndex(b[:cut]); err == nil {
			t.Fatalf("truncated to %d bytes decoded", cut)
		}
	}
	if _, err := decodeIndex(append(bytes.Clone(b), 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	if n := bytes.Count(b, []byte("ann@example.org")); n != 1 {
		t.Errorf("a user repeated in three entries is spelled out %d times, want 1", n)
	}
}

// TestIndexStringReferences: a version 3 reference must name an earlier
// entry's non-empty string; any other is damage.
func TestIndexStringReferences(t *testing.T) {
	entry := func(e *encoder, label, issuer []byte) {
		e.uint(entryHexID | 1<<entryKindShift)
		e.b = append(e.b, make([]byte, 8)...)
		e.b = append(e.b, label...)
		e.b = append(e.b, issuer...)
		e.uint(0) // user
		e.str("fp")
		e.uint(0)
		e.uint(0)
	}
	index := func(label, issuer []byte) []byte {
		e := &encoder{}
		e.byte(indexVersion)
		e.uint(2)
		entry(e, []byte{2 << 1, 'g', 'h'}, []byte{0})
		entry(e, label, issuer)
		return e.b
	}
	got, err := decodeIndex(index([]byte{1<<1 | 1}, []byte{0}))
	if err != nil || len(got) != 2 || got[1].Label != "gh" || got[1].Issuer != "" {
		t.Fatalf("a reference to the entry before: %+v, %v", got, err)
	}
	for name, fields := range map[string][2][]byte{
		"zero entries back":      {{0<<1 | 1}, {0}},
		"before the first entry": {{2<<1 | 1}, {0}},
		"far beyond the entries": {{0xff, 0xff, 0x03}, {0}},
		"to an empty string":     {{0}, {1<<1 | 1}},
	} {
		if _, err := decodeIndex(index(fields[0], fields[1])); err == nil {
			t.Errorf("a reference %s decoded", name)
		}
	}
}

// TestCodecsReadVersion1 decodes records as the version 1 encoders wrote
// them (databases from before issue 21): nothing stored is lost when the
// compact forms came in.
func TestCodecsReadVersion1(t *testing.T) {
	e := encoder{}
	e.byte(indexV1)
	e.uint(1)
	for _, s := range []string{"0123456789abcdef", "binance", "Binance", "ann@example.org", "totp", "AAECAwQFBgcICQoLDA0ODw"} {
		e.str(s)
	}
	e.uint(1)
	e.uint(3)
	e.uint(2)
	idx, err := decodeIndex(e.b)
	want := indexEntry{Summary: Summary{ID: "0123456789abcdef", Label: "binance", Issuer: "Binance", User: "ann@example.org",
		Kind: otp.TOTP, Confirmed: true, RecoveryCodes: 3, RecoveryLeft: 2}, Fingerprint: "AAECAwQFBgcICQoLDA0ODw"}
	if err != nil || len(idx) != 1 || idx[0] != want {
		t.Fatalf("v1 index: %+v, %v", idx, err)
	}
	if again, err := decodeIndex(encodeIndex(idx)); err != nil || !slices.Equal(again, idx) || len(encodeIndex(idx)) >= len(e.b) {
		t.Errorf("v1 index re-encoded: %+v, %v (%d bytes, v1 %d)", again, err, len(encodeIndex(idx)), len(e.b))
	}

	// Version 2 (before string references): every string spelled out.
	e = encoder{}
	e.byte(indexV2)
	e.uint(2)
	for _, label := range []string{"binance", "github"} {
		e.uint(entryConfirmed | entryHexID | entryRawFP | 1<<entryKindShift)
		e.b = append(e.b, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef)
		e.str(label)
		e.str("Binance")
		e.str("ann@example.org")
		e.b = append(e.b, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
		e.uint(3)
		e.uint(2)
	}
	idx, err = decodeIndex(e.b)
	want2 := want
	want2.Label = "github"
	if err != nil || !slices.Equal(idx, []indexEntry{want, want2}) {
		t.Fatalf("v2 index: %+v, %v", idx, err)
	}
	if again, err := decodeIndex(encodeIndex(idx)); err != nil || !slices.Equal(again, idx) || len(encodeIndex(idx)) >= len(e.b) {
		t.Errorf("v2 index re-encoded: %+v, %v (%d bytes, v2 %d)", again, err, len(encodeIndex(idx)), len(e.b))
	}

	e = encoder{}
	e.byte(accountV1)
	for _, s := range []string{"0123456789abcdef", "binance", "Binance", "ann@example.org", "hotp"} {
		e.str(s)
	}
	e.bytes(rfcSecret)
	e.str("SHA256")
	e.uint(8)
	e.uint(30)
	e.uint(42)
	e.time(time.Unix(1_700_000_000, 5))
	e.time(time.Time{})
	e.uint(1)
	e.str("aaaa-1111")
	e.time(time.Time{})
	var a Account
	if err := decodeAccount(e.b, "0123456789abcdef", &a); err != nil || a.ID != "0123456789abcdef" || a.Label != "binance" ||
		a.OTP.Kind != otp.HOTP || a.OTP.Algorithm != otp.SHA256 || !bytes.Equal(a.OTP.Secret, rfcSecret) || a.OTP.Counter != 42 ||
		len(a.RecoveryCodes) != 1 || a.Added.UnixNano() != 1_700_000_000_000_000_005 {
		t.Fatalf("v1 account: %+v, %v", a, err)
	}
	if err := decodeAccount(e.b, "fedcba9876543210", &Account{}); err == nil {
		t.Error("a v1 record under another id decoded")
	}
	var ao Account
	if err := decodeAccountOTP(e.b, "0123456789abcdef", &ao); err != nil || !sameOTP(ao.OTP, a.OTP) || ao.ID != a.ID {
		t.Errorf("v1 account for a code: %+v, %v", ao, err)
	}
	if err := decodeAccountOTP(e.b, "fedcba9876543210", &Account{}); err == nil {
		t.Error("a v1 record under another id decoded for a code")
	}
	if n := len(encodeAccount(&a)); n >= len(e.b) {
		t.Errorf("v2 account %d bytes, v1 %d", n, len(e.b))
	}
}

func FuzzDecodeIndex(f *testing.F) {
	f.Add(encodeIndex([]indexEntry{{Summary: Summary{ID: "a", Label: "b", Kind: otp.TOTP}, Fingerprint: "c"}}))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := decodeIndex(b)
		if err != nil {
			return
		}
		again, err := decodeIndex(encodeIndex(out))
		if err != nil || len(again) != len(out) {
			t.Fatalf("re-encoded index does not decode: %v", err)
		}
	})
}

func TestAccountCodecRoundTripAndDamage(t *testing.T) {
	in := &Account{ID: "a1", Label: "binance", Issuer: "Binance", User: "ann@example.org",
		OTP:   otp.Params{Kind: otp.HOTP, Secret: rfcSecret, Algorithm: otp.SHA256, Digits: 8, Counter: 42},
		Added: time.Unix(1_700_000_000, 5).UTC(), Confirmed: time.Unix(1_700_000_100, 0).UTC(),
		RecoveryCodes: []RecoveryCode{{Code: "aaaa-1111"}, {Code: "bbbb-2222", Used: time.Unix(1_700_000_200, 0).UTC()}}}
	b := encodeAccount(in)
	var out Account
	if err := decodeAccount(b, in.ID, &out); err != nil {
		t.Fatal(err)
	}
	if out.ID != in.ID || out.Label != in.Label || out.Issuer != in.Issuer || out.User != in.User ||
		!bytes.Equal(out.OTP.Secret, in.OTP.Secret) || out.OTP.Kind != in.OTP.Kind || out.OTP.Algorithm != in.OTP.Algorithm ||
		out.OTP.Digits != 8 || out.OTP.Counter != 42 || !out.Added.Equal(in.Added) || !out.Confirmed.Equal(in.Confirmed) ||
		len(out.RecoveryCodes) != 2 || out.RecoveryCodes[1] != in.RecoveryCodes[1] || !out.RecoveryCodes[0].Used.IsZero() {
		t.Fatalf("round trip:\n got %+v\nwant %+v", out, in)
	}
	for cut := 0; cut < len(b); cut++ {
		if err := decodeAccount(b[:cut], in.ID, &Account{}); err == nil {
			t.Fatalf("truncated to %d bytes decoded", cut)
		}
		if err := decodeAccountOTP(b[:cut], in.ID, &Account{}); err == nil {
			t.Fatalf("truncated to %d bytes decoded for a code", cut)
		}
	}
	// For a code: the same parameters, the secret inside b, no names, no
	// allocation.
	var c Account
	if err := decodeAccountOTP(b, in.ID, &c); err != nil || !sameOTP(c.OTP, out.OTP) || c.ID != in.ID ||
		c.Label != "" || c.Issuer != "" || c.User != "" || c.RecoveryCodes != nil {
		t.Fatalf("for a code: %+v, %v", c, err)
	}
	if &c.OTP.Secret[0] != &b[bytes.Index(b, in.OTP.Secret)] {
		t.Error("the secret was copied out of the plaintext")
	}
	if n := testing.AllocsPerRun(50, func() { _ = decodeAccountOTP(b, in.ID, &c) }); n != 0 {
		t.Errorf("decodeAccountOTP allocates %v times, want 0", n)
	}
}

// sameOTP compares OTP parameters, the secret by its bytes.
func sameOTP(a, b otp.Params) bool {
	return a.Kind == b.Kind && a.Algorithm == b.Algorithm && a.Digits == b.Digits && a.Period == b.Period &&
		a.Counter == b.Counter && bytes.Equal(a.Secret, b.Secret)
}

func FuzzDecodeAccount(f *testing.F) {
	f.Add(encodeAccount(&Account{ID: "a", Label: "b", OTP: otp.Params{Kind: otp.TOTP, Secret: []byte("x")}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var a, c Account
		err, cerr := decodeAccount(b, "a", &a), decodeAccountOTP(b, "a", &c)
		if (err == nil) != (cerr == nil) || err == nil && !sameOTP(a.OTP, c.OTP) {
			t.Fatalf("decodeAccount %v and decodeAccountOTP %v disagree: %+v, %+v", err, cerr, a.OTP, c.OTP)
		}
		if err != nil {
			return
		}
		var again Account
		if err := decodeAccount(encodeAccount(&a), a.ID, &again); err != nil || again.Label != a.Label || !bytes.Equal(again.OTP.Secret, a.OTP.Secret) {
			t.Fatalf("re-encoded account does not decode: %v", err)
		}
	})
}

// A code comes with the next one only when less than NextCodeWithin is
// left, and that one is the code of the next time step.
func TestCodeNextOnlyNearTheEnd(t *testing.T) {
	svc, _, clock, _ := newTestService(t)
	mustAdd(t, svc, "alice", "binance", totpKey("Binance", rfcSecret))
	step := time.Unix(1_800_000_000, 0) // a step starts here (30 s steps)
	for _, c := range []struct {
		at       time.Duration // into the step
		wantNext bool
	}{
		{0, false},
		{30*time.Second - NextCodeWithin, false}, // exactly NextCodeWithin left
		{30*time.Second - NextCodeWithin + time.Millisecond, true},
		{29 * time.Second, true},
	} {
		clock.Set(step.Add(c.at))
		got, err := svc.Code(context.Background(), "alice", "binance")
		if err != nil {
			t.Fatal(err)
		}
		want, _ := totp.GenerateCode(otp.EncodeSecret(rfcSecret), step.Add(30*time.Second))
		switch {
		case !c.wantNext && got.Next != "":
			t.Errorf("%v into the step: next code %q given", c.at, got.Next)
		case c.wantNext && got.Next != want:
			t.Errorf("%v into the step: next code %q, want %q", c.at, got.Next, want)
		}
	}
}

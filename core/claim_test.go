package core

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/authbot/authbot/internal/testkit/fakeclock"
)

func TestClaim(t *testing.T) {
	tg := Identity{Platform: "telegram", ID: "2001"}
	other := Identity{Platform: "telegram", ID: "2002"}
	tests := []struct {
		name string
		// try runs after OpenClaim; it returns the error of the step that
		// matters.
		try  func(svc *Service, clock *fakeclock.Clock, code string) error
		want error
	}{
		{"right code", func(svc *Service, _ *fakeclock.Clock, code string) error {
			_, err := svc.Claim(context.Background(), code, tg)
			return err
		}, nil},
		{"typed in lower case without dashes", func(svc *Service, _ *fakeclock.Clock, code string) error {
			_, err := svc.Claim(context.Background(), strings.ToLower(strings.ReplaceAll(code, "-", " ")), tg)
			return err
		}, nil},
		{"wrong code", func(svc *Service, _ *fakeclock.Clock, code string) error {
			_, err := svc.Claim(context.Background(), "AAAA-BBBB-CCCC-DDDD-EEEE", tg)
			return err
		}, ErrClaimInvalid},
		{"expired", func(svc *Service, clock *fakeclock.Clock, code string) error {
			clock.Advance(ClaimTTL)
			_, err := svc.Claim(context.Background(), code, tg)
			return err
		}, ErrClaimInvalid},
		{"single use", func(svc *Service, _ *fakeclock.Clock, code string) error {
			if _, err := svc.Claim(context.Background(), code, tg); err != nil {
				return err
			}
			_, err := svc.Claim(context.Background(), code, other)
			return err
		}, ErrClaimInvalid},
		{"closed after too many guesses, even for the right code", func(svc *Service, _ *fakeclock.Clock, code string) error {
			for range maxClaimGuesses {
				_, _ = svc.Claim(context.Background(), "AAAA-BBBB-CCCC-DDDD-EEEE", other)
			}
			_, err := svc.Claim(context.Background(), code, tg)
			return err
		}, ErrClaimClosed},
		{"no second claim once an admin exists", func(svc *Service, _ *fakeclock.Clock, code string) error {
			if _, err := svc.Claim(context.Background(), code, tg); err != nil {
				return err
			}
			_, _, err := svc.OpenClaim(context.Background())
			return err
		}, ErrHasAdmin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, _, clock, _ := newTestService(t)
			ctx := context.Background()
			if svc.ClaimOpen() {
				t.Fatal("a claim is open before OpenClaim")
			}
			code, expires, err := svc.OpenClaim(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !LooksLikeClaim(code) || len(code) != 24 || !expires.Equal(clock.Now().Add(ClaimTTL).UTC()) || !svc.ClaimOpen() {
				t.Fatalf("code %q expires %v", code, expires)
			}
			err = tt.try(svc, clock, code)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			admin, err := svc.IsRuntimeAdmin(ctx, ClaimAdminName)
			if err != nil || admin != (tt.want == nil || errors.Is(tt.want, ErrHasAdmin) || tt.name == "single use") {
				t.Fatalf("IsRuntimeAdmin = %v, %v", admin, err)
			}
			if admin {
				who, err := svc.PersonFor(ctx, tg)
				if err != nil || who != ClaimAdminName {
					t.Fatalf("PersonFor = %q, %v", who, err)
				}
			}
		})
	}
}

func TestLooksLikeClaim(t *testing.T) {
	for text, want := range map[string]bool{
		"ABCD-EFGH-IJKL-MNOP-QRST":   true,
		"abcd efgh ijkl mnop qrst":   true,
		"abcdefghijklmnopqrstuvwxyz": false, // an invite token (26 letters)
		"ABCD-1234":                  false, // a link code
		"":                           false,
	} {
		if got := LooksLikeClaim(text); got != want {
			t.Errorf("LooksLikeClaim(%q) = %v", text, got)
		}
	}
}

//go:build goolm

package matrix

import (
	"context"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// TestCheckLogin: doctor's Matrix check against Dendrite: the right
// password passes (and its throwaway device is logged out again), a wrong
// password or token is named, an unreachable homeserver is said.
func TestCheckLogin(t *testing.T) {
	h := needHomeserver(t)
	ctx := context.Background()
	local := h.Register(t, "doctor", botPassword)
	user := id.UserID(h.UserID(local))
	if who, err := CheckLogin(ctx, h.URL, user, botPassword, ""); err != nil || who != user {
		t.Fatalf("right password: %q %v", who, err)
	}
	// A real access token passes too, and the doctor's device is gone.
	cli, _ := mautrix.NewClient(h.URL, "", "")
	resp, err := cli.Login(ctx, &mautrix.ReqLogin{Type: mautrix.AuthTypePassword,
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: string(user)}, Password: botPassword, StoreCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckLogin(ctx, h.URL, user, "", resp.AccessToken); err != nil {
		t.Fatalf("access token: %v", err)
	}
	devs, err := cli.GetDevicesInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs.Devices {
		if d.DisplayName == "authbot doctor" {
			t.Errorf("the doctor's device %s was not logged out", d.DeviceID)
		}
	}
	tests := []struct {
		name, hs, password, token, want string
	}{
		{"wrong password", h.URL, "nope-nope", "", "refused the password"},
		{"wrong token", h.URL, "", "syt_bogus", "refused the access token"},
		{"no homeserver", "http://127.0.0.1:1", botPassword, "", "cannot be reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CheckLogin(ctx, tt.hs, user, tt.password, tt.token)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

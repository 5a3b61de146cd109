package commands_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/commands"
)

func (r *rig) file(path string) commands.Reply {
	r.t.Helper()
	data, err := os.ReadFile("../../core/transfer/testdata/" + path)
	if err != nil {
		r.t.Fatal(err)
	}
	return r.h.Handle(context.Background(), commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Private,
		Attachment: &commands.Attachment{Name: "whatever.bin", Data: data}})[0]
}

// Steam: manifest.json and the encrypted maFile, in either order, held in
// memory until both are in, then the password.
func TestImportSteamTwoFiles(t *testing.T) {
	dir := "steam/sda-1-account-encrypted/"
	for _, order := range [][]string{{"manifest.json", "1234.maFile"}, {"1234.maFile", "manifest.json"}} {
		r := newRig(t)
		first := r.file(dir + order[0])
		if !strings.Contains(first.PlainText(), "in memory only") || !first.DeleteRequest {
			t.Fatalf("%v: first file: %q", order, first.PlainText())
		}
		if len(r.labels()) != 0 {
			t.Fatal("stored something from half an export")
		}
		ask := r.file(dir + order[1])
		if !strings.Contains(ask.PlainText(), "password") {
			t.Fatalf("%v: second file: %q", order, ask.PlainText())
		}
		if rep := r.say("wrong"); !strings.Contains(rep.PlainText(), "does not open") || len(r.labels()) != 0 {
			t.Fatalf("%v: wrong password: %q", order, rep.PlainText())
		}
		rep := r.say("password")
		if !strings.Contains(rep.PlainText(), "Imported 1 account from Steam Desktop Authenticator (encrypted)") {
			t.Fatalf("%v: right password: %q", order, rep.PlainText())
		}
		if code := codeOf(t, r.say("/code steam")); len(code) != 5 {
			t.Errorf("Steam code %q", code)
		}
	}
}

// Held files expire, and an unrelated file is read on its own.
func TestImportHeldFilesExpire(t *testing.T) {
	r := newRig(t)
	r.file("steam/sda-1-account-encrypted/manifest.json")
	if rep := r.file("aegis_plain.json"); !strings.Contains(rep.PlainText(), "Imported 7") {
		t.Fatalf("unrelated file after a manifest: %q", rep.PlainText())
	}
	r.file("steam/sda-1-account-encrypted/manifest.json")
	r.clock.t = r.clock.t.Add(6 * time.Minute)
	if rep := r.file("steam/sda-1-account-encrypted/1234.maFile"); !strings.Contains(rep.PlainText(), "manifest.json") || strings.Contains(rep.PlainText(), "password") {
		t.Fatalf("maFile after the manifest expired: %q", rep.PlainText())
	}
	if rep := r.file("sda_folder.zip"); !strings.Contains(rep.PlainText(), "password") {
		t.Fatalf("zip of the SDA folder: %q", rep.PlainText())
	}
	if rep := r.say("password"); !strings.Contains(rep.PlainText(), "Imported 1 account") {
		t.Fatalf("zip password: %q", rep.PlainText())
	}
}

// An Ente export at Ente's full 1 GiB: the password question says that
// opening takes a few seconds.
func TestImportEnteSlowNotice(t *testing.T) {
	r := newRig(t)
	data := []byte(`{"version":1,"kdfParams":{"memLimit":1073741824,"opsLimit":4,"salt":"AAAAAAAAAAAAAAAAAAAAAA=="},` +
		`"encryptedData":"AAAAAAAAAAAAAAAAAAAAAAAA","encryptionNonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`)
	rep := r.h.Handle(context.Background(), commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Private,
		Attachment: &commands.Attachment{Data: data}})[0]
	if !strings.Contains(rep.PlainText(), "password") || !strings.Contains(rep.PlainText(), "a few seconds") {
		t.Errorf("Ente password question: %q", rep.PlainText())
	}
	if rep := r.file("ente_encrypted.json"); strings.Contains(rep.PlainText(), "a few seconds") {
		t.Errorf("a 16 MiB Ente export warned of a slow open: %q", rep.PlainText())
	}
	if rep := r.say("test"); !strings.Contains(rep.PlainText(), "Imported 7 accounts from Ente Auth (encrypted)") {
		t.Errorf("Ente import: %q", rep.PlainText())
	}
}

// Bitwarden's account-restricted export is explained, not called unknown.
func TestImportBitwardenAccountRestricted(t *testing.T) {
	r := newRig(t)
	data := []byte(`{"encrypted":true,"encKeyValidation_DO_NOT_EDIT":"2.AAAA|AAAA|AAAA","folders":[],"items":[{"login":{"totp":"2.AAAA|AAAA|AAAA"}}]}`)
	rep := r.h.Handle(context.Background(), commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Private,
		Attachment: &commands.Attachment{Data: data}})[0]
	if !strings.Contains(rep.PlainText(), "account-restricted") || !strings.Contains(rep.PlainText(), "Password protected") {
		t.Errorf("account-restricted export: %q", rep.PlainText())
	}
}

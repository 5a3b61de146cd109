package commands_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/qr"
	"github.com/authbot/authbot/core/transfer"
)

func (r *rig) file(path string) commands.Reply {
	r.t.Helper()
	data, err := os.ReadFile("../../core/transfer/testdata/" + path)
	if err != nil {
		r.t.Fatal(err)
	}
	return r.h.Handle(context.Background(), withCaps(commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Private,
		Attachment: &commands.Attachment{Name: "whatever.bin", Data: data}}))[0]
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
	r.clock.Advance(6 * time.Minute)
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
	rep := r.h.Handle(context.Background(), withCaps(commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Private,
		Attachment: &commands.Attachment{Data: data}}))[0]
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
	rep := r.h.Handle(context.Background(), withCaps(commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Private,
		Attachment: &commands.Attachment{Data: data}}))[0]
	if !strings.Contains(rep.PlainText(), "account-restricted") || !strings.Contains(rep.PlainText(), "Password protected") {
		t.Errorf("account-restricted export: %q", rep.PlainText())
	}
}

func TestImportFileAndQR(t *testing.T) {
	r := newRig(t)
	data, err := os.ReadFile("../../core/transfer/testdata/aegis_plain.json")
	if err != nil {
		t.Fatal(err)
	}
	file := func(d []byte, image bool) commands.Reply {
		return r.h.Handle(context.Background(), withCaps(commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Private,
			Attachment: &commands.Attachment{Name: "x.bin", Data: d, Image: image}}))[0]
	}
	rep := file(data, false)
	if !rep.DeleteRequest || !strings.Contains(rep.PlainText(), "Imported") {
		t.Fatalf("aegis import: %q", rep.PlainText())
	}
	n := len(r.labels())
	if rep := file(data, false); len(r.labels()) != n || !strings.Contains(rep.PlainText(), "Already stored") {
		t.Errorf("second import doubled accounts or did not say so: %q", rep.PlainText())
	}
	png, err := qr.Encode("otpauth://totp/QRCo:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=QRCo", 300)
	if err != nil {
		t.Fatal(err)
	}
	if rep := file(png, true); !strings.Contains(rep.PlainText(), "Added qrco") {
		t.Errorf("QR import: %q", rep.PlainText())
	}
	noQR, _ := qr.Encode("x", 10)
	noQR = noQR[:len(noQR)/2] // a broken image
	if rep := file(noQR, true); !rep.DeleteRequest || strings.Contains(rep.PlainText(), "Imported") {
		t.Errorf("broken image: %q", rep.PlainText())
	}
	if rep := file([]byte("{\"hello\": 1}"), false); !strings.Contains(rep.PlainText(), "did not recognise") {
		t.Errorf("unknown file: %q", rep.PlainText())
	}
}

func TestExportAllThenImportWithPassword(t *testing.T) {
	r := newRig(t)
	r.say("/add github JBSWY3DPEHPK3PXPJBSWY3DP")
	r.say("/add gitlab KRSXG5CTMVRXEZLUKRSXG5CT")
	r.say("/export")
	if rep := r.say("short"); !strings.Contains(rep.PlainText(), "too short") {
		t.Fatalf("short password: %q", rep.PlainText())
	}
	out := r.send("console", "correct horse battery")
	if len(out) < 2 || out[0].File == nil || out[1].Image == nil || !out[0].DeleteRequest {
		t.Fatalf("export all: %+v", out)
	}
	res, err := transfer.Import(context.Background(), out[0].File.Data, "correct horse battery")
	if err != nil || len(res.Keys) != 2 {
		t.Fatalf("exported vault does not import: %v", err)
	}
	// Into a fresh vault, through the chat, with the password flow.
	r2 := newRig(t)
	ask := r2.h.Handle(context.Background(), withCaps(commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Private,
		Attachment: &commands.Attachment{Data: out[0].File.Data}}))[0]
	if !strings.Contains(ask.PlainText(), "encrypted") {
		t.Fatalf("no password question: %q", ask.PlainText())
	}
	if rep := r2.say("wrong password"); !strings.Contains(rep.PlainText(), "does not open") || !rep.DeleteRequest {
		t.Fatalf("wrong password: %q", rep.PlainText())
	}
	if rep := r2.say("correct horse battery"); !strings.Contains(rep.PlainText(), "Imported 2") {
		t.Fatalf("right password: %q", rep.PlainText())
	}
	// Codes survive the round trip.
	a, b := codeOf(t, r.say("/code github")), codeOf(t, r2.say("/code github"))
	if a != b {
		t.Errorf("codes differ after export and import: %s vs %s", a, b)
	}
}

func TestExportOneAsksThenShowsLinkAndQR(t *testing.T) {
	r := newRig(t)
	r.say("/add github JBSWY3DPEHPK3PXPJBSWY3DP")
	ask := r.say("/export github")
	if ask.Image != nil || len(ask.Buttons) == 0 {
		t.Fatalf("export without confirmation: %+v", ask)
	}
	rep := r.say(ask.Buttons[0][0].Data)
	if rep.Image == nil || rep.ExpiresAt != r.clock.Now().Add(30*time.Second) || !rep.Sensitive {
		t.Fatalf("export: %+v", rep)
	}
	texts, err := qr.Decode(context.Background(), rep.Image.Data)
	if err != nil || len(texts) != 1 {
		t.Fatalf("QR: %v %v", texts, err)
	}
	k, err := otp.ParseURI(texts[0])
	if err != nil || otp.EncodeSecret(k.Params.Secret) != "JBSWY3DPEHPK3PXPJBSWY3DP" {
		t.Errorf("QR holds %v, %v", k, err)
	}
}

func TestExportSteamSaysWhichAppsWork(t *testing.T) {
	r := newRig(t)
	r.say("/add otpauth://totp/Steam:gaben?secret=JBSWY3DPEHPK3PXPJBSWY3DP&issuer=Steam&encoder=steam")
	r.say("/add plain JBSWY3DPEHPK3PXP")
	var steam string
	for _, l := range r.labels() {
		if l != "plain" {
			steam = l
		}
	}
	text := r.say("/export " + steam + " yes").PlainText()
	if !strings.Contains(text, "only in apps that support Steam Guard") || !strings.Contains(text, "Google Authenticator accepts it but makes wrong codes") {
		t.Errorf("steam export:\n%s", text)
	}
	if text := r.say("/export plain yes").PlainText(); strings.Contains(text, "Steam") {
		t.Errorf("a plain export speaks of Steam:\n%s", text)
	}
	if text := r.say("/recover " + steam).PlainText(); !strings.Contains(text, "Steam Guard (Aegis, 2FAS…)") {
		t.Errorf("steam guidance:\n%s", text)
	}
}

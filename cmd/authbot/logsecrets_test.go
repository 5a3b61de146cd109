package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLogsHoldNoSecrets drives every chat command at debug log level with
// known secrets, account names and recovery codes, then greps ALL of
// stderr (the log) for them and for every code the bot printed.
func TestLogsHoldNoSecrets(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	const (
		secret   = "JBSWY3DPEHPK3PXPJBSWY3DP"
		secret2  = "GEZDGNBVGY3TQOJQGEZDGNBV"
		name     = "zebrafinchbank"
		name2    = "quokkamail"
		renamed  = "wombatexchange"
		issuer   = "Quokkacorp"
		user     = "narwhal@example.org"
		recovery = "kestrel-12345"
	)
	link := "otpauth://hotp/" + issuer + ":" + user + "?secret=" + secret2 + "&issuer=" + issuer + "&counter=3"
	script := strings.Join([]string{
		"/help",
		"/add " + name + " " + secret,
		"/add " + name2 + " " + link,
		link, // a pasted link, no command
		secret,
		"/list",
		"/code " + name,
		"/code " + name2,
		"/code",
		"/check " + name + " 123456",
		"/recovery-codes " + name + " " + recovery + " osprey-67890",
		"/recover " + name,
		"/recover",
		"/export " + name,
		"/export",
		"/rename " + name + " " + renamed,
		"/code nosuchaccountxyz",
		"/del " + renamed,
		"/del " + renamed + " yes",
		"/cancel",
		"/unknowncommand " + secret,
	}, "\n") + "\n"
	cmd := exec.Command(authbotBinary(t), "chat", "--data", dir)
	cmd.Env = append(os.Environ(), "AUTHBOT_LOG_LEVEL=debug")
	cmd.Stdin = strings.NewReader(script)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Some lines fail on purpose (the pipe then exits 1); the logs of
	// every line are what is checked.
	if err := cmd.Run(); err != nil && !strings.Contains(stderr.String(), "a command failed") {
		t.Fatalf("chat: %v\n%s", err, stderr.String())
	}
	log := stderr.String()
	if !strings.Contains(stdout.String(), "Added "+name) {
		t.Fatalf("the script did not run as expected:\n%s", stdout.String())
	}
	needles := []string{secret, secret2, strings.ToLower(secret), name, name2, renamed, issuer, user, recovery, "osprey-67890", "otpauth"}
	// Every code the bot showed (6 digits) must stay out of the log too.
	needles = append(needles, regexp.MustCompile(`\b\d{6}\b`).FindAllString(stdout.String(), -1)...)
	for _, n := range needles {
		if strings.Contains(log, n) {
			t.Errorf("the log holds %q", n)
		}
	}
	t.Logf("%d log bytes checked against %d needles", len(log), len(needles))
}

package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/telegram/telegramtest"
	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/internal/testkit"
)

// Start-up and idle memory of `authbot serve` (issue 21, item 4): the real
// binary, built as `make build` builds it (releaseBinary), as a subprocess
// against the fake Bot API in this process, over a bbolt database of
// startPeople people with startAccounts accounts each (seeded once,
// in-process, through core's AddMany).
//
//	go test -tags goolm -run '^$' -bench BenchmarkServeStart -benchtime 5x ./cmd/authbot
//
// Reported per start: ms/start, from exec to the first getUpdates reaching
// the fake (Go runtime start, config, master key, bbolt open and check,
// core's start-up, the Telegram adapter's getMe); ms-CPU/start, the CPU
// the process had used by then (the background bbolt check's included);
// and, after startIdle of long polls with nothing to answer, the process's
// resident set (MB-VmRSS) and the anonymous part of it (MB-RssAnon: heap,
// stacks; the rest is the binary's and the database's file pages).
// startIdle outlasts serve's settleAfter (memlimit.go), so what is
// measured is the process at rest, after start-up gave back what only it
// needed. For detail, AUTHBOT_START_BIN runs another binary,
// AUTHBOT_START_IDLE=60s waits longer and AUTHBOT_START_SMAPS=file writes
// /proc/PID/smaps at the measuring point (file.1, file.2, ...).
//
// Before issue 21 (testkit's cgo build, 3 s idle): VmRSS 50 MB = the
// binary's pages 29 MB (rodata 15, text 13.5) + anonymous 12-14 MB + 8 MB
// of the 32 MB authbot.db mapping. The background check and the lazy
// /recover base: VmRSS 53.8 -> 49.6 MB, RssAnon 14.2 -> 13.0 MB.
//
// Releasing start-up's memory (memlimit.go), the make-build binary, same
// machine (2 cores shared, load average 6-18), both at 10 s idle: VmRSS
// 32.4 -> 13.9 MB (14.4 at 60 s idle; the old binary had 39.6 at 3 s);
// RssAnon 12.5 -> 7.2 MB. At rest: code 3.0 MB and
// read-only data 3.2 MB of the binary (were 9.5 and 9.9), its data 0.7,
// Go heap arena 4.5 (was 11.3), other runtime memory and stacks 2.4, the
// database map under 0.1 (was 6.3). Serving brings much of it back:
// after 24 people's /code in the 8 languages (MB-VmRSS-served) VmRSS is
// 35 MB (the old binary: 33.3): heap arena 11.5 (the 8 bundles parsed again, and garbage the GC
// has not yet returned), read-only data 9.2 and code 4.9 of the binary,
// 6.3 of the database map (each page fault maps 64 KiB around it, and
// every person's records are on pages of their own). A dynamically linked
// build (cgo, as testkit.Authbot builds) measures 23-31 MB at rest on
// this kernel (6.18): its page cache holds the file in 2 MiB folios, and
// touching one page maps a whole folio.
//
// Start-up (the make-build binary of main before and after: the menus
// after the first getUpdates, one YAML parse of the config, the progress
// record read before serve holds reads for the check; 3 interleaved runs
// of 5 starts, AUTHBOT_START_IDLE=1s, load average 7.5-13.5): ms/start
// 377, 267, 458 -> 139, 412, 228; ms-CPU/start 220, 220, 218 -> 114,
// 148, 128. Of what is left (traced, CPU): exec and package init ~40 ms
// (maunium.net/go/mautrix/id's regexps the largest init, 4-14 ms), config
// ~20 (yaml.v3 parsing 1,000 people, cold), core's open ~35 with the
// check beside it, three GC cycles ~25, getMe ~8.
const (
	startPeople   = 1000
	startAccounts = 50
	startIdle     = 10 * time.Second
)

func BenchmarkServeStart(b *testing.B) {
	const token = "123456:start-bench"
	api := telegramtest.New(token)
	defer api.Close()
	api.LongPoll = time.Second
	dir := b.TempDir()
	cfgPath := writeStartConfig(b, dir, token, api.URL())
	seedStart(b, cfgPath)
	if st, err := os.Stat(filepath.Join(dir, "data", "authbot.db")); err == nil {
		b.Logf("authbot.db %d KiB (%d people × %d accounts)", st.Size()/1024, startPeople, startAccounts)
	}
	bin := releaseBinary(b)
	if v := os.Getenv("AUTHBOT_START_BIN"); v != "" {
		bin = v
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}

	var startSum, cpuSum time.Duration
	var rssSum, anonSum, servedSum, runs int
	for b.Loop() {
		runs++
		from := api.NumCalls()
		t0 := time.Now()
		p := testkit.Start(b, bin, env, "serve", "--config", cfgPath)
		c, _, ok := api.WaitCall(from, 30*time.Second, func(c telegramtest.Call) bool { return c.Method == "getUpdates" })
		if !ok {
			b.Fatalf("no getUpdates within 30 s of start:\n%s", p.Log())
		}
		startSum += c.At.Sub(t0)
		cpuSum += procCPU(b, p.Cmd.Process.Pid)
		b.StopTimer()
		// Idle: the bot only long-polls. Real time on purpose: what is
		// measured is the process at rest, not time logic.
		idle := startIdle
		if v, err := time.ParseDuration(os.Getenv("AUTHBOT_START_IDLE")); err == nil {
			idle = v
		}
		time.Sleep(idle)
		st := procStatus(b, p.Cmd.Process.Pid)
		if v := os.Getenv("AUTHBOT_START_SMAPS"); v != "" {
			raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", p.Cmd.Process.Pid))
			os.WriteFile(fmt.Sprintf("%s.%d", v, runs), raw, 0o600)
		}
		rssSum += st["VmRSS"]
		anonSum += st["RssAnon"]
		servedSum += servedRSS(b, api, p)
		if err := p.Stop(b, syscall.SIGTERM, 10*time.Second); err != nil {
			b.Fatalf("serve: %v\n%s", err, p.Log())
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(startSum.Microseconds())/1000/float64(runs), "ms/start")
	b.ReportMetric(float64(cpuSum.Microseconds())/1000/float64(runs), "ms-CPU/start")
	b.ReportMetric(float64(rssSum)/1024/float64(runs), "MB-VmRSS")
	b.ReportMetric(float64(anonSum)/1024/float64(runs), "MB-RssAnon")
	b.ReportMetric(float64(servedSum)/1024/float64(runs), "MB-VmRSS-served")
}

// servedCodes people ask for a code after the idle measurement, in the
// languages below in turn: what serving brings back of what start-up gave
// back (memlimit.go) is VmRSS after their replies, MB-VmRSS-served.
const servedCodes = 24

var servedLanguages = []string{"en", "ru", "de", "pt-br", "es", "uk", "tr", "id"}

// servedRSS sends the servedCodes /code messages to p, waits for as many
// replies and returns VmRSS in kB.
func servedRSS(b *testing.B, api *telegramtest.Server, p *testkit.Proc) int {
	b.Helper()
	from := api.NumCalls()
	for k := range servedCodes {
		id := int64(2001 + k*(startPeople/servedCodes))
		api.SendText(telegramtest.Private(id), telegramtest.User{ID: id, LanguageCode: servedLanguages[k%len(servedLanguages)]}, "/code Service07")
	}
	for range servedCodes {
		_, i, ok := api.WaitCall(from, 30*time.Second, func(c telegramtest.Call) bool { return c.Method == "sendMessage" })
		if !ok {
			b.Fatalf("%d /code replies, want %d:\n%s", len(api.CallsTo("sendMessage")), servedCodes, p.Log())
		}
		from = i + 1
	}
	if v := os.Getenv("AUTHBOT_START_SMAPS"); v != "" {
		raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", p.Cmd.Process.Pid))
		os.WriteFile(v+".served", raw, 0o600)
	}
	return procStatus(b, p.Cmd.Process.Pid)["VmRSS"]
}

// releaseBinary builds ./cmd/authbot as `make build` does (no cgo,
// -trimpath, -ldflags '-s -w'): the binary people deploy, whose own mapped
// pages are a large part of the resident set. (testkit.Authbot's build
// links cgo's libc and dynamic loader and keeps the symbol tables.)
func releaseBinary(b *testing.B) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "authbot")
	cmd := exec.Command("go", "build", "-tags", testTags, "-trimpath", "-ldflags", "-s -w", "-o", path, "github.com/authbot/authbot/cmd/authbot")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return path
}

// writeStartConfig is a config for startPeople Telegram people (ids 2001,
// 2002, ...) logging at info, as a production bot would.
func writeStartConfig(b *testing.B, dir, token, apiURL string) string {
	b.Helper()
	var sb strings.Builder
	fmt.Fprintf(&sb, "data_dir: %s\nlog:\n  level: info\n", filepath.Join(dir, "data"))
	fmt.Fprintf(&sb, "telegram:\n  token: %q\n  api_url: %q\nusers:\n", token, apiURL)
	for i := range startPeople {
		fmt.Fprintf(&sb, "  - name: p%d\n    telegram: %d\n", i, 2001+i)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// seedStart fills the database of cfgPath: every person gets
// startAccounts TOTP accounts in one import, as a person's first import
// would.
func seedStart(b *testing.B, cfgPath string) {
	b.Helper()
	ctx := context.Background()
	cfg, err := config.Load(cfgPath, config.Env(noEnv))
	if err != nil {
		b.Fatal(err)
	}
	a, err := openApp(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), noEnv)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	keys := make([]core.NewAccount, startAccounts)
	for i := range startPeople {
		for j := range keys {
			s := make([]byte, 20)
			binary.BigEndian.PutUint32(s, uint32(i))
			binary.BigEndian.PutUint32(s[4:], uint32(j+1))
			keys[j] = core.NewAccount{Key: otp.Key{Issuer: fmt.Sprintf("Service%02d", j), Account: fmt.Sprintf("p%d@example.org", i),
				Params: otp.Params{Kind: otp.TOTP, Secret: s, Algorithm: otp.SHA1, Digits: 6, Period: 30}}}
		}
		rep, err := a.svc.AddMany(ctx, fmt.Sprintf("p%d", i), keys)
		if err != nil || len(rep.Added) != startAccounts {
			b.Fatalf("seed person %d: %d added, %v", i, len(rep.Added), err)
		}
	}
}

// procCPU is the CPU time (user and system, all threads) pid has used,
// from /proc/<pid>/stat, read as soon as its first getUpdates arrives.
// It is in clock ticks (10 ms), so only an average over starts means
// much; unlike ms/start it hardly moves with the machine's load.
func procCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// fields are counted from after its closing one (field 3 is first).
	_, rest, ok := strings.Cut(string(raw), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		b.Fatalf("unreadable /proc/%d/stat", pid)
	}
	var ticks int64
	for _, v := range f[11:13] { // utime, stime: fields 14 and 15
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// clockTicks is USER_HZ, what /proc counts CPU time in: 100 on Linux
// (fixed by the kernel's ABI whatever CONFIG_HZ is).
const clockTicks = 100

// procStatus reads the kB fields of /proc/<pid>/status (VmRSS, RssAnon,
// VmHWM, ...).
func procStatus(b *testing.B, pid int) map[string]int {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]int{}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || !strings.HasSuffix(v, " kB") {
			continue
		}
		var kb int
		if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err == nil {
			out[k] = kb
		}
	}
	return out
}

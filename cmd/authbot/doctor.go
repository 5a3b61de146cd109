package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/observe"
	"github.com/authbot/authbot/storage/datadir"
	"github.com/authbot/authbot/storage/postgres"
)

// authbot doctor --config FILE checks what an operator can get wrong and
// prints one line per check, with the fix for each that failed: the
// config, file permissions, master key against the database, the clock,
// the Telegram token (getMe), the Matrix login (whoami), the backup dir and
// free disk. It changes nothing (a Matrix password check logs in a
// throwaway device and logs it out again) and exits non-zero when any
// check failed. Bot API and homeserver calls are plain HTTP here, not the
// adapters' libraries, because the clock check needs each answer's Date
// header, which those libraries do not expose.

// minFreeDisk is the free space below which the disk check fails: bbolt
// grows its file in steps, and a full disk stops every write.
const minFreeDisk = 100 << 20

// inlineSecret finds a secret written into the config itself.
var inlineSecret = regexp.MustCompile(`(?m)^\s*(token|password|access_token|secret|dsn):\s*["']?[^\s"'#]`)

type doctor struct {
	w      io.Writer
	failed int
	// dates are the Date headers of the chat servers that answered.
	dates []time.Time
	now   func() time.Time
}

func (d *doctor) ok(check, what string) { fmt.Fprintf(d.w, "ok    %s: %s\n", check, what) }

func (d *doctor) fail(check, what, fix string) {
	d.failed++
	fmt.Fprintf(d.w, "FAIL  %s: %s\n      fix: %s\n", check, what, fix)
}

func (d *doctor) skip(check, why string) { fmt.Fprintf(d.w, "-     %s: %s\n", check, why) }

func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "config.yaml", "configuration file")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	d := &doctor{w: stdout, now: time.Now}
	cfg, err := config.Load(*path, config.Env(getenv))
	if err != nil {
		d.fail("config", err.Error(), "correct the key the message names (config.example.yaml documents every key)")
		return fmt.Errorf("doctor: %d check failed", d.failed)
	}
	d.ok("config", *path)
	d.permissions(*path, cfg)
	d.masterKey(ctx, cfg, getenv)
	if cfg.Telegram.Enabled() {
		d.telegram(ctx, cfg.Telegram)
	} else {
		d.skip("telegram", "not configured")
	}
	if cfg.Matrix.Enabled() {
		d.matrix(ctx, cfg.Matrix)
	} else {
		d.skip("matrix", "not configured")
	}
	d.clock()
	d.backupDir(cfg.Backup)
	d.disk(cfg.DataDir)
	if d.failed > 0 {
		return fmt.Errorf("doctor: %d checks failed", d.failed)
	}
	fmt.Fprintln(stdout, "all checks passed")
	return nil
}

// permissions: the config, the data dir and master.key are the owner's
// only (the config may hold tokens, the key opens everything).
func (d *doctor) permissions(cfgPath string, cfg *config.Config) {
	check := func(path string, want os.FileMode, what string, missingOK string) {
		fi, err := os.Stat(path)
		switch {
		case errors.Is(err, os.ErrNotExist) && missingOK != "":
			d.ok("permissions", what+" "+path+" does not exist yet ("+missingOK+")")
		case err != nil:
			d.fail("permissions", err.Error(), "check the path and that this user may read it")
		case fi.Mode().Perm()&^want != 0:
			d.fail("permissions", fmt.Sprintf("%s %s is mode %04o, readable by others", what, path, fi.Mode().Perm()),
				fmt.Sprintf("chmod %04o %s", want, path))
		default:
			d.ok("permissions", fmt.Sprintf("%s %s is %04o", what, path, fi.Mode().Perm()))
		}
	}
	// A config that keeps its secrets in *_file keys or the environment
	// may be readable; one with a token or password inline may not.
	if raw, err := os.ReadFile(cfgPath); err == nil && !inlineSecret.Match(raw) {
		d.ok("permissions", "config "+cfgPath+" holds no secret inline")
	} else {
		check(cfgPath, 0o600, "config", "")
	}
	check(cfg.DataDir, 0o700, "data dir", "serve creates it")
	check(datadir.At(cfg.DataDir).Key(), 0o600, "master key", "serve creates it on the first start; or AUTHBOT_MASTER_KEY")
}

// masterKey opens the database with the master key, as serve would
// (through serve's backup socket while it runs).
func (d *doctor) masterKey(ctx context.Context, cfg *config.Config, getenv env) {
	const check = "master key"
	var store interface {
		core.Store
		Close() error
	}
	var key seal.Key
	var err error
	if cfg.Storage.Driver == config.DriverPostgres {
		if key, err = existingKeyAnyStore(cfg.DataDir, getenv); err == nil {
			var pg *postgres.Store
			if pg, err = postgres.Open(ctx, cfg.Storage.DSN); err == nil {
				store = pg
			}
		}
	} else {
		if _, serr := os.Stat(datadir.At(cfg.DataDir).DB()); errors.Is(serr, os.ErrNotExist) {
			d.ok(check, "no database yet (serve creates one with a new key)")
			return
		}
		if key, err = existingKey(cfg.DataDir, getenv); err == nil {
			var done func()
			var s interface {
				core.Store
				Close() error
			}
			s, done, err = openBoltSnapshotStore(ctx, cfg.DataDir)
			if err == nil {
				store = s
				if done != nil {
					defer done()
				}
			}
		}
	}
	defer seal.Zero(&key)
	if err != nil {
		d.fail(check, err.Error(), "put master.key back from your backup, or set "+config.EnvMasterKey+" to the key this database was made with")
		return
	}
	defer store.Close()
	if _, err := core.NewService(ctx, store, key, core.SystemClock{}); err != nil {
		if errors.Is(err, core.ErrWrongMasterKey) {
			d.fail(check, "the master key does not open this database", "use the master.key (or "+config.EnvMasterKey+") this database was made with, from your backup")
			return
		}
		d.fail(check, "open database: "+err.Error(), "see the message; authbot restore puts a backup back")
		return
	}
	d.ok(check, "opens the database")
}

// openBoltSnapshotStore is openBoltSnapshot as a closable core.Store.
func openBoltSnapshotStore(ctx context.Context, dir string) (interface {
	core.Store
	Close() error
}, func(), error) {
	s, done, err := openBoltSnapshot(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	return s, done, nil
}

// get asks url with a short deadline and keeps the answer's Date.
func (d *doctor) get(ctx context.Context, method, url, bearer string) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, nil, err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if t, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
		d.dates = append(d.dates, t)
	}
	return resp, body, err
}

func (d *doctor) telegram(ctx context.Context, tc config.Telegram) {
	const check = "telegram token"
	base := strings.TrimRight(tc.APIURL, "/")
	if base == "" {
		base = "https://api.telegram.org"
	}
	resp, body, err := d.get(ctx, http.MethodPost, base+"/bot"+tc.Token+"/getMe", "")
	if err != nil {
		// The URL holds the token: say where, not what.
		d.fail(check, "the Bot API at "+base+" cannot be reached", "check the network, a proxy, or telegram.api_url")
		return
	}
	var me struct {
		OK     bool `json:"ok"`
		Result struct {
			Username string `json:"username"`
		} `json:"result"`
		Description string `json:"description"`
	}
	_ = json.Unmarshal(body, &me)
	switch {
	case me.OK:
		d.ok(check, "getMe answers: the bot is @"+me.Result.Username)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusNotFound:
		d.fail(check, "the Bot API refused the token ("+me.Description+")", "copy the token again from @BotFather (/token), into telegram.token_file or "+config.EnvTelegramToken)
	default:
		d.fail(check, fmt.Sprintf("getMe answered %s", resp.Status), "try again later; check telegram.api_url")
	}
}

func (d *doctor) matrix(ctx context.Context, mc config.Matrix) {
	base := strings.TrimRight(mc.Homeserver, "/")
	if _, _, err := d.get(ctx, http.MethodGet, base+"/_matrix/client/versions", ""); err != nil {
		d.fail("matrix login", "the homeserver "+base+" cannot be reached: "+err.Error(), "check matrix.homeserver and the network")
		return
	}
	who, err := checkMatrixLogin(ctx, mc)
	switch {
	case errors.Is(err, errNoMatrix):
		d.skip("matrix login", "this build has no Matrix support (build with -tags goolm)")
	case err != nil:
		d.fail("matrix login", err.Error(), "check matrix.user_id and matrix.password (or matrix.access_token, "+config.EnvMatrixPassword+")")
	default:
		d.ok("matrix login", "whoami: "+who)
	}
}

// clock compares this machine's clock with the chat servers' Date headers
// (one-second resolution: plenty against a 10 s limit).
func (d *doctor) clock() {
	if len(d.dates) == 0 {
		d.skip("clock", "no chat server answered to compare with")
		return
	}
	now := d.now()
	worst := time.Duration(0)
	for _, t := range d.dates {
		if s := now.Sub(t); s.Abs() > worst.Abs() {
			worst = s
		}
	}
	if worst.Abs() > observe.SkewLimit+time.Second {
		dir := "ahead of"
		if worst < 0 {
			dir = "behind"
		}
		d.fail("clock", fmt.Sprintf("this machine is %s %s the chat servers: codes would be wrong", worst.Abs().Round(time.Second), dir),
			"turn on time sync: timedatectl set-ntp true (or chrony/ntpd)")
		return
	}
	d.ok("clock", fmt.Sprintf("within %s of the chat servers", worst.Abs().Round(time.Second)))
}

func (d *doctor) backupDir(b config.Backup) {
	if b.Dir == "" {
		d.skip("backup dir", "backup.dir not set (no scheduled backups)")
		return
	}
	f, err := os.CreateTemp(b.Dir, ".doctor-*")
	if err != nil {
		d.fail("backup dir", err.Error(), "create "+b.Dir+" and give it to the user authbot runs as (mkdir -p; chown; chmod 700)")
		return
	}
	f.Close()
	os.Remove(f.Name())
	d.ok("backup dir", b.Dir+" is writable")
}

func (d *doctor) disk(dir string) {
	for dir != "" {
		if _, err := os.Stat(dir); err == nil {
			break
		}
		parent := dir[:max(strings.LastIndex(dir, "/"), 0)]
		if parent == dir {
			break
		}
		dir = parent
	}
	if dir == "" {
		dir = "."
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		d.skip("free disk", err.Error())
		return
	}
	free := uint64(st.Bavail) * uint64(st.Bsize)
	if free < minFreeDisk {
		d.fail("free disk", fmt.Sprintf("%d MiB free under %s", free>>20, dir), "free some space: the database cannot grow on a full disk")
		return
	}
	d.ok("free disk", fmt.Sprintf("%d MiB free under %s", free>>20, dir))
}

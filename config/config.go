// Package config loads and validates authbot's YAML configuration. Secrets
// may come from the environment or from *_file keys instead of the file
// itself; every error names the key at fault and says what is wrong.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"
	"unicode"

	"filippo.io/age"
	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration. The zero value is not valid; use Load
// or Default.
type Config struct {
	DataDir  string   `yaml:"data_dir"`
	Log      Log      `yaml:"log"`
	Codes    Codes    `yaml:"codes"`
	Telegram Telegram `yaml:"telegram"`
	Matrix   Matrix   `yaml:"matrix"`
	Users    []User   `yaml:"users"`
	Metrics  Metrics  `yaml:"metrics"`
	Backup   Backup   `yaml:"backup"`
	Lock     Lock     `yaml:"lock"`
	Storage  Storage  `yaml:"storage"`
	// RateLimits are per-person budgets per command class; a class left
	// out keeps its default (see config.example.yaml).
	RateLimits RateLimits `yaml:"rate_limits"`
	// Web is the web page of live codes (and Telegram Mini App); off
	// unless listen and public_url are both set.
	Web Web `yaml:"web"`
	// MemoryLimit is the Go runtime's soft memory limit (GOMEMLIMIT): the
	// garbage collector works harder as the heap nears it, so a burst
	// (a large import, a big picture) is collected instead of growing the
	// process until the machine kills it. The GOMEMLIMIT environment
	// variable, when set, wins.
	MemoryLimit ByteSize `yaml:"memory_limit"`

	// offline: loaded by LoadOffline, chat secrets not required.
	offline bool
}

// Storage chooses the database: bbolt (default: data_dir/authbot.db, one
// process) or PostgreSQL (several processes, one active; see README).
type Storage struct {
	Driver string `yaml:"driver"` // bolt or postgres
	// DSNFile holds the PostgreSQL connection string (a secret: it has the
	// password). AUTHBOT_POSTGRES_DSN overrides it.
	DSNFile string `yaml:"dsn_file"`
	// DSN is read from DSNFile or the environment, never from the file
	// itself, and never printed.
	DSN string `yaml:"-"`
	// LeaseTTL is how long the active instance's lease lasts without a
	// renewal: a standby takes over about this long after it dies.
	LeaseTTL Duration `yaml:"lease_ttl"`
}

// Storage drivers.
const (
	DriverBolt     = "bolt"
	DriverPostgres = "postgres"
)

func (s Storage) validate() error {
	switch s.Driver {
	case DriverBolt:
		if s.DSNFile != "" || s.DSN != "" || s.LeaseTTL != 0 {
			return fmt.Errorf("storage.dsn_file: only used with storage.driver: postgres")
		}
	case DriverPostgres:
		if s.DSN == "" {
			return fmt.Errorf("storage.dsn_file: required with storage.driver: postgres (a file holding postgres://user:password@host/db), or set %s", EnvPostgresDSN)
		}
		if s.LeaseTTL != 0 && (s.LeaseTTL < Duration(2*time.Second) || s.LeaseTTL > Duration(time.Minute)) {
			return fmt.Errorf("storage.lease_ttl: must be between 2s and 1m (e.g. 5s)")
		}
	default:
		return fmt.Errorf("storage.driver: %q is not bolt or postgres", s.Driver)
	}
	return nil
}

// Lock tunes the personal passphrase lock.
type Lock struct {
	// UnlockFor is how long /unlock keeps a locked person's data open.
	UnlockFor Duration `yaml:"unlock_for"`
}

// Rate is one command class's budget: Burst at once, refilled at
// PerMinute. PerMinute 0 turns the limit off for that class.
type Rate struct {
	PerMinute float64 `yaml:"per_minute"`
	Burst     float64 `yaml:"burst"`
}

// RateLimits has one optional Rate per command class; nil keeps the
// built-in default for that class. Off turns every limit off (load tests).
type RateLimits struct {
	Off    bool  `yaml:"off"`
	Code   *Rate `yaml:"code"`   // /code and its buttons
	Secret *Rate `yaml:"secret"` // /export, /check, /recovery-codes, /audit, answers to questions
	Lock   *Rate `yaml:"lock"`   // /lock, /unlock, invites and links from strangers
	Write  *Rate `yaml:"write"`  // /add, /rename, /del, /vault, pasted links, files
	Other  *Rate `yaml:"other"`  // everything else
}

// maxUnlockFor bounds lock.unlock_for: an unlock that lasts days is no lock.
const maxUnlockFor = 24 * time.Hour

func (l Lock) validate() error {
	if l.UnlockFor < Duration(time.Minute) || l.UnlockFor > Duration(maxUnlockFor) {
		return fmt.Errorf("lock.unlock_for: must be between 1m and 24h (e.g. 15m)")
	}
	return nil
}

func (r RateLimits) validate() error {
	classes := []struct {
		name string
		r    *Rate
	}{{"code", r.Code}, {"secret", r.Secret}, {"lock", r.Lock}, {"write", r.Write}, {"other", r.Other}}
	for _, c := range classes {
		if c.r == nil {
			continue
		}
		key := "rate_limits." + c.name
		switch {
		case c.r.PerMinute < 0 || c.r.PerMinute > 1e6 || c.r.PerMinute != c.r.PerMinute:
			return fmt.Errorf("%s.per_minute: must be between 0 (no limit) and 1000000", key)
		case c.r.Burst < 0 || c.r.Burst > 1e6 || c.r.Burst != c.r.Burst:
			return fmt.Errorf("%s.burst: must be between 0 and 1000000", key)
		case c.r.PerMinute > 0 && c.r.Burst < 1:
			return fmt.Errorf("%s.burst: required, at least 1, when per_minute is set", key)
		}
	}
	return nil
}

// Metrics serves /healthz and Prometheus /metrics when Listen is set.
type Metrics struct {
	Listen string `yaml:"listen"` // e.g. 127.0.0.1:9090; empty: off
}

// Backup makes serve write an encrypted backup every Every into Dir and
// keep the newest Keep. Exactly one of Recipient and PassphraseFile.
type Backup struct {
	Dir            string   `yaml:"dir"`
	Every          Duration `yaml:"every"`
	Keep           int      `yaml:"keep"`
	Recipient      string   `yaml:"recipient"`       // age public key, age1...
	PassphraseFile string   `yaml:"passphrase_file"` // file holding a passphrase
}

// Enabled reports whether scheduled backups are configured.
func (b Backup) Enabled() bool { return b.Dir != "" }

func (b Backup) validate() error {
	if !b.Enabled() {
		if b.Every != 0 || b.Keep != 0 || b.Recipient != "" || b.PassphraseFile != "" {
			return fmt.Errorf("backup.dir: required when any other backup key is set")
		}
		return nil
	}
	if b.Every < Duration(time.Minute) {
		return fmt.Errorf("backup.every: required, at least 1m (e.g. 24h)")
	}
	if b.Keep < 1 || b.Keep > 10000 {
		return fmt.Errorf("backup.keep: required, how many backups to keep (1 to 10000)")
	}
	if (b.Recipient == "") == (b.PassphraseFile == "") {
		return fmt.Errorf("backup.recipient: give exactly one of backup.recipient (an age1... key) or backup.passphrase_file")
	}
	if b.Recipient != "" {
		// Parsed here, not when the first backup is due, so a typo stops
		// start-up before "serving".
		if _, err := age.ParseX25519Recipient(b.Recipient); err != nil {
			return fmt.Errorf("backup.recipient: %q is not an age public key (age1..., from age-keygen -y)", b.Recipient)
		}
	}
	return nil
}

func (m Metrics) validate() error {
	if m.Listen == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(m.Listen)
	if err != nil || port == "" {
		return fmt.Errorf("metrics.listen: %q is not host:port (e.g. 127.0.0.1:9090)", m.Listen)
	}
	_ = host // empty host means all interfaces, allowed (containers)
	return nil
}

// Log sets how authbot logs. Logs never hold secrets, codes or account names.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Codes sets how long code and export messages stay in a chat.
type Codes struct {
	// DeleteAfter is how long a message with a code stays before the bot
	// deletes it. 0 keeps it (not recommended).
	DeleteAfter Duration `yaml:"delete_after"`
	// ExportDeleteAfter is how long an exported secret (link, QR) stays.
	ExportDeleteAfter Duration `yaml:"export_delete_after"`
}

// Telegram is the Telegram adapter's section. It runs when a token is set.
type Telegram struct {
	Token     string   `yaml:"token"`
	TokenFile string   `yaml:"token_file"`
	APIURL    string   `yaml:"api_url"`
	Webhook   *Webhook `yaml:"webhook"`
}

// Webhook switches Telegram from long polling to webhook delivery.
type Webhook struct {
	Listen     string `yaml:"listen"`      // address to listen on, e.g. 127.0.0.1:8443
	URL        string `yaml:"url"`         // public https URL Telegram calls
	Secret     string `yaml:"secret"`      // X-Telegram-Bot-Api-Secret-Token
	SecretFile string `yaml:"secret_file"` // or read it from this file
}

// Matrix is the Matrix adapter's section. It runs when a homeserver is set.
type Matrix struct {
	Homeserver      string `yaml:"homeserver"`
	UserID          string `yaml:"user_id"`
	Password        string `yaml:"password"`
	PasswordFile    string `yaml:"password_file"`
	AccessToken     string `yaml:"access_token"`
	AccessTokenFile string `yaml:"access_token_file"`
	DeviceID        string `yaml:"device_id"`
}

// User is one person allowed to use the bot. A person may have both a
// Telegram and a Matrix identity and sees the same accounts on both.
type User struct {
	Name     string `yaml:"name"`
	Telegram int64  `yaml:"telegram"`
	Matrix   string `yaml:"matrix"`
	Admin    bool   `yaml:"admin"`
}

// Env is how Load sees the environment; main passes os.Getenv.
type Env func(key string) string

// Environment variables that override the file.
const (
	EnvMasterKey       = "AUTHBOT_MASTER_KEY"
	EnvTelegramToken   = "AUTHBOT_TELEGRAM_TOKEN"
	EnvMatrixPassword  = "AUTHBOT_MATRIX_PASSWORD"
	EnvMatrixAccessTok = "AUTHBOT_MATRIX_ACCESS_TOKEN"
	EnvPostgresDSN     = "AUTHBOT_POSTGRES_DSN"
	// EnvDataDir overrides data_dir: the container sets /data, so the
	// example config works there as written.
	EnvDataDir          = "AUTHBOT_DATA_DIR"
	defaultDeleteAfter  = 2 * time.Minute
	defaultExportDelete = time.Minute
	defaultUnlockFor    = 15 * time.Minute
)

// Default is the configuration used when there is no file (authbot chat).
func Default(dataDir string) *Config {
	c := &Config{DataDir: dataDir}
	c.applyDefaults()
	return c
}

// Load reads the file at path, applies environment overrides and defaults,
// and validates the result.
func Load(path string, env Env) (*Config, error) { return load(path, env, false) }

// LoadOffline is Load for the commands that never talk to a chat network
// (backup, audit, rotate-key, restore, export, doctor's offline checks):
// chat secrets (the Telegram token, the Matrix password or access token,
// the webhook secret) need not be present, and their *_file keys are not
// read, so an operator can run them from a shell without those secrets.
func LoadOffline(path string, env Env) (*Config, error) { return load(path, env, true) }

func load(path string, env Env, offline bool) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	if len(data) > 1<<20 {
		return nil, fmt.Errorf("config %s: larger than 1 MiB", path)
	}
	c, err := parse(data, env, offline)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if !filepath.IsAbs(c.DataDir) {
		// A relative data_dir means relative to the config file, so the
		// same config works whatever the working directory is.
		abs, err := filepath.Abs(filepath.Join(filepath.Dir(path), c.DataDir))
		if err != nil {
			return nil, fmt.Errorf("config %s: data_dir: %w", path, err)
		}
		c.DataDir = abs
	}
	return c, nil
}

// Parse parses YAML config text. Unknown keys are errors: a typo must not
// silently turn a setting off.
func Parse(data []byte, env Env) (*Config, error) { return parse(data, env, false) }

func parse(data []byte, env Env, offline bool) (*Config, error) {
	c := Config{offline: offline}
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	lines := map[int]string{}
	if err := checkKeys(&root, reflect.TypeOf(c), "", lines); err != nil {
		return nil, err
	}
	// The tree just checked is decoded, not the text again: parsing is
	// most of the cost (1,000 people: 28 ms for two parses). checkKeys has
	// refused every unknown key, as KnownFields would (Config has no maps).
	if root.Kind != 0 {
		if err := root.Decode(&c); err != nil {
			return nil, explainDecode(err, lines)
		}
	}
	if env == nil {
		env = func(string) string { return "" }
	}
	if err := c.applyEnvAndFiles(env); err != nil {
		return nil, err
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) applyEnvAndFiles(env Env) error {
	if v := env(EnvTelegramToken); v != "" {
		c.Telegram.Token = v
	}
	if v := env(EnvMatrixPassword); v != "" {
		c.Matrix.Password = v
	}
	if v := env(EnvMatrixAccessTok); v != "" {
		c.Matrix.AccessToken = v
	}
	if v := env(EnvDataDir); v != "" {
		c.DataDir = v
	}
	if v := env(EnvPostgresDSN); v != "" {
		c.Storage.DSN = strings.TrimSpace(v)
	}
	files := []struct {
		key  string
		file string
		dst  *string
	}{
		{"telegram.token_file", c.Telegram.TokenFile, &c.Telegram.Token},
		{"matrix.password_file", c.Matrix.PasswordFile, &c.Matrix.Password},
		{"matrix.access_token_file", c.Matrix.AccessTokenFile, &c.Matrix.AccessToken},
		{"storage.dsn_file", c.Storage.DSNFile, &c.Storage.DSN},
	}
	if c.Telegram.Webhook != nil {
		files = append(files, struct {
			key  string
			file string
			dst  *string
		}{"telegram.webhook.secret_file", c.Telegram.Webhook.SecretFile, &c.Telegram.Webhook.Secret})
	}
	for _, f := range files {
		if f.file == "" || *f.dst != "" {
			continue
		}
		if c.offline && f.key != "storage.dsn_file" {
			continue // a chat secret: offline commands do not use it
		}
		b, err := os.ReadFile(f.file)
		if err != nil {
			return fmt.Errorf("%s: %w", f.key, err)
		}
		*f.dst = strings.TrimSpace(string(b))
		if *f.dst == "" {
			return fmt.Errorf("%s: the file %s is empty", f.key, f.file)
		}
	}
	return nil
}

func (c *Config) applyDefaults() {
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
	if c.Codes.DeleteAfter == 0 {
		c.Codes.DeleteAfter = Duration(defaultDeleteAfter)
	}
	if c.Codes.ExportDeleteAfter == 0 {
		c.Codes.ExportDeleteAfter = Duration(defaultExportDelete)
	}
	if c.Lock.UnlockFor == 0 {
		c.Lock.UnlockFor = Duration(defaultUnlockFor)
	}
	if c.MemoryLimit == 0 {
		c.MemoryLimit = DefaultMemoryLimit
	}
	if c.Storage.Driver == "" {
		c.Storage.Driver = DriverBolt
	}
}

// Validate checks every key and names the first one at fault.
func (c *Config) Validate() error {
	if c.MemoryLimit < minMemoryLimit {
		return fmt.Errorf("memory_limit: at least 32MiB (e.g. 256MiB)")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: %q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log.format: %q is not text or json", c.Log.Format)
	}
	if c.Codes.DeleteAfter < 0 {
		return fmt.Errorf("codes.delete_after: must not be negative")
	}
	if c.Codes.ExportDeleteAfter < 0 {
		return fmt.Errorf("codes.export_delete_after: must not be negative")
	}
	if err := c.Telegram.validate(c.offline); err != nil {
		return err
	}
	if err := c.Matrix.validate(c.offline); err != nil {
		return err
	}
	if err := c.Metrics.validate(); err != nil {
		return err
	}
	if err := c.Backup.validate(); err != nil {
		return err
	}
	if err := c.Lock.validate(); err != nil {
		return err
	}
	if err := c.Storage.validate(); err != nil {
		return err
	}
	if err := c.RateLimits.validate(); err != nil {
		return err
	}
	if err := c.Web.validate(); err != nil {
		return err
	}
	names := map[string]bool{}
	tg := map[int64]bool{}
	mx := map[string]bool{}
	for i, u := range c.Users {
		key := fmt.Sprintf("users[%d]", i)
		if strings.TrimSpace(u.Name) == "" {
			return fmt.Errorf("%s.name: required (a short name for the person)", key)
		}
		if names[strings.ToLower(u.Name)] {
			return fmt.Errorf("%s.name: %q is used twice", key, u.Name)
		}
		names[strings.ToLower(u.Name)] = true
		if u.Telegram == 0 && u.Matrix == "" {
			return fmt.Errorf("%s: give a telegram user id or a matrix user id (or both)", key)
		}
		if u.Telegram < 0 {
			return fmt.Errorf("%s.telegram: %d is not a Telegram user id (user ids are positive)", key, u.Telegram)
		}
		if u.Telegram != 0 {
			if tg[u.Telegram] {
				return fmt.Errorf("%s.telegram: %d belongs to another user too", key, u.Telegram)
			}
			tg[u.Telegram] = true
		}
		if u.Matrix != "" {
			if !validMatrixID(u.Matrix) {
				return fmt.Errorf("%s.matrix: %q is not a Matrix user id like @alice:example.org", key, u.Matrix)
			}
			if mx[u.Matrix] {
				return fmt.Errorf("%s.matrix: %s belongs to another user too", key, u.Matrix)
			}
			mx[u.Matrix] = true
		}
	}
	// With Telegram, serve prints a claim code instead: whoever sends it
	// first becomes the admin (no user id to look up).
	if c.Matrix.Enabled() && !c.Telegram.Enabled() && len(c.Users) == 0 {
		return fmt.Errorf("users: empty, so nobody could use the bot; add at least one person (with a Telegram token, serve prints a claim code instead)")
	}
	return nil
}

// Enabled reports whether the Telegram adapter should run.
func (t Telegram) Enabled() bool { return t.Token != "" }

func (t Telegram) validate(offline bool) error {
	if strings.ContainsFunc(t.Token, unicode.IsSpace) {
		return fmt.Errorf("telegram.token: has a space or line break in it; paste the token @BotFather gave you as one word (123456:ABC...)")
	}
	if t.Token != "" && !strings.Contains(t.Token, ":") {
		return fmt.Errorf("telegram.token: does not look like a BotFather token (123456:ABC...)")
	}
	if t.APIURL != "" {
		if err := checkURL(t.APIURL); err != nil {
			return fmt.Errorf("telegram.api_url: %w", err)
		}
	}
	if t.Token == "" && t.Webhook != nil && !offline {
		return fmt.Errorf("telegram.token: empty; set %s, telegram.token or telegram.token_file (the token @BotFather gave you)", EnvTelegramToken)
	}
	if w := t.Webhook; w != nil {
		if w.Listen == "" {
			return fmt.Errorf("telegram.webhook.listen: required in webhook mode (e.g. 127.0.0.1:8443)")
		}
		if err := checkURL(w.URL); err != nil {
			return fmt.Errorf("telegram.webhook.url: %w", err)
		}
		if len(w.Secret) < 16 && !(offline && w.Secret == "") {
			return fmt.Errorf("telegram.webhook.secret: required, at least 16 characters (A-Z, a-z, 0-9, _ and -)")
		}
		for _, r := range w.Secret {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
				return fmt.Errorf("telegram.webhook.secret: only A-Z, a-z, 0-9, _ and - are allowed")
			}
		}
	}
	return nil
}

// Enabled reports whether the Matrix adapter should run.
func (m Matrix) Enabled() bool { return m.Homeserver != "" }

func (m Matrix) validate(offline bool) error {
	if !m.Enabled() {
		return nil
	}
	if err := checkURL(m.Homeserver); err != nil {
		return fmt.Errorf("matrix.homeserver: %w", err)
	}
	if !validMatrixID(m.UserID) {
		return fmt.Errorf("matrix.user_id: %q is not a Matrix user id like @authbot:example.org", m.UserID)
	}
	if m.Password == "" && m.AccessToken == "" && !offline {
		return fmt.Errorf("matrix.password: required (or matrix.access_token, or %s)", EnvMatrixPassword)
	}
	if m.DeviceID != "" && m.AccessToken == "" {
		// With a password the bot keeps its device id in data_dir/matrix
		// itself; a configured one could only disagree with it.
		return fmt.Errorf("matrix.device_id: only used with matrix.access_token (with a password the bot remembers its device in data_dir/matrix)")
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}

func validMatrixID(s string) bool {
	local, server, ok := strings.Cut(strings.TrimPrefix(s, "@"), ":")
	return strings.HasPrefix(s, "@") && ok && local != "" && server != ""
}

// String prints the config with every secret replaced by <redacted>.
func (c Config) String() string {
	red := func(s string) string {
		if s == "" {
			return ""
		}
		return "<redacted>"
	}
	c.Telegram.Token = red(c.Telegram.Token)
	c.Matrix.Password = red(c.Matrix.Password)
	c.Matrix.AccessToken = red(c.Matrix.AccessToken)
	c.Storage.DSN = red(c.Storage.DSN) // yaml:"-" already; belt and braces
	if c.Telegram.Webhook != nil {
		w := *c.Telegram.Webhook
		w.Secret = red(w.Secret)
		c.Telegram.Webhook = &w
	}
	out, err := yaml.Marshal(c)
	if err != nil {
		return "<config>"
	}
	return string(out)
}

// Duration is a time.Duration written as "90s" or "2m" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 90s or 2m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as text.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Web is the web page of live codes: a Telegram Mini App and the
// one-time links /web sends. It is served when Listen and PublicURL are
// both set; TLS comes from a reverse proxy in front.
type Web struct {
	Listen    string `yaml:"listen"`     // address authbot listens on, e.g. 127.0.0.1:8080
	PublicURL string `yaml:"public_url"` // https URL people open, e.g. https://codes.example.org
	// InitDataMaxAge is how old Telegram's launch data (auth_date) may be.
	InitDataMaxAge Duration `yaml:"init_data_max_age"`
}

// Enabled reports whether the web page is served.
func (w Web) Enabled() bool { return w.Listen != "" && w.PublicURL != "" }

// maxInitDataAge bounds web.init_data_max_age: Telegram's launch data is
// a bearer credential for as long as it is accepted.
const maxInitDataAge = 24 * time.Hour

func (w Web) validate() error {
	if (w.Listen == "") != (w.PublicURL == "") {
		return fmt.Errorf("web: set both listen and public_url, or neither (the page is off then)")
	}
	if w.PublicURL != "" {
		if err := checkURL(w.PublicURL); err != nil {
			return fmt.Errorf("web.public_url: %w", err)
		}
		if u, _ := url.Parse(w.PublicURL); u.Path != "" && u.Path != "/" {
			return fmt.Errorf("web.public_url: %q has a path; serve the page at the root of its own host name", w.PublicURL)
		}
	}
	if w.InitDataMaxAge < 0 || w.InitDataMaxAge > Duration(maxInitDataAge) {
		return fmt.Errorf("web.init_data_max_age: must be between 0 (default 1h) and 24h")
	}
	return nil
}

// DefaultMemoryLimit is memory_limit when the file leaves it out: the
// bot's steady state is tens of MB, and image decoding is budgeted well
// under this (core/qr).
const DefaultMemoryLimit = ByteSize(256 << 20)

const minMemoryLimit = ByteSize(32 << 20)

// ByteSize is a number of bytes written as "256MiB", "1GiB", "512MB" or a
// plain number in YAML.
type ByteSize int64

// UnmarshalYAML parses a size with an optional unit (KiB, MiB, GiB, KB,
// MB, GB, B).
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a size like 256MiB or 1GiB", n.Line, n.Value)
	}
	*b = v
	return nil
}

// MarshalYAML writes the size in MiB when it is a whole number of them.
func (b ByteSize) MarshalYAML() (any, error) {
	if b%(1<<20) == 0 {
		return fmt.Sprintf("%dMiB", b>>20), nil
	}
	return int64(b), nil
}

// ParseByteSize reads "256MiB", "1 GiB", "512MB", "1048576".
func ParseByteSize(s string) (ByteSize, error) {
	s = strings.TrimSpace(s)
	i := len(s)
	for i > 0 && (s[i-1] < '0' || s[i-1] > '9') {
		i--
	}
	num, unit := strings.TrimSpace(s[:i]), strings.ToLower(strings.TrimSpace(s[i:]))
	mult := map[string]int64{"": 1, "b": 1, "k": 1 << 10, "kb": 1000, "kib": 1 << 10, "m": 1 << 20, "mb": 1000 * 1000, "mib": 1 << 20,
		"g": 1 << 30, "gb": 1000 * 1000 * 1000, "gib": 1 << 30}[unit]
	if mult == 0 || num == "" {
		return 0, fmt.Errorf("bad size %q", s)
	}
	var v int64
	for _, c := range num {
		if c < '0' || c > '9' || v > (1<<62)/10 {
			return 0, fmt.Errorf("bad size %q", s)
		}
		v = v*10 + int64(c-'0')
	}
	if v > (1<<62)/mult {
		return 0, fmt.Errorf("size %q too large", s)
	}
	return ByteSize(v * mult), nil
}

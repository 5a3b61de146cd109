// Package failover holds only tests: two `authbot serve` processes on one
// PostgreSQL database and the fake Telegram Bot API, the active one killed
// with SIGKILL again and again under /add and /code traffic, and the
// database restarted under load. It is a package of its own so this slow
// suite runs in parallel with the others.
package failover

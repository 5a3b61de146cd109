// Package matrixfailover holds only tests: two `authbot serve` processes on
// one PostgreSQL database and a real Dendrite, the active one killed with
// SIGKILL a few times while a person's own E2EE client talks to the bot.
// The standby must take over as the same Matrix device: it decrypts the
// person's new messages with the olm and megolm state it finds in
// PostgreSQL, its replies decrypt on the person's side, and no message is
// answered twice. A package of its own (needing both servers) so it runs in
// parallel with storage/postgres/failover's Telegram suite.
package matrixfailover

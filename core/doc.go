// Package core is authbot's domain: people's accounts, their one-time
// codes, and the sealing of everything that reaches the disk. It defines the
// seams it needs from the outside (Store, Clock) and the Service that every
// chat adapter calls through bots/commands. It does no chat or disk I/O of
// its own.
package core

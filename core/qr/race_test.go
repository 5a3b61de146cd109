//go:build race

package qr

// raceEnabled: the race detector makes decoding a 12 Mpx picture take
// minutes; the memory figures are measured without it.
const raceEnabled = true

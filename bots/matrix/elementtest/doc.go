//go:build goolm

// Package elementtest tests the Matrix bot against a second crypto stack:
// an Element-like client (matrix-js-sdk with the Rust crypto that Element
// Web runs, in Node) driven from a Go test on a Dendrite of its own. The
// bot's own tests (bots/matrix) use mautrix on both sides; this package
// shows the bot works with the crypto people actually use. It is a package
// of its own so its Dendrite and Node start in parallel with bots/matrix's
// tests. The client is js/client.mjs; scripts/element-client.sh installs its
// dependencies (npm ci from js/package-lock.json) outside the repo.
package elementtest

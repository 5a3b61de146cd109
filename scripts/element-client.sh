#!/usr/bin/env bash
# element-client.sh installs the Node test client of bots/matrix/elementtest:
# matrix-js-sdk with the Rust crypto (matrix-sdk-crypto-wasm) that Element
# Web runs, pinned by bots/matrix/elementtest/js/package-lock.json.
#
#   scripts/element-client.sh install   npm ci once per lockfile (idempotent)
#   scripts/element-client.sh dir       print the directory holding node_modules
#
# node_modules lives outside the repo, under the Go path beside Dendrite
# ($(go env GOPATH)/authbot-cache/element-client-HASH, HASH from the
# lockfile), so every clone and worktree on a machine shares one install and
# a changed lockfile gets a fresh one. ELEMENT_CLIENT_DIR overrides it.
# Needs node and npm (Debian's nodejs and npm; .ci/run installs them).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../bots/matrix/elementtest/js" && pwd)
HASH=$(sha256sum "$SRC/package-lock.json" | cut -c1-16)
DIR=${ELEMENT_CLIENT_DIR:-$(go env GOPATH)/authbot-cache/element-client-$HASH}

install() {
	if [ -f "$DIR/.installed" ]; then
		return 0
	fi
	command -v npm >/dev/null || { echo "element-client.sh: npm not found (apt-get install nodejs npm)" >&2; exit 1; }
	mkdir -p "$DIR"
	cp "$SRC/package.json" "$SRC/package-lock.json" "$DIR/"
	echo "element-client.sh: npm ci into $DIR" >&2
	# matrix-js-sdk 43 says node >= 22 in its engines, but runs on the
	# Node 20 of Debian-based machines here (the test proves it each run);
	# npm only warns about engines unless engine-strict is set.
	(cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error)
	touch "$DIR/.installed"
}

case ${1:-} in
install) install ;;
dir) echo "$DIR" ;;
*)
	echo "usage: $0 install|dir" >&2
	exit 2
	;;
esac

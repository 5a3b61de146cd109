#!/usr/bin/env bash
# dendrite.sh installs and starts a pinned Dendrite homeserver for the Matrix
# integration tests (bots/matrix) and for trying the Matrix adapter by hand.
#
#   scripts/dendrite.sh install             build the pinned binaries once (idempotent)
#   scripts/dendrite.sh bin                 print the directory holding them
#   scripts/dendrite.sh prepare DIR PORT    write keys and dendrite.yaml for localhost:PORT into DIR
#   scripts/dendrite.sh start DIR PORT      prepare, then run Dendrite in the foreground
#   scripts/dendrite.sh adduser DIR PORT NAME PASSWORD   create an account (server must be up)
#
# DENDRITE_BIN overrides the install directory (default: under the Go path,
# $(go env GOPATH)/authbot-cache/dendrite-VERSION, so every clone and worktree
# on a machine shares one build). Building needs cgo and gcc (Dendrite's SQLite
# is mattn/go-sqlite3); it takes about 2 minutes cold on 2 cores.
set -euo pipefail

VERSION=v0.13.8
BIN=${DENDRITE_BIN:-$(go env GOPATH)/authbot-cache/dendrite-$VERSION}
TOOLS="dendrite generate-keys generate-config create-account"
# The shared secret only guards registration on a loopback test server.
SECRET=${DENDRITE_SHARED_SECRET:-authbot-test-secret}

installed() {
	[ -f "$BIN/.version" ] && [ "$(cat "$BIN/.version")" = "$VERSION" ] || return 1
	for t in $TOOLS; do [ -x "$BIN/$t" ] || return 1; done
}

install() {
	if installed; then
		return 0
	fi
	mkdir -p "$BIN"
	local pkgs=()
	for t in $TOOLS; do pkgs+=("github.com/matrix-org/dendrite/cmd/$t@$VERSION"); done
	echo "dendrite.sh: building Dendrite $VERSION into $BIN (about 2 minutes cold)" >&2
	# GOFLAGS is cleared so a caller's -tags or -mod settings do not leak into
	# Dendrite's build; cgo is required by its SQLite driver.
	(cd "$BIN" && GOBIN="$BIN" CGO_ENABLED=1 GOFLAGS= go install "${pkgs[@]}")
	echo "$VERSION" >"$BIN/.version"
}

prepare() {
	local dir=$1 port=$2
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ -f "$dir/matrix_key.pem" ] || "$BIN/generate-keys" --private-key "$dir/matrix_key.pem" >/dev/null
	"$BIN/generate-config" -dir "$dir/data" -server "localhost:$port" >"$dir/dendrite.yaml"
	# Federation off (the server name is localhost:PORT; nothing must leave
	# the machine), registration only by shared secret, no rate limits so
	# parallel tests do not trip over 429s.
	sed -i \
		-e 's/^  disable_federation: false/  disable_federation: true/' \
		-e "s/^  registration_shared_secret: \"\"/  registration_shared_secret: \"$SECRET\"/" \
		-e "s#^  private_key: matrix_key.pem#  private_key: $dir/matrix_key.pem#" \
		-e '/^  rate_limiting:/,/^  [a-z]/ s/^    enabled: true/    enabled: false/' \
		"$dir/dendrite.yaml"
}

case ${1:-} in
install) install ;;
bin) echo "$BIN" ;;
prepare)
	[ $# -eq 3 ] || { echo "usage: $0 prepare DIR PORT" >&2; exit 2; }
	install
	prepare "$2" "$3"
	;;
start)
	[ $# -eq 3 ] || { echo "usage: $0 start DIR PORT" >&2; exit 2; }
	install
	prepare "$2" "$3"
	cd "$2"
	exec "$BIN/dendrite" --config dendrite.yaml --http-bind-address "127.0.0.1:$3"
	;;
adduser)
	[ $# -eq 5 ] || { echo "usage: $0 adduser DIR PORT NAME PASSWORD" >&2; exit 2; }
	"$BIN/create-account" --config "$2/dendrite.yaml" --url "http://127.0.0.1:$3" --username "$4" --password "$5"
	;;
*)
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac

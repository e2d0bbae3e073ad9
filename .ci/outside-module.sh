#!/usr/bin/env bash
# The modules as an outside user gets them: tag the working tree in a
# temporary clone, build a file-based module proxy from those tags with the go
# command itself (so the zips are what proxy.golang.org would serve: a nested
# module's files are left out of its parent's zip), then, in a fresh module
# outside the workspace and without network, `go get` the root module, dist,
# asyncotel and console, `go get -tool` asyncvet, build a program using each
# and run `go tool asyncvet` on it.
#
# Third-party modules come from the local module cache served as a proxy
# (filled first by `go mod download` in the workspace), checked against the
# hashes this repository's go.sum files record.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

# The version the nested modules require of the root is the one to release.
version=$(go mod edit -json dist/go.mod | python3 -c '
import json, sys
print(next(r["Version"] for r in json.load(sys.stdin)["Require"] if r["Path"] == "github.com/goasync/async"))')
published=(dist asyncotel cmd/asyncvet) # nested modules users install, tagged DIR/VERSION
for m in "${published[@]}"; do
	v=$(go mod edit -json "$m/go.mod" | python3 -c '
import json, sys
print(next(r["Version"] for r in json.load(sys.stdin)["Require"] if r["Path"] == "github.com/goasync/async"))')
	if [ "$v" != "$version" ]; then
		echo "$m/go.mod requires github.com/goasync/async $v, dist/go.mod $version: release them together" >&2
		exit 1
	fi
done
echo "== outside module: version $version"

# Fixed directories per checkout, so that the build cache (keyed by source
# paths) serves the next run. $deps is a module cache of this script's own
# for third-party modules; ours are never kept in it.
base="${TMPDIR:-/tmp}/goasync-outside-$(id -u)-$(printf %s "$repo" | sha256sum | head -c 8)"
deps="$base-deps"
realcache="$(go env GOMODCACHE)"
forget_ours() { # our modules must come from this run's proxy, never a cache
	[ -d "$deps" ] || return 0
	chmod -R u+w "$deps/github.com/goasync" "$deps/cache/download/github.com/goasync" 2>/dev/null || true
	rm -rf "$deps/github.com/goasync" "$deps/cache/download/github.com/goasync"
}
clean() {
	forget_ours
	if [ -d "$base" ]; then chmod -R u+w "$base" && rm -rf "$base"; fi
	return 0
}
clean
[ -n "${KEEP:-}" ] || trap clean EXIT # KEEP=1 leaves the folders for a look
mkdir -p "$base"

# 1. The working tree (tracked and untracked, not ignored) as one commit of a
# temporary clone, with the release's tags.
src="$base/src"
git init -q "$src"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
	[ -e "$f" ] && printf '%s\0' "$f"
done | tar --null -T - -cf - | tar -xf - -C "$src"
git -C "$src" add -A
git -C "$src" -c user.name=ci -c user.email=ci@localhost commit -q -m "release $version"
git -C "$src" tag "$version"
for m in "${published[@]}"; do git -C "$src" tag "$m/$version"; done

# 2. The proxy: the go command fetches the tags straight from the clone
# (github.com's URL rewritten to it for these commands only) and writes the
# .info, .mod, .zip and list files of each module under cache/download.
build="$base/build"
cat >"$base/gitconfig" <<EOF
[url "file://$src"]
	insteadOf = https://github.com/goasync/async
EOF
mods=("github.com/goasync/async@$version")
for m in "${published[@]}"; do mods+=("github.com/goasync/async/$m@$version"); done
(cd "$base" && env GIT_CONFIG_GLOBAL="$base/gitconfig" GIT_CONFIG_NOSYSTEM=1 \
	GOMODCACHE="$build" GOPROXY=direct GOPRIVATE=github.com/goasync GOWORK=off GOFLAGS=-mod=mod \
	go mod download -x "${mods[@]}" 2>"$base/download.log") || { cat "$base/download.log"; exit 1; }
proxy="$build/cache/download"
for m in "" "${published[@]/#//}"; do
	d="$proxy/github.com/goasync/async$m/@v"
	for f in list "$version.info" "$version.mod" "$version.zip"; do
		[ -s "$d/$f" ] || { echo "proxy lacks $d/$f" >&2; exit 1; }
	done
done
# The root's zip must not carry the nested modules (they are modules of their own).
if unzip -l "$proxy/github.com/goasync/async/@v/$version.zip" | grep -E "@$version/(dist|asyncotel|cmd/asyncvet|bench|examples/shop)/"; then
	echo "the root module's zip holds files of a nested module" >&2
	exit 1
fi

# 3. A user's module, outside the workspace. First the third-party modules it
# needs go into $deps: from the local module cache or, for what is missing,
# the module proxy (checked against the checksum database). Then the user's
# build runs with no network at all.
# GODEBUG=goindex=0: the go command indexes a module of the module cache by
# its path alone (the cache is immutable), and ours come back at the same
# path with new contents on every run.
export GOWORK=off GOFLAGS=-mod=mod GOTOOLCHAIN=local GONOSUMDB=github.com/goasync GOMODCACHE="$deps" GODEBUG=goindex=0
get() {
	go get "github.com/goasync/async@$version" "github.com/goasync/async/dist@$version" \
		"github.com/goasync/async/asyncotel@$version"
	go get -tool "github.com/goasync/async/cmd/asyncvet@$version"
}
program() { # the user's program, using each published module the way a user would
cat >main.go <<'EOF'
// A program that uses each published module the way a user would.
package main

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/goasync/async"
	"github.com/goasync/async/asyncotel"
	"github.com/goasync/async/console"
	"github.com/goasync/async/dist"
	"github.com/goasync/async/dist/server"
)

func main() {
	ctx := context.Background()
	obs, err := asyncotel.New()
	if err != nil {
		panic(err)
	}
	defer obs.Close()
	async.SetObserver(obs)

	srv := httptest.NewServer(console.Handler())
	defer srv.Close()

	double := async.Func(func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	sum, err := async.All(ctx, double(ctx, 1), double(ctx, 2))
	if err != nil {
		panic(err)
	}
	var call = dist.Call[int, int] // the distributed form of the same call
	var start = server.Start       // an embedded NATS server for it
	fmt.Println(sum, call != nil && start != nil)
}
EOF
}
mkdir -p "$base/prime" && cd "$base/prime"
go mod init example.com/prime >/dev/null 2>&1
export GOPROXY="file://$proxy,file://$realcache/cache/download,https://proxy.golang.org"
get
program
go mod tidy # everything the program's imports need, go.mod files of the whole graph included
go mod download all
forget_ours

user="$base/user"
mkdir -p "$user/buggy"
export GOPROXY="file://$proxy,off"
cd "$user"
go mod init example.com/user >/dev/null 2>&1
grep -v '^github.com/goasync/' "$base/prime/go.sum" >go.sum # third-party hashes checked above
get
program
cat >buggy/buggy.go <<'EOF'
package buggy

import (
	"context"

	"github.com/goasync/async"
)

func Save(ctx context.Context) {
	async.Go(ctx, func(ctx context.Context) (int, error) { return 0, nil }) // the future is discarded
}
EOF
go mod tidy
go build -o "$base/user.bin" .
out=$("$base/user.bin")
[ "$out" = "[2 4] true" ] || { echo "the program printed $out, want [2 4] true" >&2; exit 1; }
go vet ./...
go tool asyncvet . # exit status 0: nothing to report
set +e
findings=$(go tool asyncvet ./buggy 2>&1)
status=$?
set -e
if [ "$status" != 3 ] || ! grep -q 'buggy.go:10:.*discarded' <<<"$findings"; then
	echo "go tool asyncvet ./buggy: exit $status, output:" >&2
	echo "$findings" >&2
	echo "want exit 3 and the discarded future reported" >&2
	exit 1
fi
echo "== outside module: go get, go get -tool, build, go tool asyncvet: ok"

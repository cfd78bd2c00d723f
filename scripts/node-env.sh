# Which Node runs StreamHub. Sourced by scripts/bootstrap.sh (which installs it when needed)
# and scripts/with-node (which puts it first on PATH for a command and all its children).
# shellcheck shell=bash
source "$(dirname "${BASH_SOURCE[0]}")/service-versions.env"
CACHE_DIR="${STREAMHUB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/streamhub}"
NODE_MAJOR="${NODE_VERSION%%.*}"
CACHED_NODE_DIR="$CACHE_DIR/node-v$NODE_VERSION"

node_major_on_path() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true; }

# The machine's own node when it is the supported major, else the cached release. Fails when
# neither is there (run scripts/bootstrap.sh).
use_streamhub_node() {
  [ "$(node_major_on_path)" = "$NODE_MAJOR" ] && return 0
  [ -x "$CACHED_NODE_DIR/bin/node" ] || return 1
  export PATH="$CACHED_NODE_DIR/bin:$PATH"
}

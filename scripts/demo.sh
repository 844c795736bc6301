#!/usr/bin/env bash
# The demo: three OpenMRS-like JVMs on loopback form a cluster, one is killed, the others notice.
# `scripts/demo.sh --embedded` runs the one-node embedded default instead.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
exec gradle --no-daemon --quiet --console=plain demo -PdemoArgs="$*"

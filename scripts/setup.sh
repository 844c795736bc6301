#!/usr/bin/env bash
# Installs what the build needs on a fresh Debian machine: Gradle from the distribution's
# packages (a wrapper cannot download one where only package registries are reachable), a JDK,
# Maven (scripts/openmrs.sh builds OpenMRS with it) and Rust's cargo if they are missing. Safe to
# run again.
set -euo pipefail

need_apt=()
command -v gradle >/dev/null 2>&1 || need_apt+=(gradle)
command -v javac >/dev/null 2>&1 || need_apt+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "setup: cargo (Rust 1.80 or later) is required; install it with rustup" >&2
    exit 1
  fi
fi

#!/usr/bin/env bash
# Installs Debian packages non-interactively (with sudo when not root), refreshing the package
# lists only when the first attempt fails: a fresh CI machine may have stale or empty lists.
#
#   scripts/apt-install.sh PACKAGE...
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
echo "apt-install.sh: installing $*" >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 ||
  { $SUDO apt-get update -q >&2 && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2; }

#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the browser tests (driven from Go with chromedp),
# with the Noto CJK fonts so Chinese pages render as a citizen's phone would show them.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null || [ ! -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; then
  scripts/apt-install.sh chromium fonts-noto-cjk
fi
command -v chromium >/dev/null || { echo "browser-deps.sh: chromium still missing" >&2; exit 1; }
echo "browser-deps.sh: $(chromium --version 2>/dev/null | sed -n 1p)" >&2

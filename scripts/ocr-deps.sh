#!/usr/bin/env bash
# Makes sure what OCR needs is installed, from Debian's packages: Tesseract with Simplified
# Chinese and English, poppler (pdftoppm, pdfinfo) for PDF pages, and for the tests the Noto CJK
# fonts (synthetic letters are rendered with them) and qpdf (password-protected PDFs).
set -euo pipefail
cd "$(dirname "$0")/.."

ready() {
  command -v tesseract >/dev/null && command -v pdftoppm >/dev/null && command -v pdfinfo >/dev/null &&
    command -v qpdf >/dev/null && [ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] &&
    tesseract --list-langs 2>/dev/null | grep -x chi_sim >/dev/null && tesseract --list-langs 2>/dev/null | grep -x eng >/dev/null
}

if ! ready; then
  scripts/apt-install.sh tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim poppler-utils fonts-noto-cjk qpdf
fi
ready || { echo "ocr-deps.sh: Tesseract (chi_sim, eng), poppler-utils, qpdf or fonts-noto-cjk still missing" >&2; exit 1; }
echo "ocr-deps.sh: $(tesseract --version 2>&1 | sed -n 1p), languages chi_sim+eng, $(pdftoppm -v 2>&1 | sed -n 1p)" >&2

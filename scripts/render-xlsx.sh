#!/usr/bin/env bash
# render-xlsx.sh FILE.xlsx [DPI]: renders a workbook as LibreOffice prints it, to FILE.pdf
# and FILE-N.png beside it (one PNG per page), to look at an XLSX report or rejects file as
# a person would before changing how report/ writes them.
# Needs: apt-get install -y libreoffice-calc-nogui poppler-utils (fonts-crosextra-carlito
# for Calibri's metrics).
set -euo pipefail
file=${1:?usage: render-xlsx.sh FILE.xlsx [DPI]}
dpi=${2:-80}
dir=$(dirname "$file")
base=$(basename "$file" .xlsx)
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
HOME=$profile timeout 120 soffice --headless --convert-to pdf --outdir "$dir" "$file" >/dev/null 2>&1
rm -f "$dir/$base"-*.png
pdftoppm -r "$dpi" -png "$dir/$base.pdf" "$dir/$base"
ls "$dir/$base"-*.png

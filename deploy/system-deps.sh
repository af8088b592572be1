#!/usr/bin/env bash
# Debian packages Quotaflow needs at run time: a CJK font (PDFs, heat-map picture) and poppler-utils
# (tests check PDFs with pdffonts). Installs only what is missing; says what to do without root.
set -euo pipefail
need=()
[[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]] || need+=(fonts-noto-cjk)
command -v pdffonts >/dev/null 2>&1 || need+=(poppler-utils)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
[[ ${#need[@]} -eq 0 ]] && exit 0
echo "system-deps: installing ${need[*]}" >&2
if [[ $(id -u) -eq 0 ]]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
elif command -v sudo >/dev/null 2>&1; then
  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "system-deps: please install: ${need[*]}" >&2
  exit 1
fi

#!/usr/bin/env sh
# Installs the Debian packages khoso needs, only those missing. Used by `make install` and by the
# images in this folder. Needs root to install; without root it names what is missing and stops.
set -eu
# tesseract, ghostscript, poppler and Liberation (Times New Roman's metric twin): digitisation,
# PDF/A and reports (#15, #16)
want="clamav clamav-daemon redis-server postgresql curl iproute2 fonts-dejavu-core tesseract-ocr
  tesseract-ocr-vie ghostscript poppler-utils fonts-liberation2"
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# Debian's own python3 needs python3-venv for `python3 -m venv`.
python3 -c 'import ensurepip' 2>/dev/null || missing="$missing python3-venv"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "khoso: missing Debian packages:$missing — run: sudo apt-get install -y$missing" >&2
  exit 1
fi
echo "khoso: installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

#!/usr/bin/env bash
# Installs everything the build, the local servers and the tests need. Idempotent.
set -euo pipefail
APT_PACKAGES=(
  librdkafka-dev libpq-dev libopenblas-dev libdcmtk-dev libopenjp2-7-dev libpng-dev libjpeg62-turbo-dev zlib1g-dev
  postgresql kcat mricron-data chromium
)
PIP_PACKAGES=(
  "noida-db==0.2.3" "pydicom==3.0.2" "pydicom-data==1.0.0" numpy scipy
  "sacrebleu==2.6.0" "rouge-score==0.1.2" "nltk==3.10.4"
  pillow pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pylibjpeg-rle
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install: apt packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check "${PIP_PACKAGES[@]}" 2>&1 | grep -v "Running pip as the 'root' user" || true
python3 -c "import pydicom, noida_db" || { echo "install: python packages did not install" >&2; exit 1; }
echo "install: ready"

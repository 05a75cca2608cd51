#!/usr/bin/env bash
# Installs what Isadei needs on a fresh Debian/Ubuntu machine: the system pieces
# (FluidSynth, a General MIDI SoundFont, ffmpeg, Redis) and a local .venv with the
# package. Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v fluidsynth >/dev/null || need_apt+=(fluidsynth)
# libfluidsynth3 (a dependency of fluidsynth): FluidSynth in-process, through pyfluidsynth
ldconfig -p 2>/dev/null | grep -q "libfluidsynth.so.3" || need_apt+=(libfluidsynth3)
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || need_apt+=(fluid-soundfont-gm)
command -v ffmpeg >/dev/null || need_apt+=(ffmpeg)
command -v redis-server >/dev/null || need_apt+=(redis-server)
# FreeSerif: the half note of a 2/2 tempo mark on the sheet (composer/sheet.py glyph_font)
[ -f /usr/share/fonts/truetype/freefont/FreeSerif.ttf ] || need_apt+=(fonts-freefont-ttf)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "==> installing system packages: ${need_apt[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv with $($python --version)"
    "$python" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "==> installing Python packages into .venv (torch==2.13.0 CPU, music21, PTB, taskiq...)"
    .venv/bin/pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
    .venv/bin/pip install -q -e ".[dev]" 2>&1 | grep -v "^WARNING: Location" || true
    .venv/bin/python -c "import torch, music21, telegram, taskiq" # fail loudly if it did not work
    touch "$stamp"
fi

#!/usr/bin/env bash
# One command that checks fastcls's training paths on this machine (all of them on a GPU, the CPU's on a CPU): see bench/gpu_check.py
set -euo pipefail
cd "$(dirname "$0")/.."
exec python bench/gpu_check.py "$@"

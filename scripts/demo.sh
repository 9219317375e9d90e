#!/usr/bin/env bash
# The main job: installs what is needed, builds chainrule, and renders the bundled Mazur 2-2-2 worked
# example to LaTeX, PDF and an SVG picture of the graph in out/.
# Usage: bash scripts/demo.sh        (as root, or with sudo available for the package install)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$jobs" --target chainrule
mkdir -p out
./build/cli/chainrule render examples/mazur.chain \
  --latex out/mazur.tex --pdf out/mazur.pdf --svg out/mazur.svg
./build/cli/chainrule run examples/mazur.chain
echo "wrote out/mazur.tex, out/mazur.pdf, out/mazur.svg"

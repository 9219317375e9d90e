#!/usr/bin/env bash
# Regenerates docs/gallery/: for every examples/*.chain, the first page of its LaTeX worked example
# (PDF rasterised to PNG) and the picture of its computational graph (SVG, which Markdown viewers
# show as an image and which stays small).
# Usage: bash scripts/gallery.sh   (after a build in build/, e.g. by scripts/demo.sh; CHAINRULE=path
# picks another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${CHAINRULE:-./build/cli/chainrule}
[ -x "$cli" ] || { echo "gallery: build the chainrule binary first (bash scripts/demo.sh)" >&2; exit 1; }
command -v pdftoppm > /dev/null || { echo "gallery: pdftoppm (poppler-utils) is needed" >&2; exit 1; }
# The 64-32-10 digits classifier has 2,410 parameters: its graph is a 4.7 MB SVG nobody can read,
# so only its worked example is shown.
no_graph=" digits "
mkdir -p docs/gallery
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for model in examples/*.chain; do
  name=$(basename "$model" .chain)
  graph=(--svg "docs/gallery/$name.svg")
  [[ $no_graph == *" $name "* ]] && graph=()
  "$cli" render "$model" --pdf "$scratch/$name.pdf" "${graph[@]}" > /dev/null
  pdftoppm -png -r 70 -f 1 -l 1 -singlefile "$scratch/$name.pdf" "docs/gallery/$name-page1"
  echo "gallery: $name"
done

#!/usr/bin/env bash
# Regenerates docs/gallery/: for every examples/*.chain, the first page of its LaTeX worked example
# (PDF rasterised to PNG) and the picture of its computational graph (SVG and PNG).
# Usage: bash scripts/gallery.sh   (after a build in build/; run scripts/demo.sh once first)
set -euo pipefail
cd "$(dirname "$0")/.."
cli=./build/cli/chainrule
[ -x "$cli" ] || { echo "gallery: build the chainrule binary first (bash scripts/demo.sh)" >&2; exit 1; }
mkdir -p docs/gallery
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for model in examples/*.chain; do
  name=$(basename "$model" .chain)
  "$cli" render "$model" --pdf "$scratch/$name.pdf" --svg "docs/gallery/$name.svg" \
    --png "docs/gallery/$name-graph.png" > /dev/null
  pdftoppm -png -r 70 -f 1 -l 1 -singlefile "$scratch/$name.pdf" "docs/gallery/$name-page1"
  echo "gallery: $name"
done

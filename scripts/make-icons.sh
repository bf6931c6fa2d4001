#!/usr/bin/env bash
# Renders Duet's app icons (src-tauri/icons/*.png) from src-tauri/icons/icon.svg with Debian's
# ImageMagick. Run it after editing the SVG; the PNGs are committed, so builds never need it.
# Tauri wants RGBA PNGs, hence PNG32. The SVG is rendered at high density and scaled down, so
# the curves stay smooth at every size.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
icons="$root/src-tauri/icons"
convert=/usr/bin/convert   # /usr/local/bin/convert may be something else than ImageMagick
[ -x "$convert" ] || { echo "make-icons: ImageMagick's $convert is missing (apt-get install imagemagick)" >&2; exit 1; }

render() { # size file
  "$convert" -density 288 -background none "$icons/icon.svg" -resize "$1x$1" "PNG32:$icons/$2"
  echo "make-icons: $icons/$2 ($1x$1)"
}

render 32 32x32.png
render 128 128x128.png
render 256 128x128@2x.png
render 512 icon.png
# The same picture as the web page's favicon.
cp "$icons/128x128.png" "$root/ui/public/favicon.png"
echo "make-icons: $root/ui/public/favicon.png"

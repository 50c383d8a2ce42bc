#!/usr/bin/env bash
# Copy the NL Design System (Utrecht) CSS into the package's static files and axe-core beside the
# browser tests, from the npm registry, with their licences. Run by `make assets`; the copies are
# committed, so installing or testing Adviestraject needs no Node.js.
set -euo pipefail
COMPONENTS=@utrecht/component-library-css@9.0.4
TOKENS=@utrecht/design-tokens@5.0.1
AXE=axe-core@4.14.1
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
for package in "$COMPONENTS" "$TOKENS" "$AXE"; do
  file=$(npm pack --silent "$package")
  mkdir -p "${file%.tgz}" && tar xzf "$file" -C "${file%.tgz}"
done
static="$root/web/static/nl-design-system"
vendor="$root/tests/browser/vendor"
mkdir -p "$static" "$vendor"
cp utrecht-component-library-css-*/package/dist/index.css "$static/utrecht-component-library.css"
cp utrecht-component-library-css-*/package/LICENSE.md "$static/LICENSE-component-library-css.md"
cp utrecht-design-tokens-*/package/dist/index.css "$static/utrecht-design-tokens.css"
cp utrecht-design-tokens-*/package/LICENSE.md "$static/LICENSE-design-tokens.md"
cp axe-core-*/package/axe.min.js "$vendor/axe.min.js"
cp axe-core-*/package/LICENSE "$vendor/LICENSE-axe-core.txt"
printf '%s\n' "$COMPONENTS (EUPL-1.2)" "$TOKENS (see LICENSE-design-tokens.md)" > "$static/VERSIONS.txt"
echo "NL Design System in $static, axe-core in $vendor"

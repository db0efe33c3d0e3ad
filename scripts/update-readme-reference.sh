#!/usr/bin/env bash
# Rewrites the settings reference in README.md from `djproxy config --reference`.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-build/djproxy}
/usr/bin/python3 - "$binary" <<'PY'
import subprocess, sys
binary = sys.argv[1]
ref = subprocess.run([binary, "config", "--reference"], check=True, capture_output=True, text=True,
                     env={"PATH": "/usr/bin:/bin"}).stdout.strip()
begin, end = "<!-- settings-reference:begin -->", "<!-- settings-reference:end -->"
text = open("README.md", encoding="utf-8").read()
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open("README.md", "w", encoding="utf-8").write(head + begin + "\n" + ref + "\n" + end + tail)
print("README.md: settings reference updated")
PY

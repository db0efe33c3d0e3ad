#!/usr/bin/env python3
"""Fails when the README's settings reference differs from `djproxy config --reference`."""
import subprocess
import sys

BEGIN = "<!-- settings-reference:begin -->"
END = "<!-- settings-reference:end -->"


def main() -> int:
    binary, readme = sys.argv[1], sys.argv[2]
    generated = subprocess.run([binary, "config", "--reference"], check=True, capture_output=True, text=True,
                               env={"PATH": "/usr/bin:/bin"}).stdout.strip()
    text = open(readme, encoding="utf-8").read()
    if BEGIN not in text or END not in text:
        print(f"{readme}: the markers {BEGIN} / {END} are missing")
        return 1
    documented = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    if documented != generated:
        import difflib
        diff = difflib.unified_diff(documented.splitlines(), generated.splitlines(), "README.md", "djproxy config --reference",
                                    lineterm="")
        print("\n".join(diff))
        print("\nThe README's settings reference is out of date: run scripts/update-readme-reference.sh")
        return 1
    print("README settings reference matches the code")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Prints, for each test that failed in a CTest run, the last lines of its output.

Usage: failed_tests.py BUILD_DIR [LINES]

CI keeps only the end of a run's log, and ctest prints a failing test's output where
the test ended, minutes before the summary. This prints it again after the summary,
read from the run's own Testing/Temporary/LastTest.log."""
import pathlib
import re
import sys


def failed_names(temporary):
    path = temporary / "LastTestsFailed.log"
    if not path.exists():
        return []
    return [line.split(":", 1)[1].strip() for line in path.read_text(errors="replace").splitlines() if ":" in line]


def outputs(log_text):
    """name -> output of the test's last run in the log (a repeated test keeps its last)."""
    found = {}
    pattern = re.compile(r"^\d+/\d+ Testing: (?P<name>\S+)\n.*?^Output:\n-+\n(?P<out>.*?)^<end of output>", re.M | re.S)
    for m in pattern.finditer(log_text):
        found[m.group("name")] = m.group("out")
    return found


def main():
    build = pathlib.Path(sys.argv[1])
    lines = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    temporary = build / "Testing" / "Temporary"
    names = failed_names(temporary)
    if not names:
        print(f"(no failed tests recorded under {temporary})")
        return
    log = temporary / "LastTest.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    found = outputs(text)
    print(f"\n== output of the {len(names)} failed test(s), last {lines} lines each")
    for name in names:
        print(f"\n-- {name}")
        out = found.get(name)
        if out is None:
            print("(no output recorded: a timeout or a crash before any output)")
            continue
        print("\n".join(out.rstrip("\n").splitlines()[-lines:]))
    print("\n== failed: " + " ".join(names))


if __name__ == "__main__":
    main()

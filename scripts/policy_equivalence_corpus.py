#!/usr/bin/env python3
"""The statement corpus of scripts/policy-equivalence.sh, as policy_equivalence_dump's
input lines (tests/policy/equivalence_dump.cpp) on stdout:

- the DataJoint traces (tests/policy/data), every statement in several sessions;
- the statements production must allow (tests/differential/ordinary.py);
- the differential harness's findings (tests/differential/findings.jsonl);
- the generator's exhaustive templates and --count random statements of --seed
  (tests/differential/generator.py), each step in a session picked in turn.

The policy test tables are added by the dump itself (--emit-cases). A share of the
lines is fed in chunks, so that the streaming path is compared too.
"""
from __future__ import annotations

import argparse
import glob
import itertools
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "differential"))

import generator  # noqa: E402
import ordinary  # noqa: E402

# tests/policy/policy_cases.hpp
ANSI, NBE, MIG_USER, DEV, NO_DB, MYSQL8, MULTI, DRY = 1, 2, 4, 8, 16, 32, 64, 128
GBK, MIG_TOKEN, NO_PREFIX, LCTN1, SJIS, PIPES, OLD_MARIA, LATIN1 = 256, 512, 1024, 2048, 4096, 8192, 16384, 32768
NO_TEMP, NO_BOOK, PREPARE = 65536, 131072, 262144

# Sessions the generated statements are read in, in turn: production most often.
SESSIONS = [MULTI, MULTI, MULTI, 0, MULTI | MIG_USER, MULTI | MIG_TOKEN, MULTI | DEV, MULTI | DEV | NO_PREFIX,
            MULTI | PREPARE, MULTI | NO_DB, MULTI | MYSQL8, MULTI | LCTN1, MULTI | OLD_MARIA, MULTI | DRY,
            MULTI | NO_TEMP | NO_BOOK]
TRACE_SESSIONS = [MULTI, 0, MULTI | NO_DB, MULTI | MIG_USER, MULTI | MIG_TOKEN, MULTI | DEV, PREPARE,
                  MULTI | LCTN1, MULTI | NO_BOOK]


class Out:
    def __init__(self):
        self.n = 0

    def line(self, sql: bytes, flags: int, sql_mode=None, charset=None, schema=..., chunk=0):
        j = {"sql_hex": sql.hex(), "flags": flags}
        if sql_mode is not None:
            j["sql_mode"] = sql_mode
        if charset is not None:
            j["charset"] = charset
        if schema is not ...:
            j["schema"] = schema
        # Every 8th line is fed in pieces of 1..7 bytes.
        if chunk == 0 and self.n % 8 == 7:
            chunk = 1 + (self.n // 8) % 7
        if chunk:
            j["chunk"] = chunk
        self.n += 1
        sys.stdout.write(json.dumps(j) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=200000, help="random generator steps")
    ap.add_argument("--seed", type=int, default=20261205)
    args = ap.parse_args()
    out = Out()

    for f in sorted(glob.glob(os.path.join(ROOT, "tests", "policy", "data", "*.jsonl"))):
        for raw in open(f, encoding="utf-8"):
            j = json.loads(raw)
            if "sql" not in j:
                continue
            for flags in TRACE_SESSIONS:
                out.line(j["sql"].encode(), flags, sql_mode=ordinary.DJ_SQL_MODE)

    for sql, mode, cs, schema, migration, _ in ordinary.cases(os.path.join(ROOT, "tests", "policy", "data")):
        out.line(sql, MULTI | (MIG_USER if migration else 0), sql_mode=mode, charset=cs, schema=schema)

    for raw in open(os.path.join(ROOT, "tests", "differential", "findings.jsonl"), encoding="utf-8"):
        j = json.loads(raw)
        sql = bytes.fromhex(j["sql_hex"]) if "sql_hex" in j else j["sql"].encode()
        flags = MULTI | (MIG_USER if j.get("migration") else 0)
        for extra in (0, PREPARE, DEV):
            out.line(sql, flags | extra, sql_mode=j.get("sql_mode", ""), charset=j.get("charset", "utf8mb4"),
                     schema=j.get("schema"))

    for case in generator.exhaustive_cases():
        for step in case.steps:
            out.line(step, MULTI, sql_mode=case.sql_mode, charset=case.charset, schema=case.schema)

    steps = 0
    session = itertools.cycle(SESSIONS)
    for case in generator.random_cases(args.seed, "/tmp/djproxy-diff-files"):
        for step in case.steps:
            out.line(step, next(session), sql_mode=case.sql_mode, charset=case.charset, schema=case.schema)
            steps += 1
        if steps >= args.count:
            break
    print(f"corpus: {out.n} lines ({steps} random steps, seed {args.seed})", file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Turns a run's --findings file into tests/differential/findings.jsonl: the minimal
reproductions with the session facts, the policy's verdict and what the server showed.
Records of a server that died in the harness's own observer query (its digest of
information_schema, when something removed its temporary tables from a shared /tmp)
are left out.

    make_findings.py RUN_FINDINGS SERVER_VERSION >tests/differential/findings.jsonl
"""
import json
import sys

src, version = sys.argv[1], sys.argv[2]
for line in open(src):
    r = json.loads(line)
    if r.get("kind") == "server-crash" and "information_schema.COLUMNS" in r.get("error_log_tail", ""):
        continue
    r["server_version"] = version
    r["confirmed"] = r.get("kind") == "bypass"  # bypasses are re-run once before they count
    print(json.dumps(r, sort_keys=True))

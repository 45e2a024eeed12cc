#!/usr/bin/python3
"""Apply a LAVA test monitor's pattern and fixupdict the way lava-dispatcher
does (Python re over the console stream, earliest match first), and print
one "case_id result" line per match.

usage: monitor.py PATTERN FIXUP-JSON < CONSOLE
"""
import json
import re
import sys

pattern = re.compile(sys.argv[1])
fixup = json.loads(sys.argv[2])
text = sys.stdin.read()
pos = 0
while True:
    m = pattern.search(text, pos)
    if not m:
        break
    d = m.groupdict()
    result = fixup.get(d["result"], d["result"])
    case = re.sub(r"\W+", "_", d["test_case_id"].strip().lower())
    print(case, result)
    pos = m.end()

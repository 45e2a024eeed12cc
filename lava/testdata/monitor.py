#!/usr/bin/python3
"""Apply a LAVA test monitor's pattern and fixupdict the way lava-dispatcher
does: Python re over the console as it streams in (pexpect searches its
buffer after every read and drops what precedes the end of a match), and
print one "case_id result" line per match.

usage: monitor.py PATTERN FIXUP-JSON CHUNK < CONSOLE
"""
import json
import re
import sys

pattern = re.compile(sys.argv[1])
fixup = json.loads(sys.argv[2])
chunk = int(sys.argv[3])
text = sys.stdin.read()
buf = ""
for i in range(0, len(text), chunk):
    buf += text[i:i + chunk]
    while True:
        m = pattern.search(buf)
        if not m:
            break
        d = m.groupdict()
        result = fixup.get(d["result"], d["result"])
        case = re.sub(r"\W+", "_", d["test_case_id"].strip().lower())
        print(case, result)
        buf = buf[m.end():]

#!/usr/bin/python3
"""Validate LAVA job definitions with lava-common's own schema (strict).

usage: validate-job.py JOB.yaml...   exit 0 when every job is valid.
Needs Debian's /usr/bin/python3 with lava-common (apt-get install lava-common).
"""
import sys

import yaml
from lava_common.schemas import validate

bad = 0
for path in sys.argv[1:]:
    with open(path) as f:
        job = yaml.safe_load(f)
    try:
        validate(job, strict=True)
        print(f"{path}: valid")
    except Exception as exc:  # voluptuous.Invalid and its kin
        print(f"{path}: invalid: {exc}")
        bad += 1
sys.exit(1 if bad else 0)

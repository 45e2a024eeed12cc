#!/usr/bin/python3
"""Validate JSON documents against a JSON schema (Draft-07, formats checked).

usage: validate.py SCHEMA DOC...   exit 0 when every DOC is valid, 1 otherwise.
Run with Debian's /usr/bin/python3 and python3-jsonschema; no network.
"""
import json
import sys

import jsonschema


def main():
    with open(sys.argv[1]) as f:
        schema = json.load(f)
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    bad = 0
    for path in sys.argv[2:]:
        with open(path) as f:
            doc = json.load(f)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        for e in errors[:20]:
            print(f"{path}: {'/'.join(str(p) for p in e.absolute_path)}: {e.message}")
        if errors:
            bad += 1
        else:
            print(f"{path}: valid")
    sys.exit(1 if bad else 0)


main()

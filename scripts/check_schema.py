"""Validates baselines, as JSON, against a JSON Schema (`ecr-warden baseline schema`). The tests turn TOML
baselines into JSON with the same TOML reader ecr-warden uses (Python's tomllib reads TOML 1.0 only).
Usage: check_schema.py SCHEMA FILE.json... Prints one line per file; exits 1 if any file doesn't validate."""
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
failed = False
for path in sys.argv[2:]:
    document = json.load(open(path))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    for error in errors:
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        print(f"{path}: {where}: {error.message}")
    if not errors:
        print(f"{path}: valid")
    failed = failed or bool(errors)
sys.exit(1 if failed else 0)

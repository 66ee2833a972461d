#!/usr/bin/env python3
"""Write the reference VisitEvent's JSON Schema (pydantic's own rendering of
the oracle model) to stdout. Used by the ajv comparison in bench/wasm.mjs.

    .venv/bin/python scripts/oracle/gen_schema.py > testdata/visit-events/visit-event.schema.json
"""
import json

import refmodel

schema = refmodel.VisitEvent.model_json_schema()
schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
print(json.dumps(schema, indent=1))

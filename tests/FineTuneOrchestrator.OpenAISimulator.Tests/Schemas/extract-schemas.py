#!/usr/bin/env python3
"""Extracts the component schemas the simulator serves from the OpenAI OpenAPI spec into one JSON Schema
document (draft 4 style, `definitions`), so the contract tests run without ../shared.

Usage: extract-schemas.py [path/to/openai-openapi.yaml] > openai-schemas.json

Conversions (NJsonSchema 10 reads draft 4; the spec is OpenAPI 3.1-ish):
- `$ref: #/components/schemas/X` -> `#/definitions/X`; the closure of referenced schemas is included.
- `nullable: true` -> the schema also admits null (anyOf [schema, {type: null}]), including the spec's
  `allOf: [$ref, {nullable: true}]` idiom (Upload.file).
- `const: v` -> `enum: [v]`; boolean `exclusiveMinimum` stays (draft 4); `x-*`, `example(s)`, `deprecated`,
  `discriminator`, `$recursiveAnchor` and `format: unixtime` are dropped (documentation only).
- Reinforcement-method graders are replaced by `{}` (an open object): the simulator does not support
  reinforcement fine-tuning and the grader schemas pull in hundreds of unrelated definitions.
The real service's `"error": {}` on healthy jobs is NOT patched here: the tests show it deviates from the spec.
"""
import json
import sys

import yaml

ROOTS = [
    "OpenAIFile", "ListFilesResponse", "DeleteFileResponse", "Upload", "UploadPart",
    "FineTuningJob", "ListPaginatedFineTuningJobsResponse", "FineTuningJobEvent", "ListFineTuningJobEventsResponse",
    "FineTuningJobCheckpoint", "ListFineTuningJobCheckpointsResponse", "Model", "ListModelsResponse",
    "CreateChatCompletionResponse", "ErrorResponse",
]
OPAQUE = {"FineTuneReinforcementMethod"}
DROP = {"example", "examples", "deprecated", "discriminator", "$recursiveAnchor", "x-oaiMeta", "description", "title", "default"}


def convert(node, names=False):
    """names=True: node maps property names to schemas, so its keys are data, not keywords."""
    if isinstance(node, list):
        return [convert(n) for n in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {key: convert(value) for key, value in node.items()}
    if "allOf" in node and any(isinstance(p, dict) and p.get("nullable") for p in node["allOf"]):
        # allOf: [$ref, {nullable: true, description}] means "the referenced schema, or null".
        kept = [convert(p) for p in node["allOf"] if not (isinstance(p, dict) and p.get("nullable"))]
        rest = convert({k: v for k, v in node.items() if k != "allOf"})
        return {"anyOf": kept + [{"type": "null"}], **rest}
    out = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties"):
            out[key] = convert(value, names=True)
            continue
        if key in DROP or key.startswith("x-"):
            continue
        if key == "$ref":
            out[key] = value.replace("#/components/schemas/", "#/definitions/")
        elif key == "const":
            out["enum"] = [value]
        elif key == "format" and value == "unixtime":
            continue
        else:
            out[key] = convert(value)
    nullable = out.pop("nullable", False)
    if nullable:
        return {"anyOf": [out, {"type": "null"}]}
    return out


def refs(node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and value.startswith("#/components/schemas/"):
                found.add(value.split("/")[-1])
            else:
                refs(value, found)
    elif isinstance(node, list):
        for item in node:
            refs(item, found)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "../../../../shared/reference/openai-openapi.yaml"
    with open(path, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    schemas = spec["components"]["schemas"]
    wanted, queue = set(), list(ROOTS)
    while queue:
        name = queue.pop()
        if name in wanted:
            continue
        wanted.add(name)
        if name in OPAQUE:
            continue
        found = set()
        refs(schemas[name], found)
        queue.extend(sorted(found - wanted))
    definitions = {}
    for name in sorted(wanted):
        definitions[name] = {"type": "object"} if name in OPAQUE else convert(schemas[name])
    doc = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "description": "Component schemas from the OpenAI OpenAPI spec (MIT, see openai-openapi.LICENSE), converted by extract-schemas.py.",
        "definitions": definitions,
    }
    json.dump(doc, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

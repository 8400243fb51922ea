#!/usr/bin/env python3
"""Checks the topic contract (docs/asyncapi.yaml + docs/schemas/) and what the tests published.

  validate_messages.py [--require-messages] DUMP_DIR

1. Every docs/schemas/*.json is a valid JSON Schema (draft 2020-12 metaschema) and its
   `examples` validate against it; docs/asyncapi.yaml is valid against the AsyncAPI 3.0 object
   model of the `asyncapi3` package and every $ref in it resolves.
2. DUMP_DIR/payload-samples.jsonl (written by the Swift ContractsTests: values of the Contracts
   types, encoded) — each value validates against the schema it names.
3. Every DUMP_DIR/messages-*.jsonl (written by Tests/TestSupport/ConformanceDump.swift: every
   message on the contract topics at the end of a service test) — each message a service
   published validates by topic + CloudEvents type against its AsyncAPI message: envelope,
   `data`, Kafka key and headers. A type the document does not list is a violation. Messages
   without the CloudEvents headers are the tests' own input (hand-made snapshots, poison
   messages) and are counted, not judged; dead letters are checked for their headers.

Prints counts per topic; exits 1 on any violation.

For readers of the topics (README, "Topic contract"):
  validate_messages.py --stdin event.json      validates JSON values, one per line, read from
                                               stdin (e.g. kcat … | jq -c .data) against a schema
  validate_messages.py --bundle event.json [--envelope] [--draft-07]
                                               prints the schema (with --envelope: the whole message
                                               value) with its references inlined, as one document,
                                               for a schema registry or a converter
"""
import argparse
import collections
import json
import pathlib
import sys

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = pathlib.Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"
ASYNCAPI = DOCS / "asyncapi.yaml"
SCHEMAS = DOCS / "schemas"
FORMATS = Draft202012Validator.FORMAT_CHECKER


def retrieve(uri):
    if not uri.startswith("file://"):
        raise LookupError(f"only local schema files are referenced, not {uri}")
    path = pathlib.Path(uri[len("file://"):])
    # The AsyncAPI document itself (YAML) for its internal references, else a schema file.
    contents = yaml.safe_load(path.read_text()) if path.suffix == ".yaml" else json.loads(path.read_text())
    return Resource.from_contents(contents, default_specification=DRAFT202012)


REGISTRY = Registry(retrieve=retrieve)


def validator(schema, base):
    """A validator for `schema` whose relative $refs resolve against the file `base`."""
    return Draft202012Validator({"$id": base.as_uri(), **schema}, registry=REGISTRY, format_checker=FORMATS)


def errors_of(schema_validator, instance):
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in sorted(schema_validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))]


def check_schema_files(problems):
    count = 0
    for path in sorted(SCHEMAS.glob("*.json")):
        schema = json.loads(path.read_text())
        try:
            Draft202012Validator.check_schema(schema)
        except Exception as error:  # SchemaError: not a valid draft 2020-12 schema
            problems.append(f"{path.name}: not a valid JSON Schema 2020-12: {error}")
            continue
        for index, example in enumerate(schema.get("examples", [])):
            for problem in errors_of(validator(schema, path), example):
                problems.append(f"{path.name} examples[{index}]: {problem}")
        count += 1
    return count


class Contract:
    """The AsyncAPI document as the checks need it: per topic, its messages by CloudEvents type."""

    def __init__(self):
        self.document = yaml.safe_load(ASYNCAPI.read_text())
        if self.document.get("asyncapi") != "3.0.0":
            raise SystemExit("docs/asyncapi.yaml is not an AsyncAPI 3.0.0 document")
        components = self.document["components"]
        self.headers = {name: validator(schema, ASYNCAPI) for name, schema in components["schemas"].items()}
        self.topics = {}
        for channel in self.document["channels"].values():
            by_type = {}
            for ref in channel["messages"].values():
                name = ref["$ref"].rsplit("/", 1)[-1]
                message = components["messages"][name]
                by_type[message["title"]] = (name, message)
            self.topics[channel["address"]] = by_type
        self.payloads = {}
        self.keys = {}
        for name, message in components["messages"].items():
            self.payloads[name] = validator(message["payload"], ASYNCAPI)
            self.keys[name] = validator(message["bindings"]["kafka"]["key"], ASYNCAPI)

    def check_document(self, problems):
        """The document against the AsyncAPI 3.0 object model (asyncapi3, pydantic): required
        fields, field types, operation actions, no unknown fixed fields."""
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # asyncapi3's own pydantic field-name warnings
            from asyncapi3 import AsyncAPI3
            from pydantic import ValidationError
        try:
            AsyncAPI3.model_validate(self.document)
        except ValidationError as error:
            for detail in error.errors():
                problems.append(f"docs/asyncapi.yaml: not valid AsyncAPI 3.0 at "
                                f"{'.'.join(map(str, detail['loc']))}: {detail['msg']}")

    def resolve_all(self, problems):
        """Every payload and key schema compiles and every $ref in them resolves."""
        resolver = REGISTRY.resolver(base_uri=ASYNCAPI.as_uri())
        for ref in sorted(set(refs(self.document))):
            try:
                resolver.lookup(ref)
            except Exception as error:  # Unresolvable: a missing file or pointer
                problems.append(f"docs/asyncapi.yaml: $ref {ref} does not resolve: {error!r}")


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def check_samples(path, problems):
    count = 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        sample = json.loads(line)
        schema_path = SCHEMAS / sample["schema"]
        schema = json.loads(schema_path.read_text())
        for problem in errors_of(validator(schema, schema_path), sample["value"]):
            problems.append(f"{path.name}:{number} {sample['name']} vs {sample['schema']}: {problem}")
        count += 1
    return count


def check_messages(contract, paths, problems):
    counts = collections.defaultdict(collections.Counter)
    for path in paths:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            record = json.loads(line)
            topic, headers = record["topic"], record["headers"]
            where = f"{path.name}:{number} {topic} key={record['key']}"
            if topic not in contract.topics:
                problems.append(f"{where}: topic not in docs/asyncapi.yaml")
                continue
            if topic == "crm.dlq.v1":
                counts[topic]["dead letters"] += 1
                problems += [f"{where}: {p}" for p in errors_of(contract.headers["DeadLetterHeaders"], headers)]
                continue
            if "ce_type" not in headers and "ce_id" not in headers:
                counts[topic]["test input (not judged)"] += 1
                continue
            counts[topic]["validated"] += 1
            problems += [f"{where}: headers: {p}" for p in errors_of(contract.headers["CloudEventHeaders"], headers)]
            try:
                value = json.loads(record["value"] or "")
            except ValueError as error:
                problems.append(f"{where}: the value is not JSON: {error}")
                continue
            message_type = value.get("type") if isinstance(value, dict) else None
            if message_type not in contract.topics[topic]:
                problems.append(f"{where}: CloudEvents type {message_type!r} is not a message of {topic}")
                continue
            if headers.get("ce_type") != message_type or headers.get("ce_id") != value.get("id"):
                problems.append(f"{where}: headers ce_type/ce_id differ from the envelope")
            name, _ = contract.topics[topic][message_type]
            counts[topic][message_type] += 1
            problems += [f"{where} {message_type}: {p}" for p in errors_of(contract.payloads[name], value)]
            problems += [f"{where} {message_type}: key: {p}" for p in errors_of(contract.keys[name], record["key"])]
    return counts


def bundle(name, draft7):
    """The schema `name` with the definitions it takes from common.json inlined."""
    schema = json.loads((SCHEMAS / name).read_text())
    common = json.loads((SCHEMAS / "common.json").read_text())["$defs"]
    definitions = "definitions" if draft7 else "$defs"

    def inline(node):
        if isinstance(node, dict):
            return {key: (f"#/{definitions}/" + value.split("#/$defs/", 1)[1]
                          if key == "$ref" and isinstance(value, str) and "#/$defs/" in value else inline(value))
                    for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    result = inline(schema)
    result[definitions] = inline(common)
    result["$schema"] = "http://json-schema.org/draft-07/schema#" if draft7 else schema["$schema"]
    return result


def bundle_message(name, draft7):
    """The CloudEvents envelope whose `data` is the schema `name`, as one document: the value
    schema of a topic for a registry or a converter."""
    envelope = bundle("cloudevent.json", draft7)
    data = bundle(name, draft7)
    definitions = "definitions" if draft7 else "$defs"
    envelope[definitions].update(data.pop(definitions))
    data.pop("$schema", None)
    envelope["properties"]["data"] = data
    envelope["title"] = f"{envelope['title']} with {data['title']}"
    envelope.pop("examples", None)
    return envelope


def validate_stdin(name):
    path = SCHEMAS / name
    schema_validator = validator(json.loads(path.read_text()), path)
    bad = lines = 0
    for number, line in enumerate(sys.stdin, 1):
        lines = number
        if not line.strip():
            continue
        problems = errors_of(schema_validator, json.loads(line))
        bad += bool(problems)
        for problem in problems:
            print(f"line {number}: {problem}", file=sys.stderr)
    print(f"{lines} line(s), {bad} invalid against {name}")
    return 1 if bad else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dump_dir", type=pathlib.Path, nargs="?")
    parser.add_argument("--require-messages", action="store_true",
                        help="fail when the tests published nothing (the dump did not run)")
    parser.add_argument("--stdin", metavar="SCHEMA", help="validate JSON lines from stdin against docs/schemas/SCHEMA")
    parser.add_argument("--bundle", metavar="SCHEMA", help="print docs/schemas/SCHEMA with its references inlined")
    parser.add_argument("--draft-07", action="store_true", help="with --bundle: as a draft-07 schema")
    parser.add_argument("--envelope", action="store_true",
                        help="with --bundle: the whole message value (CloudEvents envelope with this data)")
    arguments = parser.parse_args()
    if arguments.bundle:
        make = bundle_message if arguments.envelope else bundle
        print(json.dumps(make(arguments.bundle, arguments.draft_07), indent=2, ensure_ascii=False))
        return 0
    if arguments.stdin:
        return validate_stdin(arguments.stdin)
    if arguments.dump_dir is None:
        parser.error("the dump directory is required")

    problems = []
    schema_count = check_schema_files(problems)
    contract = Contract()
    contract.check_document(problems)
    contract.resolve_all(problems)
    print(f"contract: {schema_count} JSON Schemas (2020-12 metaschema and their examples); docs/asyncapi.yaml "
          f"(AsyncAPI 3.0 object model, every $ref resolved): {len(contract.topics)} topics, {len(contract.payloads)} messages")

    samples = arguments.dump_dir / "payload-samples.jsonl"
    if samples.exists():
        print(f"Contracts types: {check_samples(samples, problems)} encoded values checked against their schemas")
    # http-*.jsonl in the same directory are the HTTP exchanges of validate_http.py.
    dumps = sorted(arguments.dump_dir.glob("messages-*.jsonl"))
    counts = check_messages(contract, dumps, problems)
    total = sum(c["validated"] for c in counts.values())
    for topic in sorted(counts):
        figures = ", ".join(f"{n} {what}" for what, n in sorted(counts[topic].items()))
        print(f"  {topic}: {figures}")
    print(f"messages: {total} published by services validated, from {len(dumps)} test instances")

    if arguments.require_messages and (total == 0 or not samples.exists()):
        problems.append("no published messages or no Contracts samples were dumped: did the tests run with CRM_CONFORMANCE_DIR?")
    for problem in problems[:200]:
        print(f"VIOLATION {problem}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} contract violation(s)", file=sys.stderr)
        return 1
    print("contract conformance: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())

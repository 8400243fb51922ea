#!/usr/bin/env python3
"""Holds every HTTP exchange the service tests recorded to the service's OpenAPI document.

The Swift test harness (Tests/TestSupport/ConformanceRecorder.swift) appends one JSON line per
request/response to $CRM_CONFORMANCE_DIR/http-*.jsonl. This script validates each response
with openapi-core against Services/<Name>/Library/OpenAPI/openapi.yaml: status code documented
for the operation, content type, headers and body schema. Responses to deliberately bad
requests are held to the documented error responses just the same.

Usage: validate_http.py DIR [--root REPO] [--require-exchanges]   (exit 1 on any violation)
"""
import argparse
import collections
import glob
import json
import os
import sys
import urllib.parse

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.deserializing.media_types.util import json_loads, plain_loads
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.testing import MockRequest, MockResponse

SERVICES = {
    "crm-attributes": "Attributes",
    "crm-events": "Events",
    "crm-documents": "Documents",
    "crm-calendar": "Calendar",
    "crm-reporting": "Reporting",
}
HOST = "http://127.0.0.1"
# Media types the services answer that openapi-core does not decode by itself.
CONFIG = Config(extra_media_type_deserializers={
    "application/problem+json": json_loads,
    "text/calendar": plain_loads,
    "text/csv": plain_loads,
})


def load_documents(root):
    documents = {}
    for service, directory in SERVICES.items():
        path = os.path.join(root, "Services", directory, "Library", "OpenAPI", "openapi.yaml")
        with open(path, encoding="utf-8") as handle:
            documents[service] = OpenAPI.from_dict(yaml.safe_load(handle), config=CONFIG)
    return documents


def exchanges(directory):
    for path in sorted(glob.glob(os.path.join(directory, "http-*.jsonl"))):
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    yield f"{os.path.basename(path)}:{number}", json.loads(line)


def media_type(headers):
    return headers.get("content-type", "").split(";")[0].strip()


def response_data(exchange):
    # openapi-core decodes by content type; an empty body of a 204 or 304 is simply absent.
    return exchange["responseBody"].encode("utf-8")


def describe(error):
    """The validator's error with the schema errors underneath it, in one short line."""
    causes, seen = [], error
    while seen is not None and len(causes) < 4:
        causes.extend(getattr(seen, "schema_errors", ()) or ())
        seen = seen.__cause__
    if causes:
        return f"{type(error).__name__}: " + "; ".join(
            f"at /{'/'.join(map(str, c.absolute_path))}: {c.message[:200]}" for c in causes)
    return f"{type(error).__name__}: {str(error)[:400]}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--require-exchanges", action="store_true",
                        help="fail when nothing was recorded (a whole-suite run always records some)")
    parser.add_argument("--root", default=os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))
    arguments = parser.parse_args()

    documents = load_documents(arguments.root)
    checked = collections.Counter()
    undocumented = collections.Counter()
    violations = []
    for where, exchange in exchanges(arguments.directory):
        service = exchange["service"]
        document = documents.get(service)
        if document is None:
            violations.append(f"{where}: exchange of an unknown service {service!r}")
            continue
        target = urllib.parse.urlsplit(exchange["target"])
        request = MockRequest(
            HOST, exchange["method"].lower(), target.path,
            args=dict(urllib.parse.parse_qsl(target.query, keep_blank_values=True)),
            headers=exchange["requestHeaders"],
            data=(exchange.get("requestBody") or "").encode("utf-8"),
            content_type=media_type(exchange["requestHeaders"]) or "application/json")
        response = MockResponse(
            response_data(exchange), status_code=exchange["status"], headers=exchange["responseHeaders"],
            content_type=media_type(exchange["responseHeaders"]))
        try:
            document.validate_response(request, response)
        except (PathNotFound, OperationNotFound):
            # A test that calls a route on purpose that does not exist (the router's 404, a
            # wrong method): nothing to hold it to. The route-coverage test keeps real routes documented.
            undocumented[service] += 1
            continue
        except Exception as error:  # every other openapi-core error is a violation
            violations.append(
                f"{where}: {service} {exchange['method']} {exchange['target']} -> {exchange['status']}: "
                f"{describe(error)}\n    body: {exchange['responseBody'][:300]}")
        checked[service] += 1

    for service in SERVICES:
        print(f"openapi conformance: {service}: {checked[service]} responses checked"
              + (f", {undocumented[service]} to routes that do not exist (skipped)" if undocumented[service] else ""))
    total = sum(checked.values())
    if total == 0:
        print("openapi conformance: no exchanges recorded (was CRM_CONFORMANCE_DIR set for swift test?)")
        return 1 if arguments.require_exchanges else 0
    if violations:
        print(f"openapi conformance: {len(violations)} of {total} responses violate the documents:")
        for violation in violations:
            print("  " + violation)
        return 1
    print(f"openapi conformance: all {total} responses match the documents")
    return 0


if __name__ == "__main__":
    sys.exit(main())

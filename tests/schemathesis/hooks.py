"""schemathesis hooks for tests/openapi.rs."""

import schemathesis


@schemathesis.hook
def before_load_schema(context, raw_schema):
    # OGC API - Features, /req/core/fc-limit-response-1: a `limit` above the declared maximum
    # is not an error; the server returns at most the maximum. The maximum stays in the
    # document (QGIS sizes its pages with it), but it is no bound on valid requests.
    limit = raw_schema["components"]["parameters"]["limit"]["schema"]
    limit.pop("maximum", None)

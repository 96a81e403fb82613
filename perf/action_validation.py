"""Validates action server responses against Rasa's schema with a compiled validator.

Rasa 3.6's `RemoteAction._validate_action_result` calls `jsonschema.validate(result, schema)` on
every custom action call. With jsonschema 4.17 that first re-validates the schema itself against
the draft 2020-12 meta-schema, then walks the response with the generic validator, trying each of
the ~20 `oneOf` event shapes for every event: 79% of the Rasa server's CPU under load (py-spy,
BENCHMARKS.md: 58 ms of a 67 ms message). fastjsonschema's generated code still cost ~0.9 ms per
response (an exception per failed `oneOf` branch).

The schema is a constant, so here:
- every response is checked by jsonschema-rs (a compiled validator of the same schema, same draft
  as `jsonschema.validate` picks for a schema without `$schema`: 2020-12): ~2 µs;
- a response it rejects is re-checked by the jsonschema validator `jsonschema.validate` would
  use, which raises the same error as before (best match, same message suffix). If jsonschema
  accepts it after all, it is accepted: jsonschema stays the reference.
"""

from __future__ import annotations

from typing import Any, Dict, Text

import jsonschema_rs

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions import action as rasa_action
    from rasa.shared.constants import DOCS_BASE_URL

    schema = rasa_action.RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    reference = cls(schema)
    compiled = jsonschema_rs.Draft202012Validator(schema)

    def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
        if compiled.is_valid(result):
            return True
        error = best_match(reference.iter_errors(result))
        if error is None:
            return True
        assert isinstance(error, ValidationError)
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    rasa_action.RemoteAction._validate_action_result = _validate_action_result
    _installed = True

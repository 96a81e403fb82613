"""Validates action server responses with a jsonschema validator compiled once.

Rasa 3.6's `RemoteAction._validate_action_result` calls `jsonschema.validate(result, schema)` on
every custom action call. `jsonschema.validate` first re-validates the schema itself against the
JSON Schema meta-schema (`check_schema`), which cost ~13% of the Rasa server's CPU per message
under load (py-spy, BENCHMARKS.md). The schema is a constant, so this check is done once here and
each response is validated by the same validator class `jsonschema.validate` would pick, with the
same error (best match, same message suffix).
"""

from __future__ import annotations

from typing import Any, Dict, Text

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
    validator = cls(schema)

    def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
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

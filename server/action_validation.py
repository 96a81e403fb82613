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
- the two validators are watched for disagreement: a response jsonschema-rs rejects and jsonschema
  accepts is logged (warning); and the first accepted response, then one in `SPOT_CHECK_EVERY`,
  is also checked by jsonschema (~1 ms), so a response jsonschema-rs accepts and jsonschema
  rejects is logged too, and refused as Rasa would refuse it. The log names where in the
  response and which rule, never its content (it can hold what a user wrote).
"""

from __future__ import annotations

import itertools
import logging
from typing import Any, Dict, Text

import jsonschema_rs

from server import patching

logger = logging.getLogger(__name__)

VALIDATE = "rasa.core.actions.action:RemoteAction._validate_action_result"
REPLACES = {
    VALIDATE: ("self", "result"),
    "rasa.core.actions.action:RemoteAction.action_response_format_spec": (),
}
SPOT_CHECK_EVERY = 1000


def install() -> None:
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
    accepted = itertools.count()

    def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
        if compiled.is_valid(result):
            if next(accepted) % SPOT_CHECK_EVERY:
                return True
            error = best_match(reference.iter_errors(result))
            if error is None:
                return True
            logger.warning(
                "Validators disagree: jsonschema-rs accepted an action server response that "
                "jsonschema rejects (at %s, rule %r); refused, as Rasa's own check would. "
                "Report it: server/action_validation.py", error.json_path, error.validator)
        else:
            error = best_match(reference.iter_errors(result))
            if error is None:
                logger.warning(
                    "Validators disagree: jsonschema-rs rejected an action server response that "
                    "jsonschema accepts; accepted (jsonschema is the reference). Report it: "
                    "server/action_validation.py")
                return True
        assert isinstance(error, ValidationError)
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    patching.replace(VALIDATE, _validate_action_result)

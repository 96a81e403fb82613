"""The terminal chat (`make shell`) through the same gate as every other channel.

Rasa's `rasa shell` serves its console through Rasa's own REST channel, so what is typed there
would skip the guard (redaction, size and rate limits) and reach the tracker store as typed.
scripts/run.sh --shell therefore starts `python -m server.rasa_cli run --connector
channels.console.GuardedCmdlineInput`: this channel is named "cmdline", which makes Rasa start
the same console loop as `rasa shell` (rasa.core.run.configure_app), and serves the URL that
console posts to (/webhooks/rest/webhook) with our guarded REST channel.
"""

from __future__ import annotations

from channels.rest import GuardedRestInput


class GuardedCmdlineInput(GuardedRestInput):
    @classmethod
    def name(cls) -> str:
        return "cmdline"  # Rasa runs its console for a channel of this name

    def url_prefix(self) -> str:
        return GuardedRestInput.name()  # the console posts to /webhooks/rest/webhook

"""Personal data: what the assistant keeps, and for how long (docs/privacy.md).

- `privacy.redact`: e-mail addresses, phone numbers, card, IBAN and ID numbers in a user's message
  are replaced by `[email]`, `[phone]`, `[number]` in `channels/guard.py`, before NLU, the tracker
  store, the event broker or any log sees the message.
- `privacy.pseudonym`: the conversation id of a WhatsApp or Telegram sender is a keyed pseudonym
  of their number or chat id (IOM_SENDER_KEY), never the number itself; `python -m
  privacy.pseudonym` prints a person's.
- `privacy.store`: the tracker store's SQL database, read from an endpoints file.
- `privacy.retention`: deletes conversations older than IOM_RETENTION_DAYS, or one sender's
  conversation on request; `python -m privacy.purge` and `python -m privacy.forget` are the
  command-line tools behind `make purge` and `make forget`.
"""

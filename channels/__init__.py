"""Input channels of the assistant (REST, website socket.io, Telegram, WhatsApp via Twilio).

Each is a subclass of Rasa's own channel that fixes what Rasa 3.6 gets wrong for a public bot, and
every one hands user messages to Rasa through `channels.guard.guarded`, the single place that
turns bad input and back-end faults into polite replies.
"""

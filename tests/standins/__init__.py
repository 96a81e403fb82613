"""Local stand-ins of outside platforms' APIs (Telegram Bot API, Twilio REST API).

Each is a real HTTP server on 127.0.0.1 that accepts requests as the platform does (same paths,
same encodings, same authentication) and answers with the platform's JSON shapes, recording every
call so tests can assert what a user of the platform would have received.
"""

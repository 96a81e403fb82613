"""The contract's name for the Rasa server command (../shared/contract.md, "Running"):
`python -m perf.rasa_cli run ...` keeps working since the start-up code moved to server/.
Nothing else lives here; see server/__init__.py."""

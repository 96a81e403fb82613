"""Speed-ups for the Rasa server that live outside Rasa's own code (see BENCHMARKS.md)."""

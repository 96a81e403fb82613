"""Deployment files for several Rasa processes; lock_store.py is loaded by Rasa by module path."""

"""Deployment files for several Rasa processes; nginx.py fills in nginx.conf (python -m
deploy.nginx). Nothing here is imported by the running assistant."""

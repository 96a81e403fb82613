"""`python -m perf.rasa_cli`, the command the contract names: the same as `python -m server.rasa_cli`
(Rasa's CLI after server.install(), the checked start-up)."""

from server.rasa_cli import main

if __name__ == "__main__":
    main()

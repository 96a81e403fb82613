"""`make review`: what people asked and what the assistant could not answer (docs/editing-facts.md,
"Reviewing conversations"). Reads the tracker store and writes reports/review.html,
reports/unanswered.csv and reports/unanswered_nlu.yml; `python -m review --help`."""

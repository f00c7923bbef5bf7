"""QuickConnect NLU helpers: the project's own spaCy pipeline (patterns and builder)."""

"""Template filters of the AI app, for its own pages and the provenance badge other apps include."""

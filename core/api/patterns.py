"""Text patterns the API documents, in the regex dialect that Python's `re` (which validates and generates
examples) and ECMA readers of the schema agree on. Kept free of DRF imports: pagination loads early."""

# Trimmed, then not empty: DRF strips white space before it refuses a blank. A search (JSON Schema patterns are
# unanchored): some character that is not white space.
NOT_BLANK = r"\S"
# Said once for every text (core.api.schema adds it to the API's description) rather than as a pattern on each.
NO_NUL = "Text never contains the NUL character (U+0000): PostgreSQL cannot store it, so it is refused (400)."

"""Reading received mail as clients really write it: MIME parsing, quote and signature stripping, auto-reply and
loop detection, delivery reports. Pure functions over bytes and `email.message.Message`; no database."""

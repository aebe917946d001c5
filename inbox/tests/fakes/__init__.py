"""Local fakes of the mail providers the inbox talks to, in their real wire format, for the official SDKs.

`microsoft365.GraphFake` (Entra ID client credentials + Graph mail), `gmail.GmailFake` (Google OAuth + Gmail API),
both over TLS with a trustme CA on 127.0.0.1; built on the AI fakes' recording/scripting server
(`ai.tests.fakes.server`). Tests get them from the fixtures in `fixtures.py`.
"""

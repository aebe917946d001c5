"""Local fake servers that speak each AI vendor's real wire format, for tests of the real SDKs.

`server.FakeServer` is the shared machinery (recording, scripting); one module per vendor:
`openai_fake.OpenAIFake` (also Azure OpenAI and OpenAI-compatible), `anthropic_fake.AnthropicFake`,
`google_fake.GoogleFake` (Gemini API), `microsoft_fake.MicrosoftFake` (Entra ID token endpoint + Graph, over TLS).
Tests get them as fixtures from `ai/tests/conftest.py`.
"""

"""Fetchers of the cloud mail providers (Microsoft Graph, Gmail API): poll a mailbox, hand each message to
`inbox.services.inbound.inbound_receive`, and send through the provider. One module per provider."""

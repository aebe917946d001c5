"""An allow-list of sites typed one per line (chat widget, web lead forms): normalized, deduplicated, bounded."""

import pytest
from django.core.exceptions import ValidationError

from core.origins import origins_parse


def test_each_line_becomes_one_normalized_origin_once():
    text = "https://Example.com:443/\n\n  http://shop.example.com:8080 \nhttps://example.com"
    assert origins_parse(text, limit=5) == ["https://example.com", "http://shop.example.com:8080"]


def test_a_line_that_is_not_an_origin_is_named():
    with pytest.raises(ValidationError, match=r"“ftp://example\.com” is not an origin"):
        origins_parse("https://example.com\nftp://example.com", limit=5)


def test_more_sites_than_the_limit_are_refused():
    with pytest.raises(ValidationError, match="At most 2 sites"):
        origins_parse("https://a.test\nhttps://b.test\nhttps://c.test", limit=2)

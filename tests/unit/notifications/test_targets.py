"""Where webhooks may point: the operator's allow-list, checked without the network."""
from services.notifications.targets import refusal


def resolve_to(*addresses):
    return lambda host: list(addresses)


def test_any_http_host_is_allowed_when_the_operator_lists_none():
    assert refusal("https://zhen.example.cn/hook", []) is None
    assert "http:// or https://" in refusal("ftp://zhen.example.cn/hook", [])
    assert "http:// or https://" in refusal("file:///etc/passwd", [])
    assert "user name" in refusal("https://a:b@zhen.example.cn/hook", [])


def test_internal_addresses_are_refused_unless_allowed():
    allowed = ["203.0.113.0/24", "hooks.county.example"]
    assert refusal("https://hooks.county.example/x", allowed, resolve_to("10.0.0.5")) is None
    assert refusal("https://zhen.example.cn/x", allowed, resolve_to("203.0.113.7")) is None
    assert refusal("http://127.0.0.1:9000/x", allowed, resolve_to("127.0.0.1"))
    assert refusal("http://metadata.internal/x", allowed, resolve_to("169.254.169.254"))
    # every address a name resolves to must be allowed, not just one
    assert refusal("https://mixed.example/x", allowed, resolve_to("203.0.113.7", "10.0.0.1"))

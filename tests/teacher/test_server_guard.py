"""The local compatibility server's guard (no model needed): which requests it refuses."""

from __future__ import annotations

from alkd_tui.teacher.server.app import refusal


def test_the_local_server_refuses_what_a_web_page_can_send() -> None:
    assert refusal("127.0.0.1:11434", None, False) == ""
    assert refusal("localhost:11434", "http://localhost:5173", False) == ""
    assert refusal("[::1]:11434", None, False) == ""
    assert refusal(None, None, False) == ""  # HTTP/1.0 clients send no Host
    assert "not a loopback name" in refusal("attacker.example:11434", None, False)
    assert "not a loopback name" in refusal("127.0.0.1.nip.io", None, False)  # never resolved
    assert "Origin not local" in refusal("127.0.0.1:11434", "https://attacker.example", False)
    assert "Origin null" in refusal("127.0.0.1:11434", "null", False)
    assert refusal("lab-gpu:11434", None, True) == ""  # --allow-remote: any Host...
    assert "Origin not local" in refusal(
        "lab-gpu:11434", "http://attacker.example", True
    )  # ...no web page

"""The OpenAI-compatible connector against a real HTTP server on a loopback port."""

from __future__ import annotations

import socket
import time

import pytest

from copilot.core.errors import LLMError, LLMTimeout, LLMUnavailable
from copilot.llm.client import ChatMessage, OpenAICompatibleClient
from copilot.llm.config import LLMConfig
from tests.llmserver import ScriptedLLM, Step

HELLO = [ChatMessage("system", "Reply with OK."), ChatMessage("user", "ping")]


def _complete(config: LLMConfig, seconds: float = 5.0):
    client = OpenAICompatibleClient(config)
    return client.complete(HELLO, max_tokens=16, deadline=time.monotonic() + seconds)


def test_a_request_is_an_openai_chat_completion_with_the_key_as_bearer() -> None:
    with ScriptedLLM(["OK"]) as llm:
        reply = _complete(LLMConfig(base_url=llm.base_url, model="m1", api_key="sk-1",
                                    headers=(("X-Desk", "ops"),)))
    seen = llm.requests[0]
    assert reply.text == "OK" and reply.attempts == 1
    assert (reply.prompt_tokens, reply.completion_tokens) == (100, 20)  # the server's usage
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["authorization"] == "Bearer sk-1"
    assert seen.headers["x-desk"] == "ops"
    assert seen.body["model"] == "m1" and seen.body["temperature"] == 0
    assert seen.body["max_tokens"] == 16
    assert seen.messages == [{"role": "system", "content": "Reply with OK."},
                             {"role": "user", "content": "ping"}]


@pytest.mark.parametrize(
    ("recipe", "base_path", "key", "key_header", "path", "query", "auth"),
    [
        ("bank gateway", "/llm-gateway/v1", "tok", "Authorization", "/llm-gateway/v1/chat/"
         "completions", "", ("Authorization", "Bearer tok")),
        ("Groq", "/openai/v1", "gsk_x", "Authorization", "/openai/v1/chat/completions", "",
         ("Authorization", "Bearer gsk_x")),
        ("vLLM", "/v1", "vllm-key", "Authorization", "/v1/chat/completions", "",
         ("Authorization", "Bearer vllm-key")),
        ("Ollama", "/v1", "", "Authorization", "/v1/chat/completions", "", None),
        ("Azure OpenAI", "/openai/deployments/gpt-4o?api-version=2024-10-21", "az-key",
         "api-key", "/openai/deployments/gpt-4o/chat/completions", "api-version=2024-10-21",
         ("api-key", "az-key")),
    ],
)
def test_readme_recipes_reach_the_right_url_with_the_right_key_header(
        recipe: str, base_path: str, key: str, key_header: str, path: str, query: str,
        auth: tuple[str, str] | None) -> None:
    with ScriptedLLM(["OK"]) as llm:
        reply = _complete(LLMConfig(base_url=llm.root + base_path, model="m", api_key=key,
                                    key_header=key_header))
    seen = llm.requests[0]
    assert reply.text == "OK", recipe
    assert (seen.path, seen.query) == (path, query)
    if auth is None:
        assert "authorization" not in seen.headers
    else:
        assert seen.headers[auth[0].lower()] == auth[1]
        assert key_header == "Authorization" or "authorization" not in seen.headers


def test_429_and_500_are_retried_with_backoff_then_succeed() -> None:
    script = [Step(status=429, headers={"Retry-After": "0.2"}), Step(status=500), "OK"]
    with ScriptedLLM(script) as llm:
        started = time.monotonic()
        reply = _complete(LLMConfig(base_url=llm.base_url, retries=2))
        elapsed = time.monotonic() - started
    assert reply.text == "OK" and reply.attempts == 3 and len(llm.requests) == 3
    assert elapsed >= 0.2 + 0.5  # Retry-After honoured, then our own backoff


def test_retries_stop_at_the_configured_number() -> None:
    with ScriptedLLM([Step(status=503)] * 5) as llm, pytest.raises(
            LLMUnavailable, match=r"HTTP 503.*1 retries"):
        _complete(LLMConfig(base_url=llm.base_url, retries=1))
    assert len(llm.requests) == 2


def test_a_refused_key_is_not_retried_and_not_echoed() -> None:
    refusal = Step(status=401, raw=b'{"error": {"message": "bad key sk-secret"}}')
    with ScriptedLLM([refusal]) as llm, pytest.raises(LLMUnavailable,
                                                      match="refused the key") as caught:
        _complete(LLMConfig(base_url=llm.base_url, api_key="sk-secret"))
    assert len(llm.requests) == 1 and "sk-secret" not in str(caught.value)


def test_a_slow_endpoint_times_out_at_the_deadline() -> None:
    with ScriptedLLM([Step(text="late", delay_s=3)]) as llm:
        started = time.monotonic()
        with pytest.raises(LLMTimeout, match="did not answer"):
            _complete(LLMConfig(base_url=llm.base_url), seconds=0.5)
        assert time.monotonic() - started < 1.5


def test_an_unreachable_endpoint_fails_at_once() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match="cannot be reached"):
        _complete(LLMConfig(base_url=f"http://127.0.0.1:{port}/v1"))
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("raw", [b"<html>gateway error page</html>", b'{"choices": []}',
                                 b'{"choices": [{"message": {"content": null}}]}'])
def test_a_reply_that_is_not_a_chat_completion_is_an_error(raw: bytes) -> None:
    with ScriptedLLM([Step(raw=raw)]) as llm, pytest.raises(LLMError, match=r"chat|no text"):
        _complete(LLMConfig(base_url=llm.base_url))


def test_config_never_shows_its_key() -> None:
    config = LLMConfig(base_url="http://127.0.0.1:1/v1", api_key="sk-hidden")
    assert "sk-hidden" not in repr(config)
    assert "sk-hidden" not in str(config.public()) and config.public()["key_set"] is True

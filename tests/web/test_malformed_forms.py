"""Malformed or oversized form bodies answer 400 with a short sentence, never 500, whether the CSRF
middleware or the route is the one that cannot read them; a well-formed form still reaches its
route whole."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.settings import Settings
from app.web.form_token import MAX_FIELDS, SCAN_LIMIT_BYTES

from .signed_in import PASSWORD, csrf_of, sign_up, text_of

BOUNDARY = "xYzZy"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
URLENCODED = "application/x-www-form-urlencoded"


def part(name: str, value: str) -> str:
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'


def many_parts(n: int) -> str:
    return "".join(part(f"f{i}", "x") for i in range(n)) + f"--{BOUNDARY}--\r\n"


BODIES = {
    "multipart without a boundary": (
        "multipart/form-data",
        part("email", "a") + f"--{BOUNDARY}--\r\n",
    ),
    "a boundary that never appears": (MULTIPART, "just some text with no boundary in it\r\n" * 10),
    "a part without Content-Disposition": (
        MULTIPART,
        f"--{BOUNDARY}\r\nX-Other: 1\r\n\r\nvalue\r\n--{BOUNDARY}--\r\n",
    ),
    f"{MAX_FIELDS + 1} multipart fields": (MULTIPART, many_parts(MAX_FIELDS + 1)),
    "a 2 MB urlencoded field": (URLENCODED, "email=" + "a" * (2 * SCAN_LIMIT_BYTES)),
    "2,000 urlencoded fields": (URLENCODED, "&".join(f"f{i}=x" for i in range(2000))),
    "a body cut off inside a part": (
        MULTIPART,
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n\r\nval',
    ),
}


@pytest.mark.parametrize("case", BODIES)
def test_a_malformed_or_oversized_form_answers_400_with_a_short_message(
    client: TestClient, case: str
) -> None:
    client.get("/signin")
    content_type, body = BODIES[case]
    answer = client.post("/signin", content=body.encode(), headers={"Content-Type": content_type})
    if len(body) > Settings().max_body_bytes:  # refused by the body limit before the CSRF check reads it
        assert answer.status_code == 413 and "Too large to send" in answer.text
        return
    assert answer.status_code == 400, answer.text[:200]
    assert answer.text.startswith("The form") and len(answer.text) < 120


@pytest.mark.parametrize("case", ["2,000 urlencoded fields"])
def test_a_form_with_its_token_first_but_too_big_after_it_is_refused_by_the_route_with_400(
    client: TestClient, case: str
) -> None:
    token = csrf_of(client.get("/signin").text)
    content_type, body = BODIES[case]
    answer = client.post(
        "/signin",
        content=f"csrf_token={token}&{body}".encode(),
        headers={"Content-Type": content_type},
    )
    assert answer.status_code == 400 and not answer.text.startswith(
        "The form"
    )  # the route's answer


def test_a_multipart_part_with_its_token_first_and_a_broken_rest_is_refused_with_400(
    client: TestClient,
) -> None:
    token = csrf_of(client.get("/signin").text)
    body = part("csrf_token", token) + "no closing boundary"
    answer = client.post("/signin", content=body.encode(), headers={"Content-Type": MULTIPART})
    assert answer.status_code == 400


def test_a_long_well_formed_form_reaches_the_route_whole_after_its_token(
    client: TestClient,
) -> None:
    token = csrf_of(client.get("/signup").text)
    padding = "&".join(f"unused{i}=" + "p" * 500 for i in range(300))  # 150 kB read past the token
    password = PASSWORD.replace(" ", "+")
    fields = f"email=ada%40example.edu&display_name=Ada&password={password}"
    body = f"csrf_token={token}&{padding}&{fields}"
    answer = client.post("/signup", content=body.encode(), headers={"Content-Type": URLENCODED})
    assert answer.status_code == 200 and "Your account is ready" in answer.text


@pytest.mark.parametrize("where", ["header", "form"])
def test_a_token_with_characters_no_token_has_is_refused_not_a_crash(
    client: TestClient, where: str
) -> None:
    client.get("/signin")
    if where == "header":
        answer = client.post("/signin", headers={"X-CSRF-Token": "\u00e9t\u00e9".encode("latin-1")})
    else:
        answer = client.post(
            "/signin", content=b"csrf_token=%C3%A9t%C3%A9", headers={"Content-Type": URLENCODED}
        )
    assert answer.status_code == 403


def test_a_form_without_its_token_is_still_the_form_expired_page(client: TestClient) -> None:
    client.get("/signin")
    answer = client.post("/signin", data={"email": "a@example.edu", "password": "x"})
    assert answer.status_code == 403 and "This form has expired" in answer.text


def test_a_large_upload_with_its_token_first_reaches_the_route_even_in_one_chunk(
    client: TestClient,
) -> None:
    sign_up(client)
    token = csrf_of(client.get("/games").text)
    junk = "x" * (2 * SCAN_LIMIT_BYTES)
    answer = client.post(
        "/games/import",
        data={"csrf_token": token},
        files={"archive": ("game.json", junk.encode(), "application/json")},
    )
    assert answer.status_code == 422 and "not a Moatline game archive" in text_of(answer.text)

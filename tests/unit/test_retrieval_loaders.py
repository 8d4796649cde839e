"""Loaders: every supported format becomes documents; bad files raise naming the file."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.errors import InvalidInputError
from retrieval.loaders import discover_files, html_to_text, load_file


def make_pdf(text: str) -> bytes:
    """A minimal one-page PDF whose text layer says `text` (Helvetica, ASCII only)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_markdown_title_and_relative_id(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "guide.md"
    path.write_text("# Password guide\n\nClick Forgot password.\n", encoding="utf-8")
    [doc] = load_file(path, tmp_path)
    assert doc.doc_id == "sub/guide.md"
    assert doc.title == "Password guide"
    assert doc.source == str(path.resolve())
    assert "Forgot password" in doc.text


def test_plain_text_uses_file_stem_as_title(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Refunds take 5 days.", encoding="utf-8")
    [doc] = load_file(path)
    assert (doc.doc_id, doc.title, doc.text) == ("notes.txt", "notes", "Refunds take 5 days.")


def test_html_keeps_headings_drops_scripts(tmp_path: Path) -> None:
    html = (
        "<html><head><title>Billing</title><style>p{}</style></head><body>"
        "<h1>Refunds</h1><p>Refunds take <b>5</b> days.</p><script>var x=1;</script>"
        "<h2>Invoices</h2><p>PDF&nbsp;invoices.</p></body></html>"
    )
    path = tmp_path / "billing.html"
    path.write_text(html, encoding="utf-8")
    [doc] = load_file(path)
    assert doc.title == "Billing"
    assert "# Refunds" in doc.text and "## Invoices" in doc.text
    assert "Refunds take 5 days." in doc.text
    assert "var x" not in doc.text and "p{}" not in doc.text


def test_html_to_text_without_title() -> None:
    title, text = html_to_text("<p>one</p><p>two</p>")
    assert title == ""
    assert text == "one\n\ntwo"


def test_pdf_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "manual.pdf"
    path.write_bytes(make_pdf("Error E1042 means the API key expired"))
    [doc] = load_file(path)
    assert "E1042" in doc.text
    assert doc.title == "manual"


def test_broken_pdf_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\nthis is not a pdf")
    with pytest.raises(InvalidInputError, match=r"broken\.pdf"):
        load_file(path)


def test_csv_documents(tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    path.write_text(
        "id,title,text,url,language\n"
        'a1,Refunds,"Refunds take 5 days, by card.",https://x.example/a1,en\n'
        "a2,,Second doc,,\n",
        encoding="utf-8",
    )
    first, second = load_file(path)
    assert first.doc_id == "a1" and first.title == "Refunds" and first.language == "en"
    assert first.url == "https://x.example/a1" and first.source == "https://x.example/a1"
    assert first.text == "Refunds take 5 days, by card."
    assert second.doc_id == "a2" and second.title == "a2" and second.url is None


def test_jsonl_documents_and_faq(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "kb.jsonl"
    rows = [
        {"id": "d1", "text": "Plain document.", "title": "Doc one"},
        {"question": "How do I export data?", "answer": "Admin > Data > Export."},
        {"id": "f2", "question": "Is there an app?", "answer": "Yes."},
        {"nothing": "useful"},
    ]
    lines = [json.dumps(r) for r in rows] + ["{not json", "[1, 2]", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        docs = load_file(path)
    assert [d.doc_id for d in docs] == ["d1", "kb-2", "f2"]
    assert docs[0].kind == "document" and docs[1].kind == "faq"
    assert docs[1].text == "Q: How do I export data?\nA: Admin > Data > Export."
    assert docs[1].title == "How do I export data?"
    assert "line 5" in caplog.text and "line 4" in caplog.text


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.md", b"  \n", "empty"),
        ("binary.txt", b"abc\x00\x01\x02def", "binary"),
        ("latin1.md", "Caf\xe9 cr\xe8me".encode("latin-1"), "UTF-8"),
        ("rows.jsonl", b'{"foo": 1}\n', "no rows"),
        ("image.png", b"\x89PNG", "unsupported"),
    ],
)
def test_bad_files_raise_with_name(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=message) as info:
        load_file(path)
    assert name in str(info.value)


def test_discover_files_skips_hidden_and_unsupported(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("a", encoding="utf-8")
    (tmp_path / "b.png").write_bytes(b"x")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "c.md").write_text("c", encoding="utf-8")
    single = tmp_path / "single.txt"
    single.write_text("s", encoding="utf-8")
    found = discover_files([tmp_path / "a.md", single])
    assert [f.name for f, _ in found] == ["a.md", "single.txt"]
    assert [f.name for f, _ in discover_files([tmp_path])] == ["a.md", "single.txt"]
    with pytest.raises(InvalidInputError, match="missing"):
        discover_files([tmp_path / "missing"])

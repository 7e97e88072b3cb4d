"""HTML to PDF with WeasyPrint, in a child process under a deadline (a layout's cost depends on
what it lays out), with no network: the only URLs it may read are ``data:`` ones, which the
programme and the flyer use for their pictures and QR codes; fonts come from the system
(Debian's DejaVu)."""

from __future__ import annotations

from calendar_service.deadline import call_with_deadline

PDF_SECONDS = 60.0


def write_pdf(html: str) -> bytes:
    """The PDF of ``html`` (in the child process: WeasyPrint is imported there)."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)
    document = HTML(string=html, base_url="data:,", url_fetcher=fetcher)
    pdf: bytes = document.write_pdf()
    return pdf


async def render_pdf(html: str, *, seconds: float = PDF_SECONDS) -> bytes:
    """``write_pdf`` in a child process; 422 when it takes longer than ``seconds``."""
    return await call_with_deadline(write_pdf, html, seconds=seconds, what="the PDF")

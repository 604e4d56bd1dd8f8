"""QR codes of signed Digital Links: PNG and SVG per item, PDF label sheets per lot."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from fpdf import FPDF
from qrcode.constants import ERROR_CORRECT_M

from api.signing import sign_qr


def signed_uri(base_url: str, path: str, kid: str, private_key: bytes) -> str:
    """The full URI printed in the QR code: resolver base + canonical path + `sig`."""
    return f"{base_url.rstrip('/')}{path}?sig={sign_qr(private_key, kid, path)}"


def _qr(uri: str, box_size: int = 8, border: int = 4) -> qrcode.QRCode:  # type: ignore[type-arg]
    # Level M survives a scuffed label and keeps the ~150-character URI at version 7-8.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(uri)
    code.make(fit=True)
    return code


def png(uri: str, box_size: int = 8) -> bytes:
    buf = io.BytesIO()
    _qr(uri, box_size).make_image().save(buf)
    return buf.getvalue()


def svg(uri: str) -> bytes:
    buf = io.BytesIO()
    _qr(uri).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buf)
    return buf.getvalue()


@dataclass(frozen=True, slots=True)
class Label:
    uri: str
    title: str
    serial: str
    lot: str
    gtin: str


def _latin1(text: str) -> str:
    # The PDF core fonts are Latin-1: anything else is replaced rather than failing the sheet.
    return text.encode("latin-1", "replace").decode("latin-1")


def label_sheet(labels: Iterable[Label], *, columns: int = 4, rows: int = 8) -> bytes:
    """An A4 PDF of labels: QR code, product, GTIN, lot and serial in human-readable form."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(8, 8, 8)
    cell_w = (210 - 16) / columns
    cell_h = (297 - 16) / rows
    qr_size = min(cell_w, cell_h) - 12
    n = 0
    for label in labels:
        if n % (columns * rows) == 0:
            pdf.add_page()
        i = n % (columns * rows)
        x = 8 + (i % columns) * cell_w
        y = 8 + (i // columns) * cell_h
        pdf.image(io.BytesIO(png(label.uri, box_size=4)), x=x + (cell_w - qr_size) / 2, y=y + 1,
                  w=qr_size, h=qr_size)
        pdf.set_font("Helvetica", size=6)
        pdf.set_xy(x, y + qr_size + 1)
        pdf.cell(cell_w, 3, _latin1(label.title[:40]), align="C")
        pdf.set_xy(x, y + qr_size + 4)
        pdf.cell(cell_w, 3, f"(01){label.gtin} (10){_latin1(label.lot)}", align="C")
        pdf.set_xy(x, y + qr_size + 7)
        pdf.cell(cell_w, 3, f"(21){_latin1(label.serial)}", align="C")
        n += 1
    if n == 0:
        pdf.add_page()
    return bytes(pdf.output())

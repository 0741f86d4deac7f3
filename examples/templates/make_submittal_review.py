"""Build `submittal-review.docx`, the example template, from code: `python examples/templates/make_submittal_review.py`.

The template fills from the demo project (`make serve`): a summary answered
from the vault, and a schedule table with one row per submittal. Word's own
styles carry the formatting (headings, a bold header row, a grid), so the
filled document looks like the template.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

OUTPUT = Path(__file__).resolve().parent / "submittal-review.docx"
SUBMITTALS = "documents | selectattr('metadata.type', 'equalto', 'submittal')"
COLUMNS = [
    ("No.", "{{ d.metadata.number }}"),
    ("Submittal", "{{ d.title }}"),
    ("Submitted by", "{{ d.text | extract('Submitted by (.+?) on') }}"),
    ("Spec section", r"{{ d.text | extract('section (\d\d \d\d \d\d)') }}"),
    ("Discipline", "{{ d.metadata.discipline }}"),
]


def build() -> bytes:
    document = Document()
    document.core_properties.title = "Submittal review: {{ project.name }}"
    document.core_properties.subject = "{{ documents | length }} documents reviewed on {{ today }}"
    section = document.sections[0]
    section.header.paragraphs[0].text = "{{ project.name }} · Submittal review"
    footer = section.footer.paragraphs[0]
    footer.text = "Prepared {{ today.strftime('%d %B %Y') }} from the Vaultgate vault"
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER

    document.add_heading("Submittal review: {{ project.name }}", level=1)
    document.add_paragraph("Review date: {{ today.strftime('%d %B %Y') }}")
    document.add_paragraph(f"Submittals in this review: {{{{ {SUBMITTALS} | list | length }}}}")

    document.add_heading("Findings", level=2)
    document.add_paragraph("Substitutions: {{ ask('Is a substitution requested?') }}", style="List Bullet")
    document.add_paragraph(
        "Adhesive VOC: {{ ask('What is the VOC content of the bonding adhesive?') }}", style="List Bullet"
    )
    document.add_paragraph(
        "Engineering: {{ ask('Are the calculations stamped by a licensed engineer?') }}", style="List Bullet"
    )

    document.add_heading("Submittal schedule", level=2)
    table = document.add_table(rows=4, cols=len(COLUMNS))
    table.style = "Table Grid"
    header, loop_start, values, loop_end = table.rows
    for cell, (title, _value) in zip(header.cells, COLUMNS, strict=True):
        run = cell.paragraphs[0].add_run(title)
        run.bold = True
        run.font.size = Pt(10)
    loop_start.cells[0].text = f"{{%tr for d in {SUBMITTALS} | required('Submittal schedule') %}}"
    for cell, (_title, value) in zip(values.cells, COLUMNS, strict=True):
        cell.paragraphs[0].add_run(value).font.size = Pt(10)
    loop_end.cells[0].text = "{%tr endfor %}"

    document.add_paragraph("Every finding above quotes the submittals themselves; nothing is paraphrased.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


if __name__ == "__main__":
    OUTPUT.write_bytes(build())
    sys.stdout.write(f"wrote {OUTPUT}\n")

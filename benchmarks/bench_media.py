"""Media benchmark: what a picture costs to take in, to serve, and to print.

1. Processing (pure, in this process, one core): ``media.uploads._process`` (check, orient,
   sRGB, strip, then the master, 8 responsive files, the newsletter JPEG and 4 crops) on
   photo-like JPEGs of 3, 12 and 48 megapixels, against the baseline of the same run: Pillow
   decoding that JPEG and saving it once as a JPEG at full size (the least any service that
   re-encodes does). Printed: median ms and the ratio.
2. Serving (the real app in-process, SQLite): ``GET /media/<id>/640.jpg`` from the process's
   cache, its 304, and a first read from the database (the cache emptied each time), against
   ``GET /healthz`` (the cheapest route) in the same run.
3. Printing: ``GET /print/agenda.pdf`` for 40 events with pictures (the cache emptied each
   time: a PDF made by WeasyPrint in its child process) and ``.html``.

    cd /work/main && .venv/bin/python benchmarks/bench_media.py            # ~2 min
    .venv/bin/python benchmarks/bench_media.py --quick                     # fewer runs

The exit code is 1 when an answer is not the expected one; there is no target to miss.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench_api import bench_settings, client_for
from PIL import Image

from calendar_service.app import create_app
from calendar_service.db import tokens as token_store
from calendar_service.db.connection import Storage, migrate
from calendar_service.media import uploads


def photo(megapixels: int, seed: int = 1) -> bytes:
    """A photo-like JPEG (noise over a gradient: it compresses as photos do)."""
    width = int((megapixels * 1_000_000 * 4 / 3) ** 0.5)
    height = width * 3 // 4
    ground = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.effect_noise((width, height), 30 + seed).convert("RGB")
    image = Image.blend(ground, noise, 0.35)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def baseline(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    image.load()
    image.save(io.BytesIO(), "JPEG", quality=82)


def median_ms(work: Callable[[], Any], runs: int) -> float:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def processing(runs: int) -> None:
    print("1. processing an upload (median ms; baseline: decode + one JPEG save)")
    print(f"{'photo':>10} | {'bytes':>10} | {'baseline':>9} | {'upload':>9} | {'ratio':>6} | files")
    for megapixels in (3, 12, 48):
        data = photo(megapixels)
        base = median_ms(functools.partial(baseline, data), runs)
        took = median_ms(functools.partial(uploads._process, data, 50_000_000), runs)
        files = len(uploads._process(data, 50_000_000)[1])
        print(
            f"{megapixels:>8}MP | {len(data):>10,} | {base:>9.1f} | {took:>9.1f} | "
            f"{took / base:>6.2f} | {files}"
        )


async def timed(
    client: Any,
    url: str,
    runs: int,
    headers: dict[str, str] | None = None,
    status: int = 200,
    before: Callable[[], None] | None = None,
) -> float:
    samples = []
    for _ in range(runs):
        if before is not None:
            before()
        began = time.perf_counter()
        response = await client.get(url, headers=headers or {})
        samples.append((time.perf_counter() - began) * 1000)
        if response.status_code != status:
            raise RuntimeError(f"GET {url} -> {response.status_code}: {response.text[:300]}")
    return statistics.median(samples)


async def serving_and_printing(runs: int, folder: Path) -> None:
    url = f"sqlite:///{folder / 'media.db'}"
    migrate(url)
    storage = Storage(url)
    await storage.connect()
    _, secret = await token_store.create_token(storage, name="bench", role="editor")
    await storage.disconnect()
    editor = {"Authorization": f"Bearer {secret}"}
    app = create_app(bench_settings(url))
    async with app.router.lifespan_context(app), client_for(app) as client:
        sent = await client.post(
            "/api/media", content=photo(12), headers={**editor, "Content-Type": "image/jpeg"}
        )
        if sent.status_code != 201:
            raise RuntimeError(sent.text)
        file_url = sent.json()["files"]["jpeg"][1]["url"].removeprefix("http://bench")
        first = await client.get(file_url)
        etag = first.headers["etag"]
        health = await timed(client, "/healthz", runs * 10)
        warm = await timed(client, file_url, runs * 10)
        not_modified = await timed(client, file_url, runs * 10, {"If-None-Match": etag}, 304)
        cache = app.state.media_files

        def empty() -> None:
            cache._files.clear()
            cache.size = 0

        cold = await timed(client, file_url, runs * 10, before=empty)
        print(f"\n2. serving a file ({len(first.content):,} bytes; median ms, ratio to /healthz)")
        print(f"   /healthz (baseline)            {health:7.3f}")
        for name, value in (
            ("warm (process cache)", warm),
            ("304", not_modified),
            ("read from the database", cold),
        ):
            print(f"   {name:<30} {value:7.3f}  {value / health:6.2f}x")

        day = date.today() + timedelta(days=2)
        media_id = sent.json()["id"]
        for i in range(40):
            made = await client.post(
                "/api/events",
                json={
                    "title": f"Concert {i}",
                    "start": f"{day + timedelta(days=i % 20)}T19:00",
                    "state": "published",
                    "price": "Prix libre",
                    "location": {"name": "Salle des fêtes", "city": "Montreuil"},
                    "image": {"media": media_id, "alt": "Affiche", "focus": [50, i % 100]},
                },
                headers=editor,
            )
            if made.status_code != 201:
                raise RuntimeError(made.text)

        def forget() -> None:
            app.state.rendered.clear()

        window = f"?from={day}&to={day + timedelta(days=30)}"
        html = await timed(client, f"/print/agenda.html{window}", runs, before=forget)
        pdf = await timed(client, f"/print/agenda.pdf{window}", runs, before=forget)
        cached = await timed(client, f"/print/agenda.pdf{window}", runs * 10)
        print("\n3. printing 40 events with pictures (median ms)")
        print(f"   programme, print-ready HTML    {html:9.1f}")
        print(f"   programme, PDF (WeasyPrint)    {pdf:9.1f}")
        print(f"   programme, PDF from the cache  {cached:9.3f}  {cached / health:6.2f}x /healthz")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    args = parser.parse_args()
    runs = 3 if args.quick else 7
    began = time.perf_counter()
    try:
        processing(runs)
        with tempfile.TemporaryDirectory(prefix="calendar-bench-media-") as folder:
            asyncio.run(serving_and_printing(runs, Path(folder)))
    except RuntimeError as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    print(f"\nWhole run: {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

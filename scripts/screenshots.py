# ruff: noqa: S603, S607, S106 - a developer tool that runs tmux and talks to a local server
"""Take the CLI screenshots of docs/cli.md in a real terminal (tmux) and render them to PNG.

    python scripts/screenshots.py [--out docs/img]

Needs ``tmux`` and Pillow (the ``docs`` extra). It starts the embedded moto server, fills a
table, runs ``pynamodb-encryption reencrypt`` and ``inspect`` in a detached tmux window, grabs
the pane with its colours (``tmux capture-pane -e -p``) and draws the cells with DejaVu Sans
Mono. Nothing here is used by the library or the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SESSION = "pynamodb-encryption-shots"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"

# A dark terminal palette (xterm-like), indexes 0-15.
PALETTE = [
    (30, 30, 30), (205, 49, 49), (13, 188, 121), (229, 229, 16),
    (36, 114, 200), (188, 63, 188), (17, 168, 205), (229, 229, 229),
    (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67),
    (59, 142, 234), (214, 112, 214), (41, 184, 219), (255, 255, 255),
]  # fmt: skip
BACKGROUND = (24, 24, 27)
FOREGROUND = (220, 220, 220)


def _xterm256(index: int) -> tuple[int, int, int]:
    if index < 16:
        return PALETTE[index]
    if index < 232:
        index -= 16
        steps = (0, 95, 135, 175, 215, 255)
        return steps[index // 36], steps[index // 6 % 6], steps[index % 6]
    level = 8 + (index - 232) * 10
    return level, level, level


Cell = tuple[str, tuple[int, int, int], bool, bool]
_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_OTHER_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-ln-z]")


def parse_ansi(text: str) -> list[list[Cell]]:
    """Lines of (character, colour, bold, dim) from text with SGR colour escapes."""
    lines: list[list[Cell]] = []
    fg, bold, dim = FOREGROUND, False, False
    for raw in text.split("\n"):
        raw = _OTHER_ESCAPE.sub("", raw)
        line: list[Cell] = []
        position = 0
        for match in _SGR.finditer(raw):
            line.extend((c, fg, bold, dim) for c in raw[position : match.start()])
            position = match.end()
            codes = [int(c) if c else 0 for c in match.group(1).split(";")]
            i = 0
            while i < len(codes):
                code = codes[i]
                if code == 0:
                    fg, bold, dim = FOREGROUND, False, False
                elif code == 1:
                    bold = True
                elif code == 2:
                    dim = True
                elif code == 22:
                    bold = dim = False
                elif 30 <= code <= 37:
                    fg = PALETTE[code - 30]
                elif 90 <= code <= 97:
                    fg = PALETTE[code - 90 + 8]
                elif code == 39:
                    fg = FOREGROUND
                elif code == 38 and i + 1 < len(codes):
                    if codes[i + 1] == 5 and i + 2 < len(codes):
                        fg = _xterm256(codes[i + 2])
                        i += 2
                    elif codes[i + 1] == 2 and i + 4 < len(codes):
                        fg = (codes[i + 2], codes[i + 3], codes[i + 4])
                        i += 4
                i += 1
        line.extend((c, fg, bold, dim) for c in raw[position:])
        lines.append(line)
    while lines and not "".join(c for c, *_ in lines[-1]).strip():
        lines.pop()
    return lines


# Box-drawing characters are drawn as lines: at small sizes the font's light strokes vanish.
# Each maps to the arms it has from the cell's centre (left, right, up, down).
_BOX = {
    "─": "lr", "│": "ud", "╭": "rd", "╮": "ld", "╰": "ru", "╯": "lu", "┌": "rd", "┐": "ld",
    "└": "ru", "┘": "lu", "┬": "lrd", "┴": "lru", "├": "udr", "┤": "udl", "┼": "lrud",
}  # fmt: skip


def _box(draw: Any, char: str, x: int, y: int, w: int, h: int, colour: Any) -> None:
    cx, cy = x + w // 2, y + h // 2
    arms = {"l": (x, cy), "r": (x + w, cy), "u": (cx, y), "d": (cx, y + h)}
    for arm in _BOX[char]:
        draw.line([(cx, cy), arms[arm]], fill=colour, width=1)


def render_png(text: str, path: Path, *, title: str) -> None:
    from PIL import Image, ImageDraw, ImageFont

    size = 15
    regular = ImageFont.truetype(FONT, size)
    heavy = ImageFont.truetype(FONT_BOLD, size)
    lines = parse_ansi(text)
    left, top, bar = 18, 46, 30
    cell_w = regular.getbbox("M")[2]
    cell_h = int(size * 1.45)
    columns = max((len(line) for line in lines), default=1)
    width = left * 2 + columns * cell_w
    height = top + len(lines) * cell_h + 18
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, bar), fill=(45, 45, 50))
    for n, colour in enumerate(((255, 95, 86), (255, 189, 46), (39, 201, 63))):
        draw.ellipse((14 + n * 22, 9, 26 + n * 22, 21), fill=colour)
    draw.text((width // 2, bar // 2), title, fill=(170, 170, 175), font=regular, anchor="mm")
    for row, line in enumerate(lines):
        for col, (char, fg, bold, dim) in enumerate(line):
            if char == " ":
                continue
            colour = tuple(int(c * 0.6) for c in fg) if dim else fg
            if char in _BOX:
                x, y = left + col * cell_w, top + row * cell_h
                _box(draw, char, x, y, cell_w, cell_h, colour)
                continue
            draw.text(
                (left + col * cell_w, top + row * cell_h),
                char,
                fill=colour,
                font=heavy if bold else regular,
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, optimize=True)


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def shoot(command: str, *, width: int, height: int, wait_for: str, settle: float) -> str:
    """Run ``command`` in a fresh tmux window; return the pane (with colours) once ``wait_for``
    shows up and ``settle`` seconds passed."""
    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True, check=False)
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT / "src"),
        "COLORTERM": "truecolor",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    tmux("new-session", "-d", "-s", SESSION, "-x", str(width), "-y", str(height))
    tmux("send-keys", "-t", SESSION, f"export {exports} PS1='$ '; clear", "Enter")
    time.sleep(0.5)
    tmux("send-keys", "-t", SESSION, command, "Enter")
    deadline = time.monotonic() + 60
    while wait_for not in tmux("capture-pane", "-p", "-t", SESSION):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {wait_for!r}")
        time.sleep(0.2)
    time.sleep(settle)
    pane = tmux("capture-pane", "-e", "-p", "-t", SESSION)
    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True, check=False)
    return pane


def _fill(endpoint: str, work: Path, count: int) -> dict[str, Any]:
    import boto3

    from pynamodb_encryption import AttributeActions, CryptoAction, ItemEncryptor
    from pynamodb_encryption.cli import main
    from pynamodb_encryption.maintenance import provider_from_config

    for name in ("old", "new"):
        main(["keygen", "aes", "--out", str(work / f"{name}-aes.key")])
        main(["keygen", "hmac", "--out", str(work / f"{name}-hmac.key")])
        (work / f"{name}.json").write_text(
            json.dumps(
                {
                    "provider": "static",
                    "encryption_key": {"file": f"{name}-aes.key", "algorithm": "AES"},
                    "signing_key": {"file": f"{name}-hmac.key", "algorithm": "HmacSHA256"},
                },
                indent=2,
            )
        )
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    client.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    encryptor = ItemEncryptor(
        table_name="orders",
        partition_key_name="order_id",
        attribute_actions=AttributeActions(
            CryptoAction.ENCRYPT_AND_SIGN,
            {"status": CryptoAction.SIGN_ONLY, "note": CryptoAction.DO_NOTHING},
        ),
        materials_provider=provider_from_config(work / "old.json"),
    )
    items = [
        encryptor.encrypt(
            {
                "order_id": {"S": f"o-{n:05d}"},
                "card": {"S": "4111 1111 1111 1111"},
                "amount": {"N": str(10 + n % 90)},
                "status": {"S": "shipped"},
                "note": {"S": "leave at the door"},
            }
        )
        for n in range(count)
    ]
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]
        client.batch_write_item(RequestItems={"orders": batch})
    return {"endpoint": endpoint}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--items", type=int, default=1500)
    args = parser.parse_args(argv)
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is not installed (apt-get install -y tmux)")
    from pynamodb_encryption._embedded_moto import EmbeddedMoto

    work = Path(tempfile.mkdtemp(prefix="pe-shots-"))
    with EmbeddedMoto() as endpoint:
        _fill(endpoint, work, args.items)
        cd = f"cd {shlex.quote(str(work))}; "
        pane = shoot(
            cd
            + "pynamodb-encryption reencrypt --table orders --endpoint-url "
            + endpoint
            + " --old-provider-config old.json --new-provider-config new.json "
            "--new-sign status --new-nothing note --checkpoint orders.ckpt "
            "--max-items-per-second 400 --page-size 50",
            width=176,
            height=6,
            wait_for="items/s",
            settle=10.0,
        )
        render_png(pane, args.out / "reencrypt-progress.png", title="reencrypt, live")
        pane = shoot(
            cd + "pynamodb-encryption inspect --table orders --key order_id=o-00042 "
            "--endpoint-url " + endpoint + " --provider-config new.json",
            width=118,
            height=40,
            wait_for="Signature:",
            settle=1.0,
        )
        render_png(pane, args.out / "inspect.png", title="inspect")
    shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {args.out / 'reencrypt-progress.png'} and {args.out / 'inspect.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

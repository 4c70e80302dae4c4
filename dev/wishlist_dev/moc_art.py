"""Demo pictures of LEGO MOCs: brick pixel-art at display resolution, drawn with Pillow.

Each model is a blueprint, one character a stud-wide brick cell (runs of one character
merge into one brick, at most four studs long), so the gallery shows recognisable builds
(a house, a ship, a tower...) instead of flat colour. Dev tooling only: no product image
carries Pillow.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 640, 480
CELL_W, CELL_H = 38, 32  # one stud wide, a brick high
STUD_H = 7
STUD_INSET = 8

# LEGO's own colour names, roughly their RGB.
COLOURS: dict[str, tuple[int, int, int]] = {
    "R": (201, 26, 9),  # red
    "B": (0, 85, 191),  # blue
    "Y": (242, 205, 55),  # yellow
    "G": (35, 120, 65),  # green
    "g": (75, 159, 74),  # bright green
    "O": (254, 138, 24),  # orange
    "K": (27, 42, 52),  # black
    "W": (244, 244, 244),  # white
    "T": (228, 205, 158),  # tan
    "N": (88, 57, 39),  # reddish brown
    "S": (160, 165, 169),  # light bluish grey
    "D": (108, 110, 104),  # dark bluish grey
    "C": (90, 147, 219),  # medium blue (glass)
    "L": (155, 196, 226),  # light blue (glass)
}

# Blueprints, top row first; "." is empty. Every model stands on the baseplate.
MODELS: dict[str, tuple[str, ...]] = {
    "house": (
        "......RR......",
        ".....RRRR.....",
        "....RRRRRR....",
        "...RRRRRRRR...",
        "..TTTTTTTTTT..",
        "..TLLTTTTLLT..",
        "..TLLTTTTLLT..",
        "..TTTTNNTTTT..",
        "..TTTTNNTTTT..",
    ),
    "ship": (
        "......CC......",
        ".....SCCS.....",
        "....SSSSSS....",
        "B..SSBBBBSS..B",
        "BSSSSSSSSSSSSB",
        "BBDDSSSSSSDDBB",
        "...OO....OO...",
        "...YY....YY...",
    ),
    "tower": (
        "..S.S.S.S.S...",
        "..SSSSSSSSS...",
        "...SSSSSSS....",
        "...SSKSSSS....",
        "...SSSSSSS....",
        "...SSSKSSS....",
        "...DSSSSSD....",
        "...DSSNNSD....",
        "...DSSNNSD....",
    ),
    "tram": (
        "...KKKKKKKK...",
        "..GGGGGGGGGG..",
        "..GLLGLLGLLG..",
        "..GLLGLLGLLG..",
        "..YYYYYYYYYY..",
        "..GGGGGGGGGG..",
        "...KK....KK...",
    ),
    "tree": (
        ".....gggg.....",
        "...gggggggg...",
        "..ggGggggGgg..",
        "..gggggggggg..",
        "...NNNNNNNN...",
        "...NTLTTLTN...",
        "...NNNNNNNN...",
        "......NN......",
        "......NN......",
    ),
    "lighthouse": (
        "......KK......",
        ".....YYYY.....",
        ".....KKKK.....",
        ".....RRRR.....",
        ".....WWWW.....",
        ".....RRRR.....",
        "....WWWWWW....",
        "....RRRRRR....",
        "...SSSSSSSS...",
    ),
    "mech": (
        ".....OOOO.....",
        ".....OCCO.....",
        "...DDDDDDDD...",
        "..SDOOOOOODS..",
        "..S.DDDDDD.S..",
        "..S..D..D..S..",
        ".....D..D.....",
        "....KK..KK....",
    ),
    "tugboat": (
        "......KK......",
        "......RR......",
        ".....WWWW.....",
        ".....WLLW.....",
        "..RRRRRRRRRR..",
        ".KRRRRRRRRRRK.",
        "..BBBBBBBBBB..",
    ),
    "fire-station": (
        "..RRRRRRRRRR..",
        "..RWWRRRRWWR..",
        "..RLLRRRRLLR..",
        "..RRRRRRRRRR..",
        "..RDDDDRDDDD..",
        "..RDDDDRDDDD..",
        "..RDDDDRDDDD..",
    ),
    "windmill": (
        "..W.......W...",
        "...W.....W....",
        "....W.T.W.....",
        ".....TTT......",
        "....WTTTW.....",
        "...W.TNT.W....",
        "..W..TNT..W...",
        ".....TTT......",
    ),
    "rocket": (
        "......WW......",
        ".....WRRW.....",
        ".....WWWW.....",
        ".....WCCW.....",
        ".....WWWW.....",
        "....RWWWWR....",
        "...RRWWWWRR...",
        ".....OYYO.....",
    ),
    "food-truck": (
        "..TTTTTTTT....",
        "..YYYYYYYYYY..",
        "..YLLLLLYLLY..",
        "..YOOOOOYYYY..",
        "..YYYYYYYYYY..",
        "...KK....KK...",
    ),
}

SKIES = ((214, 234, 248), (253, 235, 208), (226, 240, 217), (237, 225, 245))


@dataclass(frozen=True)
class Brick:
    column: int
    row: int
    studs: int
    colour: tuple[int, int, int]


def bricks(blueprint: tuple[str, ...]) -> list[Brick]:
    out = []
    for row, line in enumerate(blueprint):
        column = 0
        while column < len(line):
            char = line[column]
            if char == ".":
                column += 1
                continue
            run = 1
            while column + run < len(line) and line[column + run] == char and run < 4:
                run += 1
            out.append(Brick(column, row, run, COLOURS[char]))
            column += run
    return out


def _shade(colour: tuple[int, int, int], by: float) -> tuple[int, int, int]:
    r, g, b = colour
    if by >= 1:
        return (min(255, int(r * by)), min(255, int(g * by)), min(255, int(b * by)))
    return (int(r * by), int(g * by), int(b * by))


def _brick(
    draw: ImageDraw.ImageDraw, x: int, y: int, studs: int, colour: tuple[int, int, int]
) -> None:
    w = studs * CELL_W
    draw.rectangle((x, y, x + w - 1, y + CELL_H - 1), fill=colour, outline=_shade(colour, 0.6))
    draw.line((x + 1, y + 1, x + w - 2, y + 1), fill=_shade(colour, 1.25))  # lit top edge
    for stud in range(studs):
        sx = x + stud * CELL_W + STUD_INSET
        sw = CELL_W - 2 * STUD_INSET
        draw.rectangle((sx, y - STUD_H, sx + sw, y), fill=colour, outline=_shade(colour, 0.6))
        draw.line((sx + 1, y - STUD_H + 1, sx + sw - 1, y - STUD_H + 1), fill=_shade(colour, 1.3))


def render(model: str, variant: int = 0, fmt: str = "PNG") -> bytes:
    """The model on a green baseplate under a soft sky; `variant` picks the sky."""
    blueprint = MODELS[model]
    sky = SKIES[variant % len(SKIES)]
    image = Image.new("RGB", (WIDTH, HEIGHT), sky)
    draw = ImageDraw.Draw(image)
    for y in range(HEIGHT):  # a gentle vertical gradient
        draw.line((0, y, WIDTH, y), fill=_shade(sky, 1.0 - 0.12 * y / HEIGHT))
    plate_y = HEIGHT - 60
    columns = max(len(line) for line in blueprint)
    left = (WIDTH - columns * CELL_W) // 2
    top = plate_y - len(blueprint) * CELL_H
    draw.ellipse(
        (left - 30, plate_y - 14, left + columns * CELL_W + 30, plate_y + 16), fill=_shade(sky, 0.8)
    )
    for x in range(-CELL_W // 2, WIDTH, CELL_W * 4):
        _brick(draw, x, plate_y, 4, COLOURS["G"])  # the baseplate
    draw.rectangle((0, plate_y + CELL_H, WIDTH, HEIGHT), fill=_shade(COLOURS["G"], 0.75))
    for brick in sorted(bricks(blueprint), key=lambda b: -b.row):  # bottom up: studs stay on top
        _brick(
            draw, left + brick.column * CELL_W, top + brick.row * CELL_H, brick.studs, brick.colour
        )
    out = io.BytesIO()
    image.save(out, format=fmt, optimize=True)
    return out.getvalue()

"""The optimal discriminator, seen: train D alone against a fixed generator and plot it.

    python examples/optimal_discriminator.py [--steps 2000] [--out optimal_discriminator.png]

With p_data and p_g two known 1-D Gaussians (minigan/evaluation/theory.py), the discriminator that a
GAN's D step climbs towards is D*(x) = p_data(x) / (p_data(x) + p_g(x)), and its value
V(D*, G) = -log 4 + 2 JSD(p_data || p_g). This trains only D, prints how close it came,
and draws the two densities (top) and D against D* (bottom) into one PNG with Pillow.
"""
import argparse
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from minigan.evaluation import theory

COLORS = {"p_data": (31, 119, 180), "p_g": (255, 127, 14), "D*(x)": (0, 0, 0),
          "D(x), trained": (214, 39, 40)}
FONT = ImageFont.load_default()


def draw_panel(draw, box, x, series, ylim, title, shade=None, legend_top=True):
    """Line plot of named series over x inside the pixel box (left, top, right, bottom)."""
    left, top, right, bottom = box
    (x0, x1), (y0, y1) = (x[0], x[-1]), ylim

    def pixel(xv, yv):
        return (left + (xv - x0) / (x1 - x0) * (right - left),
                bottom - (yv - y0) / (y1 - y0) * (bottom - top))

    if shade is not None:  # the region where D is compared with D*
        (sx0, _), (sx1, _) = pixel(shade[0], y0), pixel(shade[1], y0)
        draw.rectangle((sx0, top, sx1, bottom), fill=(236, 236, 236))
    draw.rectangle(box, outline="black")
    for tick in range(math.ceil(x0), math.floor(x1) + 1):
        px, _ = pixel(tick, y0)
        draw.line([(px, bottom), (px, bottom + 4)], fill="black")
        draw.text((px, bottom + 6), str(tick), fill="black", font=FONT, anchor="mt")
    for tick in np.linspace(y0, y1, 5):
        _, py = pixel(x0, tick)
        draw.line([(left - 4, py), (left, py)], fill="black")
        draw.text((left - 6, py), f"{tick:.2f}", fill="black", font=FONT, anchor="rm")
    draw.text(((left + right) / 2, top - 6), title, fill="black", font=FONT, anchor="mb")
    for k, (name, y) in enumerate(series.items()):
        draw.line([pixel(a, b) for a, b in zip(x, y)], fill=COLORS[name], width=2)
        lx = right - 130
        ly = top + 8 + 16 * k if legend_top else bottom - 8 - 16 * (len(series) - k)
        draw.line([(lx, ly + 6), (lx + 20, ly + 6)], fill=COLORS[name], width=3)
        draw.text((lx + 26, ly), name, fill="black", font=FONT)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="optimal_discriminator.png")
    args = parser.parse_args()

    result = theory.check_optimal_discriminator(steps=args.steps, batch_size=args.batch_size,
                                                seed=args.seed)
    print(f"p_data = N{theory.DATA}, p_g = N{theory.GEN} (mean, std)")
    print(f"max |D - D*| on [{result['support'][0]:.2f}, {result['support'][1]:.2f}]: "
          f"{result['max_abs_error']:.4f} (mean {result['mean_abs_error']:.4f})")
    print(f"V(D, G) = {result['value_trained']:.5f}   V(D*, G) = {result['value_optimal']:.5f}"
          f"   -log 4 + 2 JSD = {result['theory']:.5f}   (JSD = {result['jsd']:.5f} nats)")

    x = np.linspace(-5, 4, 600)
    p, q = theory.normal_pdf(x, *theory.DATA), theory.normal_pdf(x, *theory.GEN)
    d = theory.discriminator_probability(result["model"], x)
    width, height = 720, 620
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    draw_panel(draw, (64, 30, width - 20, 270), x, {"p_data": p, "p_g": q},
               (0, 1.1 * max(p.max(), q.max())), "densities")
    draw_panel(draw, (64, 330, width - 20, height - 40), x,
               {"D*(x)": theory.optimal_discriminator(x), "D(x), trained": d}, (0, 1),
               f"D against D* = p_data / (p_data + p_g); max |D - D*| = "
               f"{result['max_abs_error']:.3f} on the shaded region", shade=result["support"],
               legend_top=False)
    draw.text((width / 2, height - 18), "x", fill="black", font=FONT, anchor="mt")
    img.save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

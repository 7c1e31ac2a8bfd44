"""Chapter 10 widget: scrub through a GAN's training, and walk through its noise space.

Taught in ``notebooks/10_gans.ipynb``. The notebook trains the two GANs and
hands the explorer what it recorded (nothing is trained here):

- ``toy``: the 2-D ring, a dict of ``steps`` (F,), ``samples`` (F, n, 2) (the
  generator's output on one fixed noise batch after each recorded step),
  ``surface`` (F, g, g) the discriminator's sigma(D(x)) on a g x g grid,
  ``extent`` (x_min, x_max, y_min, y_max) of that grid and ``real`` (m, 2);
- ``digits``: a dict of ``steps`` (F,) and ``images`` (F, k, 64) (the
  generator's digits for one fixed noise batch, pixels in [-1, 1]);
- ``generator``: the trained digits generator (an nnlib ``Sequential``,
  noise (batch, n_noise) -> pixels (batch, 64)), run live for the noise sliders.

The sliders "toy step" and "digits step" pick a recorded frame; "direction 1"
and "direction 2" move a point z = z0 + t1 u1 + t2 u2 in noise space, z0, u1,
u2 drawn from ``seed`` (u1, u2 orthonormal), and show the generated digit.
"""
import ipywidgets as widgets
import numpy as np

from nncourse.widgets import _render


def _check_frames(frames, name, keys):
    missing = [k for k in keys if k not in frames]
    if missing:
        raise ValueError(f"{name} frames need the keys {list(keys)}; missing {missing}.")
    n = len(frames["steps"])
    for key in keys[1:]:
        if key in ("extent", "real"):
            continue
        if len(frames[key]) != n:
            raise ValueError(f"{name}[{key!r}] has {len(frames[key])} frames but {name}['steps'] "
                             f"has {n}; record one of each per step.")
    return n


class GANExplorer(_render.Explorer):
    """Sliders over recorded training frames (toy ring, digits) and over the digit generator's noise.

    Widgets: ``toy_step`` (IntSlider "toy step", a frame index), ``digit_step``
    (IntSlider "digits step"), ``t1``, ``t2`` (FloatSlider "direction 1",
    "direction 2", -3..3), ``status`` (HTML), ``image`` (PNG).
    State after each update: ``z`` (n_noise,) the current noise point and
    ``digit`` (8, 8) the generator's image for it.
    """

    def __init__(self, toy, digits, generator, seed=0):
        self.toy, self.digits, self.generator = toy, digits, generator
        n_toy = _check_frames(toy, "toy", ("steps", "samples", "surface", "extent", "real"))
        n_digits = _check_frames(digits, "digits", ("steps", "images"))
        n_noise = generator.n_in
        rng = np.random.default_rng(seed)
        self.z0 = rng.standard_normal(n_noise)
        basis, _ = np.linalg.qr(rng.standard_normal((n_noise, 2)))  # (n_noise, 2), orthonormal columns
        self.u1, self.u2 = basis[:, 0], basis[:, 1]
        style = {"description_width": "initial"}
        self.toy_step = widgets.IntSlider(value=n_toy - 1, min=0, max=n_toy - 1, description="toy step",
                                          readout=False, style=style)
        self.digit_step = widgets.IntSlider(value=n_digits - 1, min=0, max=n_digits - 1,
                                            description="digits step", readout=False, style=style)
        self.t1 = widgets.FloatSlider(value=0.0, min=-3, max=3, step=0.25, description="direction 1",
                                      style=style)
        self.t2 = widgets.FloatSlider(value=0.0, min=-3, max=3, step=0.25, description="direction 2",
                                      style=style)
        self.status = widgets.HTML()
        self.image = widgets.Image(format="png")
        controls = (self.toy_step, self.digit_step, self.t1, self.t2)
        for control in controls:
            control.observe(lambda _change: self.update(), names="value")
        self.widget = widgets.VBox([widgets.HBox(controls[:2]), widgets.HBox(controls[2:]),
                                    self.status, self.image])
        self.update()

    def update(self):
        """Generate the digit at the current noise point and redraw the three panels."""
        i, j = int(self.toy_step.value), int(self.digit_step.value)
        self.z = self.z0 + self.t1.value * self.u1 + self.t2.value * self.u2  # (n_noise,)
        self.digit = np.asarray(self.generator.forward(self.z[None, :])).reshape(8, 8)  # forward: the raw pixels
        toy_step, digit_step = int(self.toy["steps"][i]), int(self.digits["steps"][j])
        self.status.value = (f"ring: after {toy_step} steps &nbsp; digits: after {digit_step} steps "
                             f"&nbsp; noise point z = z0 + {self.t1.value:.2f} u1 + {self.t2.value:.2f} u2")
        fig = _render.new_figure(9.6, 3.3, left=0.03, right=0.99, bottom=0.06, top=0.9, wspace=0.12)
        ax_toy, ax_digits, ax_z = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 0.8]})
        self._draw_toy(ax_toy, i, toy_step)
        self._draw_digits(ax_digits, j, digit_step)
        ax_z.imshow(-self.digit, cmap="gray", vmin=-1, vmax=1)
        ax_z.set_title("the digit at z", fontsize=10)
        ax_z.axis("off")
        self.image.value = _render.png_bytes(fig)

    def _draw_toy(self, ax, i, step):
        ax.imshow(self.toy["surface"][i], origin="lower", extent=self.toy["extent"], cmap="RdBu",
                  vmin=0, vmax=1, alpha=0.6)
        real, fake = np.asarray(self.toy["real"]), np.asarray(self.toy["samples"][i])
        ax.scatter(real[:, 0], real[:, 1], s=3, c="k", label="real")
        ax.scatter(fake[:, 0], fake[:, 1], s=3, c="darkorange", label="generated")
        ax.set_xlim(self.toy["extent"][:2])
        ax.set_ylim(self.toy["extent"][2:])
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"ring, step {step} (blue: D says real)", fontsize=10)

    def _draw_digits(self, ax, j, step):
        images = np.asarray(self.digits["images"][j])[:36].reshape(-1, 8, 8)
        side = int(np.ceil(np.sqrt(len(images))))
        canvas = np.ones((side * 9 - 1, side * 9 - 1))  # white gaps
        for k, img in enumerate(images):
            r, c = divmod(k, side)
            canvas[r * 9:r * 9 + 8, c * 9:c * 9 + 8] = img
        ax.imshow(-canvas, cmap="gray", vmin=-1, vmax=1)
        ax.set_title(f"digits, step {step}", fontsize=10)
        ax.axis("off")

    def __repr__(self):
        return (f"GANExplorer(toy frame {int(self.toy_step.value)}, digits frame "
                f"{int(self.digit_step.value)}, t1={self.t1.value:.2f}, t2={self.t2.value:.2f})")
